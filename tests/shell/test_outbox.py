# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Outbox: what is typed in a remote buffer while its link is down (core and shell).

The shell tests play the person (sim.type: Enter on the input line), key
bindings (sim.key), scripts and the fifo (weechat.command), and the remote's
server answering the out-of-band POST /api/input (sim.serve).
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat

import pytest
from shared import filled

import relay_autoreconnect as ra
from relay_autoreconnect import (
    LINE_MISSING,
    LINE_QUEUED,
    LINE_SENDING,
    LINE_UNKNOWN,
)

VERSION_LINE = "remote[home]: WeeChat: 4.6.3 (), API: 0.4.0"
CHAN = "irc.libera.#weechat"

# -- shell ---------------------------------------------------------------------------


@pytest.fixture
def linked(sim, load):
    """The script loaded, remote "home" connected and answering, a buffer "#weechat" on it."""
    load()
    sim.remote("home").server_buffers.add(CHAN)
    sim.user("/remote connect home")
    sim.accept("home")
    ra.weechat.prnt("", VERSION_LINE)
    sim.advance(100)
    sim.serve()  # the handshake asked once the link answers
    return sim


@pytest.fixture
def outage(linked):
    """The link of "home" down, its buffer "#weechat" open: (sim, buffer)."""
    buffer = chan(linked)
    down(linked)
    return linked, buffer


def chan(sim, name=CHAN, on_server=True):
    return sim.open_buffer("home", name, on_server)


def down(sim):
    sim.drop("home")
    sim.settle()


def back(sim, say_version=True, serve=True):
    sim.advance(10)  # the attempt
    sim.accept("home")
    if say_version:
        ra.weechat.prnt("", VERSION_LINE)
    sim.settle()
    if serve:
        sim.serve()
        sim.settle()  # the outbox is written


def delivered(sim):
    """What the remote's server ran, from the outbox (buffer, text)."""
    return sim.remote("home").server_inputs


def in_buffer(sim, buffer):
    return [m for b, m in sim.state.printed if b == buffer]


def outbox_file(sim):
    return os.path.join(sim.state.data_dir, ra.OUTBOX_FILE)


def file_lines(sim):
    if not os.path.exists(outbox_file(sim)):
        return []
    with open(outbox_file(sim), encoding="utf-8") as file:
        return [(line["text"], line["state"]) for line in json.load(file)["lines"]]


def test_text_typed_while_down_is_on_disk_before_it_is_said_kept_then_delivered_once(outage):
    sim, buffer = outage
    sim.type(buffer, "first")
    assert in_buffer(sim, buffer) == [] and file_lines(sim) == []  # written once the burst is over (1 ms)
    sim.settle()
    assert stat.S_IMODE(os.stat(outbox_file(sim)).st_mode) == 0o600
    assert file_lines(sim) == [("first", LINE_QUEUED)]
    sim.type(buffer, "second\nthird")
    sim.settle()
    assert sim.state.buffers[buffer].received == []  # nothing to WeeChat, which would drop it
    assert in_buffer(sim, buffer)[-1] == (
        "--\trelay_autoreconnect: remote[home] is not connected: kept, sent after the reconnection "
        "(3 waiting; /autoreconnect outbox): third"
    )
    assert sim.bar_item() == "home 10s (network), home outbox 3"
    back(sim)
    assert delivered(sim) == [(CHAN, "first"), (CHAN, "second"), (CHAN, "third")]
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: 3 queued line(s) delivered"
    assert not os.path.exists(outbox_file(sim))  # removed once delivered
    assert sim.bar_item() == ""
    printed = len(sim.state.printed)
    sim.type(buffer, "live")  # connected and nothing queued: out of band too, confirmed, nothing said
    sim.settle()
    sim.serve()
    sim.settle()
    assert sim.state.buffers[buffer].received == [] and delivered(sim)[-1] == (CHAN, "live")
    assert len(sim.state.printed) == printed
    down(sim)
    back(sim)
    assert len(delivered(sim)) == 4  # nothing twice


def test_key_bindings_fifo_and_scripts_run_here_while_the_link_is_down(outage):
    sim, buffer = outage
    for keep_commands in ("off", "on"):
        sim.set_option("relay.network.autoreconnect_outbox_commands", keep_commands)
        for command in ("/input delete_previous_char", "/input return", "/buffer *1", "/window page_up"):
            sim.key(buffer, command)  # Backspace, Enter on an empty input, Alt+1, PgUp
        ra.weechat.command(buffer, "/print -core from a script")  # the fifo and scripts
    assert sim.state.buffers[buffer].ran == 2 * [
        "/input delete_previous_char",
        "/input return",
        "/buffer *1",
        "/window page_up",
        "/print -core from a script",
    ]
    assert sim.state.buffers[buffer].received == []  # nothing for the remote
    assert ra.SHELL.delivery.outbox.count() == 0 and in_buffer(sim, buffer) == []
    back(sim)
    assert delivered(sim) == []


def test_the_persons_command_is_refused_or_kept_and_togglecmd_runs_it_here(outage):
    sim, buffer = outage
    sim.type(buffer, "/me waves")
    assert in_buffer(sim, buffer)[-1].startswith(
        "=!=\trelay_autoreconnect: remote[home] is not connected: command not run"
    )
    assert ra.SHELL.delivery.outbox.count() == 0 and "/me waves" not in sim.state.buffers[buffer].ran
    sim.set_option("relay.network.autoreconnect_outbox_commands", "on")
    sim.type(buffer, "/me waves")
    sim.state.buffers[buffer].input_get_any_user_data = 0  # /remote togglecmd: commands run here
    sim.type(buffer, "/buffer list")
    assert sim.state.buffers[buffer].ran == ["/buffer list"]
    back(sim)
    assert delivered(sim) == [(CHAN, "/me waves")]


def test_a_line_recalled_from_history_is_not_mistaken_for_a_submission(linked):
    sim = linked
    sim.set_option("relay.network.autoreconnect_outbox_commands", "on")
    buffer = chan(sim)
    down(sim)
    # Up saves the input in the history (history_add) while the input is not
    # empty; the next key's command is not what the person submitted
    sim.state.buffers[buffer].input = "/input return"
    ra.weechat._modifier("history_add", buffer, "/input return")  # pylint: disable=protected-access
    sim.key(buffer, "/input return")
    assert sim.state.buffers[buffer].ran == ["/input return"] and ra.SHELL.delivery.outbox.count() == 0


def test_multiline_input_is_one_line_for_a_multiline_buffer(linked):
    sim = linked
    buffer = chan(sim)
    sim.state.buffers[buffer].input_multiline = 1
    down(sim)
    sim.type(buffer, "one\ntwo")
    back(sim)
    assert delivered(sim) == [(CHAN, "one\ntwo")]


def test_input_waits_until_the_remote_answered_after_connecting(outage):
    sim, buffer = outage
    back(sim, say_version=False)
    sim.type(buffer, "early")  # connected, version not seen yet
    assert sim.state.buffers[buffer].received == [] and delivered(sim) == []
    sim.advance(ra.READY_FALLBACK_SECONDS)  # in another language: the fallback
    sim.serve()
    assert delivered(sim) == [(CHAN, "early")]


