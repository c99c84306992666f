#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Idle cost: a client with 20 connected remotes, with and without the script.

Real weechat-headless server and client on 127.0.0.1; 20 remotes on the
client, all connected to the server. Over SECONDS of idle time, prints the
CPU time the client used and how often it woke up (voluntary context
switches of all its threads, from /proc), and how many heartbeat probes
reached the server (each heartbeat tick probes every connected remote).

Run: python3 bench/idle_cost.py [seconds]   (or: make bench)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PASSWORD, PROBE, SCRIPT, WeeChat, free_port, server_commands  # noqa: E402

REMOTES = 20
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def wake_ups(pid: int) -> int:
    """Voluntary context switches of every thread: each is a sleep ended by a wake-up."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        for line in status.read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                total += int(line.split()[1])
    return total


def measure(with_script: bool, seconds: float) -> tuple:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    port = free_port()
    server = WeeChat(tmp / "server", [PROBE], [*server_commands(port), "/set relay.network.max_clients 0"])
    adds = [f"/remote add r{n} http://127.0.0.1:{port} -password={PASSWORD}" for n in range(REMOTES)]
    client = WeeChat(tmp / "client", [PROBE, SCRIPT] if with_script else [PROBE], adds)
    try:
        server.start()
        server.wait_for(lambda: server.lines(f"port {port}"), 10, "listening")
        client.start()
        since = time.monotonic()
        for n in range(REMOTES):
            client.send(f"/remote connect r{n}")
        client.wait_for(
            lambda: len(client.find(kind="signal", status="connected", since=since)) >= REMOTES, 30, "all up"
        )
        time.sleep(3)  # let the initial syncs finish before measuring
        start, cpu0, wakes0 = time.monotonic(), cpu_seconds(client.proc.pid), wake_ups(client.proc.pid)
        time.sleep(seconds)  # the measured idle period
        cpu = cpu_seconds(client.proc.pid) - cpu0
        wakes = wake_ups(client.proc.pid) - wakes0
        probes = len([e for e in server.find(kind="client_signal", since=start) if e["status"] == "disconnected"])
        return cpu, wakes, probes
    finally:
        client.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    print(f"idle cost, {REMOTES} connected remotes, {seconds:.0f} s, WeeChat {WeeChat.version()}, default options")
    print(f"{'client':<22} {'CPU s':>7} {'wake-ups':>9} {'probes seen by the server':>27}")
    for with_script in (False, True):
        cpu, wakes, probes = measure(with_script, seconds)
        name = "with the script" if with_script else "WeeChat alone"
        print(f"{name:<22} {cpu:7.2f} {wakes:>9} {probes:>27}")
    print(f"command: python3 bench/idle_cost.py {seconds:.0f}")


if __name__ == "__main__":
    main()
