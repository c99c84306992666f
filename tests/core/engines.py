# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the core tests: settings, engines in a known state, the reference backoff.

Time is virtual: plain floats are passed as `now`.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import relay_autoreconnect as ra

DISC = ra.STATUS_DISCONNECTED
CONNECTING = ra.STATUS_CONNECTING
AUTH = ra.STATUS_WAITING_AUTH
CONNECTED = ra.STATUS_CONNECTED
UNKNOWN = ra.STATUS_UNKNOWN


def ref_backoff(n: int, delay: int, growing: int, delay_max: int) -> int:
    """Independent reference: min(delay * growing^(n-1), cap), exact ints.

    With growing >= 2 and delay >= 1, growing^64 >= 2^64 exceeds every cap,
    so the exponent can be clamped to 64 without changing the result.
    """
    cap = delay_max if delay_max > 0 else ra.UNCAPPED_DELAY_LIMIT
    n = max(n, 1)
    if growing <= 1:
        return min(delay, cap)
    return min(delay * growing ** min(n - 1, 64), cap)


def cfg(**kw) -> ra.Settings:
    """Settings for backoff tests: no connect timeout, no polls, no jitter, no auth cap
    (each tested on its own)."""
    kw.setdefault("connect_timeout", 0)
    kw.setdefault("poll", 0)
    kw.setdefault("jitter", 0)
    kw.setdefault("auth_max", 0)
    return ra.Settings(**kw)


def route(address: bool = True, reachable: Optional[bool] = True, default_route: Optional[bool] = True, https=False):
    """A route lookup for Engine(route=...): every remote's server is reached this way."""
    found = ra.Route(address=address, reachable=reachable, default_route=default_route, https=https)
    return lambda _name: found


def bring_up(engine: ra.Engine, name: str = "r", now: float = 0.0) -> List[ra.Action]:
    """connecting -> waiting_auth -> connected, all at `now`."""
    actions: List[ra.Action] = []
    for status in (CONNECTING, AUTH, CONNECTED):
        actions += engine.status_changed(name, status, now)
    return actions


def new_connected(engine: ra.Engine, name: str, now: float) -> None:
    """A remote created by /remote add, then connected at `now`."""
    assert engine.status_changed(name, DISC, now) == []
    assert bring_up(engine, name, now) == []


def fail_attempt(engine: ra.Engine, name: str, now: float) -> List[ra.Action]:
    """The attempt started by a Connect is refused at `now`; settle."""
    assert engine.status_changed(name, CONNECTING, now) == []
    assert engine.status_changed(name, DISC, now) == []
    return engine.settle()


def after_failures(failures: int, settings: ra.Settings) -> Tuple[ra.Engine, float]:
    """An engine whose remote "r" dropped at 100 s, then failed `failures` attempts;
    returns it and the time of the attempt now pending."""
    engine = ra.Engine(settings)
    new_connected(engine, "r", 0.0)
    engine.status_changed("r", DISC, 100.0)
    (sched,) = engine.settle()
    now = sched.due
    for _ in range(failures):
        assert engine.timer_fired("r", now) == [ra.Connect("r")]
        (sched,) = fail_attempt(engine, "r", now)
        now = sched.due
    return engine, now


def connected_engine(**settings) -> ra.Engine:
    """An engine (jitter and connect timeout off) whose remote "r" is connected at 0 s."""
    engine = ra.Engine(ra.Settings(**{"jitter": 0, "connect_timeout": 0, **settings}))
    engine.status_changed("r", CONNECTING, 0.0)
    engine.status_changed("r", CONNECTED, 0.0)
    return engine


def waiting(delay=60, poll=15, **settings) -> Tuple[ra.Engine, List[ra.Action]]:
    """An engine whose remote "r" dropped at 100 s (network) and waits `delay` s; the settle's actions."""
    engine = ra.Engine(ra.Settings(jitter=0, connect_timeout=0, delay=delay, poll=poll, **settings))
    bring_up(engine, now=0.0)
    engine.status_changed("r", DISC, 100.0)
    return engine, engine.settle()