def test_a_buffer_that_appears_later_gets_its_line_once(linked):
    sim = linked
    buffer = chan(sim, "irc.libera.#later", on_server=False)
    down(sim)
    sim.type(buffer, "hello later")
    back(sim)
    line = ra.SHELL.delivery.outbox.lines[0]
    assert line.state == LINE_MISSING and delivered(sim) == []
    assert not [m for m in sim.lines() if "delivered" in m]  # not said sent
    sim.advance(3)
    chan(sim, "irc.libera.#later")  # the channel is joined again: the buffer appears
    sim.serve()
    assert delivered(sim) == [("irc.libera.#later", "hello later")]
    sim.advance(120)
    sim.serve()
    assert delivered(sim) == [("irc.libera.#later", "hello later")]


def test_a_buffer_that_never_appears_keeps_its_line_and_says_so_once(linked):
    sim = linked
    buffer = chan(sim, "irc.libera.#gone", on_server=False)
    down(sim)
    sim.type(buffer, "into the void")
    back(sim)
    for _ in range(30):
        sim.advance(5)
        sim.serve()
    told = sim.lines('buffer "irc.libera.#gone" not found on the remote after 1 minute')
    assert told == [
        '=!=\trelay_autoreconnect: remote[home]: buffer "irc.libera.#gone" not found on the remote after 1 minute: '
        '1 queued line(s) kept; "/autoreconnect outbox move home irc.libera.#gone <buffer>" sends them to another '
        'buffer, "/autoreconnect outbox drop home irc.libera.#gone" drops them'
    ]
    assert delivered(sim) == [] and file_lines(sim) == [("into the void", LINE_MISSING)]
    assert sim.timers("delivery_retry_cb") == []  # no more tries
    requests = len(sim.state.commands)
    sim.user("/autoreconnect outbox move home irc.libera.#gone irc.libera.#weechat")
    sim.serve()
    assert delivered(sim) == [(CHAN, "into the void")] and len(sim.state.commands) == requests + 1


def test_no_answer_means_the_line_may_have_arrived_and_only_the_user_sends_it_again(outage):
    sim, buffer = outage
    sim.type(buffer, "maybe")
    sim.type(buffer, "behind it")
    back(sim, serve=False)
    sim.serve(rounds=1)  # the handshake
    sim.remote("home").server_http = "silent"
    sim.serve()
    assert [(line.text, line.state) for line in ra.SHELL.delivery.outbox.lines] == [
        ("maybe", LINE_UNKNOWN),
        ("behind it", LINE_QUEUED),
    ]
    # said in the buffer where it was typed
    told = [m for m in in_buffer(sim, buffer) if "sent to irc.libera.#weechat not confirmed (transfer timeout" in m]
    assert len(told) == 1 and "holds back the 1 line(s) behind it" in told[0] and told[0].endswith(": maybe")
    sim.remote("home").server_http = "up"
    down(sim)
    back(sim)
    assert delivered(sim) == []  # never sent twice by itself
    sim.user("/autoreconnect outbox send home")
    sim.serve()
    assert delivered(sim) == [(CHAN, "maybe"), (CHAN, "behind it")]


def test_a_server_that_does_not_take_http_keeps_the_lines_for_the_next_connection(outage):
    sim, buffer = outage
    sim.type(buffer, "x")
    sim.remote("home").server_http = "down"
    back(sim)
    assert sim.lines("queued lines not delivered (handshake failed: Couldn't connect to server)")
    down(sim)
    sim.remote("home").server_http = "up"
    back(sim, serve=False)
    sim.serve(rounds=1)  # the handshake
    sim.remote("home").server_http = "down"
    sim.serve()
    assert sim.lines("queued lines not delivered (not sent: Couldn't connect to server): 1 line(s) kept")
    assert [(line.state, line.text) for line in ra.SHELL.delivery.outbox.lines] == [(LINE_QUEUED, "x")]
    sim.remote("home").server_http = "up"
    down(sim)
    back(sim)
    assert delivered(sim) == [(CHAN, "x")]


def test_a_refused_password_keeps_the_lines_and_says_so(outage):
    sim, buffer = outage
    sim.type(buffer, "x")
    sim.remote("home").server_password = "changed-meanwhile"
    sim.remote("home").server_algos = ("sha256",)
    back(sim)
    assert sim.lines("queued lines not delivered (refused by the remote: HTTP 401: Invalid password)")
    assert ra.SHELL.delivery.outbox.count() == 1 and delivered(sim) == []


@pytest.mark.parametrize("algos", [("plain",), ("sha256",), ("sha512",), ("pbkdf2+sha256",), ("pbkdf2+sha512",)])
def test_every_hash_the_server_allows_is_accepted_and_secured_passwords_are_evaluated(sim, algos, load):
    sim.state.secured["home_pw"] = "s3cret: with spaces"
    sim.add_remote("work")
    sim.set_option("relay.remote.home.password", "${sec.data.home_pw}")
    load()
    sim.remote("home").server_algos = algos
    sim.user("/remote connect home")
    sim.accept("home")
    buffer = chan(sim)
    sim.remote("home").server_buffers.add(CHAN)
    down(sim)
    sim.type(buffer, "hi")
    back(sim)
    assert delivered(sim) == [(CHAN, "hi")]
    assert not [m for m in sim.lines() if "s3cret" in m]


def test_totp_is_sent_when_the_server_asks_for_it(linked):
    sim = linked
    buffer = chan(sim)
    sim.remote("home").server_totp = True
    down(sim)
    sim.type(buffer, "x")
    back(sim)
    assert sim.lines("the remote asks for a TOTP and relay.remote.home.totp_secret gives none")
    sim.set_option("relay.remote.home.totp_secret", "JBSWY3DPEHPK3PXP")
    sim.user("/autoreconnect outbox send home")
    sim.serve()
    assert delivered(sim) == [(CHAN, "x")]
    assert not [m for m in sim.lines() if "JBSWY3DPEHPK3PXP" in m]


TOTP = "JBSWY3DPEHPK3PXP"


def with_totp(sim):
    """The server of "home" asks for a TOTP (window 0), the remote has its secret."""
    sim.remote("home").server_totp = True
    sim.set_option("relay.remote.home.totp_secret", TOTP)


def wall(sim):
    return sim.state.now + sim.state.wall_offset


