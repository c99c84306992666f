# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Back the moment it can be: offline waits, TLS failures, network changes, lag (core)."""

from __future__ import annotations

import pytest
from engines import CONNECTING, DISC, connected_engine, route

import relay_autoreconnect as ra
from relay_autoreconnect import Diagnose, GiveUp, NetworkBack, NoRoute, PollAt, Schedule

UNSAID = "handshake failed with URL http://relay.example:9000, response code: 0"
TLS = "handshake failed with URL https://h:9000, error: SSL certificate problem: self-signed certificate"
OFFLINE = route(address=True, reachable=False)  # the kernel has no route to the server's address
UNRESOLVED_OFFLINE = route(address=False, default_route=False)  # a name, and no default route


def engine(route_of=OFFLINE, watched=False, **settings):
    e = connected_engine(**settings)
    e.route, e.watched = route_of, watched
    return e


def drop(e, now, said=""):
    """The link of "r" drops (WeeChat saying `said` first); settle."""
    if said:
        e.said("r", said)
    e.status_changed("r", DISC, now)
    return e.settle()


def attempt(e, now, said=""):
    """The timer of "r" fires at `now`: an attempt, which fails (WeeChat saying `said`)."""
    assert e.timer_fired("r", now) == [ra.Connect("r")]
    e.status_changed("r", CONNECTING, now)
    return drop(e, now, said)


class Kernel:
    """Routes that come and go: what the kernel answers for the server's address."""

    def __init__(self, reachable=False):
        self.reachable = reachable

    def __call__(self, _name):
        return ra.Route(address=True, reachable=self.reachable)


def test_with_network_changes_watched_no_attempt_is_made_while_offline_and_it_is_said_once():
    kernel = Kernel()
    e = engine(kernel, watched=True, delay=10, max_attempts=2, poll=15)
    assert drop(e, 100.0) == [NoRoute("r", None)]  # no timer, no poll: the network change brings it
    remote = e.remotes["r"]
    assert (remote.kind, remote.run.attempt, remote.due) == (ra.FAILURE_OFFLINE, 0, None)
    assert e.pending() == [] and e.timer_fired("r", 110.0) == []
    assert "disconnected, waiting for network, last failure: offline" in ra.describe(e, remote, 3700.0)
    assert ra.bar_text(e, 3700.0) == "r waiting for network"
    assert e.network_changed(3700.0) == []  # a change, but still no route to the server's address
    assert e.clock_jumped(3710.0) == []  # a resume: it still waits for the network
    kernel.reachable = True
    assert e.network_changed(3720.0) == [NetworkBack("r", True), Schedule("r", 3720.0, 10, 1, 2, True)]
    assert e.network_changed(3720.1) == [Schedule("r", 3720.1, 10, 1, 2, True)]  # said once
    assert e.timer_fired("r", 3720.1) == [ra.Connect("r")]
    assert remote.run.attempt == 0  # an hour offline counted nothing


def test_an_attempt_due_when_the_route_is_gone_is_not_made():
    """The server went away (a network failure), then the machine's network: the attempt
    due is not made, the remote waits for the network."""
    kernel = Kernel(reachable=True)
    e = engine(kernel, watched=True, delay=10, poll=15)
    assert drop(e, 100.0) == [Schedule("r", 110.0, 10, 1, 0), PollAt("r", 102.0)]
    kernel.reachable = False
    assert e.poll_fired("r", 102.0) == [ra.Poll("r")]
    assert e.poll_answered("r", False, 102.5) == [PollAt("r", 104.5)]  # polls go on: they print nothing
    assert e.timer_fired("r", 110.0) == [NoRoute("r", None)]  # no Connect
    assert e.poll_fired("r", 110.5) == []  # no more polls
    assert (e.remotes["r"].kind, e.remotes["r"].failure.detail) == (ra.FAILURE_OFFLINE, ra.NO_ROUTE)
    assert e.remotes["r"].run.attempt == 0


