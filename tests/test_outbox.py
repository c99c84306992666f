# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Outbox: input typed while a link is down, kept and delivered once (core and shell)."""

from __future__ import annotations

import json

import pytest
import weechat_sim

import relay_autoreconnect as ra
from relay_autoreconnect import Outbox

VERSION_LINE = "remote[home]: WeeChat: 4.6.3 (), API: 0.4.0"


# -- core --------------------------------------------------------------------------------


def test_outbox_keeps_order_per_remote_and_takes_each_item_once():
    box = Outbox()
    for n, (remote, text) in enumerate([("a", "1"), ("b", "x"), ("a", "2"), ("a", "3")]):
        box.add(remote, "irc.chan", text, float(n))
    sent = []
    while (item := box.next_fresh("a", 10.0, 0)) is not None:
        box.take(item)
        sent.append(item.text)
    assert sent == ["1", "2", "3"]
    assert box.count() == 1 and box.count("b") == 1


def test_outbox_put_back_goes_first_and_age_holds_items_back():
    box = Outbox()
    box.add("a", "c", "old", 0.0)
    box.add("a", "c", "new", 100.0)
    assert [i.text for i in box.stale("a", 130.0, 60)] == ["old"]
    fresh = box.next_fresh("a", 130.0, 60)
    assert fresh.text == "new"
    box.take(fresh)
    box.put_back(fresh)
    assert box.next_any("a").text == "new"
    box.rename("a", "z")
    assert box.count("z") == 2 and box.drop("z") == 2 and box.count() == 0


# -- shell -----------------------------------------------------------------------------


@pytest.fixture
def sim():
    simulation = weechat_sim.Sim()
    simulation.add_remote("home")
    simulation.load(ra, {"autoreconnect_jitter": "0", "autoreconnect_delay": "10"})
    simulation.user("/remote connect home")
    simulation.accept("home")
    simulation.advance(100)
    yield simulation
    simulation.unload()


def chan(sim):
    return sim.open_buffer("home", "irc.libera.#weechat")


def down(sim):
    sim.drop("home")
    sim.settle()


def back(sim, say_version=True):
    sim.advance(10)  # the attempt
    sim.accept("home")
    if say_version:
        ra.weechat.prnt("", VERSION_LINE)
    sim.settle()


def sent(sim):
    """Input requests the script sent on the link (heartbeat pings left out)."""
    requests = [json.loads(line) for line in sim.remote("home").sent]
    return [r for r in requests if r["request"] == "POST /api/input"]


def test_text_typed_while_down_is_kept_and_delivered_once_in_order(sim):
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "first")
    sim.type(buffer, "second\nthird")
    assert sim.state.buffers[buffer].received == []
    assert [m for b, m in sim.state.printed if b == buffer][-1] == (
        "--\trelay_autoreconnect: remote[home] is not connected: kept, sent after the reconnection "
        "(3 waiting; /autoreconnect outbox)"
    )
    assert sim.bar_item() == "home 10s (network), home outbox 3"
    back(sim)
    assert sent(sim) == [
        {"request": "POST /api/input", "body": {"buffer_name": "irc.libera.#weechat", "command": text}}
        for text in ("first", "second", "third")
    ]
    assert sim.lines()[-1] == "relay_autoreconnect: remote[home]: 3 queued line(s) sent"
    sim.type(buffer, "live")  # connected and ready: straight to the buffer
    assert sim.state.buffers[buffer].received == ["live"]
    down(sim)
    back(sim)
    assert len(sent(sim)) == 3  # nothing twice


def test_input_waits_until_the_remote_answered_after_connecting(sim):
    buffer = chan(sim)
    down(sim)
    back(sim, say_version=False)
    sim.type(buffer, "early")  # connected, version not seen yet
    assert sim.state.buffers[buffer].received == [] and sent(sim) == []
    sim.advance(ra.READY_FALLBACK_SECONDS)  # in another language: the fallback
    assert [item["body"]["command"] for item in sent(sim)] == ["early"]


