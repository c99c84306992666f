#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scale: many remotes in one client (the script on the fake module), a flap storm.

Every remote connects, drops, gets its attempt, is refused, ... for ROUNDS
rounds. Prints the time the script takes per relay_remote_* signal (the
whole path: signal callback, engine, deferred decision, timers, bar item),
how often the bar item was rebuilt, and the memory held per remote
(tracemalloc): by the script alone, and with the fake WeeChat's remotes.

Run: python3 bench/scale.py [remotes rounds]   (or: make bench)
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "stubs"), str(ROOT)]

import weechat_sim  # noqa: E402

import relay_autoreconnect as ra  # noqa: E402


def main() -> None:
    remotes = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sim = weechat_sim.Sim()
    names = [f"r{n}" for n in range(remotes)]
    for name in names:
        sim.add_remote(name)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    sim.load(ra, {"autoreconnect_heartbeat": "0"})
    for name in names:
        sim.user(f"/remote connect {name}")
        sim.accept(name)
    sim.advance(100)
    diff = tracemalloc.take_snapshot().compare_to(before, "filename")
    tracemalloc.stop()
    held = sum(s.size_diff for s in diff)
    # the __init__ of a dataclass is made with exec (file "<string>"): the script's records
    script = sum(s.size_diff for s in diff if s.traceback[0].filename in (ra.__file__, "<string>"))
    bar_updates = len(sim.state.bar_updates)
    signals = 0
    start = time.perf_counter()
    for _ in range(rounds):
        for name in names:
            sim.drop(name)  # the storm: every link drops
        signals += remotes
        sim.settle()
        sim.advance(11)  # every attempt fires (waits are at most the 10-s delay)
        signals += remotes
        for name in names:
            sim.accept(name)  # and succeeds (waiting_auth, connected)
        signals += 2 * remotes
        sim.advance(100)
    elapsed = time.perf_counter() - start
    bar_updates = len(sim.state.bar_updates) - bar_updates
    sim.unload()
    version = sys.version.split()[0]
    print(f"{remotes} remotes, {rounds} flap rounds, {signals} relay_remote_* signals (fake module, Python {version})")
    print(f"time per signal: {elapsed / signals * 1e6:.1f} µs (whole path, fake WeeChat included)")
    print(f"bar item rebuilt {bar_updates} times in {rounds * 111} virtual seconds of storm")
    per_remote = f"script {script / remotes:.0f} bytes, with the fake WeeChat {held / remotes:.0f} bytes"
    print(f"memory held per remote: {per_remote}")
    print(f"command: python3 bench/scale.py {remotes} {rounds}")


if __name__ == "__main__":
    main()
