# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine: backoff, attempts, give-ups, the user's word, options (pure core).

Time is virtual everywhere: plain floats are passed as `now`; nothing sleeps
and nothing reads the real clock (except two coarse performance guards).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import random
import time
from typing import Dict, List, Optional, Set, Tuple

import pytest
from engines import (
    AUTH,
    CONNECTED,
    CONNECTING,
    DISC,
    UNKNOWN,
    after_failures,
    bring_up,
    cfg,
    fail_attempt,
    new_connected,
    ref_backoff,
)

import relay_autoreconnect as ra
from relay_autoreconnect import STATUS_DISCONNECTED, backoff_delay, jittered

Settings = ra.Settings
Engine = ra.Engine
Schedule = ra.Schedule
Cancel = ra.Cancel
Connect = ra.Connect
Disconnect = ra.Disconnect
GiveUp = ra.GiveUp
Phase = ra.Phase

SIGNAL_STATUSES = (DISC, CONNECTING, AUTH, CONNECTED)
STABLE = ra.STABLE_SECONDS
TOL = ra.TIMER_TOLERANCE


# ---------------------------------------------------------------------------
# backoff_delay
# ---------------------------------------------------------------------------

DELAYS = (1, 2, 3, 7, 10, 600, 65535)
GROWINGS = (1, 2, 3, 10, 100)
DELAY_MAXES = (0, 1, 9, 10, 600, 604800)
NS = tuple(range(1, 70)) + (100, 1000, 10**6, 10**9, 10**18)


@pytest.mark.parametrize(
    "delay,growing,delay_max",
    list(itertools.product(DELAYS, GROWINGS, DELAY_MAXES)),
)
def test_backoff_matches_formula(delay, growing, delay_max):
    settings = cfg(delay=delay, growing=growing, delay_max=delay_max)
    previous = 0
    for n in NS:
        got = ra.backoff_delay(n, settings)
        assert got == ref_backoff(n, delay, growing, delay_max), n
        assert isinstance(got, int)
        assert 1 <= got <= (delay_max or ra.UNCAPPED_DELAY_LIMIT)
        assert got >= previous  # never shrinks as attempts grow
        previous = got


@pytest.mark.parametrize(
    "delay,growing,delay_max,expected",
    [
        (10, 2, 600, [10, 20, 40, 80, 160, 320, 600, 600, 600]),
        (10, 1, 600, [10] * 9),
        (5, 3, 100, [5, 15, 45, 100, 100]),
        (1, 10, 0, [1, 10, 100, 1000, 10000, 100000, 604800, 604800]),
        (10, 2, 0, [10 * 2**k for k in range(16)] + [604800, 604800]),
        (700, 2, 600, [600, 600, 600]),  # first wait already above the cap
        (65535, 100, 0, [65535, 604800, 604800]),
        (3, 1, 0, [3, 3, 3, 3]),
    ],
)
def test_backoff_known_schedules(delay, growing, delay_max, expected):
    settings = cfg(delay=delay, growing=growing, delay_max=delay_max)
    assert [ra.backoff_delay(n, settings) for n in range(1, len(expected) + 1)] == expected


@pytest.mark.parametrize("n", [0, -1, -7, -(10**9)])
@pytest.mark.parametrize("settings", [cfg(), cfg(delay=3, growing=5, delay_max=0), cfg(delay=9, growing=1)])
def test_backoff_non_positive_attempt_is_first_attempt(n, settings):
    assert (
        ra.backoff_delay(n, settings)
        == ra.backoff_delay(1, settings)
        == min(settings.delay, settings.delay_max or ra.UNCAPPED_DELAY_LIMIT)
    )


@pytest.mark.parametrize(
    "settings",
    [
        cfg(delay=1, growing=1, delay_max=0),
        cfg(delay=1, growing=2, delay_max=0),
        cfg(delay=65535, growing=100, delay_max=604800),
        cfg(),
    ],
)
def test_backoff_huge_attempt_is_fast(settings):
    start = time.perf_counter()
    for n in (10**6, 10**9, 10**12, 10**18):
        assert ra.backoff_delay(n, settings) == ref_backoff(n, settings.delay, settings.growing, settings.delay_max)
    assert time.perf_counter() - start < 0.5


def test_backoff_uncapped_bound():
    settings = cfg(delay=10, growing=2, delay_max=0)
    assert ra.backoff_delay(10**6, settings) == ra.UNCAPPED_DELAY_LIMIT
    assert ra.backoff_delay(16, settings) == 10 * 2**15 < ra.UNCAPPED_DELAY_LIMIT
    assert ra.backoff_delay(17, settings) == ra.UNCAPPED_DELAY_LIMIT


# ---------------------------------------------------------------------------
# engine life cycle
# ---------------------------------------------------------------------------


def test_new_remote_is_not_scheduled():
    e = Engine(cfg())
    assert e.status_changed("r", DISC, 0.0) == []
    assert e.settle() == []
    r = e.remotes["r"]
    assert r.status == DISC and r.wanted is False and r.due is None
    assert e.pending() == []
    # repeated disconnected signals change nothing
    assert e.status_changed("r", DISC, 1.0) == []
    assert e.settle() == []


def test_full_cycle_drop_schedule_connect_fail_grow():
    e = Engine(cfg(delay=10, growing=2, delay_max=600))
    new_connected(e, "r", 5.0)
    r = e.remotes["r"]
    assert r.wanted is True and r.status == CONNECTED

    assert e.status_changed("r", DISC, 100.0) == []  # decision waits for settle
    assert r.due is None
    assert e.settle() == [Schedule("r", 110.0, 10, 1, 0)]
    assert r.due == 110.0 and r.number == 0
    assert e.pending() == [r]
    assert e.settle() == []  # idempotent

    assert e.timer_fired("r", 110.0) == [Connect("r")]
    assert r.number == 1 and r.due is None
    assert e.timer_fired("r", 110.0) == []  # no second Connect

    # the attempt starts (signal inside /remote connect), connect_issued is a no-op
    assert e.status_changed("r", CONNECTING, 110.0) == []
    assert e.connect_issued("r", 110.0) == []
    assert e.settle() == []
    # refused
    assert e.status_changed("r", DISC, 112.0) == []
    assert e.settle() == [Schedule("r", 132.0, 20, 2, 0)]
    assert e.timer_fired("r", 132.0) == [Connect("r")]
    assert r.number == 2
    assert fail_attempt(e, "r", 132.5) == [Schedule("r", 172.5, 40, 3, 0)]