def test_a_drop_during_delivery_sends_nothing_twice_and_keeps_order(sim):
    buffer = chan(sim)
    down(sim)
    for text in ("1", "2", "3", "4"):
        sim.type(buffer, text)
    sim.remote("home").send_budget = 2  # the link drops while the third line goes
    back(sim)
    assert [item["body"]["command"] for item in sent(sim)] == ["1", "2"]
    assert ra.SHELL.outbox.count("home") == 2
    sim.settle()
    sim.remote("home").send_budget = None
    back(sim)
    assert [item["body"]["command"] for item in sent(sim)] == ["1", "2", "3", "4"]


def test_buffer_recreated_with_a_new_id_gets_its_lines(sim):
    old = chan(sim)
    down(sim)
    sim.type(old, "hello")
    del sim.state.buffers[old]  # the remote WeeChat restarted: buffers come back with new ids
    chan(sim)
    back(sim)
    assert sent(sim)[0]["body"] == {"buffer_name": "irc.libera.#weechat", "command": "hello"}


def test_commands_are_refused_unless_asked_and_local_commands_run(sim, mocker):
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "/me waves")
    assert [m for b, m in sim.state.printed if b == buffer][-1].startswith(
        "=!=\trelay_autoreconnect: remote[home] is not connected: command not run"
    )
    assert ra.SHELL.outbox.count() == 0
    sim.set_option("relay.network.autoreconnect_outbox_commands", "on")
    sim.type(buffer, "/me waves")
    assert ra.SHELL.outbox.count() == 1
    sim.state.buffers[buffer].input_get_any_user_data = 0  # /remote togglecmd: commands run here
    command = mocker.spy(ra.weechat, "command")
    sim.type(buffer, "/buffer list")
    assert command.call_args_list[-1].args == (buffer, "/buffer list")
    assert ra.SHELL.outbox.count() == 1


def test_old_lines_are_held_back_until_the_user_says(sim):
    sim.set_option("relay.network.autoreconnect_outbox_max_age", "60")
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "stale")
    sim.advance(100)
    sim.type(buffer, "fresh")
    back(sim)
    assert [item["body"]["command"] for item in sent(sim)] == ["fresh"]
    assert sim.lines("older than") == [
        'relay_autoreconnect: remote[home]: 1 queued line(s) older than 60 s not sent; "/autoreconnect outbox '
        'send home" sends them, "/autoreconnect outbox drop home" drops them'
    ]
    sim.user("/autoreconnect outbox")
    assert sim.lines()[-1].startswith("  remote[home] irc.libera.#weechat (queued ")
    sim.user("/autoreconnect outbox send home")
    assert [item["body"]["command"] for item in sent(sim)] == ["fresh", "stale"]


def test_outbox_drop_and_errors(sim):
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "x")
    sim.user("/autoreconnect outbox send home")
    assert sim.lines()[-1].startswith("=!=\trelay_autoreconnect: outbox: remote[home] is not connected yet")
    sim.user("/autoreconnect outbox frob")
    assert sim.lines()[-1].startswith('=!=\trelay_autoreconnect: outbox: "list", or "send"/"drop"')
    sim.user("/autoreconnect outbox drop home")
    assert sim.lines()[-1] == "relay_autoreconnect: remote[home]: 1 queued line(s) dropped"
    sim.user("/autoreconnect outbox drop home")
    assert sim.lines()[-1] == "=!=\trelay_autoreconnect: outbox: nothing queued for remote[home]"
    back(sim)
    assert sent(sim) == []


def test_unload_with_queued_lines_says_how_many_were_dropped(sim):
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "a")
    sim.type(buffer, "b")
    sim.unload()
    assert sim.lines()[-1] == "relay_autoreconnect: 2 queued line(s) dropped (script unloaded)"


def test_a_remote_the_user_disconnected_keeps_weechat_s_behaviour(sim):
    buffer = chan(sim)
    sim.user("/remote disconnect home")
    sim.type(buffer, "into the void")
    assert sim.state.buffers[buffer].received == ["into the void"]
    assert ra.SHELL.outbox.count() == 0