def near_step(sim, before):
    """The wall clock set so that `before` s from now it is 0.3 s before a step of the TOTP."""
    step = (wall(sim) // 30 + 2) * 30
    sim.state.wall_offset += step - 0.3 - before - wall(sim)
    return step


def test_a_line_whose_totp_expires_on_the_way_goes_again_at_once_and_nothing_is_said(linked):
    sim = linked
    buffer = chan(sim)
    with_totp(sim)
    down(sim)
    for text in ("x", "y"):
        sim.type(buffer, text)
    step = near_step(sim, 10)  # back() brings the link 10 s later: its request is made before the step
    back(sim, serve=False)
    assert sim.serve(rounds=1) == 1  # the handshake
    assert wall(sim) < step
    sim.advance(0.6)  # the request reaches the server after the step
    sim.serve()
    sim.settle()
    assert sim.remote("home").server_requests == [("input", "Invalid TOTP"), ("input", ""), ("input", "")]
    assert delivered(sim) == [(CHAN, "x"), (CHAN, "y")]
    assert not sim.lines("not delivered") and sim.lines("remote[home]: 2 queued line(s) delivered")
    assert not [m for m in sim.lines() if TOTP in m]


@pytest.mark.parametrize(
    ("skew", "shift", "refused"),
    [
        (0.6, 0.0, 2),  # the server's clock is in the next step: the current one, then the next
        (-0.6, 0.6, 3),  # in the previous one: the current, the next, then the previous
    ],
)
def test_a_server_whose_clock_is_a_step_apart_takes_the_line_at_the_next_or_previous_step(linked, skew, shift, refused):
    sim = linked
    buffer = chan(sim)
    with_totp(sim)
    down(sim)
    sim.type(buffer, "x")
    near_step(sim, 10)
    sim.state.wall_offset += shift  # the client 0.3 s before the step or after it, the server on the other side
    sim.remote("home").server_skew = skew
    back(sim)
    assert sim.remote("home").server_requests == [("input", "Invalid TOTP")] * refused + [("input", "")]
    assert delivered(sim) == [(CHAN, "x")] and not sim.lines("not delivered")


def test_a_server_whose_clock_is_further_off_stops_the_round_after_three_new_tries(linked):
    sim = linked
    buffer = chan(sim)
    with_totp(sim)
    sim.remote("home").server_skew = 300.0
    down(sim)
    sim.type(buffer, "x")
    back(sim)
    assert sim.remote("home").server_requests == [("input", "Invalid TOTP")] * 4
    assert sim.lines("queued lines not delivered (refused by the remote: HTTP 401: Invalid TOTP): 1 line(s) kept")
    assert delivered(sim) == []
    sim.remote("home").server_skew = 0.0
    sim.user("/autoreconnect outbox send home")
    sim.serve()
    assert delivered(sim) == [(CHAN, "x")]


def counted_hashes(monkeypatch):
    """The salts of the hashes the script makes (authorization is counted)."""
    salts = []
    made = ra.authorization

    def counting(algo, password, salt, iterations):
        salts.append(int(salt))
        return made(algo, password, salt, iterations)

    monkeypatch.setattr(ra, "authorization", counting)
    return salts


def deliver_slowly(sim, count, pace):
    """The server answers one request every `pace` s until `count` lines were delivered."""
    sim.serve(rounds=1)  # the handshake
    while len(delivered(sim)) < count and sim.deliveries():
        sim.advance(pace)
        sim.serve(rounds=1)


def test_one_hash_serves_three_seconds_of_a_long_delivery(linked, monkeypatch):
    sim = linked
    ra.SHELL.delivery.round("home").batching = ra.BATCH_OFF  # one line a request: many requests
    buffer = chan(sim)
    sim.remote("home").server_algos = ("pbkdf2+sha512",)
    down(sim)
    for n in range(200):
        sim.type(buffer, f"line {n}")
    salts = counted_hashes(monkeypatch)
    back(sim, serve=False)
    start = wall(sim)
    deliver_slowly(sim, 200, 0.1)  # ~0.1 s a request, as WeeChat's URL transfers on 127.0.0.1
    seconds = int(wall(sim)) - int(start) + 1  # one hash each, before
    print(f"200 lines in {wall(sim) - start:.1f} s: {len(salts)} hashes (one a second: {seconds})")
    assert len(delivered(sim)) == 200 and not [e for _, e in sim.remote("home").server_requests if e]
    assert len(salts) <= seconds // ra.HASH_SPAN_SECONDS + 1
    assert all(later - earlier >= ra.HASH_SPAN_SECONDS for earlier, later in zip(salts, salts[1:]))


def test_a_server_that_refuses_an_old_salt_gets_a_new_hash_and_then_one_a_second(linked, monkeypatch):
    sim = linked
    ra.SHELL.delivery.round("home").batching = ra.BATCH_OFF  # one line a request: many requests
    buffer = chan(sim)
    sim.remote("home").server_algos = ("pbkdf2+sha512",)
    sim.remote("home").server_time_window = 1
    down(sim)
    for n in range(40):
        sim.type(buffer, f"line {n}")
    salts = counted_hashes(monkeypatch)
    back(sim, serve=False)
    deliver_slowly(sim, 40, 0.1)
    assert delivered(sim) == [(CHAN, f"line {n}") for n in range(40)] and not sim.lines("not delivered")
    refused = [e for _, e in sim.remote("home").server_requests if e]
    assert refused == ["Invalid timestamp"]  # once: then a hash serves its own second only
    assert len(salts) == len(set(salts)) >= 4


def test_input_typed_while_earlier_lines_go_queues_behind_them(linked):
    sim = linked
    buffer = chan(sim)
    other = chan(sim, "irc.libera.#other")
    down(sim)
    sim.type(buffer, "1")
    back(sim, serve=False)  # the first request is in flight
    said = len(in_buffer(sim, buffer))
    sim.type(buffer, "2")  # behind a line that goes by itself: it goes next, nothing said
    sim.type(other, "elsewhere")  # another buffer has nothing queued: it goes in its turn, nothing said
    sim.settle()
    assert len(in_buffer(sim, buffer)) == said and [text for text, _ in file_lines(sim)] == ["1", "2"]
    assert in_buffer(sim, other) == [] and sim.state.buffers[other].received == []
    sim.serve()
    assert delivered(sim) == [(CHAN, "1"), (CHAN, "2"), ("irc.libera.#other", "elsewhere")]
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: 2 queued line(s) delivered"


def test_input_typed_behind_lines_that_wait_for_the_users_word_is_said_kept(linked):
    sim = linked
    sim.set_option("relay.network.autoreconnect_outbox_max_age", "60")
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "stale")
    sim.advance(100)
    back(sim)
    sim.type(buffer, "fresh but behind")
    sim.settle()
    assert in_buffer(sim, buffer)[-1] == (
        "--\trelay_autoreconnect: remote[home]: kept behind 1 earlier line(s), sent in order: fresh but behind"
    )


def test_old_lines_are_held_back_until_the_user_says(linked):
    sim = linked
    sim.set_option("relay.network.autoreconnect_outbox_max_age", "60")
    buffer = chan(sim)
    other = chan(sim, "irc.libera.#other")
    down(sim)
    sim.type(buffer, "stale")
    sim.advance(100)
    sim.type(buffer, "fresh but behind")
    sim.type(other, "fresh")
    back(sim)
    assert delivered(sim) == [("irc.libera.#other", "fresh")]
    assert sim.lines("older than") == [
        'relay_autoreconnect: remote[home]: 2 queued line(s) older than 1 minute not sent; "/autoreconnect outbox '
        'send home" sends them, "/autoreconnect outbox drop home" drops them'
    ]
    sim.user("/autoreconnect outbox")
    stale = ra.SHELL.delivery.outbox.lines[0]
    stale_id = ra.SHELL.delivery.outbox.line_id(stale)
    assert sim.lines()[-2].startswith(f"  remote[home] irc.libera.#weechat {stale_id} (queued 1")
    assert "waits for your word: older than autoreconnect_outbox_max_age): stale" in sim.lines()[-2]
    sim.user("/autoreconnect outbox send home")
    sim.serve()
    assert delivered(sim)[1:] == [(CHAN, "stale"), (CHAN, "fresh but behind")]


