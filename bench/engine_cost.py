#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure core's cost: one failed attempt of one remote among N, through the engine alone.

A failed attempt is the four events the shell gives the engine: the
"connecting" signal, the "disconnected" signal, the decision out of signal
context (settle: class the drop, count it, plan the next attempt) and the
timer that brings the attempt. No WeeChat, no fake module: this is what the
core itself costs per attempt, whatever the number of remotes.

Run: python3 bench/engine_cost.py [remotes rounds] [path of the script]
(a second script, e.g. an older version, can be measured the same way)
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

from machine import machine

ROOT = Path(__file__).resolve().parent.parent


def load(path: Path):
    spec = importlib.util.spec_from_file_location("relay_autoreconnect_measured", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def measure(ra, remotes: int, rounds: int) -> dict:
    engine = ra.Engine(ra.Settings(jitter=0, connect_timeout=0, poll=0, delay=1, growing=1))
    names = [f"r{n}" for n in range(remotes)]
    for name in names:
        engine.status_changed(name, "connecting", 0.0)
        engine.status_changed(name, "connected", 0.0)
    spent = {"connecting": 0.0, "disconnected": 0.0, "settle": 0.0, "timer": 0.0}
    clock, now = time.perf_counter, 100.0
    for _ in range(rounds):
        start = clock()
        for name in names:
            engine.status_changed(name, "connecting", now)
        spent["connecting"] += clock() - start
        start = clock()
        for name in names:
            engine.status_changed(name, "disconnected", now)
        spent["disconnected"] += clock() - start
        start = clock()
        engine.settle()
        spent["settle"] += clock() - start
        now += 1.0
        start = clock()
        for name in names:
            engine.timer_fired(name, now)
        spent["timer"] += clock() - start
    return {step: seconds / (remotes * rounds) * 1e6 for step, seconds in spent.items()}


def main() -> None:
    remotes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    path = Path(sys.argv[3]) if len(sys.argv) > 3 else ROOT / "relay_autoreconnect.py"
    costs = measure(load(path), remotes, rounds)
    print(f"engine alone, {remotes} remotes, {rounds} failed attempts each ({path.name})")
    print(f"machine: {machine()}")
    print("per failed attempt (µs): " + ", ".join(f"{step} {cost:.2f}" for step, cost in costs.items()))
    print(f"total: {sum(costs.values()):.2f} µs per failed attempt")
    print(f"command: python3 bench/engine_cost.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
