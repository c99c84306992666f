#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lines queued while a remote's server is down: how fast they reach it once the link is back.

Real weechat-headless server and client on 127.0.0.1. The client is connected and has
the mirror of the server's buffer "chan"; the server is killed; N lines for the mirror
are written to the client's fifo in one go and the script keeps them all (its notice
"(N waiting"); the server starts again (same port, same buffer). Measured from the
client's "connected" signal to the first and to the last line reaching the server's
buffer (the probe's monotonic clock, on both sides), lines per second over that time,
and the script's notice of the delivery. Requests: the connections the server's relay
took meanwhile (a new client's first signal, relay_client_waiting_auth; curl opens one per
request of the script's, and WeeChat's own websocket is one). Checked: every line arrived once, in
the order typed.

Run: python3 bench/delivery_rate.py [lines [runs]] [--script PATH] [--hash ALGO ...]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PROBE, SCRIPT, WeeChat, client_commands, free_port, server_commands  # noqa: E402
from helpers import CHAN, MIRROR, connect_with_mirror, fast, inputs, statuses  # noqa: E402
from machine import machine  # noqa: E402


def run_once(script: Path, count: int, algo: str) -> Dict:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    port = free_port()
    copy = tmp / "script" / "relay_autoreconnect.py"  # the script registers under its own name
    copy.parent.mkdir()
    shutil.copy(script, copy)
    hashes = [] if algo == "*" else [f"/set relay.network.password_hash_algo {algo}"]

    def server_instance() -> WeeChat:
        return WeeChat(tmp / "server", [PROBE], server_commands(port) + hashes + CHAN)

    server = server_instance()
    client = WeeChat(tmp / "client", [PROBE, copy], client_commands(port, fast(1, 2)))
    try:
        server.start()
        client.start()
        since = connect_with_mirror(client)
        since = time.monotonic()
        server.kill()
        client.wait_for(lambda: statuses(client, "disconnected", since), 5, "drop")
        texts = [f"queued line {n:05d}" for n in range(count)]
        client.send_all(texts, buffer=MIRROR, timeout=60)
        client.wait_line(f"({count} waiting", since, 120)
        restart = time.monotonic()
        server = server_instance()
        server.start()
        connected = client.wait_for(lambda: statuses(client, "connected", restart), 60, "connected")[0]["t"]
        server.wait_for(lambda: len(inputs(server, restart)) >= count, 60 + count, f"{count} lines on the server")
        told = client.wait_line(f"remote[srv]: {count} queued line(s) delivered", restart, 30)["t"]
        arrived = server.find(kind="input", buffer="python.chan", since=restart)
        requests = [e for e in server.find(kind="client_signal", since=restart) if e["status"] == "waiting_auth"]
        last = arrived[-1]["t"]
        return {
            "first": arrived[0]["t"] - connected,
            "last": last - connected,
            "rate": count / (last - connected),
            "told": told - connected,
            "requests": len(requests),
            "during": len([e for e in requests if e["t"] <= last]),
            "once_in_order": [e["text"] for e in arrived] == texts,
        }
    finally:
        client.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="?", type=int, default=500)
    parser.add_argument("runs", nargs="?", type=int, default=1)
    parser.add_argument("--script", type=Path, default=SCRIPT, help="another copy of the script to measure")
    parser.add_argument(
        "--hash", nargs="+", default=["*"], help='relay.network.password_hash_algo of the server ("*": default)'
    )
    args = parser.parse_args()
    print(f"{args.lines} lines queued while the server is down, then delivered, WeeChat {WeeChat.version()}")
    print(f"script: {args.script}")
    print(f"machine: {machine()}")
    columns = ("first s", "last s", "lines/s", "told s", "connections", "once, in order")
    print(f"{'password_hash_algo':<19} {'run':>3} " + " ".join(f"{column:>{len(column) + 1}}" for column in columns))
    for algo in args.hash:
        for n in range(1, args.runs + 1):
            result = run_once(args.script, args.lines, algo)
            print(
                f"{algo:<19} {n:>3} {result['first']:8.2f} {result['last']:7.2f} {result['rate']:8.1f} "
                f"{result['told']:7.2f} {result['during']:8d} ({result['requests']}) "
                f"{'yes' if result['once_in_order'] else 'NO':>15}",
                flush=True,
            )
    print("connections: the server's new clients (relay_client_waiting_auth) until the last line (in all)")
    print(f"command: python3 bench/delivery_rate.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