def test_outbox_commands_and_their_errors(outage):
    sim, buffer = outage
    sim.type(buffer, "x")
    sim.type(chan(sim, "irc.libera.#b"), "y")
    sim.user("/autoreconnect outbox send home")
    assert (
        sim.lines()[-1]
        == "relay_autoreconnect: outbox: remote[home] is not connected: 2 line(s) go after the reconnection"
    )
    sim.user("/autoreconnect outbox frob")
    assert sim.lines()[-1].startswith('=!=\trelay_autoreconnect: outbox: "list", "send"/"drop"')
    sim.user("/autoreconnect outbox drop home irc.libera.#b")
    assert sim.lines()[-1] == "relay_autoreconnect: remote[home]: 1 queued line(s) dropped"
    sim.user("/autoreconnect outbox drop home irc.libera.#b")
    assert sim.lines()[-1] == "=!=\trelay_autoreconnect: outbox: nothing queued for remote[home] in irc.libera.#b"
    sim.user("/autoreconnect outbox drop -all")
    assert sim.lines()[-1] == "relay_autoreconnect: remote[home]: 1 queued line(s) dropped"
    sim.user("/autoreconnect outbox send -all")
    assert sim.lines()[-1] == "relay_autoreconnect: outbox: nothing queued"
    sim.user("/autoreconnect outbox move home a")
    assert sim.lines()[-1].startswith('=!=\trelay_autoreconnect: outbox: "list"')
    back(sim)
    assert delivered(sim) == []


# WeeChat >= 4.8 calls back a URL transfer removed while it runs ("transfer stopped")
@pytest.mark.parametrize("sim", [0x04060300, 0x040A0000], indirect=True, ids=["4.6.3", "4.10.0"])
def test_lines_survive_an_unload_and_load_and_a_line_in_flight_is_not_sent_twice(outage, load):
    sim, buffer = outage
    sim.type(buffer, "a")
    sim.type(buffer, "b")
    sim.unload()
    assert (
        sim.lines()[-1] == f"relay_autoreconnect: outbox: 2 queued line(s) kept in {outbox_file(sim)} for the next load"
    )
    load()
    assert sim.lines("outbox: 2 line(s) kept from before for remote(s) home; /autoreconnect outbox lists them")
    back(sim, serve=False)
    (request,) = sim.deliveries()  # the handshake
    sim.serve(rounds=1)
    assert file_lines(sim) == [("a", LINE_SENDING), ("b", LINE_QUEUED)]
    sim.unload()  # while "a" is in flight
    load()
    assert sim.lines("(1 whose delivery was not confirmed)")
    back(sim)
    assert delivered(sim) == []  # "a" may have arrived: "b" waits behind it
    assert request.pointer not in sim.state.hooks


def test_lines_kept_from_before_a_reload_go_at_once_when_the_link_is_up(outage, load):
    sim, buffer = outage
    sim.type(buffer, "x")
    back(sim, serve=False)  # connected: the handshake is in flight, "x" still queued
    sim.unload()
    load()
    sim.serve()  # no reconnection: the link found up at the load takes the lines read from the file
    assert delivered(sim) == [(CHAN, "x")]


@pytest.mark.parametrize("sim", [0x04060300, 0x040A0000], indirect=True, ids=["4.6.3", "4.10.0"])
@pytest.mark.parametrize("stop", ["unload", "/upgrade"])
def test_no_request_starts_while_the_script_removes_the_one_in_flight(outage, stop):
    sim, buffer = outage
    sim.type(buffer, "in flight")
    sim.type(chan(sim, "irc.libera.#other"), "next")
    back(sim, serve=False)
    sim.serve(rounds=1)  # the handshake: "in flight" is sent, its answer not come
    (request,) = sim.deliveries()
    if stop == "unload":
        sim.unload()
    else:
        sim.user("/upgrade")
    assert sim.deliveries() == [] and request.pointer not in sim.state.hooks
    assert not [h for h in sim.hooks() if h.kind == "timer" and stop == "unload"]
    assert file_lines(sim) == [("in flight", LINE_SENDING if stop == "unload" else LINE_UNKNOWN), ("next", LINE_QUEUED)]
    assert not sim.lines("transfer stopped")


def test_a_corrupt_file_gives_one_line_and_is_kept_aside(sim, load):
    with open(os.path.join(sim.state.data_dir, ra.OUTBOX_FILE), "w", encoding="utf-8") as file:
        file.write('{"format": 1, "lines": [')
    load()
    path = os.path.join(sim.state.data_dir, ra.OUTBOX_FILE)
    assert [m for m in sim.lines() if "outbox file" in m] == [
        f"=!=\trelay_autoreconnect: outbox file {path} is not valid (Expecting value: line 1 column 25 (char 24)): "
        f"kept as {path}.bad; the outbox starts empty"
    ]
    assert ra.SHELL is not None and os.path.exists(f"{path}.bad") and not os.path.exists(path)


def test_a_file_with_some_bad_lines_keeps_the_good_ones_and_a_copy(sim, load):
    path = os.path.join(sim.state.data_dir, ra.OUTBOX_FILE)
    box = filled(("home", CHAN, "good"), ("home", CHAN, "bad"))
    data = json.loads(ra.outbox_to_json(box))
    data["lines"][1]["queued_at"] = "soon"
    with open(path, "w", encoding="utf-8") as file:
        json.dump(data, file)
    load()
    assert sim.lines(f"outbox file {path}: 1 line(s) not valid, 1 kept: kept as {path}.bad")
    assert [line.text for line in ra.SHELL.delivery.outbox.lines] == ["good"]
    with open(f"{path}.bad", encoding="utf-8") as file:
        assert json.load(file) == data


def test_a_file_that_can_not_be_read_is_left_alone_and_lines_stay_in_memory(linked, load):
    sim = linked
    sim.unload()
    path = outbox_file(sim)
    os.mkdir(path)  # not a file: reading it fails
    load()
    assert sim.lines(f"outbox file {path} can not be read")
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "x")
    sim.settle()
    assert in_buffer(sim, buffer)[-1].endswith(
        "can not be read ([Errno 21] Is a directory: '" + path + "'): kept in memory only"
    )
    assert os.path.isdir(path)
    back(sim)
    assert delivered(sim) == [(CHAN, "x")]


def write_outbox(sim, *texts):
    """An outbox file as a previous session left it: lines for #weechat of "home"."""
    box = filled(*(("home", CHAN, text) for text in texts))
    for line in box.lines:
        line.queued_at = sim.wall_clock()
    with open(outbox_file(sim), "w", encoding="utf-8") as file:
        file.write(ra.outbox_to_json(box))


def test_a_burst_is_written_once_and_each_line_is_said_kept_once_it_is_on_disk(outage, mocker):
    sim, buffer = outage
    fsync = mocker.spy(ra.os, "fsync")
    real_prnt = ra.weechat.prnt
    on_disk_when_said = []  # the size of the file when each line is said kept

    def prnt(target, text):
        if "kept, sent after the reconnection" in text:
            on_disk_when_said.append(os.path.getsize(outbox_file(sim)))
        real_prnt(target, text)

    mocker.patch.object(ra.weechat, "prnt", side_effect=prnt)
    for n in range(1000):  # a paste, the fifo, a script: many lines before WeeChat's next timer
        ra.weechat.command(buffer, f"line {n}")
    assert fsync.call_count == 0 and in_buffer(sim, buffer) == []
    sim.settle()
    assert fsync.call_count == 1
    assert file_lines(sim) == [(f"line {n}", LINE_QUEUED) for n in range(1000)]
    assert on_disk_when_said == [os.path.getsize(outbox_file(sim))] * 1000
    assert in_buffer(sim, buffer)[-1].endswith("(1000 waiting; /autoreconnect outbox): line 999")
    assert sim.timers("outbox_write_cb") == []  # nothing more to write


