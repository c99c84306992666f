#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Deadlines kept across events: how far from its time each one fires.

The end-to-end tests assert these with a tolerance of 0.5 s (a loaded machine
and WeeChat's timers promise no better); this measures them to the
millisecond. Real weechat-headless server and client on 127.0.0.1, the
script's jitter off, each run on new instances. Cases (error, in ms):
- plain: the server is killed; the first attempt (delay 3 s) - the drop - 3 s
  (the reference: nothing happens in the wait);
- reload: the same, the script reloaded (/python reload) while the attempt
  is pending (tests/e2e/test_e2e_faults.py);
- rename: delay 2 s, the remote renamed (/remote rename) while the attempt is
  pending (tests/e2e/test_e2e_reconnect.py);
- load: the remote connected before the script loads, then delay 1 s and the
  server killed (tests/e2e/test_e2e_reconnect.py);
- timeout: a relay that answers the handshake, then never the websocket
  upgrade; autoreconnect_connect_timeout 2 s: the drop - the attempt's
  "connecting" - 2 s (tests/e2e/test_e2e_deadlinks.py).
For reload and rename, also how long the event itself took (from the command
to WeeChat's line that it is done): a deadline kept across the event does not
move with it.

Run: python3 bench/deadlines.py [runs]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from fakes import StallingRelay  # noqa: E402
from harness import PROBE, SCRIPT, WeeChat, client_commands, free_port, server_commands  # noqa: E402
from machine import machine  # noqa: E402

NO_JITTER = "/set relay.network.autoreconnect_jitter 0"
TIMEOUT_SETTINGS = [  # as in tests/e2e/test_e2e_deadlinks.py
    "/set relay.network.autoreconnect_heartbeat 2",
    "/set relay.network.autoreconnect_heartbeat_timeout 1",
    "/set relay.network.autoreconnect_delay 1",
    "/set relay.network.autoreconnect_delay_max 2",
    "/set relay.network.autoreconnect_connect_timeout 2",
]


def delay(seconds: int) -> str:
    return f"/set relay.network.autoreconnect_delay {seconds}"


def pending(client: WeeChat, server: WeeChat, seconds: int, event) -> Tuple[float, float]:
    """Kill the server, let the attempt be scheduled, run `event`; the error of the attempt (s), and
    how long the event took (s)."""
    since = time.monotonic()
    server.kill()
    drop = client.nth("signal", "disconnected", since)["t"]
    client.wait_line(f"reconnecting in {seconds} seconds (attempt 1)", since, 5)
    took = event(client, time.monotonic())
    attempt = client.nth("signal", "connecting", since, timeout=seconds + 10)["t"]
    return attempt - drop - seconds, took


def nothing(client: WeeChat, since: float) -> float:
    return 0.0


def reload(client: WeeChat, since: float) -> float:
    """/python reload: from the command to WeeChat's line that the script is registered again."""
    client.send("/python reload relay_autoreconnect")
    return client.wait_line('registered script "relay_autoreconnect"', since, 5)["t"] - since


def rename(client: WeeChat, since: float) -> float:
    client.send("/remote rename srv office")
    return client.wait_line('remote relay "srv" has been renamed to "office"', since, 5)["t"] - since


def stalled_authentication(tmp: Path) -> Tuple[float, float]:
    """The error of the connect timeout (s): a relay that never answers the websocket upgrade."""
    port = free_port()
    client = WeeChat(tmp / "client", [PROBE, SCRIPT], client_commands(port, [NO_JITTER, *TIMEOUT_SETTINGS]))
    with StallingRelay(port):
        try:
            client.start()
            since = time.monotonic()
            client.send("/remote connect srv")
            connecting = client.nth("signal", "connecting", since)["t"]
            drop = client.nth("signal", "disconnected", since, timeout=10)["t"]
            return drop - connecting - 2, 0.0
        finally:
            client.stop()


def run(case: str, tmp: Path) -> Tuple[float, float]:
    """One run of a case on new instances: its error, and how long its event took (s)."""
    if case == "timeout":
        return stalled_authentication(tmp)
    port = free_port()
    server = WeeChat(tmp / "server", [PROBE], server_commands(port))
    seconds = {"rename": 2, "load": 1}.get(case, 3)
    settings = [] if case == "load" else [NO_JITTER, delay(seconds)]  # "load": set once the script is there
    client = WeeChat(tmp / "client", [PROBE] if case == "load" else [PROBE, SCRIPT], client_commands(port, settings))
    try:
        server.start()
        server.wait_line(f"port {port}", time.monotonic() - 30, 10)
        client.start()
        client.connect_remote()
        if case == "load":  # as tests/e2e/test_e2e_reconnect.py: loaded with the remote connected, then a drop
            script = client.home / "python" / SCRIPT.name
            script.write_bytes(SCRIPT.read_bytes())
            since = time.monotonic()
            client.send(f"/python load {script}")
            client.wait_line('registered script "relay_autoreconnect"', since, 5)
            client.send(delay(1))
            client.send("/set relay.network.autoreconnect_delay_max 2")
            since = time.monotonic()
            server.kill()
            drop = client.nth("signal", "disconnected", since)["t"]
            return client.nth("signal", "connecting", since)["t"] - drop - 1, 0.0
        return pending(client, server, seconds, {"plain": nothing, "reload": reload, "rename": rename}[case])
    finally:
        client.stop()
        server.stop()


CASES = {
    "plain": "killed, delay 3 s, nothing in the wait",
    "reload": "killed, delay 3 s, /python reload in the wait",
    "rename": "killed, delay 2 s, /remote rename in the wait",
    "load": "connected before the script loads, delay 1 s",
    "timeout": "authentication never ends, connect_timeout 2 s",
}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(f"deadlines kept across events, {runs} runs each, WeeChat {WeeChat.version()}, 127.0.0.1")
    print(f"machine: {machine()}")
    print(f"{'case':<8} {'what':<48} {'mean ms':>8} {'min ms':>8} {'max ms':>8}  each (ms)")
    for case, what in CASES.items():
        errors, took = [], []
        for _ in range(runs):
            tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
            try:
                error, event = run(case, tmp)
                errors.append(error * 1000)
                took.append(event * 1000)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        each = " ".join(f"{e:+.1f}" for e in errors)
        print(f"{case:<8} {what:<48} {statistics.mean(errors):+8.1f} {min(errors):+8.1f} {max(errors):+8.1f}  {each}")
        if any(took):
            each = " ".join(f"{t:.1f}" for t in took)
            mean, low, high = statistics.mean(took), min(took), max(took)
            print(f"{'':<8} {'  the event itself took (ms)':<48} {mean:8.1f} {low:8.1f} {high:8.1f}  {each}")
    print(f"command: python3 bench/deadlines.py {runs}")


if __name__ == "__main__":
    main()
