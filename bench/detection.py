#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dead-link detection time: the script vs WeeChat alone, in one run.

Real weechat-headless server and client. Two cases:
- frozen: the server (127.0.0.1) is stopped with SIGSTOP;
- blackholed: server and client in two network namespaces, every packet
  dropped on both ends (needs root and iproute2).
Detection time = the client's "disconnected" signal - the moment of the fault.
WeeChat alone sends nothing on an idle link: it is given up to CAP seconds.

Run: python3 bench/detection.py [heartbeat timeout cap]   (or: make bench)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PROBE, SCRIPT, NetPair, WeeChat, client_commands, free_port, server_commands  # noqa: E402


def detect(case: str, engine: str, heartbeat: int, timeout: int, cap: float) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    net = NetPair().create() if case == "blackholed" else None
    port = free_port() if net is None else 9000
    address = net.SERVER_ADDRESS if net else "127.0.0.1"
    settings = [
        f"/set relay.network.autoreconnect_heartbeat {heartbeat}",
        f"/set relay.network.autoreconnect_heartbeat_timeout {timeout}",
    ]
    scripts = [PROBE, SCRIPT] if engine == "script" else [PROBE]
    server = WeeChat(tmp / "server", [PROBE], server_commands(port, address), net.server_ns if net else "")
    client = WeeChat(
        tmp / "client",
        scripts,
        client_commands(port, settings if engine == "script" else [], address),
        net.client_ns if net else "",
    )
    try:
        server.start()
        server.wait_for(lambda: server.lines(f"port {port}"), 10, "listening")
        client.start()
        client.send("/remote connect srv")
        client.wait_for(lambda: client.find(kind="signal", status="connected"), 10, "connected")
        fault = time.monotonic()
        if net:
            net.blackhole(True)
        else:
            server.freeze()
        deadline = fault + cap
        while time.monotonic() < deadline:
            drops = client.find(kind="signal", status="disconnected", since=fault)
            if drops:
                return f"{drops[0]['t'] - fault:.1f} s"
            time.sleep(0.05)
        return f"not noticed in {cap:.0f} s"
    finally:
        if not net:
            server.thaw()
        client.stop()
        server.stop()
        if net:
            net.delete()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    heartbeat, timeout, cap = (int(a) for a in sys.argv[1:4]) if len(sys.argv) > 3 else (10, 5, 30)
    print(f"dead-link detection, WeeChat {WeeChat.version()}, heartbeat {heartbeat} s, timeout {timeout} s")
    print(f"(bound for the script: heartbeat + timeout = {heartbeat + timeout} s)")
    print(f"{'case':<12} {'script':>12} {'WeeChat alone':>22}")
    cases = ["frozen"] + (["blackholed"] if not NetPair.available() else [])
    for case in cases:
        script = detect(case, "script", heartbeat, timeout, cap)
        native = detect(case, "native", heartbeat, timeout, cap)
        print(f"{case:<12} {script:>12} {native:>22}")
    if len(cases) == 1:
        print(f"blackholed: skipped ({NetPair.available()})")
    print(f"command: python3 bench/detection.py {heartbeat} {timeout} {cap}")


if __name__ == "__main__":
    main()
