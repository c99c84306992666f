# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state handed from one instance of the script to the next (reload, /upgrade)."""

from __future__ import annotations

import json

import pytest

import relay_autoreconnect as ra

VAR = ra.HANDOVER_VAR


@pytest.fixture(autouse=True)
def work(sim):
    """A second remote, "work"."""
    sim.add_remote("work")


def core_vars(sim):
    return sim.state.buffers[ra.weechat.buffer_search_main()].localvars


def unloaded_while_pending(sim, load, connected=("home",)):
    """Remotes connected for 100 s, then "home" drops and the script is unloaded 4 s into
    its 10-s wait; returns the time of the drop."""
    load()
    for name in connected:
        sim.user(f"/remote connect {name}")
        sim.accept(name)
    sim.advance(100)
    drop = sim.state.now
    sim.drop("home")
    sim.settle()
    sim.advance(4)
    sim.unload()
    return drop


def test_reload_while_pending_keeps_the_attempt_time(sim, load):
    drop = unloaded_while_pending(sim, load, ("home", "work"))
    assert VAR in core_vars(sim)
    load()
    assert VAR not in core_vars(sim)
    assert sim.lines("reconnecting in")[-1].endswith("reconnecting in 6 seconds (attempt 1)")
    sim.advance(6)
    assert len(sim.connects("home")) == 2 and sim.state.now == pytest.approx(drop + 10, abs=0.005)
    assert ra.SHELL.engine.remotes["work"].status == "connected"
    assert sim.timers("heartbeat_cb")


def test_the_time_a_reload_takes_is_taken_off_the_wait(sim, load):
    drop = unloaded_while_pending(sim, load)
    sim.state.now += 0.4  # the reload itself takes a while (no timer fires meanwhile: no script)
    load()
    assert sim.lines("reconnecting in")[-1].endswith("reconnecting in 5.6 seconds (attempt 1)")
    sim.advance(5.6)
    assert len(sim.connects("home")) == 2 and sim.state.now == pytest.approx(drop + 10, abs=0.005)


def test_after_upgrade_remotes_that_were_up_come_back_in_a_second(sim, load):
    load()
    sim.user("/remote connect home")
    sim.accept("home")
    sim.unload()  # /upgrade: the script is unloaded ...
    for remote in sim.state.remotes.values():
        remote.status = "disconnected"  # ... and the new WeeChat has every remote disconnected
    sim.state.upgrading = True
    load()
    assert sim.lines("reconnecting in")[-1].endswith("remote[home]: reconnecting in 1 second (attempt 1)")
    sim.advance(1)
    assert len(sim.connects("home")) == 2
    assert sim.connects("work") == []


def test_an_old_or_broken_hand_over_is_ignored(sim, load):
    load()
    sim.user("/remote connect home")
    sim.accept("home")
    sim.advance(60)
    sim.drop("home")
    sim.settle()
    sim.unload()
    sim.advance(ra.HANDOVER_MAX_AGE + 1)
    load()
    assert sim.timers("attempt_timer_cb") == []
    sim.unload()
    core_vars(sim)[VAR] = "{not json"
    load()
    assert VAR not in core_vars(sim)


def test_quit_leaves_no_hand_over(sim, load):
    load()
    ra.weechat._signal_send("quit", "")  # pylint: disable=protected-access
    sim.unload()
    assert VAR not in core_vars(sim)


# -- the state is checked, not assumed ------------------------------------------------


def test_a_bad_hand_over_gives_one_line_and_a_clean_start(sim, load):
    core_vars(sim)[VAR] = json.dumps({"time": sim.wall_clock(), "remotes": {"home": ["connected", True, "x", None]}})
    load()
    assert sim.lines("ignoring saved state") == [
        "=!=\trelay_autoreconnect: ignoring saved state: remote 'home': attempt 'x' is not a count"
    ]
    assert ra.SHELL.engine.remotes["home"].status == "disconnected"  # as WeeChat shows it


def test_a_hand_over_nested_too_deep_gives_one_line_and_the_script_loads(sim, load):
    core_vars(sim)[VAR] = "[" * 200000 + "]" * 200000
    load()
    assert sim.lines("ignoring saved state") == [
        "=!=\trelay_autoreconnect: ignoring saved state: not JSON (nested too deep)"
    ]


def test_after_a_reload_while_connected_typed_text_goes_to_the_remote_at_once(sim, load):
    load()
    sim.user("/remote connect home")
    sim.accept("home")
    buffer = sim.open_buffer("home", "irc.libera.#chan")
    sim.unload()
    load()
    sim.type(buffer, "hello")
    sim.settle()
    sim.serve()
    assert sim.remote("home").server_inputs == [("irc.libera.#chan", "hello")]
    assert sim.state.buffers[buffer].received == []  # not on the websocket


def test_a_link_that_dropped_while_the_script_was_unloaded_is_found_down(sim, load):
    load()
    sim.user("/remote connect home")
    sim.accept("home")
    sim.unload()
    sim.drop("home")  # nobody sees it
    sim.advance(5)
    load()
    assert sim.lines("reconnecting in") == [
        "--\trelay_autoreconnect: remote[home]: reconnecting in 10 seconds (attempt 1)"
    ]
    assert "home: disconnected, attempt 1 in 10 seconds" in ra.describe(
        ra.SHELL.engine, ra.SHELL.engine.remotes["home"], sim.clock()
    )
    sim.advance(10)
    assert len(sim.connects("home")) == 2


def test_the_relay_plugin_going_and_coming_back_keeps_what_the_user_wanted(sim, load):
    load()
    sim.user("/remote connect home")
    sim.accept("home")
    sim.user("/remote connect work")
    sim.drop("work")  # refused: "work" waits 10 s for its next attempt
    sim.settle()
    sim.relay_reload(between=lambda: sim.advance(30))
    sim.settle()
    assert sim.lines()[-2:] == [
        "--\trelay_autoreconnect: remote[home]: reconnecting in 1 second (attempt 1)",
        "--\trelay_autoreconnect: remote[work]: reconnecting in 1 second (attempt 1)",
    ]
    sim.advance(1)
    assert sim.remote("home").status == sim.remote("work").status == "connecting"


@pytest.mark.parametrize("sim", [0x04030600], indirect=True)
def test_weechat_4_3_shows_no_status_so_an_attempt_in_flight_is_given_its_time(sim, load):
    load()
    sim.user("/remote connect home")  # in flight ...
    sim.unload()
    sim.drop("home")  # ... and over while the script is unloaded
    load()
    shell = ra.SHELL
    assert shell.engine.remotes["home"].status == "connecting"  # as handed over: 4.3 can not say
    (check,) = sim.timers("status_check_cb")
    sim.advance(check.interval / 1000.0)  # WeeChat's own bound on an attempt
    sim.settle()
    assert shell.engine.remotes["home"].status == "disconnected"
    assert (
        sim.lines("reconnecting in")[-1]
        == "--\trelay_autoreconnect: remote[home]: reconnecting in 10 seconds (attempt 1)"
    )
