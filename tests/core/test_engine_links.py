# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dead links and servers that come back: heartbeat, connect timeout, clock jumps, polls (core)."""

from __future__ import annotations

import pytest
from engines import bring_up as up
from engines import waiting

import relay_autoreconnect as ra
from relay_autoreconnect import (
    STATUS_CONNECTING,
    STATUS_DISCONNECTED,
    STATUS_WAITING_AUTH,
    DropLink,
    Engine,
    Heartbeat,
    Poll,
    PollAt,
    Schedule,
    ServerBack,
    Settings,
    Unwatch,
    Watch,
)

# -- connect timeout, heartbeat, clock jumps ------------------------------------------


def test_connect_timeout_watches_the_attempt_and_drops_it_when_stuck():
    e = Engine(Settings(jitter=0, connect_timeout=30))
    e.remote_add("r", STATUS_DISCONNECTED)
    assert e.status_changed("r", STATUS_CONNECTING, 10.0) == [Watch("r", 40.0)]
    assert e.status_changed("r", STATUS_WAITING_AUTH, 10.1) == []
    assert e.watch_fired("r", 20.0) == [Watch("r", 40.0)]  # too early: wait on
    assert e.watch_fired("r", 40.0) == [DropLink("r", "no answer within 30 seconds while authenticating")]


def test_connect_timeout_waits_for_a_socket_to_close():
    e = Engine(Settings(jitter=0, connect_timeout=30))
    e.remote_add("r", STATUS_DISCONNECTED)
    e.status_changed("r", STATUS_CONNECTING, 10.0)
    assert e.watch_fired("r", 40.0) == [Watch("r", 41.0)]  # nothing to close yet
    e.status_changed("r", STATUS_WAITING_AUTH, 40.5)
    assert e.watch_fired("r", 41.0) == [DropLink("r", "no answer within 30 seconds while authenticating")]


def test_connect_timeout_ends_with_the_attempt():
    e = Engine(Settings(jitter=0, connect_timeout=30))
    e.remote_add("r", STATUS_DISCONNECTED)
    assert up(e, now=5.0) == [Watch("r", 35.0), Unwatch("r")]
    assert e.watch_fired("r", 35.0) == []
    e.status_changed("r", STATUS_DISCONNECTED, 40.0)
    e.settle()
    e.timer_fired("r", 50.0)
    assert e.status_changed("r", STATUS_CONNECTING, 50.0) == [Watch("r", 80.0)]
    assert e.status_changed("r", STATUS_DISCONNECTED, 51.0) == [Unwatch("r")]


