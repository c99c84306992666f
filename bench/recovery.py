#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery time after a server restart: the script vs WeeChat's native engine.

Real weechat-headless server and client on 127.0.0.1, one schedule for
both engines: first delay 1 s, growing x2, at most 8 s. The server is
killed, stays down for a time drawn at random (the same draws for every
engine, so each meets the server's return at the same points of its
schedule), then a new one starts on the same port. Per engine:
- lag: the client's "connected" signal - the new server's first moment
  up (its start-up commands done, the port open): what the user waits
  for once the server is back;
- of which connecting: "connected" - the "connecting" signal of the
  attempt that succeeded (WeeChat's own handshake, the same for both);
- outage: "connected" - the kill.

Run: python3 bench/recovery.py [runs max_down]   (or: make bench)
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PROBE, SCRIPT, WeeChat, client_commands, free_port, server_commands  # noqa: E402

DELAY, GROWING, DELAY_MAX = 1, 2, 8
ENGINES = {
    "script": [
        f"/set relay.network.autoreconnect_delay {DELAY}",
        f"/set relay.network.autoreconnect_delay_growing {GROWING}",
        f"/set relay.network.autoreconnect_delay_max {DELAY_MAX}",
        "/set relay.network.autoreconnect_jitter 0",
    ],
    "script, jitter 30 %": [
        f"/set relay.network.autoreconnect_delay {DELAY}",
        f"/set relay.network.autoreconnect_delay_growing {GROWING}",
        f"/set relay.network.autoreconnect_delay_max {DELAY_MAX}",
        "/set relay.network.autoreconnect_jitter 30",
    ],
    "native": [
        f"/set relay.remote.srv.autoreconnect_delay {DELAY}",
        f"/set relay.api.remote_autoreconnect_delay_growing {GROWING}",
        f"/set relay.api.remote_autoreconnect_delay_max {DELAY_MAX}",
    ],
}


def measure(engine: str, down: float) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    port = free_port()
    server = WeeChat(tmp / "server", [PROBE], server_commands(port))
    scripts = [PROBE, SCRIPT] if engine.startswith("script") else [PROBE]
    client = WeeChat(tmp / "client", scripts, client_commands(port, ENGINES[engine]))
    restarted = None
    try:
        server.start()
        client.start()
        client.connect_remote()
        killed = time.monotonic()
        server.kill()
        client.nth("signal", "disconnected", killed, timeout=5)
        # the fault lasts DOWN seconds (not a wait for a result)
        time.sleep(max(0.0, killed + down - time.monotonic()))
        restarted = WeeChat(tmp / "server2", [PROBE], server_commands(port)).start()
        up = restarted.find(kind="ready")[0]["t"]
        connected = client.nth("signal", "connected", up, timeout=DELAY_MAX + 10)["t"]
        connecting = [e["t"] for e in client.signals(killed) if e["status"] == "connecting" and e["t"] < connected]
        return {"lag": connected - up, "connecting": connected - connecting[-1], "outage": connected - killed}
    finally:
        client.stop()
        server.stop()
        if restarted:
            restarted.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    max_down = float(sys.argv[2]) if len(sys.argv) > 2 else 12.0
    draw = random.Random(6)
    downs = [round(draw.uniform(1.0, max_down), 2) for _ in range(runs)]
    print(f"recovery after a server restart, WeeChat {WeeChat.version()}, 127.0.0.1")
    print(f"schedule: delay {DELAY} s, growing x{GROWING}, max {DELAY_MAX} s (the same for both engines)")
    print(f"server down for (s): {', '.join(f'{d:g}' for d in downs)}")
    print(f"{'engine':<20} {'lag mean':>9} {'lag min':>8} {'lag max':>8} {'connecting':>11} {'outage mean':>12}")
    for engine in ENGINES:
        results = [measure(engine, down) for down in downs]
        lags = [r["lag"] for r in results]
        print(
            f"{engine:<20} {statistics.mean(lags):8.2f}s {min(lags):7.2f}s {max(lags):7.2f}s "
            f"{statistics.mean(r['connecting'] for r in results):10.2f}s "
            f"{statistics.mean(r['outage'] for r in results):11.2f}s"
        )
    print(f"command: python3 bench/recovery.py {runs} {max_down:g}")


if __name__ == "__main__":
    main()