def test_attempt_counter_and_waits_follow_schedule():
    settings = cfg(delay=3, growing=3, delay_max=100)
    e = Engine(settings)
    new_connected(e, "r", 0.0)
    e.status_changed("r", DISC, 10.0)
    (sched,) = e.settle()
    now = 10.0
    for n in range(1, 12):
        assert sched == Schedule("r", now + ref_backoff(n, 3, 3, 100), ref_backoff(n, 3, 3, 100), n, 0)
        now = sched.due
        assert e.timer_fired("r", now) == [Connect("r")]
        assert e.remotes["r"].number == n
        (sched,) = fail_attempt(e, "r", now)


@pytest.mark.parametrize("max_attempts", [1, 2, 5])
def test_attempt_cap_gives_up_exactly_once(max_attempts):
    e = Engine(cfg(delay=1, growing=2, delay_max=8, max_attempts=max_attempts))
    new_connected(e, "r", 0.0)
    e.status_changed("r", DISC, 100.0)
    actions = e.settle()
    connects = 0
    now = 100.0
    while True:
        assert len(actions) == 1
        if isinstance(actions[0], GiveUp):
            break
        sched = actions[0]
        assert isinstance(sched, Schedule) and sched.max_attempts == max_attempts
        assert sched.attempt <= max_attempts
        now = sched.due
        assert e.timer_fired("r", now) == [Connect("r")]
        connects += 1
        actions = fail_attempt(e, "r", now + 0.5)
    assert connects == max_attempts
    assert actions == [GiveUp("r", max_attempts)]
    r = e.remotes["r"]
    assert r.gave_up and r.due is None and r.number == max_attempts
    # nothing more, whatever happens next short of a reset
    assert e.settle() == []
    assert e.status_changed("r", DISC, now + 10) == []
    assert e.settle() == []
    assert e.timer_fired("r", now + 1000) == []
    # an attempt started by someone else that fails again: still no GiveUp
    assert fail_attempt(e, "r", now + 2000) == []
    assert e.connect_issued("r", now + 2001) == []
    assert e.settle() == []


def test_gave_up_then_user_connect_restarts_from_attempt_one():
    e = Engine(cfg(delay=5, growing=2, max_attempts=1))
    new_connected(e, "r", 0.0)
    e.status_changed("r", DISC, 50.0)
    assert e.settle() == [Schedule("r", 55.0, 5, 1, 1)]
    assert e.timer_fired("r", 55.0) == [Connect("r")]
    assert fail_attempt(e, "r", 55.0) == [GiveUp("r", 1)]
    assert e.user_connect("r") == (True, [])
    r = e.remotes["r"]
    assert r.number == 0 and not r.gave_up
    assert fail_attempt(e, "r", 60.0) == [Schedule("r", 65.0, 5, 1, 1)]


def test_connected_link_clears_gave_up():
    e = Engine(cfg(delay=5, max_attempts=1))
    new_connected(e, "r", 0.0)
    e.status_changed("r", DISC, 50.0)
    e.settle()
    e.timer_fired("r", 55.0)
    assert fail_attempt(e, "r", 55.0) == [GiveUp("r", 1)]
    # the user reconnects by hand (signals only), the link is stable, drops
    assert bring_up(e, "r", 100.0) == []
    assert e.remotes["r"].gave_up is False
    e.status_changed("r", DISC, 100.0 + STABLE)
    assert e.settle() == [Schedule("r", 105.0 + STABLE, 5, 1, 1)]


@pytest.mark.parametrize(
    "uptime,stable",
    [(STABLE, True), (STABLE + 0.001, True), (1000.0, True), (STABLE - 0.001, False), (0.0, False), (5.0, False)],
)
def test_stability_window(uptime, stable):
    settings = cfg(delay=10, growing=2, delay_max=600)
    e, now = after_failures(3, settings)
    assert e.timer_fired("r", now) == [Connect("r")]  # attempt 5 ... succeeds
    r = e.remotes["r"]
    assert r.number == 4
    assert bring_up(e, "r", now) == []
    assert r.number == 4  # a success alone does not reset
    drop = now + uptime
    e.status_changed("r", DISC, drop)
    attempt = 1 if stable else 5
    wait = ra.backoff_delay(attempt, settings)
    assert e.settle() == [Schedule("r", drop + wait, wait, attempt, 0)]


def test_stability_measured_from_connected_not_connecting():
    e, now = after_failures(1, cfg(delay=10))
    e.timer_fired("r", now)
    e.status_changed("r", CONNECTING, now)
    e.status_changed("r", AUTH, now + 25)
    e.status_changed("r", CONNECTED, now + 29)
    e.status_changed("r", DISC, now + 29 + STABLE - 1)  # up 29 s only
    (sched,) = e.settle()
    assert sched.attempt == 3


def test_drop_from_waiting_auth_is_not_stable():
    e, now = after_failures(1, cfg(delay=10))
    e.timer_fired("r", now)
    e.status_changed("r", CONNECTING, now)
    e.status_changed("r", AUTH, now)
    e.status_changed("r", DISC, now + 1000)
    (sched,) = e.settle()
    assert sched.attempt == 3


def test_remote_known_at_load_first_drop():
    e = Engine(cfg(delay=10))
    r = e.remote_add("r")
    assert r.status == UNKNOWN and r.wanted is None
    assert e.settle() == []
    assert e.status_changed("r", DISC, 42.0) == []
    assert r.wanted is True
    assert e.settle() == [Schedule("r", 52.0, 10, 1, 0)]
    assert e.timer_fired("r", 52.0) == [Connect("r")]


def test_remote_known_at_load_first_drop_resets_attempts():
    e = Engine(cfg(delay=10))
    r = e.remote_add("r")
    r.run = ra.Run(3, 3)  # whatever it was, a drop of a link of unknown age is stable
    e.status_changed("r", DISC, 0.0)
    assert e.settle() == [Schedule("r", 10.0, 10, 1, 0)]


def test_remote_add_is_idempotent_and_disconnected_add_is_unwanted():
    e = Engine(cfg())
    r = e.remote_add("a", DISC)
    assert r.wanted is False
    assert e.remote_add("a", CONNECTED) is r and r.status == DISC
    assert e.status_changed("a", DISC, 1.0) == []
    assert e.settle() == []