def test_offline_online_offline_within_one_outage_each_change_is_said_once():
    kernel = Kernel()
    e = engine(kernel, watched=True, delay=10, poll=0)
    said = []
    said += drop(e, 100.0)
    kernel.reachable = True
    said += e.network_changed(130.0)
    said += attempt(e, 130.0)  # the server is still down: refused
    kernel.reachable = False
    said += e.timer_fired("r", 150.0)
    said += e.network_changed(155.0)  # a change, still no route: nothing
    kernel.reachable = True
    said += e.network_changed(160.0)
    told = [a for a in said if isinstance(a, (NoRoute, NetworkBack)) or (isinstance(a, Schedule) and not a.quiet)]
    assert told == [
        NoRoute("r", None),
        NetworkBack("r", True),
        Schedule("r", 150.0, 20, 2, 0),  # attempt 1 failed (a network failure): "reconnecting in 20 s (attempt 2)"
        NoRoute("r", None),
        NetworkBack("r", True),
    ]
    assert e.remotes["r"].run.attempt == 1  # only the attempt that reached the server's host


def test_without_network_changes_safety_attempts_follow_the_growing_delay_not_counted():
    """A name that does not resolve with no default route: offline; each safety attempt
    is one more in a row, waiting twice as long, up to the maximum; never counted."""
    e = engine(UNRESOLVED_OFFLINE, delay=10, max_attempts=2, delay_max=600)
    resolve = "handshake failed with URL http://relay.example:9000, error: Could not resolve host: relay.example"
    assert drop(e, 100.0, resolve) == [NoRoute("r", 10.0), Schedule("r", 110.0, 10.0, 1, 2, True)]
    now, waits = 110.0, []
    while now < 100.0 + 3600:
        (schedule,) = attempt(e, now, resolve)  # not said again
        waits.append(schedule.wait)
        now = schedule.due
    assert waits[:7] == [20, 40, 80, 160, 320, 600, 600] and set(waits[7:]) == {600}
    assert len(waits) + 1 == 11  # attempts in the first hour offline
    remote = e.remotes["r"]
    assert (remote.kind, remote.run.attempt, remote.gave_up) == (ra.FAILURE_OFFLINE, 0, False)
    assert f"waiting for network (attempt 1 in {ra.duration(600)})" in ra.describe(e, remote, now - 600)


def test_without_network_changes_an_address_is_checked_at_the_same_times_and_attempted_once_back():
    """The kernel's answer for an address needs no attempt: at each safety time the route is
    looked up; the attempt comes when it is there."""
    kernel = Kernel()
    e = engine(kernel, delay=10)
    assert drop(e, 100.0) == [NoRoute("r", 10.0), Schedule("r", 110.0, 10.0, 1, 0, True)]
    assert e.timer_fired("r", 110.0) == [Schedule("r", 130.0, 20.0, 1, 0, True)]  # no attempt, no line
    assert e.timer_fired("r", 130.0) == [Schedule("r", 170.0, 40.0, 1, 0, True)]
    kernel.reachable = True
    assert e.timer_fired("r", 170.0) == [NetworkBack("r", True), ra.Connect("r")]


def test_the_watcher_lost_while_waiting_for_the_network_brings_a_safety_attempt():
    e = engine(watched=True, delay=10)
    assert drop(e, 100.0) == [NoRoute("r", None)]
    assert e.network_watched(True, 200.0) == []
    assert e.network_watched(False, 200.0) == [Schedule("r", 210.0, 10.0, 1, 0, True)]  # not said again
    assert e.network_watched(True, 201.0) == []  # the pending check keeps its time
    assert e.remotes["r"].due == 210.0


def test_retry_and_cancel_while_waiting_for_the_network():
    e = engine(watched=True, delay=10)
    drop(e, 100.0)
    assert e.retry("r", 200.0) == ("", [ra.Cancel("r", False), ra.Connect("r")])  # at once
    e.status_changed("r", CONNECTING, 200.0)
    assert drop(e, 200.0) == []  # told already
    assert e.cancel("r", 300.0) == ("", [ra.Cancel("r", True)])
    assert e.remotes["r"].phase is ra.Phase.IDLE


def test_a_hand_over_while_waiting_for_the_network_attempts_at_once_in_the_next_instance():
    e = engine(watched=True, delay=10)
    drop(e, 100.0)
    assert e.snapshot(500.0) == {"r": [DISC, True, 0, 0.0]}


