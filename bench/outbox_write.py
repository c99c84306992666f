#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""A burst of lines for a remote whose link is down: how long it takes to keep them, and
how late it makes the attempt that was pending.

Real weechat-headless server and client on 127.0.0.1. The client is connected and has
the mirror of the server's buffer "chan"; the server is killed; then N lines for the
mirror are written to the client's fifo in one go (WeeChat reads a fifo 4 KiB at a
time, about 90 of these lines). Measured, per run: from the write to the script's
notice of the first line and of the last one (a line is said kept once it is on
disk), per line, and how late the attempt due 5 s after the drop came. A fresh server and client for each run;
one more run, if strace is installed, counts the writes of the file (its fsync calls;
that run's times are not given: strace slows WeeChat).

Run: python3 bench/outbox_write.py [lines runs] [path of the script]
(an older version of the script can be measured the same way, e.g.
`git show COMMIT:relay_autoreconnect.py > /tmp/old/relay_autoreconnect.py`)
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PROBE, SCRIPT, WeeChat, client_commands, free_port, server_commands  # noqa: E402
from helpers import CHAN, MIRROR, connect_with_mirror, fast, statuses  # noqa: E402
from machine import machine  # noqa: E402

OUTBOX = "relay_autoreconnect_outbox.json"
DELAY = 5  # s: the attempt after the drop


def traced(pid: int, output: Path) -> subprocess.Popen:
    """strace on a process, counting its fsync calls, once it is attached."""
    trace = subprocess.Popen(
        ["strace", "-f", "--seccomp-bpf", "-e", "trace=fsync", "-o", str(output), "-p", str(pid)],
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in trace.stderr:
        if "attached" in line:
            return trace
    raise RuntimeError(f"strace could not trace process {pid}")


def run_once(script: Path, count: int, count_writes: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    port = free_port()
    copy = tmp / "script" / "relay_autoreconnect.py"  # the script registers under its own name
    copy.parent.mkdir()
    shutil.copy(script, copy)
    server = WeeChat(tmp / "server", [PROBE], server_commands(port) + CHAN)
    settings = ["/set relay.network.autoreconnect_jitter 0", *fast(DELAY, DELAY)]
    client = WeeChat(tmp / "client", [PROBE, copy], client_commands(port, settings))
    try:
        server.start()
        client.start()
        since = connect_with_mirror(client)
        since = time.monotonic()
        server.kill()
        dropped = client.wait_for(lambda: statuses(client, "disconnected", since), 5, "drop")[0]["t"]
        trace = traced(client.proc.pid, tmp / "strace.txt") if count_writes else None
        start = time.monotonic()
        client.send_all([f"burst line {n:05d}" for n in range(count)], buffer=MIRROR, timeout=60)
        last = client.wait_line(f"({count} waiting", since, 120)
        first = client.lines("kept, sent after the reconnection", since)[0]
        on_disk = len(json.loads((client.home / OUTBOX).read_text())["lines"])
        attempt = client.wait_for(lambda: statuses(client, "connecting", dropped), 120, "the attempt")[0]
        writes = 0
        if trace is not None:
            trace.terminate()
            trace.wait(timeout=10)
            writes = (tmp / "strace.txt").read_text().count("fsync(")
        return {
            "first": first["t"] - start,
            "queued": last["t"] - start,
            "on_disk": on_disk,
            "late": attempt["t"] - dropped - DELAY,
            "writes": writes,
        }
    finally:
        client.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    script = Path(sys.argv[3]) if len(sys.argv) > 3 else SCRIPT
    print(f"a burst of {count} lines through the fifo for a down remote, WeeChat {WeeChat.version()} ({script})")
    print(f"machine: {machine()}")
    columns = ("first said s", "last said s", "per line ms", "in the file", "attempt late s")
    print(f"{'run':>3} " + " ".join(f"{column:>{len(column) + 1}}" for column in columns))
    results = [run_once(script, count) for _ in range(runs)]
    for n, result in enumerate(results, 1):
        print(
            f"{n:>3} {result['first']:13.2f} {result['queued']:12.2f} {result['queued'] / count * 1000:12.2f} "
            f"{result['on_disk']:12d} {result['late']:+15.3f}"
        )
    queued = statistics.median(result["queued"] for result in results)
    print(f"median: {queued:.2f} s to keep {count} lines ({queued / count * 1000:.2f} ms a line)")
    if shutil.which("strace"):
        writes = run_once(script, count, count_writes=True)["writes"]
        print(f"writes of the file (fsync) for the {count} lines, one more run under strace: {writes}")
    print(f"command: python3 bench/outbox_write.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