@pytest.mark.parametrize("first", [CONNECTING, AUTH, CONNECTED])
def test_unseen_remote_first_live_signal_is_wanted(first):
    e = Engine(cfg(delay=7))
    assert e.status_changed("r", first, 0.0) == []
    r = e.remotes["r"]
    assert r.wanted is True and r.status == first
    if first == CONNECTED:
        assert r.up.since == 0.0
    e.status_changed("r", DISC, 1.0)
    (sched,) = e.settle()
    assert sched == Schedule("r", 8.0, 7, 1, 0)


def test_user_connect_resets_backoff_and_cancels_pending():
    settings = cfg(delay=10, growing=2)
    e, now = after_failures(2, settings)
    r = e.remotes["r"]
    assert r.due == now and r.number == 2
    allowed, actions = e.user_connect("r")
    assert allowed is True
    assert actions == [Cancel("r", announce=False)]
    assert r.due is None and r.number == 0 and r.wanted is True
    assert e.timer_fired("r", now) == []
    # the user's own attempt fails: backoff starts again from attempt 1
    assert fail_attempt(e, "r", now + 1) == [Schedule("r", now + 11, 10, 1, 0)]


@pytest.mark.parametrize("status", [CONNECTING, AUTH])
def test_user_connect_refused_while_in_flight(status):
    e, now = after_failures(2, cfg())
    e.timer_fired("r", now)
    e.status_changed("r", CONNECTING, now)
    if status == AUTH:
        e.status_changed("r", AUTH, now)
    r = e.remotes["r"]
    before = (r.number, r.wanted, r.due, r.gave_up)
    assert e.user_connect("r") == (False, [])
    assert (r.number, r.wanted, r.due, r.gave_up) == before


@pytest.mark.parametrize("status", [DISC, CONNECTED, UNKNOWN])
def test_user_connect_allowed_when_not_in_flight(status):
    e = Engine(cfg())
    e.remote_add("r", status)
    assert e.user_connect("r") == (True, [])
    assert e.remotes["r"].wanted is True


def test_user_connect_unknown_remote_is_allowed():
    e = Engine(cfg())
    assert e.user_connect("nope") == (True, [])
    assert e.user_disconnect("nope") == []
    assert "nope" not in e.remotes


def test_user_disconnect_cancels_and_prevents_later_schedules():
    e, now = after_failures(1, cfg())
    r = e.remotes["r"]
    assert e.user_disconnect("r") == [Cancel("r", announce=True)]
    assert r.due is None and r.wanted is False and r.number == 0
    assert e.timer_fired("r", now) == []
    assert e.settle() == []
    assert e.status_changed("r", DISC, now + 1) == []
    assert e.connect_issued("r", now + 2) == []
    assert e.settle() == []
    assert e.user_disconnect("r") == []  # nothing left to cancel


def test_user_disconnect_of_connected_link_is_not_reconnected():
    e = Engine(cfg())
    new_connected(e, "r", 0.0)
    assert e.user_disconnect("r") == []
    assert e.status_changed("r", DISC, 100.0) == []
    assert e.settle() == []
    assert e.pending() == []


def test_user_disconnect_before_settle_drops_pending_decision():
    e = Engine(cfg())
    new_connected(e, "r", 0.0)
    e.status_changed("r", DISC, 100.0)
    assert e.user_disconnect("r") == []
    assert e.settle() == []


def test_user_disconnect_then_connect_before_settle_forgets_the_drop():
    e = Engine(cfg())
    new_connected(e, "r", 0.0)
    e.status_changed("r", DISC, 100.0)
    assert e.user_disconnect("r") == []
    assert e.user_connect("r") == (True, [])
    # the drop was decided by the user: the user's own attempt follows
    assert e.settle() == []


def test_repeated_disconnected_signal_before_settle_is_ignored():
    e = Engine(cfg(delay=10, growing=2))
    new_connected(e, "r", 0.0)
    e.remotes["r"].run = ra.Run(3, 3)  # left over from earlier failures
    e.status_changed("r", DISC, 100.0)  # stable drop
    assert e.status_changed("r", DISC, 105.0) == []  # duplicate, later
    assert e.settle() == [Schedule("r", 110.0, 10, 1, 0)]
    # and with an attempt already pending, a duplicate changes nothing
    assert e.status_changed("r", DISC, 107.0) == []
    assert e.settle() == []
    assert e.remotes["r"].due == 110.0


@pytest.mark.parametrize("status", [CONNECTING, AUTH])
def test_user_disconnect_while_in_flight_then_connected_disconnects(status):
    e, now = after_failures(1, cfg())
    e.timer_fired("r", now)
    e.status_changed("r", CONNECTING, now)
    if status == AUTH:
        e.status_changed("r", AUTH, now)
    assert e.user_disconnect("r") == []
    r = e.remotes["r"]
    assert r.flight.abort is True and r.wanted is False
    if status == CONNECTING:
        assert e.status_changed("r", AUTH, now + 1) == []
    assert e.status_changed("r", CONNECTED, now + 2) == [Disconnect("r")]
    assert r.wanted is False
    assert e.status_changed("r", DISC, now + 3) == []
    assert r.flight is None  # the abort went with the attempt
    assert e.settle() == []
    assert r.phase is Phase.IDLE


def test_user_disconnect_while_in_flight_then_refused_no_schedule():
    e, now = after_failures(1, cfg())
    e.timer_fired("r", now)
    e.status_changed("r", CONNECTING, now)
    e.user_disconnect("r")
    assert e.status_changed("r", DISC, now + 1) == []
    assert e.settle() == []
    assert e.remotes["r"].flight is None and e.remotes["r"].phase is Phase.IDLE


def test_settings_disable_cancels_all_and_reenable_resumes():
    settings = cfg(delay=10, growing=2)
    e = Engine(settings)
    for name in ("a", "b"):
        new_connected(e, name, 0.0)
        e.status_changed(name, DISC, 100.0)
    new_connected(e, "up", 0.0)  # connected: nothing to resume
    e.remote_add("new", DISC)  # never wanted: nothing to resume
    new_connected(e, "off", 0.0)
    e.user_disconnect("off")
    e.status_changed("off", DISC, 100.0)
    assert sorted(a.name for a in e.settle()) == ["a", "b"]
    e.timer_fired("b", 110.0)
    fail_attempt(e, "b", 110.0)  # b: attempt 2 pending

    off = replace_settings(settings, enabled=False)
    actions = e.settings_changed(off, 120.0)
    assert sorted(actions, key=lambda a: a.name) == [Cancel("a"), Cancel("b")]
    assert e.pending() == []
    # while off: drops and timers do nothing
    assert e.timer_fired("a", 1000.0) == []
    e.status_changed("up", DISC, 130.0)
    assert e.settle() == []
    assert e.settings_changed(off, 140.0) == []  # still off

    actions = e.settings_changed(settings, 200.0)
    assert sorted(actions, key=lambda a: a.name) == [
        Schedule("a", 210.0, 10, 1, 0),
        Schedule("b", 210.0, 10, 1, 0),  # turning it on again starts over
        Schedule("up", 210.0, 10, 1, 0),
    ]
    # enabled -> enabled changes nothing pending
    assert e.settings_changed(replace_settings(settings, delay=3), 201.0) == []
    assert e.remotes["a"].due == 210.0