def test_a_drop_taken_for_offline_that_reached_the_server_counts_and_may_give_up():
    e = engine(UNRESOLVED_OFFLINE, delay=10, growing=1, max_attempts=2, poll=0)
    assert drop(e, 100.0) == [Schedule("r", 110.0, 10, 1, 2)]  # the link dropped: a network failure
    assert e.timer_fired("r", 110.0) == [ra.Connect("r")]
    e.status_changed("r", CONNECTING, 110.0)
    # offline, not counted: a safety attempt (changes not watched), and asked
    assert drop(e, 110.0, UNSAID) == [NoRoute("r", 10.0), Schedule("r", 120.0, 10.0, 1, 2, True), Diagnose("r")]
    assert e.diagnosed("r", ra.FOUND_REACHED) == []  # the address was reached: attempt 1 of 2 counted
    remote = e.remotes["r"]
    assert (remote.kind, remote.run.attempt) == (ra.FAILURE_NETWORK, 1)
    assert "attempt 2/2 in 10 seconds" in ra.describe(e, remote, 110.0)
    assert e.diagnosed("r", ra.FOUND_REACHED) == []  # found once: not counted twice
    assert e.timer_fired("r", 120.0) == [ra.Connect("r")]
    e.status_changed("r", CONNECTING, 120.0)
    assert drop(e, 120.0, UNSAID) == [NoRoute("r", 10.0), Schedule("r", 130.0, 10.0, 2, 2, True), Diagnose("r")]
    assert e.diagnosed("r", ra.FOUND_REACHED) == [ra.Cancel("r", False), GiveUp("r", 2)]  # the cap
    assert e.diagnosed("r", ra.FOUND_REACHED) == []


def test_waiting_for_a_network_change_a_name_found_reached_gets_the_backoff():
    e = engine(UNRESOLVED_OFFLINE, watched=True, delay=10, growing=1, poll=0)
    e.status_changed("r", CONNECTING, 99.0)
    assert drop(e, 100.0, UNSAID) == [NoRoute("r", None), Diagnose("r")]
    assert e.diagnosed("r", ra.FOUND_REACHED) == [Schedule("r", 110.0, 10, 1, 0)]  # the network brings nothing
    assert e.remotes["r"].kind == ra.FAILURE_NETWORK


def test_a_name_confirmed_unresolved_stays_offline():
    e = engine(UNRESOLVED_OFFLINE, delay=10, max_attempts=1)
    e.status_changed("r", CONNECTING, 99.0)
    assert drop(e, 100.0, UNSAID) == [NoRoute("r", 10.0), Schedule("r", 110.0, 10.0, 1, 1, True), Diagnose("r")]
    assert e.diagnosed("r", ra.FOUND_UNRESOLVED) == []
    assert (e.remotes["r"].kind, e.remotes["r"].run.attempt) == (ra.FAILURE_OFFLINE, 0)


def test_a_name_is_tried_at_a_network_change_quietly_until_there_is_a_default_route():
    """Without a default route a name may still resolve (a VPN's own routes): each change
    brings an attempt, said only once a default route is there."""
    found = {"default": False}
    e = engine(lambda _name: ra.Route(address=False, default_route=found["default"]), watched=True, delay=10)
    resolve = "handshake failed with URL http://relay.example:9000, error: Could not resolve host: relay.example"
    e.status_changed("r", CONNECTING, 99.0)
    assert drop(e, 100.0, resolve) == [NoRoute("r", None)]
    assert e.network_changed(110.0) == [Schedule("r", 110.0, 10, 1, 0, True)]  # no line
    assert attempt(e, 110.0, resolve) == []
    found["default"] = True
    assert e.network_changed(120.0) == [NetworkBack("r", True), Schedule("r", 120.0, 10, 1, 0, True)]


def test_a_late_finding_of_an_older_drop_changes_nothing():
    e = engine(UNRESOLVED_OFFLINE, delay=10)
    e.status_changed("r", CONNECTING, 99.0)
    drop(e, 100.0, UNSAID)
    e.timer_fired("r", 110.0)
    e.status_changed("r", CONNECTING, 110.0)  # the next attempt is in flight
    assert e.diagnosed("r", ra.FOUND_TAKEN) == []
    assert e.remotes["r"].kind == ra.FAILURE_OFFLINE