def test_a_stream_of_lines_is_written_when_it_pauses_and_at_least_every_half_second(outage, mocker):
    sim, buffer = outage
    start = sim.clock()
    writes = []
    save = ra.OutboxFile.save

    def saved(file, outbox):
        writes.append((round(sim.clock() - start, 4), outbox.count()))
        return save(file, outbox)

    mocker.patch.object(ra.OutboxFile, "save", saved)
    for n in range(1200):  # a line every 0.5 ms for 0.6 s (WeeChat fires timers in between)
        sim.type(buffer, f"line {n}")
        sim.advance(0.0005)
    sim.settle()
    assert writes == [(ra.OUTBOX_WRITE_MAX + 0.001, 1002), (0.601, 1200)]
    assert len(in_buffer(sim, buffer)) == 1200


def test_a_line_dropped_before_it_was_written_is_not_said_kept(outage):
    sim, buffer = outage
    sim.type(buffer, "typo")
    sim.user("/autoreconnect outbox drop home")  # within the same ms (a script, the fifo)
    sim.settle()
    assert in_buffer(sim, buffer) == [] and sim.lines()[-1].endswith("remote[home]: 1 queued line(s) dropped")
    assert not os.path.exists(outbox_file(sim))


def test_the_file_says_sending_before_the_request_of_a_line_leaves(outage, mocker):
    sim, buffer = outage
    sim.type(buffer, "a")
    sim.type(buffer, "b")
    sim.settle()
    back(sim, serve=False)  # the handshake is in flight
    real_hook_url = ra.weechat.hook_url
    on_disk = []

    def hook_url(url, options, timeout, callback, data):
        on_disk.append((url.rsplit("/", 1)[1], file_lines(sim)))
        return real_hook_url(url, options, timeout, callback, data)

    mocker.patch.object(ra.weechat, "hook_url", side_effect=hook_url)
    sim.serve()  # no timer runs between the answers: the file is written before each request
    assert on_disk == [
        ("input", [("a", LINE_SENDING), ("b", LINE_QUEUED)]),
        ("input", [("b", LINE_SENDING)]),
    ]
    sim.settle()
    assert file_lines(sim) == [] and not os.path.exists(outbox_file(sim))


def test_a_file_that_can_not_be_written_is_said_once_tried_again_and_said_written_again(outage):
    sim, buffer = outage
    os.mkdir(f"{outbox_file(sim)}.tmp")  # where the new file is made: writing fails (root or not)
    sim.type(buffer, "x")
    sim.settle()
    reason = f"outbox file {outbox_file(sim)} can not be written ([Errno 21] Is a directory: '{outbox_file(sim)}.tmp')"
    assert in_buffer(sim, buffer)[-1] == f"=!=\trelay_autoreconnect: {reason}: kept in memory only"
    sim.type(buffer, "y")
    sim.settle()
    assert [m for m in sim.lines("outbox file") if not m.endswith("kept in memory only")] == [
        f"=!=\trelay_autoreconnect: {reason}: 1 queued line(s) kept in memory only; tried again every 10 seconds "
        "and at each change"
    ]  # said once
    sim.advance(ra.OUTBOX_RETRY_SECONDS)  # still a directory: tried again, nothing said
    assert len(sim.lines("tried again every")) == 1 and len(sim.timers("outbox_write_cb")) == 1
    os.rmdir(f"{outbox_file(sim)}.tmp")  # the user fixed it
    sim.advance(ra.OUTBOX_RETRY_SECONDS)
    assert sim.lines("written again") == [
        f"relay_autoreconnect: outbox file {outbox_file(sim)} is written again: 2 queued line(s) on disk"
    ]
    assert file_lines(sim) == [("x", LINE_QUEUED), ("y", LINE_QUEUED)]
    assert sim.timers("outbox_write_cb") == []  # no more tries
    sim.type(buffer, "z")
    sim.settle()
    assert len(sim.lines("written again")) == 1 and in_buffer(sim, buffer)[-1].endswith(": z")


def test_lines_that_can_not_be_written_at_unload_are_said_dropped_with_the_reason_of_now(outage, mocker):
    sim, buffer = outage
    os.mkdir(f"{outbox_file(sim)}.tmp")
    sim.type(buffer, "x")
    sim.settle()
    os.rmdir(f"{outbox_file(sim)}.tmp")
    mocker.patch.object(ra.os, "fsync", side_effect=OSError(errno.ENOSPC, "No space left on device"))
    sim.type(buffer, "y")
    sim.unload()
    assert sim.lines()[-1] == (
        f"=!=\trelay_autoreconnect: outbox: 2 queued line(s) dropped (outbox file {outbox_file(sim)} can not be "
        "written ([Errno 28] No space left on device))"
    )
    assert in_buffer(sim, buffer)[-1].endswith("No space left on device): kept in memory only")
    assert not os.path.exists(outbox_file(sim))


def test_at_unload_only_the_lines_the_file_does_not_hold_are_said_lost(outage, load):
    sim, buffer = outage
    sim.type(buffer, "on disk")
    sim.settle()
    os.mkdir(f"{outbox_file(sim)}.tmp")
    sim.type(buffer, "in memory only")
    sim.unload()
    assert sim.lines()[-1] == (
        f"=!=\trelay_autoreconnect: outbox: 1 queued line(s) dropped (outbox file {outbox_file(sim)} can not be "
        f"written ([Errno 21] Is a directory: '{outbox_file(sim)}.tmp')); the file keeps 1 line(s) as they were "
        "at its last write"
    )
    load()
    assert [line.text for line in ra.SHELL.delivery.outbox.lines] == ["on disk"]


def test_lines_kept_in_memory_are_written_at_unload_once_the_file_can_be_read_again(linked, load, mocker):
    sim = linked
    sim.unload()
    write_outbox(sim, "from before")
    mocker.patch.object(ra, "open", side_effect=PermissionError(errno.EACCES, "Permission denied"), create=True)
    load()
    assert sim.lines("can not be read ([Errno 13] Permission denied): it is left as it is")
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "typed meanwhile")
    sim.settle()
    assert in_buffer(sim, buffer)[-1].endswith("can not be read ([Errno 13] Permission denied): kept in memory only")
    mocker.stopall()  # the user gave the file back its permissions
    sim.unload()
    assert sim.lines()[-1] == (
        f"relay_autoreconnect: outbox: 2 queued line(s) kept in {outbox_file(sim)} for the next load"
    )
    assert file_lines(sim) == [("from before", LINE_QUEUED), ("typed meanwhile", LINE_QUEUED)]
    load()
    back(sim)
    assert delivered(sim) == [(CHAN, "from before"), (CHAN, "typed meanwhile")]