def replace_settings(settings: Settings, **kw) -> Settings:
    return dataclasses.replace(settings, **kw)


def test_remote_remove_cancels_pending():
    e, now = after_failures(0, cfg())
    assert e.remote_remove("r") == [Cancel("r")]
    assert "r" not in e.remotes
    assert e.timer_fired("r", now) == []
    assert e.remote_remove("r") == []
    new_connected(e, "s", 0.0)
    assert e.remote_remove("s") == []


def test_remote_rename_keeps_due():
    settings = cfg(delay=10, growing=2, max_attempts=9)
    e, now = after_failures(2, settings)
    assert e.remote_rename("r", "q") == []  # the timer follows the remote's record in the shell
    assert "r" not in e.remotes and e.remotes["q"].name == "q"
    assert e.remotes["q"].due == now
    assert e.timer_fired("r", now) == []
    assert e.timer_fired("q", now) == [Connect("q")]
    assert e.remotes["q"].number == 3


def test_remote_rename_without_pending():
    e = Engine(cfg())
    new_connected(e, "r", 0.0)
    assert e.remote_rename("r", "q") == []
    assert list(e.remotes) == ["q"]
    assert e.remote_rename("missing", "x") == []
    e.status_changed("q", DISC, 100.0)
    assert e.settle() == [Schedule("q", 110.0, 10, 1, 0)]


def test_timer_fired_too_early_reschedules_quietly():
    settings = cfg(delay=10, growing=2, max_attempts=4)
    e, now = after_failures(1, settings)
    r = e.remotes["r"]
    assert r.due == now
    for early in (now - 5.0, now - 2 * TOL, now - TOL - 1e-6):
        assert e.timer_fired("r", early) == [Schedule("r", now, 20, 2, 4, quiet=True)]
        assert r.due == now and r.number == 1
    # within the tolerance: on time
    assert e.timer_fired("r", r.due - TOL) == [Connect("r")]
    assert r.number == 2


def test_timer_fired_late_still_connects():
    e, now = after_failures(0, cfg())
    assert e.timer_fired("r", now + 3600.0) == [Connect("r")]


def test_connect_issued_without_start_counts_as_failure():
    settings = cfg(delay=10, growing=2)
    e, now = after_failures(1, settings)
    assert e.timer_fired("r", now) == [Connect("r")]
    assert e.connect_issued("r", now + 0.25) == []  # status still disconnected
    assert e.settle() == [Schedule("r", now + 0.25 + 40, 40, 3, 0)]
    assert e.settle() == []


def test_connect_issued_then_late_connecting_cancels_schedule():
    e, now = after_failures(0, cfg())
    e.timer_fired("r", now)
    e.connect_issued("r", now)
    (sched,) = e.settle()
    assert sched.attempt == 2
    assert e.status_changed("r", CONNECTING, now + 1) == [Cancel("r")]
    assert e.remotes["r"].due is None
    assert e.timer_fired("r", sched.due) == []


def test_connect_issued_ignored_when_not_disconnected_or_unknown():
    e = Engine(cfg())
    assert e.connect_issued("nope", 0.0) == []
    new_connected(e, "r", 0.0)
    assert e.connect_issued("r", 1.0) == []
    assert e.settle() == []


def test_disconnect_then_connecting_before_settle_is_no_schedule():
    e = Engine(cfg())
    new_connected(e, "r", 0.0)
    assert e.user_connect("r") == (True, [])  # /remote reconnect
    assert e.status_changed("r", DISC, 100.0) == []
    assert e.status_changed("r", CONNECTING, 100.0) == []
    assert e.settle() == []
    assert e.pending() == []
    # and if that attempt fails, the backoff starts normally
    assert e.status_changed("r", DISC, 101.0) == []
    assert e.settle() == [Schedule("r", 111.0, 10, 1, 0)]


def test_link_up_cancels_pending_attempt():
    e, now = after_failures(1, cfg())
    assert e.status_changed("r", CONNECTING, now - 5) == [Cancel("r")]
    assert e.timer_fired("r", now) == []


# ---------------------------------------------------------------------------
# regressions: bugs these tests found in the core, now fixed
# ---------------------------------------------------------------------------


def test_refused_user_connect_cancels_earlier_disconnect():
    e = Engine(cfg())
    e.remote_add("r", DISC)
    assert e.status_changed("r", CONNECTING, 0.0) == []
    assert e.user_disconnect("r") == []  # user: /remote disconnect r (abort)
    assert e.user_connect("r") == (False, [])  # user changes mind: refused, "in progress"
    # the latest intent is "connected": the in-flight attempt must be kept
    assert e.status_changed("r", CONNECTED, 1.0) == []


def test_rename_onto_tracked_name_keeps_pending_attempt():
    e, now = after_failures(0, cfg())
    e.status_changed("q", CONNECTING, 1.0)  # "q" already tracked
    assert e.remote_rename("r", "q") == []  # the displaced "q" had no attempt pending
    # the renamed remote wins and keeps its pending attempt (its timer follows it)
    assert list(e.remotes) == ["q"] and e.remotes["q"].due == now and e.remotes["q"].status == DISC


def test_lowered_cap_applies_to_pending_attempt():
    settings = cfg(delay=1, growing=1, max_attempts=0)
    e, now = after_failures(4, settings)  # 4 failed, attempt 5 pending
    assert e.settings_changed(replace_settings(settings, max_attempts=3), now - 0.5) == []
    actions = e.timer_fired("r", now)
    assert actions == [GiveUp("r", 4)]
    assert e.remotes["r"].gave_up


def test_reenable_before_settle_of_stable_drop_starts_at_attempt_1():
    settings = cfg(delay=10, growing=2)
    e, now = after_failures(3, settings)
    e.timer_fired("r", now)  # attempt 4 succeeds
    bring_up(e, "r", now)
    e.settings_changed(replace_settings(settings, enabled=False), now + 1)
    drop = now + 1000.0  # stable drop
    e.status_changed("r", DISC, drop)
    actions = e.settings_changed(settings, drop)  # re-enabled before settle()
    actions += e.settle()
    scheds = [a for a in actions if isinstance(a, Schedule)]
    assert scheds and scheds[-1].attempt == e.remotes["r"].number + 1 == 1
    assert scheds[-1].due == drop + 10


