# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dead links: heartbeat, connect timeout, clock jumps (core and shell, virtual time)."""

from __future__ import annotations

import json

import pytest

import relay_autoreconnect as ra
from relay_autoreconnect import (
    STATUS_CONNECTED,
    STATUS_CONNECTING,
    STATUS_DISCONNECTED,
    STATUS_WAITING_AUTH,
    DropLink,
    Engine,
    PollAt,
    Probe,
    Schedule,
    ServerBack,
    Settings,
    Unwatch,
    Watch,
)

HEARTBEAT = "heartbeat_cb"


def up(engine, name="r", now=0.0):
    actions = []
    for status in (STATUS_CONNECTING, STATUS_WAITING_AUTH, STATUS_CONNECTED):
        actions += engine.status_changed(name, status, now)
    return actions


# -- core ------------------------------------------------------------------------


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
    assert e.heartbeat(60.0) == [Probe("a"), Probe("b")]
    assert e.heartbeat(120.0) == []  # still in flight: no second probe
    assert e.probe_answered("a", True) == []
    assert e.probe_answered("b", False) == [DropLink("b", "no answer from the server within 20 seconds (heartbeat)")]
    assert e.heartbeat(180.0) == [Probe("a"), Probe("b")]


def test_probe_result_after_the_link_changed_is_ignored():
    e = Engine(Settings(jitter=0, connect_timeout=0))
    e.remote_add("r", STATUS_DISCONNECTED)
    up(e)
    assert e.heartbeat(60.0) == [Probe("r")]
    e.status_changed("r", STATUS_DISCONNECTED, 61.0)
    up(e, now=70.0)
    assert e.probe_answered("r", False) == []


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
    assert Probe("up") in actions
    assert [a for a in actions if isinstance(a, ra.Schedule)] == [ra.Schedule("down", 110.0, 60, 1, 0, True)]
    assert e.timer_fired("down", 110.0) == [ra.Connect("down")]


# -- polls: the server of a waiting remote comes back (core) ------------------------


def waiting(delay=60, poll=15, **kw):
    """An engine whose remote "r" dropped at 100 s (network) and waits `delay` s."""
    e = Engine(Settings(jitter=0, connect_timeout=0, delay=delay, poll=poll, **kw))
    up(e, now=0.0)
    e.status_changed("r", STATUS_DISCONNECTED, 100.0)
    return e, e.settle()


def test_a_long_wait_after_a_network_failure_polls_the_server():
    e, actions = waiting()
    assert actions == [Schedule("r", 160.0, 60, 1, 0), PollAt("r", 102.0)]  # every 2 s at first
    assert e.poll_fired("r", 102.0) == [Probe("r")]
    assert e.poll_fired("r", 102.0) == []  # one poll at a time
    assert e.poll_answered("r", False, 103.0) == [PollAt("r", 105.0)]
    assert e.poll_fired("r", 105.0) == [Probe("r")]
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
    assert e.poll_fired("q", 135.0) == [Probe("q")]


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


# -- shell -------------------------------------------------------------------------


def connected(sim):
    sim.user("/remote connect home")
    sim.accept("home")


def test_no_heartbeat_timer_while_nothing_is_connected(sim, load):
    load()
    sim.advance(3600)
    assert sim.timers(HEARTBEAT) == []
    assert sim.probes() == []


def test_one_heartbeat_timer_for_all_remotes_and_none_after_the_links_drop(sim, load):
    sim.add_remote("work")
    load()
    connected(sim)
    sim.user("/remote connect work")
    sim.accept("work")
    assert len(sim.timers(HEARTBEAT)) == 1
    sim.advance(60)
    assert sorted(sim.remote_of(h) for h in sim.probes()) == ["home", "work"]
    assert sim.remote("home").sent == ['{"request": "POST /api/ping"}']
    probe = sim.probes("home")[0]
    assert probe.pattern == "http://127.0.0.1:9000/api/handshake"
    assert probe.timeout == 20000
    assert json.loads(probe.options["postfields"]) == {}
    assert "password" not in json.dumps(probe.options).lower()
    sim.answer_probes(True)
    assert len(sim.timers(HEARTBEAT)) == 1
    sim.user("/remote disconnect home")
    sim.user("/remote disconnect work")
    assert sim.timers(HEARTBEAT) == []


def test_unanswered_probe_drops_the_link_and_the_backoff_follows(sim, load):
    load(autoreconnect_delay=5)
    connected(sim)
    sim.advance(60)
    printed = len(sim.state.printed)
    sim.answer_probes(False)
    assert sim.remote("home").status == "disconnected"
    sim.settle()
    assert sim.lines()[printed:] == [
        "--\trelay_autoreconnect: remote[home]: no answer from the server within 20 seconds (heartbeat): disconnecting",
        "--\trelay_autoreconnect: remote[home]: reconnecting in 5 seconds (attempt 1)",
    ]
    sim.advance(5)
    assert len(sim.connects("home")) == 2