def test_a_file_that_can_be_read_again_is_merged_at_the_next_write_never_overwritten(linked, load):
    sim = linked
    sim.unload()
    os.mkdir(outbox_file(sim))  # not a file: reading it fails
    load()
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "x")
    sim.settle()
    assert os.path.isdir(outbox_file(sim))  # left as it is
    os.rmdir(outbox_file(sim))
    write_outbox(sim, "from before")  # the user put the file back
    sim.type(buffer, "y")
    sim.settle()
    assert sim.lines("written again") == [
        f"relay_autoreconnect: outbox file {outbox_file(sim)} is written again: 3 queued line(s) on disk, "
        "1 of them read from it"
    ]
    assert file_lines(sim) == [("from before", LINE_QUEUED), ("x", LINE_QUEUED), ("y", LINE_QUEUED)]
    back(sim)
    assert delivered(sim) == [(CHAN, "from before"), (CHAN, "x"), (CHAN, "y")]


def test_rename_and_delete_of_a_remote_with_lines(outage):
    sim, buffer = outage
    sim.type(buffer, "x")
    sim.user("/remote rename home house")
    sim.settle()
    assert [line.remote for line in ra.SHELL.delivery.outbox.lines] == ["house"]
    sim.user("/remote del house")
    sim.settle()
    assert sim.lines()[-1] == "relay_autoreconnect: remote[house] deleted: 1 queued line(s) dropped"
    assert not os.path.exists(outbox_file(sim))


def test_a_rename_while_down_carries_the_buffers_and_what_is_typed_after_it_is_kept(outage):
    sim, buffer = outage
    sim.type(buffer, "before")
    sim.user("/remote rename home house")
    assert ra.weechat.buffer_get_string(buffer, "full_name") == f"relay.remote.house.{CHAN}"
    assert ra.weechat.buffer_get_string(buffer, "localvar_relay_remote") == "house"
    sim.type(buffer, "after")
    sim.settle()  # the outbox is written, then the line is said kept
    assert in_buffer(sim, buffer)[-1].startswith("--\trelay_autoreconnect: remote[house] is not connected: kept")
    assert [(line.remote, line.text) for line in ra.SHELL.delivery.outbox.lines] == [
        ("house", "before"),
        ("house", "after"),
    ]
    sim.advance(10)
    sim.accept("house")
    ra.weechat.prnt("", VERSION_LINE.replace("home", "house"))
    sim.settle()
    sim.serve()
    assert sim.remote("house").server_inputs == [(CHAN, "before"), (CHAN, "after")]


def test_a_rename_leaves_a_buffer_whose_new_name_is_taken_and_says_so(outage):
    sim, buffer = outage
    other = chan(sim, "core.weechat")
    taken = sim.state.new_pointer()  # left by an earlier remote "house" (WeeChat keeps the buffers of a deleted one)
    sim.state.buffers[taken] = ra.weechat._Buffer(taken, f"relay.remote.house.{CHAN}", {"relay_remote": "house"})  # pylint: disable=protected-access
    sim.user("/remote rename home house")
    assert ra.weechat.buffer_get_string(buffer, "full_name") == f"relay.remote.home.{CHAN}"
    assert ra.weechat.buffer_get_string(other, "full_name") == "relay.remote.house.core.weechat"
    assert sim.lines("not renamed") == [
        f"=!=\trelay_autoreconnect: remote[house]: buffer relay.remote.home.{CHAN} not renamed (a buffer of the "
        "new name exists): input there is lost"
    ]


def test_a_remote_gone_with_the_relay_plugin_keeps_its_lines(outage):
    sim, buffer = outage
    sim.type(buffer, "x")
    remote = sim.state.remotes.pop(sim.remote("home").pointer)  # the relay plugin unloads
    for option in [o for o in sim.state.options.values() if o.full_name.startswith("relay.remote.home.")]:
        sim.state.remove_option(option.pointer)
    sim.user("/plugin unload relay")
    sim.settle()
    assert ra.SHELL.delivery.outbox.count("home") == 1 and file_lines(sim) == [("x", LINE_QUEUED)]
    assert remote.name == "home"


def test_a_remote_the_user_disconnected_keeps_weechats_behaviour(linked):
    sim = linked
    buffer = chan(sim)
    sim.user("/remote disconnect home")
    sim.type(buffer, "into the void")
    assert sim.state.buffers[buffer].received == ["into the void"]
    assert ra.SHELL.delivery.outbox.count() == 0


def test_a_burst_of_lines_arrives_complete_and_in_order(linked):
    sim = linked
    buffers = [chan(sim, f"irc.libera.#c{n}") for n in range(3)]
    down(sim)
    typed = []
    for n in range(300):
        buffer = buffers[n % 3]
        sim.type(buffer, f"line {n}")
        typed.append((f"irc.libera.#c{n % 3}", f"line {n}"))
    back(sim)
    assert sorted(delivered(sim)) == sorted(typed)
    for name in {b for b, _ in typed}:
        assert [t for b, t in delivered(sim) if b == name] == [t for b, t in typed if b == name]
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: 300 queued line(s) delivered"


def test_a_request_weechat_does_not_start_stops_the_round_and_keeps_the_line(outage, mocker):
    sim, buffer = outage
    sim.type(buffer, "x")
    mocker.patch.object(ra.weechat, "hook_url", return_value="")  # WeeChat refuses to start a transfer
    back(sim, serve=False)
    assert sim.lines("queued lines not delivered (WeeChat could not start the request): 1 line(s) kept")
    assert [(line.text, line.state) for line in ra.SHELL.delivery.outbox.lines] == [("x", LINE_QUEUED)]
    mocker.stopall()
    sim.user("/autoreconnect outbox send home")
    sim.serve()
    assert delivered(sim) == [(CHAN, "x")]


def test_an_outbox_file_nested_too_deep_gives_one_line_and_the_script_loads(sim, load):
    path = os.path.join(sim.state.data_dir, ra.OUTBOX_FILE)
    with open(path, "w", encoding="utf-8") as file:
        file.write("[" * 200000 + "]" * 200000)
    load()
    assert [m for m in sim.lines() if "outbox file" in m] == [
        f"=!=\trelay_autoreconnect: outbox file {path} is not valid (nested too deep): kept as {path}.bad; "
        "the outbox starts empty"
    ]


# -- the user's word on one line (by its id), on buffers named with spaces, and Tab -------------

SPACED = "python.my chan"  # a buffer name with a space (a script's buffer on the remote)
HINT = re.compile(r'"(/autoreconnect outbox [^"]*)"')  # a command a notice prints, in double quotes


def hints(line):
    """The commands a notice prints, as the user copies them."""
    return HINT.findall(line)


