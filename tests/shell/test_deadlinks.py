# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dead links: heartbeat, connect timeout, clock jumps (core and shell, virtual time)."""

from __future__ import annotations

import json

import pytest

import relay_autoreconnect as ra

HEARTBEAT = "heartbeat_cb"


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


@pytest.mark.parametrize("sim", [0x04060300, 0x040A0000], indirect=True, ids=["4.6.3", "4.10.0"])
@pytest.mark.parametrize("stop", ["unload", "/upgrade"])
def test_a_heartbeat_the_script_removes_is_no_failed_heartbeat(sim, load, stop):
    # WeeChat >= 4.8 calls back a URL transfer removed while it runs ("transfer stopped")
    load()
    connected(sim)
    sim.advance(60)
    assert sim.probes()
    if stop == "unload":
        sim.unload()
    else:
        sim.user("/upgrade")
    assert sim.probes() == []
    assert not [c for c in sim.state.commands if c.startswith(("/remote disconnect", "/remote reconnect"))]
    assert not sim.lines("heartbeat")
    if stop == "/upgrade":
        assert sim.remote("home").status == "connected"


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
    sim.serve()  # the handshake of the outbox, asked once the link answers
    sim.answer_probes(True)
    hooks = len(sim.hooks())
    shell = ra.SHELL
    for _ in range(1440):
        sim.advance(60)
        sim.answer_probes(True)
    assert len(sim.hooks()) == hooks
    (link,) = shell.links
    assert [slot for slot in link.slots() if slot] == []
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


def test_a_heartbeat_request_weechat_does_not_start_is_no_verdict_and_the_next_one_goes(sim, load, mocker):
    load()
    connected(sim)
    mocker.patch.object(ra.weechat, "hook_url", return_value="")
    sim.advance(60)
    assert sim.probes() == [] and sim.remote("home").status == "connected"  # the in-band ping was the check
    mocker.stopall()
    sim.advance(60)
    assert len(sim.probes("home")) == 1