def test_reenable_after_give_up_does_not_give_up_again():
    settings = cfg(delay=5, max_attempts=1)
    e = Engine(settings)
    e.remote_add("r")
    e.status_changed("r", DISC, 0.0)
    assert e.settle() == [Schedule("r", 5.0, 5, 1, 1)]
    assert e.timer_fired("r", 5.0) == [Connect("r")]
    e.connect_issued("r", 5.0)
    assert e.settle() == [GiveUp("r", 1)]
    assert e.settings_changed(replace_settings(settings, enabled=False), 10.0) == []
    actions = e.settings_changed(settings, 20.0)
    # either stay given up silently, or resume from attempt 1: never a 2nd GiveUp
    assert not any(isinstance(a, GiveUp) for a in actions), actions


# ---------------------------------------------------------------------------
# randomised property tests
# ---------------------------------------------------------------------------

NAME_POOL = ("alpha", "beta", "gamma", "delta", "eps")


class Driver:
    """Feeds an Engine; mirrors the shell's timers; checks invariants."""

    def __init__(self, rng: random.Random, settings: Settings, strict: bool = True) -> None:
        self.rng = rng
        self.engine = Engine(settings)
        self.strict = strict
        self.now = 1000.0
        self.timers: Dict[str, float] = {}
        self.polls: Dict[str, float] = {}
        # Connect emitted and not yet followed by a status change or a
        # connect_issued that counted it as failed
        self.in_flight: Set[str] = set()
        self.last_sched: Dict[str, Schedule] = {}
        self.log: List[str] = []
        self.counts: Dict[str, int] = {}

    # -- calling the engine --------------------------------------------------

    def call(self, label: str, fn, *args):
        e = self.engine
        before = {n: (r.status, r.run.gave_up, r.number) for n, r in e.remotes.items()}
        result = fn(*args)
        allowed = None
        if isinstance(result, tuple):
            allowed, actions = result
        else:
            actions = result
        self.log.append(f"{self.now:.3f} {label}{args} -> {result}")
        self.counts[label] = self.counts.get(label, 0) + 1
        self.check_actions(label, actions, before)
        self.after_actions(actions)
        return allowed, actions

    def add(self, name: str, status: str) -> None:
        self.call("remote_add", lambda n, st: [self.engine.remote_add(n, st)][:0], name, status)

    def signal(self, name: str, status: str) -> None:
        remote = self.engine.remotes.get(name)
        if remote is None or remote.status != status:
            self.in_flight.discard(name)
        self.call("status_changed", self.engine.status_changed, name, status, self.now)

    def check_actions(self, label: str, actions, before) -> None:
        e = self.engine
        settings = e.settings
        seen_connect: Set[str] = set()
        for a in actions:
            if isinstance(a, Schedule):
                r = e.remotes[a.name]
                assert settings.enabled, "Schedule while disabled"
                assert a.wait == ra.backoff_delay(a.attempt, settings)
                assert a.wait >= 1
                assert a.max_attempts == settings.max_attempts
                assert a.attempt == r.run.attempt + 1
                assert a.due == r.due
                assert r.status == DISC
                if self.strict and settings.max_attempts:
                    assert a.attempt <= settings.max_attempts
                if not a.quiet:
                    since = a.due - a.wait
                    assert math.isclose(since, r.drop.at if r.drop else 0.0, abs_tol=1e-6) or math.isclose(
                        since, self.now, abs_tol=1e-6
                    )
            elif isinstance(a, Connect):
                r = e.remotes[a.name]
                assert a.name not in seen_connect, "two Connects in one batch"
                seen_connect.add(a.name)
                assert r.status == DISC, "Connect for a remote not disconnected"
                assert settings.enabled and r.wanted
                assert r.due is None
                if self.strict:
                    assert a.name not in self.in_flight, "second Connect while one is in flight"
                    if settings.max_attempts:
                        assert r.number <= settings.max_attempts
            elif isinstance(a, GiveUp):
                r = e.remotes[a.name]
                assert r.gave_up and a.why == ra.GIVEUP_ATTEMPTS and a.count == r.run.attempt
                assert settings.max_attempts and r.run.attempt >= settings.max_attempts
                assert not before.get(a.name, (None, False, 0))[1], "GiveUp twice"
                assert r.due is None
            elif isinstance(a, Disconnect):
                r = e.remotes[a.name]
                assert r.status == CONNECTED and r.wanted is False
            elif isinstance(a, (ra.PollAt, ra.ServerBack, ra.Poll, ra.Notice)):
                self.check_poll_action(a)
            elif isinstance(a, Cancel):
                pass
            else:  # pragma: no cover
                raise AssertionError(f"unknown action {a!r}")

    def check_poll_action(self, a) -> None:
        r = self.engine.remotes[a.name]
        if isinstance(a, ra.PollAt):
            assert self.engine.settings.poll and r.status == DISC and r.due is not None
            assert not (r.outage and r.outage.polls_spent) and a.due < r.due - 1.0 + 1e-9
            assert r.kind in ("", ra.FAILURE_NETWORK)
        elif isinstance(a, ra.ServerBack):
            assert r.outage.polls_spent and r.due == self.now and r.status == DISC
        elif isinstance(a, ra.Notice):  # a link that flaps: said once per outage, with its attempt
            assert r.phase is Phase.WAITING and r.outage.flapped and r.outage.polls_spent
        else:
            assert r.wait.probe_sent == self.now

    def after_actions(self, actions) -> None:
        """Run the actions the way the shell does."""
        for a in actions:
            if isinstance(a, Schedule):
                self.timers[a.name] = a.due
                self.last_sched[a.name] = a
            elif isinstance(a, Cancel):
                self.timers.pop(a.name, None)
                self.polls.pop(a.name, None)
            elif isinstance(a, ra.PollAt):
                self.polls[a.name] = a.due
            elif isinstance(a, Connect):
                self.polls.pop(a.name, None)
                self.in_flight.add(a.name)
                # the fake relay: the attempt may start synchronously
                if self.rng.random() < 0.5:
                    self.signal(a.name, CONNECTING)
                r = self.engine.remotes.get(a.name)
                if r is not None and r.status == DISC:
                    self.in_flight.discard(a.name)  # connect_issued counts it as failed
                self.call("connect_issued", self.engine.connect_issued, a.name, self.now)
            elif isinstance(a, Disconnect) and self.rng.random() < 0.5:
                self.signal(a.name, DISC)

    # -- invariants after every step -----------------------------------------

    def check_state(self) -> None:
        e = self.engine
        s = e.settings
        dues = {n: r.due for n, r in e.remotes.items() if r.due is not None}
        if self.strict:
            assert self.timers == dues, "shell timers out of sync with engine dues"
        for n, r in e.remotes.items():
            assert r.name == n
            assert r.run.attempt >= 0 and r.run.step >= 0
            assert type(r.data) is ra.PHASE_DATA.get(r.phase, type(None)), (r.phase, r.data)
            if r.due is not None:
                assert r.status == DISC
                assert s.enabled and r.wanted and not r.run.gave_up
                if self.strict:
                    assert self.last_sched[n].due == r.due
                    assert self.last_sched[n].attempt == r.run.attempt + 1
            if r.phase is Phase.DROPPED:
                assert r.status == DISC and r.drop is not None
            if r.status == CONNECTED:
                assert r.up is not None and (r.outage is None or r.outage.since <= r.up.since)
            if r.phase is Phase.GAVE_UP:
                assert r.run.gave_up
            if self.strict and s.max_attempts:
                assert r.number <= s.max_attempts
        # the indexes that keep each event's cost flat match a full walk
        assert e.connected == {n for n, r in e.remotes.items() if r.status == CONNECTED}
        assert {n for n, r in e.remotes.items() if r.phase is Phase.DROPPED} <= set(e.drops)
        assert set(e.drops) <= set(e.remotes)

    # -- random steps ----------------------------------------------------------

    def random_settings(self, max_attempts: Optional[int]) -> Settings:
        rng = self.rng
        return cfg(
            enabled=rng.random() < 0.75,
            delay=rng.choice((1, 2, 5, 10)),
            growing=rng.choice((1, 2, 3)),
            delay_max=rng.choice((0, 7, 30, 600)),
            max_attempts=rng.choice((0, 1, 2, 4)) if max_attempts is None else max_attempts,
            poll=rng.choice((0, 2, 3, 15)),
        )

    def step(self) -> None:  # noqa: PLR0912, PLR0915 (one branch per operation)
        rng = self.rng
        e = self.engine
        names = list(e.remotes) or list(NAME_POOL[:2])
        op = rng.choices(
            (
                "signal",
                "settle",
                "fire_due",
                "fire_any",
                "advance",
                "user_connect",
                "user_disconnect",
                "settings",
                "remove",
                "rename",
                "add",
                "issued",
                "poll",
                "poll_answer",
            ),
            weights=(30, 15, 15, 4, 10, 6, 4, 3, 1, 2, 2, 3 if not self.strict else 0, 20, 10),
        )[0]
        if op == "signal":
            name = rng.choice(names + [rng.choice(NAME_POOL)])
            self.signal(name, rng.choice(SIGNAL_STATUSES))
        elif op == "settle":
            self.call("settle", e.settle)
        elif op == "fire_due":
            if not self.timers:
                return
            name = min(self.timers, key=lambda n: self.timers[n])
            due = self.timers.pop(name)
            jitter = rng.choice((0.0, 0.0, -TOL, -0.2, -3.0, 0.01, 0.7))
            self.now = max(self.now, due + jitter)
            self.call("timer_fired", e.timer_fired, name, self.now)
        elif op == "fire_any":
            name = rng.choice(names)
            self.timers.pop(name, None)
            self.call("timer_fired", e.timer_fired, name, self.now)
        elif op == "advance":
            self.now += rng.choice((0.0, 0.001, 0.5, 5.0, STABLE - 0.001, STABLE, 100.0))
        elif op == "user_connect":
            name = rng.choice(names)
            allowed, _ = self.call("user_connect", e.user_connect, name)
            if allowed and rng.random() < 0.5:  # WeeChat runs the command
                self.signal(name, CONNECTING)
        elif op == "user_disconnect":
            name = rng.choice(names)
            self.call("user_disconnect", e.user_disconnect, name)
            if rng.random() < 0.5:
                self.signal(name, DISC)
        elif op == "settings":
            keep = e.settings.max_attempts if self.strict else None
            self.call("settings_changed", e.settings_changed, self.random_settings(keep), self.now)
        elif op == "remove":
            name = rng.choice(names)
            self.in_flight.discard(name)
            self.call("remote_remove", e.remote_remove, name)
        elif op == "rename":
            old = rng.choice(names)
            if self.strict:
                free = [n for n in NAME_POOL if n not in e.remotes]
                if not free:
                    return
                new = rng.choice(free)
            else:
                new = rng.choice(NAME_POOL)
            if old in self.in_flight:
                self.in_flight.discard(old)
                self.in_flight.add(new)
            self.call("remote_rename", e.remote_rename, old, new)
            # the shell's timers belong to the remote's record: they follow it
            for timers in (self.timers, self.polls, self.last_sched):
                if old in timers:
                    timers[new] = timers.pop(old)
        elif op == "add":
            self.add(rng.choice(NAME_POOL), rng.choice((UNKNOWN, DISC)))
        elif op == "poll":
            if not self.polls:
                return
            name = min(self.polls, key=lambda n: self.polls[n])
            self.now = max(self.now, self.polls.pop(name))
            _, probes = self.call("poll_fired", e.poll_fired, name, self.now)
            if probes and rng.random() < 0.5:  # the server's answer (or none) comes at once
                self.call("poll_answered", e.poll_answered, name, rng.choice((True, False, None)), self.now)
        elif op == "poll_answer":
            probing = [n for n, r in e.remotes.items() if r.wait and r.wait.probe_sent is not None]
            if probing:
                answer = rng.choice((True, False, None))
                self.call("poll_answered", e.poll_answered, rng.choice(probing), answer, self.now)
        elif op == "issued":
            self.call("connect_issued", e.connect_issued, rng.choice(names), self.now)


