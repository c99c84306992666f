# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Back the moment it can be: offline waits, TLS failures, network changes, lag (core)."""

from __future__ import annotations

import pytest
from engines import CONNECTING, DISC, connected_engine, route

import relay_autoreconnect as ra
from relay_autoreconnect import Diagnose, GiveUp, NetworkBack, PollAt, Schedule

UNSAID = "handshake failed with URL http://relay.example:9000, response code: 0"
TLS = "handshake failed with URL https://h:9000, error: SSL certificate problem: self-signed certificate"
OFFLINE = route(address=True, reachable=False)  # the kernel has no route to the server's address
UNRESOLVED_OFFLINE = route(address=False, default_route=False)  # a name, and no default route


def engine(route_of=OFFLINE, **settings):
    e = connected_engine(**settings)
    e.route = route_of
    return e


def drop(e, now, said=""):
    """The link of "r" drops (WeeChat saying `said` first); settle."""
    if said:
        e.said("r", said)
    e.status_changed("r", DISC, now)
    return e.settle()


def test_offline_attempts_are_not_counted_and_the_delay_does_not_grow():
    e = engine(delay=10, max_attempts=2, poll=15)
    assert drop(e, 100.0) == [Schedule("r", 110.0, 10, 1, 2)]  # no poll: nothing to reach
    for now in (110.0, 120.0, 130.0, 140.0):
        assert e.timer_fired("r", now) == [ra.Connect("r")]
        e.status_changed("r", CONNECTING, now)
        assert drop(e, now) == [Schedule("r", now + 10, 10, 1, 2)]  # attempt 1 again, never gives up
    assert e.remotes["r"].kind == ra.FAILURE_OFFLINE and e.remotes["r"].run.attempt == 0
    assert "waiting for network (attempt 1 in 10 seconds)" in ra.describe(e, e.remotes["r"], 140.0)


def test_a_drop_taken_for_offline_that_reached_the_server_counts_and_may_give_up():
    e = engine(UNRESOLVED_OFFLINE, delay=10, growing=1, max_attempts=2, poll=0)
    assert drop(e, 100.0) == [Schedule("r", 110.0, 10, 1, 2)]  # the link dropped: a network failure
    assert e.timer_fired("r", 110.0) == [ra.Connect("r")]
    e.status_changed("r", CONNECTING, 110.0)
    assert drop(e, 110.0, UNSAID) == [Schedule("r", 120.0, 10, 1, 2), Diagnose("r")]  # offline, not counted: asked
    assert e.diagnosed("r", ra.FOUND_REACHED) == []  # the address was reached: attempt 1 of 2 counted
    remote = e.remotes["r"]
    assert (remote.kind, remote.run.attempt) == (ra.FAILURE_NETWORK, 1)
    assert "attempt 2/2 in 10 seconds" in ra.describe(e, remote, 110.0)
    assert e.diagnosed("r", ra.FOUND_REACHED) == []  # found once: not counted twice
    assert e.timer_fired("r", 120.0) == [ra.Connect("r")]
    e.status_changed("r", CONNECTING, 120.0)
    assert drop(e, 120.0, UNSAID) == [Schedule("r", 130.0, 10, 2, 2), Diagnose("r")]
    assert e.diagnosed("r", ra.FOUND_REACHED) == [ra.Cancel("r", False), GiveUp("r", 2)]  # the cap
    assert e.diagnosed("r", ra.FOUND_REACHED) == []


def test_a_name_confirmed_unresolved_stays_offline():
    e = engine(UNRESOLVED_OFFLINE, delay=10, max_attempts=1)
    e.status_changed("r", CONNECTING, 99.0)
    assert drop(e, 100.0, UNSAID) == [Schedule("r", 110.0, 10, 1, 1), Diagnose("r")]
    assert e.diagnosed("r", ra.FOUND_UNRESOLVED) == []
    assert (e.remotes["r"].kind, e.remotes["r"].run.attempt) == (ra.FAILURE_OFFLINE, 0)


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
    e = engine(lambda name: ra.Route(address=True, reachable=name != "r"), delay=60, poll=15)
    e.remote_add("n", DISC)
    e.status_changed("n", CONNECTING, 0.0)
    e.status_changed("n", ra.STATUS_CONNECTED, 0.0)
    drop(e, 100.0)
    e.status_changed("n", DISC, 100.0)  # a network failure (server down)
    e.settle()
    assert e.network_changed(105.0) == [
        NetworkBack("r"),
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
