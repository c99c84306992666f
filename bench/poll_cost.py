#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the polls of a waiting remote's server cost while it is down.

1. How many polls (and attempts) a minute, over a long outage, every option at
   its default (polls every 2 s for the first minute, then twice as far
   apart each minute up to autoreconnect_poll 15 s; jitter 30 %): the fake
   module on virtual time, the server answering nothing.
2. The bytes of one poll (POST /api/handshake, no login) against a real
   WeeChat relay on 127.0.0.1, sent by curl as WeeChat's hook_url sends it.

Run: python3 bench/poll_cost.py [minutes]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "stubs"), str(ROOT), str(ROOT / "tests" / "e2e")]

import weechat_sim  # noqa: E402
from harness import PROBE, WeeChat, free_port, server_commands  # noqa: E402

import relay_autoreconnect as ra  # noqa: E402


def per_minute(minutes: int):
    sim = weechat_sim.Sim()
    sim.add_remote("home")
    sim.load(ra)
    sim.user("/remote connect home")
    sim.accept("home")
    sim.advance(100)
    start = sim.state.now
    sim.drop("home")
    sim.settle()
    polls, attempts = [0] * minutes, [0] * minutes
    seen = set()
    while sim.state.now < start + 60 * minutes:
        sim.advance(0.1)
        minute = int((sim.state.now - start) // 60)
        for hook in sim.probes():
            if hook.pointer not in seen and minute < minutes:
                seen.add(hook.pointer)
                polls[minute] += 1
        sim.answer_probes(False)
        if sim.remote("home").status == "connecting":
            attempts[min(minute, minutes - 1)] += 1
            sim.drop("home")
            sim.settle()
    sim.unload()
    return polls, attempts


def bytes_of_one_poll():
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    port = free_port()
    server = WeeChat(tmp / "server", [PROBE], server_commands(port))
    try:
        server.start()
        server.wait_line(f"port {port}", time.monotonic() - 30, 10)
        out = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-X", "POST", "-d", "{}",
             "-H", "Accept: application/json", "-H", "Content-Type: application/json; charset=utf-8",
             "-w", "%{size_request} %{size_header} %{size_download}", f"http://127.0.0.1:{port}/api/handshake"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.split()  # fmt: skip
        return [int(n) for n in out]
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    minutes = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    polls, attempts = per_minute(minutes)
    sent, header, body = bytes_of_one_poll()
    print("polls of a waiting remote's server while it is down, every option at its default (fake module)")
    print(f"{'minute':>6} {'polls':>6} {'attempts':>9}")
    for minute, (count, tries) in enumerate(zip(polls, attempts)):
        print(f"{minute + 1:>6} {count:>6} {tries:>9}")
    print(f"one poll: {sent} bytes sent, {header + body} bytes received (HTTP, on a WeeChat relay), plus TCP")
    first, later = polls[0], polls[-1]
    print(f"first minute: {first} polls, {first * (sent + header + body) / 1024:.1f} KiB; minute {minutes}: {later}")
    print(f"command: python3 bench/poll_cost.py {minutes}")


if __name__ == "__main__":
    main()