def _run_random(seed: int, steps: int, strict: bool) -> Driver:
    rng = random.Random(seed)
    settings = cfg(
        enabled=rng.random() < 0.9,
        delay=rng.choice((1, 3, 10)),
        growing=rng.choice((1, 2, 3)),
        delay_max=rng.choice((0, 8, 600)),
        max_attempts=rng.choice((0, 1, 2, 3, 5)),
        poll=rng.choice((0, 1, 2, 3)),
    )
    d = Driver(rng, settings, strict)
    for name in NAME_POOL[: rng.randint(1, 3)]:
        d.add(name, rng.choice((UNKNOWN, DISC)))
    for _ in range(steps):
        try:
            d.step()
            d.check_state()
        except AssertionError as exc:
            trace = "\n".join(d.log[-25:])
            raise AssertionError(f"seed {seed}: {exc}\nlast calls:\n{trace}") from exc
    return d


def test_random_sequences_keep_invariants():
    totals: Dict[str, int] = {}
    for seed in range(300):
        d = _run_random(seed, 200, strict=True)
        for k, v in d.counts.items():
            totals[k] = totals.get(k, 0) + v
    # the walk must really exercise the engine
    for label in (
        "status_changed",
        "settle",
        "timer_fired",
        "user_connect",
        "user_disconnect",
        "settings_changed",
        "remote_remove",
        "remote_rename",
        "connect_issued",
    ):
        assert totals.get(label, 0) > 100, (label, totals)
    # polls need a long enough wait: rarer, still many
    assert totals.get("poll_fired", 0) > 100 and totals.get("poll_answered", 0) > 50, totals