@pytest.mark.parametrize(
    ("typed", "values"),
    [
        ("a b", ["a", "b"]),
        ("  a\t b  ", ["a", "b"]),
        ("'python.my chan' 3fa9", ["python.my chan", "3fa9"]),
        ('"python.my chan"', ["python.my chan"]),
        (r'"say \"hi\" \\o/ \n"', ['say "hi" \\o/ \\n']),  # in "...": only \" and \\ escape
        (r"'it'\''s' it\'s", ["it's", "it's"]),
        (r"python.my\ chan", ["python.my chan"]),
        ("a''b ''", ["ab", ""]),
        ("irc.libera.#weechat", ["irc.libera.#weechat"]),  # no comments: # is a character
    ],
)
def test_arguments_are_read_as_weechats_string_split_shell_reads_them(typed, values):
    assert [word.value for word in ra.command_words(typed)] == values
    assert [word.value for word in ra.command_words(" ".join(ra.quoted(v) for v in values))] == values


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("irc.libera.#weechat", "irc.libera.#weechat"),
        ("python.my chan", "'python.my chan'"),
        ("it's here", '"it\'s here"'),
        ('say "hi" \\o/', "'say \"hi\" \\o/'"),
        ('it\'s "x" \\', '"it\'s \\"x\\" \\\\"'),
        ("", "''"),
    ],
)
def test_a_value_is_written_as_an_argument_only_quoted_when_it_needs_it(value, written):
    assert ra.quoted(value) == written


@pytest.fixture
def spaced(outage):
    """Two lines queued for "python.my chan" on "home" (down) and one for #weechat: (sim, buffer)."""
    sim, buffer = outage
    mine = chan(sim, SPACED)
    sim.type(mine, "one")
    sim.type(mine, "two")
    sim.type(buffer, "elsewhere")
    return sim, mine


def ids(sim, buffer=SPACED):
    box = ra.SHELL.delivery.outbox
    return [box.line_id(line) for line in box.of("home", buffer)]


def test_the_list_shows_each_buffer_as_an_argument_and_each_lines_id(spaced):
    sim, _ = spaced
    sim.user("/autoreconnect outbox")
    first, second = ids(sim)
    assert len(first) == ra.LINE_ID_SIZE
    assert sim.lines()[-4:] == [
        "relay_autoreconnect: outbox: 3 queued line(s) (remote, buffer, line id):",
        f"  remote[home] 'python.my chan' {first} (queued 0 seconds ago, queued): one",
        f"  remote[home] 'python.my chan' {second} (queued 0 seconds ago, queued): two",
        f"  remote[home] irc.libera.#weechat {ids(sim, CHAN)[0]} (queued 0 seconds ago, queued): elsewhere",
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ("drop home 'python.my chan", "a quote (') is not closed (see /help autoreconnect)"),
        ('drop home "python.my chan', 'a quote (") is not closed (see /help autoreconnect)'),
        ("drop home python.my\\", "the arguments end with a lone backslash (see /help autoreconnect)"),
        ("drop home '' x", "an argument is empty (see /help autoreconnect)"),
        ("drop home python.my chan", "nothing queued for remote[home] in python.my"),  # not quoted: two words
        ("drop home 'python.my chan' zzzz", 'no queued line of remote[home] has the id "zzzz" (see /autoreconnect'),
        ("drop -all 'python.my chan' {one}", "a line id goes with the name of its remote, not -all (see /autor"),
        ("drop home 'python.my chan' {one} more", '"list", "send"/"drop" with a remote name'),
        ("drop home irc.libera.#weechat {one}", 'line {one} of remote[home] is queued for "python.my chan", not "irc.'),
        ("send work 'python.my chan' {one}", "nothing queued for remote[work] in 'python.my chan'"),
    ],
)  # fmt: skip
def test_each_bad_outbox_command_is_one_error_line_and_changes_nothing(spaced, args, error):
    sim, _ = spaced
    before = [(line.ident, line.buffer, line.state) for line in ra.SHELL.delivery.outbox.lines]
    printed = len(sim.lines())
    sim.user(f"/autoreconnect outbox {args.format(one=ids(sim)[0])}")
    new = sim.lines()[printed:]
    assert len(new) == 1 and new[0].startswith("=!=\trelay_autoreconnect: outbox: ")
    assert error.format(one=ids(sim)[0]) in new[0]
    assert [(line.ident, line.buffer, line.state) for line in ra.SHELL.delivery.outbox.lines] == before


def test_one_line_is_dropped_or_sent_by_its_id_the_others_stay(spaced):
    sim, _ = spaced
    first, second = ids(sim)
    sim.user(f"/autoreconnect outbox drop home 'python.my chan' {second}")
    assert sim.lines()[-1] == "relay_autoreconnect: remote[home]: 1 queued line(s) dropped"
    sim.user(f'/autoreconnect outbox send home "python.my chan" {first[:2]}')  # the start of an id does
    assert sim.lines()[-1] == (
        "relay_autoreconnect: outbox: remote[home] is not connected: 1 line(s) go after the reconnection"
    )
    back(sim)
    assert delivered(sim) == [(SPACED, "one"), (CHAN, "elsewhere")]


def test_the_hints_for_a_buffer_with_a_space_work_as_printed(linked):
    sim = linked
    mine = chan(sim, SPACED, on_server=False)
    other = chan(sim, "python.other")
    down(sim)
    sim.type(mine, "lost")
    sim.type(other, "kept")
    back(sim)
    for _ in range(15):
        sim.advance(5)
        sim.serve()
    (told,) = sim.lines('buffer "python.my chan" not found on the remote')
    move, drop = hints(told)
    assert move == "/autoreconnect outbox move home 'python.my chan' <buffer>"
    assert drop == "/autoreconnect outbox drop home 'python.my chan'"
    sim.user(move.replace("<buffer>", CHAN))
    sim.serve()
    assert delivered(sim) == [("python.other", "kept"), (CHAN, "lost")]
    assert not sim.lines("=!=\trelay_autoreconnect: outbox")


@pytest.mark.parametrize("verb", ["send", "drop"])
def test_a_line_left_not_confirmed_by_a_reload_is_sent_or_dropped_alone_with_the_printed_hint(spaced, load, verb):
    sim, _ = spaced
    back(sim, serve=False)
    sim.serve(rounds=1)  # the handshake: "one" is in flight
    assert [line.state for line in ra.SHELL.delivery.outbox.of("home", SPACED)] == [LINE_SENDING, LINE_QUEUED]
    sim.unload()
    load()
    sim.serve()
    assert delivered(sim) == [(CHAN, "elsewhere")]  # the other buffer goes; "two" waits behind "one"
    (told,) = sim.lines("the delivery of a queued line to python.my chan was not confirmed")
    assert told.startswith("=!=\t") and "holds back the 1 line(s) behind it" in told
    send, drop = hints(told)
    assert send == f"/autoreconnect outbox send home 'python.my chan' {ids(sim)[0]}"
    assert drop == f"/autoreconnect outbox drop home 'python.my chan' {ids(sim)[0]}"
    sim.user(send if verb == "send" else drop)
    sim.serve()
    arrived = [(SPACED, "one")] if verb == "send" else []
    assert delivered(sim) == [(CHAN, "elsewhere"), *arrived, (SPACED, "two")]
    assert not ra.SHELL.delivery.outbox.lines


