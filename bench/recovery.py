#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery time after a server restart: the script vs WeeChat's native engine.

Real weechat-headless server and client on 127.0.0.1. The server is killed,
stays down for a time drawn at random (the same draws for every engine, so
each meets the server's return at the same points of its schedule), then a
new one starts on the same port. Two scenarios:
- schedule: one short schedule for both engines (first delay 1 s, growing
  x2, at most 8 s; the script's polls never fit in waits that short);
- defaults: every option at its default on both sides (first delay 10 s,
  growing x2, at most 600 s; the script also shortens waits by up to 30 %
  and polls a waiting server every 15 s), longer outages.
Per engine:
- lag: the client's "connected" signal - the new server's first moment
  up (its start-up commands done, the port open): what the user waits
  for once the server is back;
- connecting: "connected" - the "connecting" signal of the attempt that
  succeeded (WeeChat's own handshake, the same for both);
- outage: "connected" - the kill.

- restart: every option at its default, outages of 20, 60 and 300 s;
  median and 95th percentile of the lag;
- network: every option at its default; the server goes away (the link
  drops for both engines), the client's network link goes down for the
  outage (two network namespaces; the server is back at once, reachable only
  when the link is up), then up: the lag counts from the link coming up.

Run: python3 bench/recovery.py [schedule|defaults|restart|network [runs [min_down max_down]]]
(make bench runs every scenario)
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

from harness import PROBE, SCRIPT, NetPair, WeeChat, client_commands, free_port, server_commands  # noqa: E402

SHORT = ("1", "2", "8")  # delay, growing, delay_max
SCENARIOS = {
    "schedule": {
        "about": "delay 1 s, growing x2, max 8 s for both engines",
        "runs": 10,
        "down": (1.0, 12.0),
        "engines": {
            "script": [
                *(
                    f"/set relay.network.autoreconnect_{o} {v}"
                    for o, v in zip(("delay", "delay_growing", "delay_max"), SHORT)
                ),
                "/set relay.network.autoreconnect_jitter 0",
            ],
            "script, jitter 30 %": [
                *(
                    f"/set relay.network.autoreconnect_{o} {v}"
                    for o, v in zip(("delay", "delay_growing", "delay_max"), SHORT)
                ),
                "/set relay.network.autoreconnect_jitter 30",
            ],
            "native": [
                f"/set relay.remote.srv.autoreconnect_delay {SHORT[0]}",
                f"/set relay.api.remote_autoreconnect_delay_growing {SHORT[1]}",
                f"/set relay.api.remote_autoreconnect_delay_max {SHORT[2]}",
            ],
        },
    },
    "defaults": {
        "about": "every option at its default (delay 10 s, growing x2, max 600 s; script: jitter 30 %, poll 15 s)",
        "runs": 4,
        "down": (20.0, 90.0),
        "engines": {"script": [], "native": []},
    },
    "restart": {
        "about": "every option at its default; server down 20 s (x5), 60 s (x3), 300 s (x1)",
        "downs": [20.0] * 5 + [60.0] * 3 + [300.0],
        "engines": {"script": [], "native": []},
    },
    "network": {
        "about": "every option at its default; client link down 5 s (x3), 20 s (x3), 60 s (x2)",
        "downs": [5.0] * 3 + [20.0] * 3 + [60.0] * 2,
        "engines": {"script": [], "native": []},
        "net": True,
    },
}


def measure(commands: list, script: bool, down: float, network: bool = False) -> dict:
    """One outage: the server is killed and back after DOWN s; or (network) the server
    goes away, the client's link goes down, the server is back at once and the
    link after DOWN s. The lag counts from the server's return or the link's."""
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    net = NetPair().create() if network else None
    address, server_ns, client_ns = (net.SERVER_ADDRESS, net.server_ns, net.client_ns) if net else ("127.0.0.1", "", "")
    port = free_port()
    server = WeeChat(tmp / "server", [PROBE], server_commands(port, address), server_ns)
    scripts = [PROBE, SCRIPT] if script else [PROBE]
    client = WeeChat(tmp / "client", scripts, client_commands(port, commands, address), client_ns)
    restarted = WeeChat(tmp / "server2", [PROBE], server_commands(port, address), server_ns)
    try:
        server.start()
        client.start()
        client.connect_remote()
        killed = time.monotonic()
        server.kill()
        client.nth("signal", "disconnected", killed, timeout=5)
        if net:
            net.link(False)
            restarted.start()
        # the fault lasts DOWN seconds (not a wait for a result)
        time.sleep(max(0.0, killed + down - time.monotonic()))
        if net:
            up = time.monotonic()
            net.link(True)
        else:
            up = restarted.start().find(kind="ready")[0]["t"]
        connected = client.nth("signal", "connected", up, timeout=700)["t"]
        connecting = [e["t"] for e in client.signals(killed) if e["status"] == "connecting" and e["t"] < connected]
        return {"lag": connected - up, "connecting": connected - connecting[-1], "outage": connected - killed}
    finally:
        for instance in (client, server, restarted):
            instance.stop()
        if net:
            net.delete()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "schedule"
    scenario = SCENARIOS[name]
    if "downs" in scenario:
        downs = scenario["downs"]
        command = f"python3 bench/recovery.py {name}"
    else:
        runs = int(sys.argv[2]) if len(sys.argv) > 2 else scenario["runs"]
        low, high = (float(a) for a in sys.argv[3:5]) if len(sys.argv) > 4 else scenario["down"]
        draw = random.Random(6)
        downs = [round(draw.uniform(low, high), 2) for _ in range(runs)]
        command = f"python3 bench/recovery.py {name} {runs} {low:g} {high:g}"
    what = "the client's network link down" if scenario.get("net") else "a server restart"
    print(f"recovery after {what} ({name}), WeeChat {WeeChat.version()}")
    print(f"options: {scenario['about']}")
    print(f"down for (s): {', '.join(f'{d:g}' for d in downs)}")
    print(
        f"{'engine':<20} {'lag mean':>9} {'median':>8} {'p95':>8} {'min':>8} {'max':>8} "
        f"{'connecting':>11} {'outage mean':>12}"
    )
    for engine, commands in scenario["engines"].items():
        results = [measure(commands, engine.startswith("script"), down, scenario.get("net", False)) for down in downs]
        lags = sorted(r["lag"] for r in results)
        p95 = lags[min(len(lags) - 1, int(round(0.95 * (len(lags) - 1))))]
        print(
            f"{engine:<20} {statistics.mean(lags):8.2f}s {statistics.median(lags):7.2f}s {p95:7.2f}s "
            f"{min(lags):7.2f}s {max(lags):7.2f}s "
            f"{statistics.mean(r['connecting'] for r in results):10.2f}s "
            f"{statistics.mean(r['outage'] for r in results):11.2f}s"
        )
        for down, result in zip(downs, results):
            print(f"  down {down:g} s: lag {result['lag']:.2f} s")
    print(f"command: {command}")


if __name__ == "__main__":
    main()