def test_random_chaos_keeps_safety_invariants():
    """Arbitrary connect_issued, renames onto taken names, cap changes."""
    for seed in range(1000, 1200):
        _run_random(seed, 200, strict=False)


# ---------------------------------------------------------------------------
# a realistic driver: fake relay, fake timers, event queue
# ---------------------------------------------------------------------------


class FakeWorld:
    """WeeChat shell + relay server, as an event queue over virtual time."""

    def __init__(self, rng: random.Random, settings: Settings, jitter: bool) -> None:
        self.rng = rng
        self.engine = Engine(settings)
        self.settings = settings
        self.jitter = jitter
        self.now = 0.0
        self.queue: List[Tuple[float, int, str, str, int]] = []
        self.seq = itertools.count()
        self.timer_token: Dict[str, int] = {}
        self.connects: Dict[str, List[float]] = {}
        self.giveups: Dict[str, int] = {}
        self.fail_prob: Dict[str, float] = {}
        self.latency: Dict[str, float] = {}
        # reference model
        self.k: Dict[str, int] = {}
        self.expected_due: Dict[str, Optional[float]] = {}
        self.connected_at: Dict[str, Optional[float]] = {}
        self.first_drop: Set[str] = set()
        self.last_status: Dict[str, str] = {}
        self.status_changes_since_connect: Dict[str, int] = {}

    def push(self, at: float, kind: str, name: str, token: int = 0) -> None:
        heapq.heappush(self.queue, (at, next(self.seq), kind, name, token))

    def add_remote(self, name: str, fail_prob: float, latency: float) -> None:
        self.engine.remote_add(name)  # known at load, link up
        self.fail_prob[name] = fail_prob
        self.latency[name] = latency
        self.k[name] = 0
        self.expected_due[name] = None
        self.connected_at[name] = None
        self.first_drop.add(name)
        self.connects[name] = []
        self.status_changes_since_connect[name] = 1
        self.push(self.rng.choice((1.0, 50.0, 333.3)), "drop", name)

    # -- shell side ------------------------------------------------------------

    def run(self, actions: List[ra.Action]) -> None:
        for a in actions:
            if isinstance(a, Schedule):
                token = next(self.seq)
                self.timer_token[a.name] = token
                fire = a.due
                if self.jitter:
                    fire += self.rng.choice((0.0, -0.5, -TOL, -0.01, 0.003, 0.25))
                fire = max(fire, self.now + 0.001)  # hook_timer waits at least 1 ms
                self.push(fire, "timer", a.name, token)
                if not a.quiet:
                    self.model_schedule(a)
                else:
                    assert a.due == self.expected_due[a.name]
            elif isinstance(a, Cancel):
                self.timer_token.pop(a.name, None)
            elif isinstance(a, Connect):
                self.model_connect(a.name)
                self.signal(a.name, CONNECTING)  # WeeChat: synchronous
                self.run(self.engine.connect_issued(a.name, self.now))
                lat = self.latency[a.name]
                if self.rng.random() < self.fail_prob[a.name]:
                    self.push(self.now + lat, "refused", a.name)
                else:
                    self.push(self.now + lat, "auth", a.name)
            elif isinstance(a, GiveUp):
                assert a.name not in self.giveups, "GiveUp twice"
                self.giveups[a.name] = a.count
                m = self.settings.max_attempts
                assert m and a.count == m == self.k[a.name]
                assert self.expected_due[a.name] == "giveup"
            else:  # pragma: no cover
                raise AssertionError(a)

    def signal(self, name: str, status: str) -> None:
        if self.last_status.get(name) != status:
            self.status_changes_since_connect[name] += 1
        self.last_status[name] = status
        self.run(self.engine.status_changed(name, status, self.now))
        if status == DISC:
            self.push(self.now + 0.001, "settle", name)

    # -- reference model ---------------------------------------------------------

    def model_drop(self, name: str, stable: bool) -> None:
        if stable:
            self.k[name] = 0
        m = self.settings.max_attempts
        if m and self.k[name] >= m:
            self.expected_due[name] = "giveup"  # type: ignore[assignment]
        else:
            self.expected_due[name] = self.now + ref_backoff(
                self.k[name] + 1, self.settings.delay, self.settings.growing, self.settings.delay_max
            )

    def model_schedule(self, a: Schedule) -> None:
        assert a.due == self.expected_due[a.name], (a, self.expected_due[a.name])
        assert a.attempt == self.k[a.name] + 1
        assert a.wait == ref_backoff(a.attempt, self.settings.delay, self.settings.growing, self.settings.delay_max)

    def model_connect(self, name: str) -> None:
        due = self.expected_due[name]
        assert isinstance(due, float)
        if self.jitter:
            assert due - TOL <= self.now <= due + 0.25 + 1e-9
        else:
            assert self.now == due
        assert self.status_changes_since_connect[name] > 0, "two Connects with no status change"
        self.status_changes_since_connect[name] = 0
        self.k[name] += 1
        self.expected_due[name] = None
        self.connects[name].append(self.now)
        m = self.settings.max_attempts
        assert not m or self.k[name] <= m

    # -- main loop ---------------------------------------------------------------

    def run_until(self, horizon: float, max_events: int = 20000) -> None:
        """Run events up to `horizon` (virtual seconds) or `max_events`."""
        for _ in range(max_events):
            if not self.queue or self.queue[0][0] > horizon:
                return
            at, _, kind, name, token = heapq.heappop(self.queue)
            assert at >= self.now
            self.now = at
            if kind == "timer":
                if self.timer_token.get(name) != token:
                    continue  # cancelled or replaced
                del self.timer_token[name]
                self.run(self.engine.timer_fired(name, self.now))
            elif kind == "settle":
                self.run(self.engine.settle())
            elif kind == "refused":
                self.signal(name, DISC)
                self.model_drop(name, stable=False)
            elif kind == "auth":
                self.signal(name, AUTH)
                self.push(self.now + self.latency[name], "connected", name)
            elif kind == "connected":
                self.signal(name, CONNECTED)
                self.connected_at[name] = self.now
                self.push(self.now + self.rng.choice((0.5, STABLE - 0.001, STABLE, 400.0)), "drop", name)
            elif kind == "drop":
                up_since = self.connected_at[name]
                stable = name in self.first_drop or (up_since is not None and self.now - up_since >= STABLE)
                self.first_drop.discard(name)
                self.connected_at[name] = None
                self.signal(name, DISC)
                self.model_drop(name, stable)
            # the engine and the model agree on what is pending
            for n, r in self.engine.remotes.items():
                if r.due is not None:
                    assert r.due == self.expected_due[n]
                    assert self.timer_token.get(n) is not None