def test_tab_completes_remotes_then_quoted_buffers_then_ids(spaced):
    sim, _ = spaced
    first, second = ids(sim)
    assert sim.tab_words("/autoreconnect outbox ") == ["list", "send", "drop", "move"]
    assert sim.tab_words("/autoreconnect outbox drop ") == ["home", "-all"]
    assert sim.tab_words("/autoreconnect outbox drop home ") == ["'python.my chan'", "irc.libera.#weechat"]
    line = sim.tab("/autoreconnect outbox drop home 'py")
    assert line == "/autoreconnect outbox drop home 'python.my chan' "
    assert sim.tab_words(line) == [first, second]
    assert sim.tab(f"{line}{second[:2]}") == f"{line}{second} "
    # typed without quotes, or in double quotes: Tab goes on as typed
    assert sim.tab("/autoreconnect outbox drop home pyth") == "/autoreconnect outbox drop home python.my\\ chan "
    assert (
        sim.tab('/autoreconnect outbox drop home "python.my c') == '/autoreconnect outbox drop home "python.my chan" '
    )
    assert sim.tab_words("/autoreconnect outbox drop home python.my\\ chan ") == [first, second]
    sim.user(f"/autoreconnect outbox drop home python.my\\ chan {second}")
    assert sim.lines()[-1] == "relay_autoreconnect: remote[home]: 1 queued line(s) dropped"
    assert sim.tab_words("/autoreconnect outbox drop nowhere ") == []
    assert sim.tab_words("/autoreconnect outbox list ") == []


def test_the_scripts_own_command_typed_in_a_remote_buffer_runs_here_and_other_commands_go_to_the_remote(linked):
    sim = linked
    buffer = chan(sim)
    sim.type(buffer, "/me waves")  # a remote buffer sends the person's commands to the remote
    sim.settle()
    sim.serve()
    sim.type(buffer, "/autoreconnect outbox")  # but the script's hints, printed here, run here
    assert delivered(sim) == [(CHAN, "/me waves")]
    assert sim.state.buffers[buffer].received == [] and sim.state.buffers[buffer].ran == ["/autoreconnect outbox"]
    assert sim.lines("outbox: nothing queued")


# -- batches: several lines in one request, proven by a marker ------------------------------


def input_requests(sim):
    return [resource for resource, _ in sim.remote("home").server_requests if resource == "input"]


def test_lines_queued_while_down_go_in_batches_once_the_first_ones_marker_came_back(linked):
    sim = linked
    buffer = chan(sim)
    sim.set_option("relay.network.autoreconnect_outbox_commands", "on")
    down(sim)
    texts = [f"line {n}" for n in range(230)] + ["a;b", "a\\;b", "  spaced", "last\\", "/me waves", "after"]
    for text in texts:
        sim.type(buffer, text)
    back(sim)
    ran = [text for _, text in delivered(sim)]
    assert ran == texts  # every line once, in order, as typed (the stub's server records a command it takes)
    # the first line alone, then 100 + 100 + 31 (up to "a\;b"), then three alone, then "after"
    assert len(input_requests(sim)) == 1 + 3 + 3 + 1
    assert sim.lines("remote[home]: 236 queued line(s) delivered") and not sim.lines("not confirmed")
    marker = sim.state.buffers[buffer].localvars[ra.BATCH_VARIABLE]
    assert sim.remote("home").server_localvars == {(CHAN, ra.BATCH_VARIABLE): marker}
    assert not sim.timers("delivery_marker_cb")


def test_a_marker_that_comes_after_the_answer_confirms_its_batch(linked):
    sim = linked
    buffer = chan(sim)
    down(sim)
    for n in range(5):
        sim.type(buffer, f"line {n}")
    sim.remote("home").server_sync = "later"
    back(sim, serve=False)
    sim.serve(rounds=2)  # the handshake, the first line
    assert sim.timers("delivery_marker_cb") and not sim.deliveries()  # one request at a time
    sim.advance(0.01)
    sim.sync("home")
    assert not sim.timers("delivery_marker_cb")
    sim.serve(rounds=1)
    sim.sync("home")
    sim.settle()
    assert [text for _, text in delivered(sim)] == [f"line {n}" for n in range(5)]
    assert len(input_requests(sim)) == 2 and not sim.lines("not confirmed")


@pytest.mark.parametrize(("commands", "runs"), [("*,!buffer", True), ("*,!input", False), ("*,!command", False)])
def test_a_server_whose_commands_refuse_the_batch_gets_one_line_per_request_and_the_first_is_not_confirmed(
    linked, commands, runs
):
    sim = linked
    buffer = chan(sim)
    sim.remote("home").server_commands = commands
    down(sim)
    for n in range(4):
        sim.type(buffer, f"line {n}")
    back(sim)
    assert [text for _, text in delivered(sim)] == (["line 0"] if runs else [])  # answered 204 all the same
    sim.advance(ra.BATCH_MARKER_SECONDS + 0.1)
    (told,) = [m for m in in_buffer(sim, buffer) if "not confirmed" in m]
    line = ra.SHELL.delivery.outbox.lines[0]
    assert (
        f"line {ra.SHELL.delivery.outbox.line_id(line)} sent to {CHAN} not confirmed (answered, but the marker" in told
    )
    assert "holds back the 3 line(s) behind it" in told and told.endswith(": line 0")
    sim.user(f"/autoreconnect outbox drop home {CHAN} {ra.SHELL.delivery.outbox.line_id(line)}")
    sim.serve()
    sim.settle()
    assert [text for _, text in delivered(sim)] == (["line 0"] if runs else []) + ["line 1", "line 2", "line 3"]
    assert len(input_requests(sim)) == 4  # one line a request, as they are


def test_a_batch_not_confirmed_names_its_first_line_and_how_many_went_with_it(linked):
    sim = linked
    buffer = chan(sim)
    down(sim)
    for n in range(6):
        sim.type(buffer, f"line {n}")
    back(sim, serve=False)
    sim.serve(rounds=2)  # the handshake, the first line and its marker
    sim.remote("home").server_commands = "*,!buffer"  # the server changes its mind
    sim.serve(rounds=1)
    sim.advance(ra.BATCH_MARKER_SECONDS + 0.1)
    (told,) = [m for m in in_buffer(sim, buffer) if "not confirmed" in m]
    first = ra.SHELL.delivery.outbox.lines[0]
    assert f"line {ra.SHELL.delivery.outbox.line_id(first)} and the 4 line(s) sent with it to {CHAN} not" in told
    assert told.endswith(": line 1") and "hold back the 0 line(s) behind them" in told
    assert {line.state for line in ra.SHELL.delivery.outbox.lines} == {LINE_UNKNOWN}
    sim.remote("home").server_commands = "*,!quit"
    sim.user(f"/autoreconnect outbox send home {CHAN}")  # as the notice says: again, one a request
    sim.serve()
    sim.settle()
    assert [text for _, text in delivered(sim)] == [f"line {n}" for n in (0, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5)]
    assert not ra.SHELL.delivery.outbox.lines


def test_the_marker_hooks_go_at_unload_and_a_wait_for_a_marker_is_cancelled_by_upgrade(linked):
    sim = linked
    buffer = chan(sim)
    down(sim)
    sim.type(buffer, "line 0")
    sim.type(buffer, "line 1")
    sim.remote("home").server_sync = "later"
    back(sim, serve=False)
    sim.serve(rounds=2)
    assert sim.timers("delivery_marker_cb")
    ra.SHELL.courier.cancel_requests()
    assert not sim.timers("delivery_marker_cb") and ra.SHELL.delivery.outbox.lines[0].state == LINE_UNKNOWN
    sim.unload()
    assert not [h for h in sim.hooks() if h.kind == "signal" and h.pattern.startswith("buffer_localvar")]
