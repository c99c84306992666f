#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Attempt timing error against the schedule: the script vs WeeChat's native engine.

Real weechat-headless server and client on 127.0.0.1. The server is killed;
every refused attempt is followed by the next one after a constant 1-second
delay (growing factor 1). The error of an attempt is (time of its
"connecting" signal) - (time of the previous "disconnected" signal) - 1 s.

Run: python3 bench/schedule_error.py [attempts]   (or: make bench)
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PROBE, SCRIPT, WeeChat, client_commands, free_port, server_commands  # noqa: E402
from machine import machine  # noqa: E402

SCRIPT_SETTINGS = [
    "/set relay.network.autoreconnect_delay 1",
    "/set relay.network.autoreconnect_delay_growing 1",
]
NATIVE_SETTINGS = [
    "/set relay.remote.srv.autoreconnect_delay 1",
    "/set relay.api.remote_autoreconnect_delay_growing 1",
]


def measure(engine: str, attempts: int) -> list:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    port = free_port()
    server = WeeChat(tmp / "server", [PROBE], server_commands(port))
    scripts = [PROBE, SCRIPT] if engine == "script" else [PROBE]
    settings = SCRIPT_SETTINGS if engine == "script" else NATIVE_SETTINGS
    client = WeeChat(tmp / "client", scripts, client_commands(port, settings))
    try:
        server.start()
        client.start()
        client.send("/remote connect srv")
        client.wait_for(lambda: client.find(kind="signal", status="connected"), 10, "connected")
        since = time.monotonic()
        server.kill()

        def enough():
            statuses = [e for e in client.signals(since) if e["status"] in ("connecting", "disconnected")]
            return len([e for e in statuses if e["status"] == "connecting"]) >= attempts and statuses

        events = client.wait_for(enough, attempts * 3 + 10, f"{attempts} attempts")
        errors, last_drop = [], None
        for event in events:
            if event["status"] == "disconnected":
                last_drop = event["t"]
            elif last_drop is not None:
                errors.append((event["t"] - last_drop - 1.0) * 1000)
                last_drop = None
        return errors[:attempts]
    finally:
        client.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    attempts = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    version = WeeChat.version()
    print(f"attempt timing error vs schedule, {attempts} attempts each, WeeChat {version}, 127.0.0.1")
    print(f"machine: {machine()}")
    print(f"{'engine':<8} {'mean ms':>9} {'min ms':>9} {'max ms':>9}")
    for engine in ("script", "native"):
        errors = measure(engine, attempts)
        print(f"{engine:<8} {statistics.mean(errors):9.1f} {min(errors):9.1f} {max(errors):9.1f}")
    print("command: python3 bench/schedule_error.py", attempts)


if __name__ == "__main__":
    main()