@pytest.mark.parametrize(
    "settings",
    [
        cfg(delay=10, growing=2, delay_max=600),
        cfg(delay=10, growing=2, delay_max=600, max_attempts=6),
        cfg(delay=3, growing=3, delay_max=0, max_attempts=12),
        cfg(delay=7, growing=1, delay_max=0, max_attempts=4),
        cfg(delay=1, growing=10, delay_max=5000),
    ],
)
def test_always_failing_remote_follows_schedule_exactly(settings):
    rng = random.Random(7)
    world = FakeWorld(rng, settings, jitter=False)
    world.add_remote("dead", fail_prob=1.0, latency=0.0)
    horizon = 10**7
    world.run_until(horizon, max_events=5000 if settings.max_attempts else 300)
    times = world.connects["dead"]
    m = settings.max_attempts
    if m:
        assert len(times) == m
        assert world.giveups == {"dead": m}
        assert world.engine.pending() == []
    else:
        assert len(times) > 20
    gaps = [b - a for a, b in zip(times, times[1:])]
    expected = [ref_backoff(n, settings.delay, settings.growing, settings.delay_max) for n in range(2, len(times) + 1)]
    assert gaps == expected


@pytest.mark.parametrize("jitter", [False, True])
def test_fake_relay_many_remotes(jitter):
    start = time.perf_counter()
    for seed in range(40):
        rng = random.Random(10_000 + seed)
        settings = cfg(
            delay=rng.choice((1, 5, 10)),
            growing=rng.choice((1, 2, 3)),
            delay_max=rng.choice((0, 60, 600)),
            max_attempts=rng.choice((0, 0, 3, 8)),
        )
        world = FakeWorld(rng, settings, jitter=jitter)
        world.add_remote("dead", fail_prob=1.0, latency=0.0)
        world.add_remote("slow", fail_prob=1.0, latency=rng.choice((0.5, 4.0)))
        world.add_remote("flaky", fail_prob=0.6, latency=rng.choice((0.0, 1.0)))
        world.add_remote("good", fail_prob=0.1, latency=0.2)
        world.run_until(20_000.0)
        # failing remotes: gap between consecutive Connects = latency + documented wait
        for name in ("dead", "slow"):
            times = world.connects[name]
            assert times, name
            lat = world.latency[name]
            for n, (a, b) in enumerate(zip(times, times[1:]), start=2):
                wait = ref_backoff(n, settings.delay, settings.growing, settings.delay_max)
                if jitter:
                    assert a + lat + wait - TOL - 0.25 - 1e-6 <= b <= a + lat + wait + 0.25 + 1e-6
                else:
                    assert math.isclose(b - a, lat + wait, abs_tol=1e-6), (name, n, b - a, lat + wait)
            if settings.max_attempts:
                assert len(times) == settings.max_attempts
                assert world.giveups.get(name) == settings.max_attempts
        for name in ("flaky", "good"):
            assert world.connects[name] or world.expected_due[name] is not None
    # a coarse guard against a cost that grows with the number of events (about 2 s here
    # unloaded; bench/scale.py measures the cost of an event)
    assert time.perf_counter() - start < 10.0


# -- jitter (core) -------------------------------------------------------------------


@pytest.mark.parametrize("jitter", [0, 10, 30, 50, 100])
def test_jitter_stays_within_its_bounds(jitter):
    settings = Settings(jitter=jitter)
    rng = random.Random(jitter)
    for wait in (1, 2, 10, 600, 604800):
        draws = [jittered(wait, settings, rng.random()) for _ in range(2000)]
        low = max(1.0, wait * (1 - jitter / 100)) if wait > 1 else wait
        assert all(low <= d <= wait for d in draws)
        if jitter and wait >= 10:
            assert max(draws) - min(draws) > wait * jitter / 100 * 0.8  # it really spreads


def test_engine_schedules_with_jitter_from_its_draw():
    draws = iter([0.0, 0.5, 0.999])
    e = Engine(Settings(delay=10, jitter=40, connect_timeout=0, poll=0), draw=lambda: next(draws))
    e.remote_add("r", STATUS_DISCONNECTED)
    waits = []
    for n in range(3):
        e.status_changed("r", "connecting", 100.0 * n)
        e.status_changed("r", STATUS_DISCONNECTED, 100.0 * n)
        waits.append(e.settle()[0].wait)
        e.timer_fired("r", e.remotes["r"].due)
    assert waits == pytest.approx([10, 20 * 0.8, max(1.0, 40 * (1 - 0.4 * 0.999))])
    assert backoff_delay(3, e.settings) == 40


def test_retry_after_giving_up_is_one_attempt_and_giving_up_is_said_again():
    e = Engine(cfg(delay=1, growing=1, max_attempts=1))
    new_connected(e, "r", 0.0)
    e.status_changed("r", DISC, 100.0)
    e.settle()
    e.timer_fired("r", 101.0)
    assert fail_attempt(e, "r", 101.0) == [GiveUp("r", 1)]
    assert e.retry("r", 200.0) == ("", [Connect("r")])
    assert e.remotes["r"].number == 2  # the run goes on
    assert fail_attempt(e, "r", 200.0) == [GiveUp("r", 2)]
