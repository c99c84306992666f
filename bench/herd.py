#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thundering herd: 200 clients cut off by one server restart, with and without jitter.

Each client is the script against the fake weechat module (virtual time),
with one remote, the default delay (10 s) and a stable link that drops at
the same instant for all. The attempts of the first and second round are
counted per second; the peak-second share is the largest fraction of a
round's attempts that land in one second. Then the server stays down for
BACK seconds: every attempt before is refused, the script's polls (default
15 s) get no answer before and an answer after; the reconnections that
follow are counted the same way.

Run: python3 bench/herd.py [clients]   (or: make bench)
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "stubs"), str(ROOT)]

import weechat_sim  # noqa: E402

import relay_autoreconnect as ra  # noqa: E402


def cut_off(jitter: int, seed: int) -> tuple:
    """One client whose stable link to "srv" just dropped: (sim, time of the drop)."""
    ra.random.seed(seed)
    sim = weechat_sim.Sim()
    sim.add_remote("srv")
    sim.load(ra, {"autoreconnect_jitter": str(jitter)})
    sim.user("/remote connect srv")
    sim.accept("srv")
    sim.advance(100)
    sim.drop("srv")
    return sim, sim.state.now


def one_client(jitter: int, seed: int) -> list:
    """Times (s after the drop) of the first two attempts of one client."""
    sim, drop = cut_off(jitter, seed)
    times = []
    for _ in range(2):
        before = len(sim.connects("srv"))
        while len(sim.connects("srv")) == before:
            sim.advance(0.05)
        times.append(sim.state.now - drop)
        sim.drop("srv")  # refused: the server is still down
    sim.unload()
    return times


BACK = 60.0


def back_after(jitter: int, seed: int) -> float:
    """Time (s after the drop) of the attempt that follows the server's return at BACK."""
    sim, drop = cut_off(jitter, seed)
    attempts = len(sim.connects("srv"))
    while True:
        sim.advance(0.05)
        if sim.probes():
            sim.answer_probes(sim.state.now - drop >= BACK)
        if len(sim.connects("srv")) > attempts:
            attempts = len(sim.connects("srv"))
            if sim.state.now - drop >= BACK:
                break
            sim.drop("srv")  # refused: the server is still down
    sim.unload()
    return sim.state.now - drop


def histogram(times: list) -> str:
    counts = collections.Counter(int(t) for t in times)
    return " ".join(f"{s}s:{counts[s]}" for s in sorted(counts))


def main() -> None:
    clients = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    default = next(int(o.default) for o in ra.OPTIONS if o.name == "autoreconnect_jitter")
    print(f"{clients} clients, server restart at t=0, delay 10 s, growing 2 (virtual time)")
    print(f"{'jitter':<8} {'round':<6} {'peak-second share':>18}  attempts per second")
    for jitter in (0, default):
        rounds = list(zip(*(one_client(jitter, seed) for seed in range(clients))))
        for n, times in enumerate(rounds, 1):
            peak = max(collections.Counter(int(t) for t in times).values()) / clients
            print(f"{jitter:>3} %    {n:<6} {peak:>17.0%}  {histogram(times)}")
    print(f"server back {BACK:.0f} s after the drop; the first attempt after its return (polls every 15 s):")
    for jitter in (0, default):
        times = [back_after(jitter, seed) for seed in range(clients)]
        peak = max(collections.Counter(int(t) for t in times).values()) / clients
        print(f"{jitter:>3} %    {'back':<6} {peak:>17.0%}  {histogram(times)}")
    print(f"command: python3 bench/herd.py {clients}")


if __name__ == "__main__":
    main()
