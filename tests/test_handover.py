# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state handed from one instance of the script to the next (reload, /upgrade)."""

from __future__ import annotations

import pytest
import weechat_sim

import relay_autoreconnect as ra

VAR = ra.HANDOVER_VAR


@pytest.fixture
def sim():
    simulation = weechat_sim.Sim()
    simulation.add_remote("home")
    simulation.add_remote("work")
    yield simulation
    simulation.unload()


def load(sim):
    assert sim.load(ra, {"autoreconnect_jitter": "0", "autoreconnect_delay": "10"}) is not None


def core_vars(sim):
    return sim.state.buffers[ra.weechat.buffer_search_main()].localvars


def test_reload_while_pending_keeps_the_attempt_time(sim):
    load(sim)
    for name in ("home", "work"):
        sim.user(f"/remote connect {name}")
        sim.accept(name)
    sim.advance(100)
    drop = sim.state.now
    sim.drop("home")
    sim.settle()
    sim.advance(4)
    sim.unload()
    assert VAR in core_vars(sim)
    load(sim)
    assert VAR not in core_vars(sim)
    assert sim.lines("reconnecting in")[-1].endswith("reconnecting in 6 s (attempt 1)")
    sim.advance(6)
    assert len(sim.connects("home")) == 2 and sim.state.now == pytest.approx(drop + 10, abs=0.005)
    assert ra.SHELL.engine.remotes["work"].status == "connected"
    assert sim.timers("heartbeat_cb")


def test_after_upgrade_remotes_that_were_up_come_back_in_a_second(sim):
    load(sim)
    sim.user("/remote connect home")
    sim.accept("home")
    sim.unload()  # /upgrade: the script is unloaded ...
    for remote in sim.state.remotes.values():
        remote.status = "disconnected"  # ... and the new WeeChat has every remote disconnected
    sim.state.upgrading = True
    load(sim)
    assert sim.lines("reconnecting in")[-1].endswith("remote[home]: reconnecting in 1 s (attempt 1)")
    sim.advance(1)
    assert len(sim.connects("home")) == 2
    assert sim.connects("work") == []


def test_an_old_or_broken_hand_over_is_ignored(sim):
    load(sim)
    sim.user("/remote connect home")
    sim.accept("home")
    sim.advance(60)
    sim.drop("home")
    sim.settle()
    sim.unload()
    sim.advance(ra.HANDOVER_MAX_AGE + 1)
    load(sim)
    assert sim.timers("attempt_timer_cb") == []
    sim.unload()
    core_vars(sim)[VAR] = "{not json"
    load(sim)
    assert VAR not in core_vars(sim)


def test_quit_leaves_no_hand_over(sim):
    load(sim)
    ra.weechat._signal_send("quit", "")  # pylint: disable=protected-access
    sim.unload()
    assert VAR not in core_vars(sim)