def test_no_connect_timeout_when_off():
    e = Engine(Settings(jitter=0, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    assert up(e) == []
    assert e.watch_fired("r", 1e9) == []


def test_heartbeat_probes_connected_remotes_once_until_answered():
    e = Engine(Settings(jitter=0, connect_timeout=0))
    for name in ("a", "b", "c"):
        e.remote_add(name, STATUS_DISCONNECTED)
    assert not e.heartbeat_needed()
    up(e, "a")
    up(e, "b")
    assert e.heartbeat_needed()
    assert e.heartbeat(60.0) == [Heartbeat("a", 20), Heartbeat("b", 20)]
    assert e.heartbeat(120.0) == []  # still in flight: no second probe
    assert e.probe_answered("a", True) == []
    assert e.probe_answered("b", False) == [DropLink("b", "no answer from the server within 20 seconds (heartbeat)")]
    assert e.heartbeat(180.0) == [Heartbeat("a", 20), Heartbeat("b", 20)]


def test_probe_result_after_the_link_changed_is_ignored():
    e = Engine(Settings(jitter=0, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    up(e)
    assert e.heartbeat(60.0) == [Heartbeat("r", 20)]
    e.status_changed("r", STATUS_DISCONNECTED, 61.0)
    up(e, now=70.0)
    assert e.probe_answered("r", False) == []


def test_a_line_without_answer_checks_the_link_at_once_with_a_short_timeout():
    e = Engine(Settings(jitter=0, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    up(e)
    assert e.line_unconfirmed("r", 10.0) == [Heartbeat("r", ra.SUSPECT_CHECK_TIMEOUT)]
    assert e.line_unconfirmed("r", 11.0) == []  # that check ends as soon
    assert e.heartbeat(60.0) == []  # still in flight
    reason = f"no answer from the server within {ra.SUSPECT_CHECK_TIMEOUT} seconds (check after a line got no answer)"
    assert e.probe_answered("r", False) == [DropLink("r", reason)]


def test_a_line_without_answer_during_a_long_check_starts_a_short_one():
    e = Engine(Settings(jitter=0, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    up(e)
    assert e.heartbeat(60.0) == [Heartbeat("r", 20)]
    assert e.line_unconfirmed("r", 62.0) == [Heartbeat("r", ra.SUSPECT_CHECK_TIMEOUT)]
    # a check that ends soon enough stays
    assert e.heartbeat(120.0) == []
    assert e.probe_answered("r", True, 62.5) == []
    assert e.remotes["r"].lag == 0.5


def test_a_line_without_answer_checks_nothing_when_heartbeats_are_off_or_the_link_is_down():
    e = Engine(Settings(jitter=0, heartbeat=0, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    assert e.line_unconfirmed("r", 1.0) == []
    up(e)
    assert e.line_unconfirmed("r", 2.0) == []
    assert e.line_unconfirmed("unknown", 2.0) == []
    e = Engine(Settings(jitter=0, heartbeat_timeout=3, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    up(e)
    assert e.line_unconfirmed("r", 2.0) == [Heartbeat("r", 3)]  # never longer than the option


def test_heartbeat_off():
    e = Engine(Settings(jitter=0, heartbeat=0, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    up(e)
    assert not e.heartbeat_needed()


def test_clock_jump_probes_now_and_brings_pending_attempts_forward():
    e = Engine(Settings(jitter=0, delay=60, connect_timeout=0))
    for name in ("up", "down"):
        e.remote_add(name, STATUS_DISCONNECTED)
        up(e, name)
    e.status_changed("down", STATUS_DISCONNECTED, 100.0)
    e.settle()
    assert e.remotes["down"].due == 160.0
    actions = e.clock_jumped(110.0)
    assert Heartbeat("up", 20) in actions
    assert [a for a in actions if isinstance(a, ra.Schedule)] == [ra.Schedule("down", 110.0, 60, 1, 0, True)]
    assert e.timer_fired("down", 110.0) == [ra.Connect("down")]


# -- polls: the server of a waiting remote comes back (core) ------------------------


def test_a_long_wait_after_a_network_failure_polls_the_server():
    e, actions = waiting()
    assert actions == [Schedule("r", 160.0, 60, 1, 0), PollAt("r", 102.0)]  # every 2 s at first
    assert e.poll_fired("r", 102.0) == [Poll("r")]
    assert e.poll_fired("r", 102.0) == []  # one poll at a time
    assert e.poll_answered("r", False, 103.0) == [PollAt("r", 105.0)]
    assert e.poll_fired("r", 105.0) == [Poll("r")]
    assert e.poll_answered("r", True, 105.5) == [ServerBack("r"), Schedule("r", 105.5, 60, 1, 0, True)]
    assert e.timer_fired("r", 105.5) == [ra.Connect("r")]


@pytest.mark.parametrize(
    ("outage", "poll", "interval"),
    [(0, 15, 2), (59, 15, 2), (60, 15, 2), (120, 15, 4), (180, 15, 8), (240, 15, 15), (3600, 15, 15),
     (0, 1, 1), (600, 1, 1), (0, 600, 2), (300, 600, 32), (600, 600, 600)],
)  # fmt: skip
def test_polls_are_often_at_the_start_of_an_outage_and_slow_down_to_autoreconnect_poll(outage, poll, interval):
    assert ra.poll_interval(outage, Settings(poll=poll)) == pytest.approx(interval)


def test_polls_stop_one_second_before_the_attempt():
    e, actions = waiting(delay=30)
    assert actions[1:] == [PollAt("r", 102.0)]
    e.poll_fired("r", 102.0)
    assert e.poll_answered("r", False, 128.5) == []  # 130.5 s would be past 129 s
    e, actions = waiting(delay=3)
    assert actions[1:] == []  # 102 s is within 1 second of the attempt at 103 s
    e, _ = waiting()
    assert e.poll_fired("r", 159.5) == []


def test_a_server_that_answers_brings_one_attempt_forward_per_outage():
    e, _ = waiting()
    e.poll_fired("r", 102.0)
    e.poll_answered("r", True, 102.0)
    e.timer_fired("r", 102.0)
    e.status_changed("r", STATUS_CONNECTING, 102.0)
    e.status_changed("r", STATUS_DISCONNECTED, 102.1)  # it answers HTTP but the link fails
    assert e.settle() == [Schedule("r", 102.1 + 120, 120, 2, 0)]  # backoff on, no poll
    e.timer_fired("r", 222.1)
    up(e, now=222.1)
    e.status_changed("r", STATUS_DISCONNECTED, 300.0)
    assert e.settle() == [Schedule("r", 360.0, 60, 1, 0), PollAt("r", 302.0)]  # polls again


def test_no_polls_after_auth_or_version_failures_or_when_off():
    e = Engine(Settings(jitter=0, connect_timeout=0, delay=60, poll=15, auth_max=3))
    e.status_changed("r", STATUS_CONNECTING, 0.0)
    e.status_changed("r", STATUS_WAITING_AUTH, 0.0)
    e.status_changed("r", STATUS_DISCONNECTED, 1.0)  # dropped while authenticating: auth
    assert e.settle() == [Schedule("r", 61.0, 60, 1, 0)]
    e, actions = waiting(poll=0)
    assert actions == [Schedule("r", 160.0, 60, 1, 0)]


def test_a_renamed_waiting_remote_keeps_being_polled_under_its_new_name():
    e, _ = waiting()
    assert e.remote_rename("r", "q") == []  # the poll timer follows the remote's record in the shell
    assert e.poll_fired("r", 135.0) == []  # the old name is gone
    assert e.poll_fired("q", 135.0) == [Poll("q")]


def test_poll_results_after_the_link_changed_or_without_verdict_are_ignored():
    e, _ = waiting()
    e.poll_fired("r", 115.0)
    e.status_changed("r", STATUS_CONNECTING, 116.0)  # the user connected meanwhile
    assert e.poll_answered("r", True, 116.5) == []
    e, _ = waiting()
    e.poll_fired("r", 115.0)
    assert e.poll_answered("r", None, 115.0) == []  # no way to poll: no more polls
    assert e.poll_fired("r", 130.0) == []
    assert e.remotes["r"].due == 160.0


def test_a_server_that_takes_links_and_drops_them_at_once_gets_one_poll_brought_attempt_per_outage():
    """It answers every poll; each attempt connects and drops 0.1 s later. Before, each
    short link ended the outage, so the next poll brought the next attempt: one every 2 s."""
    e = Engine(Settings(jitter=0, connect_timeout=0, delay=2, growing=2, delay_max=8, poll=15))
    up(e, now=0.0)
    queue, attempts, said = [], [], []

    def take(actions, now):
        for action in actions:
            if isinstance(action, (Schedule, PollAt)):
                queue.append((action.due, type(action).__name__))
            elif isinstance(action, Poll):  # the server answers at once
                take(e.poll_answered("r", True, now), now)
            elif isinstance(action, ra.Connect):  # the link comes up and drops 0.1 s later
                attempts.append(now)
                up(e, now=now)
                e.status_changed("r", STATUS_DISCONNECTED, now + 0.1)
                take(e.settle(), now + 0.1)
            elif isinstance(action, (ServerBack, ra.Notice)):
                said.append(type(action).__name__)

    e.status_changed("r", STATUS_DISCONNECTED, 100.0)
    take(e.settle(), 100.0)
    while queue and min(queue)[0] < 160.0:
        queue.sort()
        due, kind = queue.pop(0)
        take(e.timer_fired("r", due) if kind == "Schedule" else e.poll_fired("r", due), due)
    gaps = [round(b - a, 1) for a, b in zip(attempts, attempts[1:])]
    assert said == ["ServerBack", "Notice"]  # one attempt brought by a poll, then said once
    assert gaps == [2.1, 8.1, 8.1, 8.1, 8.1, 8.1, 8.1]  # then the backoff (2, 4, 8 s from each drop)
    assert len(attempts) == 8  # in a minute (before: one every 2 s or so, about 30)