def test_an_unsaid_reason_of_an_http_server_is_a_network_failure_and_not_asked():
    e = engine(route(), delay=1)
    e.status_changed("r", CONNECTING, 9.0)
    assert drop(e, 10.0, UNSAID) == [Schedule("r", 11.0, 1, 1, 0)]  # http: nothing to ask
    assert e.diagnosed("r", ra.FOUND_TAKEN) == [] and e.remotes["r"].kind == ra.FAILURE_NETWORK
    assert e.diagnosed("x", ra.FOUND_TAKEN) == []  # no such remote


def test_a_network_change_brings_the_offline_remote_at_once_and_polls_the_others():
    online = set()
    e = engine(lambda name: ra.Route(address=True, reachable=name != "r" or "r" in online), True, delay=60, poll=15)
    e.remote_add("n", DISC)
    e.status_changed("n", CONNECTING, 0.0)
    e.status_changed("n", ra.STATUS_CONNECTED, 0.0)
    drop(e, 100.0)
    e.status_changed("n", DISC, 100.0)  # a network failure (server down)
    e.settle()
    online.add("r")
    assert e.network_changed(105.0) == [
        NetworkBack("r", True),
        Schedule("r", 105.0, 60, 1, 0, True),
        PollAt("n", 105.0),
    ]


def tls_failure(e, now):
    e.status_changed("r", CONNECTING, now)
    return drop(e, now, TLS)


def test_tls_failures_stop_after_two_in_a_row_and_a_network_change_starts_over():
    e = engine(route(), delay=1)
    drop(e, 10.0)
    e.timer_fired("r", 11.0)
    assert tls_failure(e, 11.0) == [Schedule("r", 13.0, 2, 2, 0)]  # TLS 1 (after a network drop)
    e.timer_fired("r", 13.0)
    assert tls_failure(e, 13.0) == [GiveUp("r", 2, ra.FAILURE_TLS, "SSL certificate problem: self-signed certificate")]
    assert e.network_changed(20.0) == [NetworkBack("r"), Schedule("r", 20.0, 0.0, 1, 0)]


def test_weechat_4_10_says_nothing_the_connection_finds_tls_on_https():
    e = engine(route(https=True), delay=1)
    said = "handshake failed with URL https://h:9000, response code: 0"
    e.status_changed("r", CONNECTING, 9.0)
    assert drop(e, 10.0, said) == [Schedule("r", 11.0, 1, 1, 0), Diagnose("r")]  # https: asked
    assert e.diagnosed("r", ra.FOUND_TAKEN) == []
    assert (e.remotes["r"].kind, e.remotes["r"].failure.detail) == (ra.FAILURE_TLS, ra.TLS_UNSAID)
    e.timer_fired("r", 11.0)
    e.status_changed("r", CONNECTING, 11.0)
    drop(e, 11.0, said)
    assert e.diagnosed("r", ra.FOUND_TAKEN) == [ra.Cancel("r", False), GiveUp("r", 2, ra.FAILURE_TLS, ra.TLS_UNSAID)]


def test_lag_is_measured_shown_and_two_checks_above_lag_max_drop_the_link():
    e = engine(heartbeat=10, lag_show=1, lag_max=3)
    e.heartbeat(10.0)
    assert e.probe_answered("r", True, 10.4) == []
    assert e.remotes["r"].lag == pytest.approx(0.4)
    assert "lag" not in ra.describe(e, e.remotes["r"], 11.0) and ra.bar_text(e, 11.0) == ""
    e.heartbeat(20.0)
    assert e.probe_answered("r", True, 24.0) == []  # 4 s: one check above 3 s
    assert "connected, lag 4 seconds" in ra.describe(e, e.remotes["r"], 25.0)
    assert ra.bar_text(e, 25.0) == "r lag 4.0s"
    e.heartbeat(30.0)
    assert e.probe_answered("r", True, 30.5) == []  # back under: the run ends
    e.heartbeat(40.0)
    e.probe_answered("r", True, 45.0)
    e.heartbeat(50.0)
    (dropped,) = e.probe_answered("r", True, 56.0)
    assert dropped == ra.DropLink("r", "lag 6 seconds above 3 seconds for 2 checks (autoreconnect_lag_max)")
