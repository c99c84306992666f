#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""A line submitted in a remote buffer of a connected client: how long until the server has it.

Real weechat-headless server and client on 127.0.0.1. The client is connected and has
the mirror of the server's buffer "chan" (the probe records, with its monotonic clock,
each line that buffer's input gets). Each line is what Enter does, through the client's
fifo: `/input insert TEXT` then `/input return` in the mirror. A small script on the
client stamps `/input return` when it runs (hook_command_run, before any other hook of
it); the latency is from that stamp to the server's buffer getting the line, whatever
path the line takes (WeeChat's websocket, or a request of the script's). One line
first, given apart ("first": the link warms up), then N lines, SPACING ms apart, each sent once
the one before arrived. Cases: WeeChat alone (the script not loaded), then with the
script; the server's password hash at its default (pbkdf2+sha512, 100 000 iterations:
`relay.network.password_hash_algo` "*"), then "sha256" if asked.

Run: python3 bench/input_latency.py [lines [spacing_ms]] [--script PATH] [--hash ALGO ...]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PROBE, SCRIPT, WeeChat, client_commands, free_port, server_commands  # noqa: E402
from helpers import CHAN, MIRROR, connect_with_mirror  # noqa: E402
from machine import machine  # noqa: E402

# stamps /input return in the probe's record, before the other hooks of the command (priority 1000)
STAMP = """\
import json, os, time
import weechat

weechat.register("bench_stamp", "bench", "0.1", "GPL3", "stamps /input return", "", "")
OUT = open(os.environ["WEECHAT_PROBE_FILE"], "a", buffering=1, encoding="utf-8")


def enter_cb(_data, buffer, _command):
    name = weechat.buffer_get_string(buffer, "full_name")
    text = weechat.buffer_get_string(buffer, "input")
    OUT.write(json.dumps({"t": time.monotonic(), "kind": "enter", "buffer": name, "input": text}) + "\\n")
    return weechat.WEECHAT_RC_OK


weechat.hook_command_run("100000|/input return", "enter_cb", "")
"""


def percentile(values: List[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def submit(client: WeeChat, server: WeeChat, text: str, timeout: float = 30.0) -> float:
    """Enter on a line in the mirror; return seconds from the stamp of /input return to the server's input."""
    since = time.monotonic()
    client.send_all([f"/input insert {text}", "/input return"], buffer=MIRROR)
    arrived = server.wait_for(
        lambda: [e for e in server.find(kind="input", buffer="python.chan", since=since) if e["text"] == text],
        timeout,
        f"the line {text!r} on the server",
    )[0]
    enter = client.wait_for(
        lambda: [e for e in client.find(kind="enter", buffer=MIRROR, since=since) if e["input"] == text],
        5,
        "the stamp of /input return",
    )[0]
    return arrived["t"] - enter["t"]


def run_case(script: Path, with_script: bool, algo: str, count: int, spacing: float) -> Dict:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    port = free_port()
    stamp = tmp / "bench_stamp.py"
    stamp.write_text(STAMP)
    scripts = [PROBE, stamp]
    if with_script:
        copy = tmp / "script" / "relay_autoreconnect.py"  # the script registers under its own name
        copy.parent.mkdir()
        shutil.copy(script, copy)
        scripts.append(copy)
    hashes = [] if algo == "*" else [f"/set relay.network.password_hash_algo {algo}"]
    server = WeeChat(tmp / "server", [PROBE], server_commands(port) + hashes + CHAN)
    client = WeeChat(tmp / "client", scripts, client_commands(port))
    try:
        server.start()
        client.start()
        since = connect_with_mirror(client)
        client.wait_line("remote[srv]: WeeChat: ", since, 5)
        first = submit(client, server, "warm-up line")
        latencies = []
        for n in range(count):
            start = time.monotonic()
            latencies.append(submit(client, server, f"line {n:04d}"))
            time.sleep(max(0.0, start + spacing - time.monotonic()))
        arrived = [e["text"] for e in server.find(kind="input", buffer="python.chan")]
        expected = ["warm-up line"] + [f"line {n:04d}" for n in range(count)]
        return {"first": first, "latencies": latencies, "once_in_order": arrived == expected}
    finally:
        client.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="?", type=int, default=50)
    parser.add_argument("spacing_ms", nargs="?", type=int, default=200)
    parser.add_argument("--script", type=Path, default=SCRIPT, help="another copy of the script to measure")
    parser.add_argument(
        "--hash", nargs="+", default=["*", "sha256"], help='the server\'s relay.network.password_hash_algo ("*")'
    )
    args = parser.parse_args()
    print(f"Enter in a remote buffer -> the server's buffer has the line, WeeChat {WeeChat.version()}")
    print(f"{args.lines} lines, {args.spacing_ms} ms apart, on 127.0.0.1; script: {args.script}")
    print(f"machine: {machine()}")
    print(f"{'case':<40} {'first ms':>9} {'median ms':>10} {'p90 ms':>8} {'max ms':>8}  once, in order")
    for algo in args.hash:
        for with_script in (False, True):
            result = run_case(args.script, with_script, algo, args.lines, args.spacing_ms / 1000)
            values = [value * 1000 for value in result["latencies"]]
            case = f"{'with the script' if with_script else 'WeeChat alone'}, password_hash_algo {algo}"
            figures = (result["first"] * 1000, statistics.median(values), percentile(values, 0.9), max(values))
            print(
                f"{case:<40} {figures[0]:9.1f} {figures[1]:10.1f} {figures[2]:8.1f} {figures[3]:8.1f}"
                f"  {'yes' if result['once_in_order'] else 'NO'}",
                flush=True,
            )
    print(f"command: python3 bench/input_latency.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