def test_answered_probes_print_nothing(sim, load):
    load()
    connected(sim)
    printed = len(sim.state.printed)
    for _ in range(10):
        sim.advance(60)
        sim.answer_probes(True)
    assert sim.state.printed[printed:] == []
    assert len(sim.remote("home").sent) == 10


def test_stuck_authentication_is_dropped_after_the_connect_timeout(sim, load):
    load(autoreconnect_connect_timeout=15, autoreconnect_delay=5)
    sim.user("/remote connect home")
    sim.status("home", "waiting_auth")
    sim.advance(14.9)
    assert sim.remote("home").status == "waiting_auth"
    sim.advance(0.1)
    assert sim.remote("home").status == "disconnected"
    assert sim.lines("no answer within 15 seconds while authenticating: disconnecting")
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 5 seconds (attempt 1)")


def test_resume_checks_links_at_once_and_attempts_pending_ones(sim, load):
    sim.add_remote("work")
    load(autoreconnect_delay=300)
    connected(sim)
    sim.user("/remote connect work")
    sim.accept("work")
    sim.advance(100)
    sim.drop("work")
    sim.settle()
    sim.answer_probes(True)
    sim.advance(10)
    sim.suspend(3600)  # WeeChat's wall-clock timers fire at resume
    sim.settle()
    assert sim.lines("clock jumped by 1 hour (suspend/resume?)")
    assert "home" in [sim.remote_of(h) for h in sim.probes()]  # its heartbeat, at once
    assert len(sim.connects("work")) == 2  # the pending attempt ran at once


def test_probe_is_skipped_through_a_proxy_but_the_in_band_ping_is_sent(sim, load):
    load()
    sim.set_option("relay.remote.home.proxy", "myproxy")
    connected(sim)
    sim.advance(60)
    assert sim.probes() == []
    assert len(sim.remote("home").sent) == 1


def test_upgrade_cancels_probes_in_flight(sim, load):
    load()
    connected(sim)
    sim.advance(60)
    assert sim.probes()
    sim.user("/upgrade")
    assert sim.probes() == []


def test_unload_with_probe_and_watch_in_flight_removes_every_hook(sim, load):
    load(autoreconnect_connect_timeout=30)
    connected(sim)
    sim.advance(60)
    sim.user("/remote reconnect home")  # connecting: connect timeout watch
    assert sim.probes() or sim.timers("watch_timer_cb")
    sim.unload()
    assert sim.hooks() == []


def test_a_day_of_heartbeats_leaves_nothing_behind(sim, load):
    load()
    connected(sim)
    sim.advance(60)
    sim.answer_probes(True)
    hooks = len(sim.hooks())
    shell = ra.SHELL
    for _ in range(1440):
        sim.advance(60)
        sim.answer_probes(True)
    assert len(sim.hooks()) == hooks
    (link,) = shell.links
    assert (link.probe, link.watch, link.attempt) == ("", "", "")
    assert len(sim.remote("home").sent) == 1441


# -- polls (shell) -------------------------------------------------------------------


def test_a_waiting_remote_whose_server_answers_reconnects_at_once(sim, load):
    load(autoreconnect_delay=120, autoreconnect_poll=15)
    connected(sim)
    sim.advance(100)
    sim.answer_probes(True)
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 2 minutes (attempt 1)")
    sim.user("/autoreconnect")
    assert sim.lines()[-1] == (
        "  home: disconnected, attempt 1 in 2 minutes, server polled every 2 seconds, last failure: network, managed"
    )
    sim.advance(15)
    (probe,) = sim.probes()
    assert probe.pattern == "http://127.0.0.1:9000/api/handshake"
    assert probe.timeout == 15000
    assert sim.remote("home").sent == ['{"request": "POST /api/ping"}']  # only the heartbeat's
    sim.answer_probes(False)  # still down
    sim.advance(15)
    assert len(sim.probes()) == 1 and len(sim.connects("home")) == 1
    sim.answer_probes(True)  # back
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: the server answers again: reconnecting now"
    sim.settle()
    assert len(sim.connects("home")) == 2
    assert sim.timers("poll_timer_cb") == [] and sim.probes() == []


def test_no_polls_through_a_proxy_and_none_left_on_cancel_or_unload(sim, load):
    load(autoreconnect_delay=120, autoreconnect_poll=15)
    sim.set_option("relay.remote.home.proxy", "myproxy")
    connected(sim)
    sim.advance(100)
    sim.answer_probes(True)
    sim.drop("home")
    sim.settle()
    sim.advance(60)
    assert sim.probes() == [] and sim.timers("poll_timer_cb") == []
    sim.set_option("relay.remote.home.proxy", "")
    sim.user("/autoreconnect reset home")
    assert len(sim.timers("poll_timer_cb")) == 1
    sim.user("/autoreconnect cancel home")
    assert sim.timers("poll_timer_cb") == []
    sim.user("/autoreconnect retry home")
    sim.drop("home")
    sim.settle()
    sim.advance(15)
    assert len(sim.probes()) == 1
    sim.unload()
    assert sim.hooks() == []
