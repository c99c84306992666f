# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The outbox and its delivery: where input goes, the lines, the file, the answers, and
Delivery, events in and actions out (pure core, virtual wall clock)."""

from __future__ import annotations

import json
import random

import pytest
import weechat as fake_weechat  # the stub: its server splits batches as WeeChat does
from shared import filled

import relay_autoreconnect as ra
from relay_autoreconnect import LINE_MISSING, LINE_QUEUED, LINE_UNKNOWN, ROUTE_KEEP, ROUTE_LOCAL, ROUTE_REFUSE

# -- core: where input goes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_command", "submitted", "to_remote", "keep_commands", "route"),
    [
        (False, False, False, False, ROUTE_KEEP),  # text from anywhere goes to the remote
        (False, True, True, False, ROUTE_KEEP),
        (True, True, True, False, ROUTE_REFUSE),  # the person's command for the remote
        (True, True, True, True, ROUTE_KEEP),
        (True, False, True, True, ROUTE_LOCAL),  # a key binding, the fifo, a script
        (True, False, True, False, ROUTE_LOCAL),
        (True, True, False, True, ROUTE_LOCAL),  # /remote togglecmd: commands run here
    ],
)
def test_route_input(is_command, submitted, to_remote, keep_commands, route):
    assert ra.route_input([("x", is_command)], submitted, to_remote, keep_commands) == [("x", route)]


def test_the_scripts_own_command_runs_here_even_in_a_buffer_that_sends_commands_to_the_remote():
    lines = [("/autoreconnect outbox drop srv python.chan 3fa9", True), ("/autoreconnectx", True), ("/away", True)]
    routes = ra.route_input(lines, True, True, True, own="autoreconnect")
    assert [route for _, route in routes] == [ra.ROUTE_HERE, ROUTE_KEEP, ROUTE_KEEP]


# -- core: the outbox ------------------------------------------------------------------


def test_one_line_at_a_time_per_buffer_and_other_buffers_go_on():
    box = filled(("a", "b1", "1"), ("a", "b2", "x"), ("a", "b1", "2"), ("z", "b1", "other remote"))
    first = box.next_line("a", 1010.0, 0, 60)
    assert first.text == "1"
    box.sending(first)
    second = box.next_line("a", 1010.0, 0, 60)
    assert second.text == "x"  # b1 waits for its first line's answer
    box.sending(second)
    assert box.next_line("a", 1010.0, 0, 60) is None
    box.delivered(first)
    assert box.next_line("a", 1010.0, 0, 60).text == "2"
    assert box.counts() == {"a": 2, "z": 1}


def test_a_line_that_waits_for_the_user_holds_the_lines_behind_it_in_its_buffer():
    box = filled(("a", "b1", "old"), ("a", "b1", "new"), ("a", "b2", "fresh"))
    box.lines[0].queued_at = 0.0  # older than max_age 600
    now = 1010.0
    assert box.next_line("a", now, 600, 60).text == "fresh"
    assert not box.blocks("a", "b1", now, 600, 60)  # held: new input does not queue behind it
    assert box.blocks("a", "b2", now, 600, 60)
    assert [line.text for line in box.stuck("a", now, 600, 60)[ra.HELD_OLD]] == ["old", "new"]
    assert box.approve("a", "b1") == 2
    assert box.next_line("a", now, 600, 60).text == "old"


def test_a_missing_buffer_is_waited_for_then_held():
    box = filled(("a", "b1", "1"))
    line = box.lines[0]
    box.sending(line)
    box.missing(line, 2000.0)
    assert line.state == LINE_MISSING and box.next_line("a", 2001.0, 0, 60) is None
    assert box.missing_pending("a", 2001.0, 60) == 2060.0
    assert box.blocks("a", "b1", 2001.0, 0, 60)
    assert box.retry_missing("a", "b1") == 1 and line.state == LINE_QUEUED
    assert box.next_line("a", 2001.0, 0, 60) is line
    box.missing(line, 2005.0)  # still missing: the wait counts from the first answer
    assert line.missing_since == 2000.0
    box.retry_missing("a")
    assert box.next_line("a", 2060.0, 0, 60) is None
    assert box.held(line, 2060.0, 0, 60) == ra.HELD_NO_BUFFER
    assert box.missing_pending("a", 2060.0, 60) is None
    assert box.move("a", "b1", "b9") == 1
    assert (line.buffer, line.state, line.missing_since) == ("b9", LINE_QUEUED, None)
    assert box.next_line("a", 2100.0, 0, 60) is line


def test_unknown_lines_go_only_on_the_users_word():
    box = filled(("a", "b1", "1"))
    line = box.lines[0]
    box.sending(line)
    box.unknown(line)
    assert box.next_line("a", 1001.0, 0, 60) is None
    assert box.held(line, 1001.0, 0, 60) == ra.HELD_UNKNOWN
    box.approve("a")
    assert box.next_line("a", 1001.0, 0, 60) is line


def test_a_lines_id_is_the_short_start_of_its_ident_unique_in_its_remote_and_stays_so():
    box = ra.Outbox()
    for ident, remote in (("3fa9c1", "a"), ("3fa9d2", "a"), ("77ab00", "a"), ("3fa9e3", "z"), ("ab", "a")):
        box.add(ident, remote, "b1", "x", 1000.0)
    assert box.line_ids("a") == {"3fa9c1": "3fa9c", "3fa9d2": "3fa9d", "77ab00": "77ab", "ab": "ab"}
    assert box.line_ids("z") == {"3fa9e3": "3fa9"}  # another remote's lines do not count
    box.drop("a", ident="3fa9d2")
    assert box.line_id(box.lines[0]) == "3fa9"
    box.add("id1", "a", "b1", "x", 1000.0)
    box.add("id10", "a", "b1", "x", 1000.0)
    assert box.line_ids("a")["id1"] == "id1" and box.pick("a", "", "id1")[0].ident == "id1"  # the whole ident


def test_file_round_trip_and_a_line_in_flight_is_never_sent_twice_after_a_restart():
    box = filled(("a", "b1", "1"), ("a", "b1", "2 ünïcode \n and a newline"))
    box.sending(box.lines[0])
    box.missing(box.lines[1], 5.0)
    lines, bad = ra.outbox_from_json(ra.outbox_to_json(box))
    assert bad == 0
    assert [(line.text, line.state, line.missing_since) for line in lines] == [
        ("1", LINE_UNKNOWN, None),
        ("2 ünïcode \n and a newline", LINE_MISSING, 5.0),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"queued_at": "soon"},
        {"queued_at": None},
        {"queued_at": True},
        {"missing_since": "x"},
        {"state": "gone"},
        {"remote": ""},
        {"text": 3},
        {"approved": "yes"},
    ],
)
def test_a_line_not_valid_is_counted_and_the_others_kept(change):
    box = filled(("a", "b1", "good"), ("a", "b1", "bad"))
    data = json.loads(ra.outbox_to_json(box))
    data["lines"][1].update(change)
    lines, bad = ra.outbox_from_json(json.dumps(data))
    assert ([line.text for line in lines], bad) == (["good"], 1)


@pytest.mark.parametrize(
    "text", ["", "{", "[]", '{"format": 2, "lines": []}', '{"format": 1}', '{"format": 1, "lines": {}}']
)
def test_a_file_not_valid_as_a_whole_raises_value_error(text):
    with pytest.raises(ValueError):
        ra.outbox_from_json(text)


def test_numbers_that_are_not_finite_are_refused():
    text = ra.outbox_to_json(filled(("a", "b1", "x"))).replace('"queued_at": 1000.0', '"queued_at": NaN')
    assert ra.outbox_from_json(text) == ([], 1)


# -- core: answers of the remote's server ---------------------------------------------


@pytest.mark.parametrize(
    ("output", "outcome"),
    [
        ({"response_code": "204"}, ra.DELIVERED),
        ({"response_code": "200"}, ra.DELIVERED),
        ({"response_code": "400", "output": '{"error":"Buffer \\"irc.x\\" not found"}'}, ra.MISSING),
        ({"response_code": "404", "output": '{"error":"Buffer \\"irc.x\\" not found"}'}, ra.MISSING),  # 4.10
        ({"response_code": "400", "output": '{"error":"Bad request"}'}, ra.REFUSED),
        ({"response_code": "401", "output": '{"error":"Invalid password"}'}, ra.REFUSED),
        ({"response_code": "401", "output": '{"error":"Missing TOTP"}'}, ra.REFUSED),
        ({"response_code": "401", "output": '{"error":"Invalid TOTP"}'}, ra.STALE_TOTP),
        ({"response_code": "401", "output": '{"error":"Invalid timestamp"}'}, ra.STALE_SALT),
        ({"response_code": "400", "output": '{"error":"Invalid TOTP"}'}, ra.REFUSED),
        ({"error": "Couldn't connect to server", "error_code": "2", "error_code_curl": "7"}, ra.NOT_SENT),
        ({"error": "Could not resolve host", "error_code": "2", "error_code_curl": "6"}, ra.NOT_SENT),
        ({"error": "SSL certificate problem", "error_code": "2", "error_code_curl": "60"}, ra.NOT_SENT),
        ({"error": "invalid URL", "error_code": "1"}, ra.NOT_SENT),
        ({"error": "error calling pthread_create (11)", "error_code": "5", "error_code_pthread": "11"}, ra.NOT_SENT),
        ({"error": "error calling pthread_create (11)", "error_code": "100", "error_code_pthread": "11"}, ra.NOT_SENT),
        ({"error": "transfer stopped", "error_code": "5"}, ra.UNKNOWN),  # WeeChat >= 4.8: the hook removed
        ({"error": "transfer timeout reached (10.000s)", "error_code": "6"}, ra.UNKNOWN),
        ({"error": "Recv failure", "error_code": "2", "error_code_curl": "56"}, ra.UNKNOWN),
        ({"error": "Operation timed out", "error_code": "2", "error_code_curl": "28"}, ra.UNKNOWN),
        # a timeout before the connection was made (curl 7.88, curl 8): nothing was sent
        (
            {
                "error": "Failed to connect to 10.1.0.1 port 9 after 5001 ms: Timeout was reached",
                "error_code_curl": "28",
            },
            ra.NOT_SENT,
        ),
        ({"error": "Connection timed out after 5000 milliseconds", "error_code_curl": "28"}, ra.NOT_SENT),
        # WeeChat >= 4.8: no curl code, "response code 0", curl's words
        ({"response_code": "0", "error": "Connection timed out after 5000 milliseconds"}, ra.NOT_SENT),
        ({"response_code": "0", "error": "Failed to connect to h port 9 after 0 ms: Could not connect"}, ra.NOT_SENT),
        ({"response_code": "0", "error": "Could not resolve host: nowhere"}, ra.NOT_SENT),
        ({"response_code": "0", "error": "Operation timed out after 10000 milliseconds with 0 bytes"}, ra.UNKNOWN),
        ({"response_code": "0", "error": "Recv failure: Connection reset by peer"}, ra.UNKNOWN),
        ({}, ra.UNKNOWN),
    ],
)
def test_delivery_outcome(output, outcome):
    assert ra.delivery_outcome(output)[0] == outcome


def test_delivery_outcome_details_name_what_the_server_said():
    assert ra.delivery_outcome({"response_code": "401", "output": '{"error":"Invalid password"}'}) == (
        ra.REFUSED,
        "HTTP 401: Invalid password",
    )


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ('{"password_hash_algo":"pbkdf2+sha512","password_hash_iterations":100000,"totp":false}',
         ("pbkdf2+sha512", 100000, False)),
        ('{"password_hash_algo":"plain","password_hash_iterations":0,"totp":true}', ("plain", 0, True)),
        ('{"password_hash_algo":null,"password_hash_iterations":100000,"totp":false}', None),
        ('{"password_hash_algo":"md5","password_hash_iterations":1,"totp":false}', None),
        ('{"password_hash_algo":"sha256","password_hash_iterations":1e308,"totp":false}', None),
        ('{"password_hash_algo":"sha256","password_hash_iterations":1,"totp":"no"}', None),
        ("not json", None),
    ],
)  # fmt: skip
def test_handshake_answer(body, answer):
    assert ra.handshake_answer({"response_code": "200", "output": body}) == answer


def test_authorization_matches_independent_hashes():
    # sha256sum and "openssl kdf ... PBKDF2" of the same salt and password
    assert ra.authorization("sha256", "pw", "1700000000", 0) == (
        "Basic aGFzaDpzaGEyNTY6MTcwMDAwMDAwMDo4YmVkMTU0MWE2MDRmNmNkZDQxODAyNDczOWFiOWJiNWU4YzA4YTc5NWMyNDUzMDExMj"
        "ZmNDAyOGZkNWE4M2U4"
    )
    pbkdf2 = ra.authorization("pbkdf2+sha512", "pw", "1700000000", 1000)
    assert ra.base64.b64decode(pbkdf2[len("Basic ") :]).decode() == (
        "hash:pbkdf2+sha512:1700000000:1000:9a93274400e8269e3e364edb56a864d94302144864291eae88165da4fd92d31e97b16e8"
        "30f48dcf2cd53e16127ad1bea03e1e01144867841902ee2e35ea63e65"
    )
    assert ra.authorization("plain", "p w", "1", 0) == "Basic " + ra.base64.b64encode(b"plain:p w").decode()


# -- the delivery: events in, actions out ------------------------------------------------

AUTH = ("sha256", 0, False)
B1, B2 = "irc.libera.#one", "irc.libera.#two"


def delivery(batching=ra.BATCH_OFF, **settings):
    """A Delivery whose line idents are "l0", "l1"... in the order kept (and so the markers
    of its batches); one line per request unless batching says otherwise."""
    idents = (f"l{n}" for n in range(10**6))
    return ra.Delivery(ra.Settings(**settings), new_id=lambda: next(idents), batching=batching)


def sends(actions):
    return [(line.buffer, line.text) for a in actions if isinstance(a, ra.Send) for line in a.lines]


def tells(actions):
    return [(a.what, a.count, a.buffer) for a in actions if isinstance(a, ra.Tell)]


def ready_with_auth(d, name="home", now=1000.0):
    """The link is ready and the handshake answered; the actions of that answer."""
    assert d.link_ready(name, now) in ([ra.Handshake(name)], [])
    return d.handshake_answered(name, AUTH, "", now)


def test_lines_kept_while_down_go_one_at_a_time_once_the_link_answers():
    d = delivery()
    assert d.keep("home", B1, ["a", "b"], 1000.0) == [ra.Persist()]  # on disk, nothing sent: the link is down
    assert d.link_ready("home", 1001.0) == [ra.Handshake("home")]  # how the server wants the password
    first = d.handshake_answered("home", AUTH, "", 1001.0)
    assert first == [ra.Persist(), ra.Send("home", (d.outbox.lines[0],), AUTH)]  # written as "sending" first
    assert d.outbox.lines[0].state == ra.LINE_SENDING
    assert d.keep("home", B1, ["c"], 1001.5) == [ra.Persist()]  # one request at a time
    assert sends(d.answered("home", ra.DELIVERED, "", 1002.0)) == [(B1, "b")]
    assert sends(d.answered("home", ra.DELIVERED, "", 1002.1)) == [(B1, "c")]
    done = d.answered("home", ra.DELIVERED, "", 1002.2)
    assert tells(done) == [(ra.TELL_DELIVERED, 3, "")] and sends(done) == []
    assert d.outbox.count() == 0


def test_a_line_goes_only_when_its_buffers_earlier_lines_are_done():
    d = delivery()
    d.keep("home", B1, ["1"], 1000.0)
    d.keep("home", B2, ["x"], 1000.1)
    d.keep("home", B1, ["2"], 1000.2)
    assert sends(ready_with_auth(d)) == [(B1, "1")]
    assert sends(d.answered("home", ra.MISSING, 'Buffer "irc.libera.#one" not found', 1001.0)) == [(B2, "x")]
    actions = d.answered("home", ra.DELIVERED, "", 1001.1)  # "2" waits behind "1", whose buffer is missing
    assert sends(actions) == [] and ra.RetryAt("home", 1006.1) in actions
    assert d.holds(ra.Remote("home", ra.Phase.CONNECTED), B1, 1001.2)  # new input for B1 queues behind
    assert sends(d.keep("home", B2, ["y"], 1001.2)) == [(B2, "y")]  # B2 is free: it goes at once


def test_a_missing_buffer_is_tried_again_then_waits_for_the_user():
    d = delivery(outbox_wait=12)
    d.keep("home", B1, ["hello"], 1000.0)
    ready_with_auth(d)
    assert d.answered("home", ra.MISSING, "not found", 1000.0)[-1] == ra.RetryAt("home", 1005.0)
    assert sends(d.retry_fired("home", 1005.0)) == [(B1, "hello")]
    assert d.answered("home", ra.MISSING, "not found", 1005.0)[-1] == ra.RetryAt("home", 1010.0)
    assert sends(d.buffer_opened("home", B2, 1007.0)) == []  # another buffer appeared
    assert sends(d.buffer_opened("home", B1, 1008.0)) == [(B1, "hello")]  # its buffer: at once
    held = d.answered("home", ra.MISSING, "not found", 1012.0)
    assert tells(held) == [(ra.TELL_NO_BUFFER, 1, B1)] and not [a for a in held if isinstance(a, ra.RetryAt)]
    assert tells(d.retry_fired("home", 1013.0)) == []  # said once
    moved = d.move("home", B1, B2, 1014.0)
    assert tells(moved)[0] == (ra.TELL_MOVED, 1, B1) and sends(moved) == [(B2, "hello")]


def test_no_answer_means_the_line_may_have_arrived_and_is_never_sent_again_by_itself():
    d = delivery()
    d.keep("home", B1, ["maybe", "behind"], 1000.0)
    ready_with_auth(d)
    actions = d.answered("home", ra.UNKNOWN, "transfer timeout reached", 1010.0)
    assert tells(actions) == [(ra.TELL_UNKNOWN, 1, B1)] and sends(actions) == []
    d.link_down("home")
    ready_with_auth(d, now=1100.0)
    assert sends(d.deliver("home", 1100.0)) == []  # after a reconnection too
    assert sends(d.send("home", "", 1101.0)) == [(B1, "maybe")]  # the user's word


@pytest.mark.parametrize(
    ("outcome", "detail", "stopped"),
    [
        (ra.REFUSED, "HTTP 401: Invalid password", "refused by the remote: HTTP 401: Invalid password"),
        (ra.NOT_SENT, "Couldn't connect to server", "not sent: Couldn't connect to server"),
    ],
)
def test_a_refused_or_unsent_line_stops_the_round_says_so_once_and_goes_at_the_next_link(outcome, detail, stopped):
    d = delivery()
    d.keep("home", B1, ["x"], 1000.0)
    ready_with_auth(d)
    actions = d.answered("home", outcome, detail, 1000.0)
    assert [a for a in actions if isinstance(a, ra.Tell)] == [ra.Tell("home", ra.TELL_STOPPED, 1, "", stopped)]
    assert d.outbox.lines[0].state == ra.LINE_QUEUED and sends(d.keep("home", B1, ["y"], 1001.0)) == []
    d.link_down("home")  # the server may have changed: its password hash is asked again
    assert d.link_ready("home", 1100.0) == [ra.Handshake("home")]
    assert sends(d.handshake_answered("home", AUTH, "", 1100.0)) == [(B1, "x")]


def tries(actions):
    """(tries, totp_step, hash_span) of the Send among actions."""
    return [(a.tries, a.totp_step, a.hash_span) for a in actions if isinstance(a, ra.Send)]


def test_a_stale_totp_goes_again_at_once_with_the_current_then_the_next_then_the_previous_step():
    d = delivery()
    d.keep("home", B1, ["x", "y"], 1000.0)
    assert tries(ready_with_auth(d, now=1029.9)) == [(0, 0, ra.HASH_SPAN_SECONDS)]
    line = d.outbox.lines[0]
    for count, step in enumerate((0, 1, -1), start=1):
        again = d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1030.0)
        assert again == [ra.Send("home", (line,), AUTH, count, step, ra.HASH_SPAN_SECONDS)]  # nothing said or written
        assert line.state == ra.LINE_SENDING and d.round("home").busy
    actions = d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1030.1)  # 3 in a row: it stops
    assert tells(actions) == [(ra.TELL_STOPPED, 2, "")] and sends(actions) == []
    assert [a.detail for a in actions if isinstance(a, ra.Tell)] == ["refused by the remote: HTTP 401: Invalid TOTP"]
    assert line.state == ra.LINE_QUEUED
    d.link_down("home")
    ready_with_auth(d, now=1100.0)  # the next connection starts again from the first try
    assert tries(d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1100.0)) == [(1, 0, 3)]


def test_a_line_taken_after_a_stale_answer_resets_the_count_for_the_next_line():
    d = delivery()
    d.keep("home", B1, ["x", "y"], 1000.0)
    ready_with_auth(d)
    d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1000.0)
    d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1000.0)
    assert tries(d.answered("home", ra.DELIVERED, "", 1000.1)) == [(0, 0, 3)]  # "y": a first try
    for count, step in enumerate((0, 1, -1), start=1):
        assert tries(d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1030.0)) == [(count, step, 3)]
    done = d.answered("home", ra.DELIVERED, "", 1030.2)
    assert tells(done) == [(ra.TELL_DELIVERED, 2, "")] and d.outbox.count() == 0


def test_a_stale_salt_goes_again_with_a_new_hash_and_hashes_serve_one_second_on_that_link():
    d = delivery()
    d.keep("home", B1, ["x", "y"], 1000.0)
    ready_with_auth(d)
    assert tries(d.answered("home", ra.STALE_SALT, "HTTP 401: Invalid timestamp", 1000.0)) == [(1, 0, 1)]
    assert tries(d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1000.0)) == [(2, 1, 1)]
    assert tries(d.answered("home", ra.DELIVERED, "", 1000.1)) == [(0, 0, 1)]  # the server's window is narrow
    d.answered("home", ra.DELIVERED, "", 1000.2)
    d.link_down("home")  # the server may have changed
    d.keep("home", B1, ["z"], 1000.2)
    assert tries(ready_with_auth(d, now=1100.0)) == [(0, 0, ra.HASH_SPAN_SECONDS)]


def test_a_stale_answer_for_a_line_dropped_meanwhile_sends_the_next_line():
    d = delivery()
    d.keep("home", B1, ["x", "y"], 1000.0)
    ready_with_auth(d)
    d.drop("home", B1, 1000.0, ident="l0")
    assert sends(d.answered("home", ra.STALE_TOTP, "HTTP 401: Invalid TOTP", 1000.1)) == [(B1, "y")]


def test_a_handshake_without_answer_and_a_request_that_can_not_be_made_stop_the_round():
    d = delivery()
    d.keep("home", B1, ["x"], 1000.0)
    d.link_ready("home", 1000.0)
    actions = d.handshake_answered("home", None, "Couldn't connect to server", 1000.0)
    assert tells(actions) == [(ra.TELL_STOPPED, 1, "")]
    assert actions[-1].detail == "handshake failed: Couldn't connect to server"
    d.send("home", "", 1001.0)  # the user's word: again
    (send,) = [a for a in d.handshake_answered("home", AUTH, "", 1001.0) if isinstance(a, ra.Send)]
    stop = d.unsendable("home", "the remote asks for a TOTP and relay.remote.home.totp_secret gives none", 1001.0)
    assert stop[0] == ra.Persist() and d.outbox.lines[0].state == ra.LINE_QUEUED and send.lines[0].text == "x"
    assert tells(stop) == [(ra.TELL_STOPPED, 1, "")]


def test_lines_older_than_the_limit_wait_for_the_users_word_and_others_go():
    d = delivery(outbox_max_age=60)
    d.keep("home", B1, ["stale"], 1000.0)
    d.keep("home", B2, ["fresh"], 1100.0)
    assert sends(ready_with_auth(d, now=1100.0)) == [(B2, "fresh")]
    done = d.answered("home", ra.DELIVERED, "", 1100.0)
    assert tells(done) == [(ra.TELL_DELIVERED, 1, ""), (ra.TELL_OLD, 1, "")]
    assert tells(d.deliver("home", 1101.0)) == []  # said once
    assert sends(d.send("home", B1, 1102.0)) == [(B1, "stale")]


def test_an_upgrade_cancels_the_request_in_flight_and_its_line_waits_for_the_user():
    d = delivery()
    d.keep("home", B1, ["x"], 1000.0)
    ready_with_auth(d)
    assert tells(d.cancelled("home")) == [(ra.TELL_UNKNOWN, 0, B1)]
    assert d.outbox.lines[0].state == ra.LINE_UNKNOWN and d.cancelled("home") == []


def test_input_is_held_while_the_remote_is_down_and_managed():
    d = delivery()
    managed_down = ra.Remote("home", ra.Phase.WAITING, ra.Wait(due=1.0), wanted=True)
    assert d.holds(managed_down, B1, 0.0)
    assert not d.holds(ra.Remote("home", ra.Phase.IDLE, wanted=False), B1, 0.0)  # the user disconnected it
    assert not d.holds(ra.Remote("home", ra.Phase.UNKNOWN), B1, 0.0)
    assert not d.holds(None, B1, 0.0)
    assert d.holds(ra.Remote("home", ra.Phase.CONNECTED, ra.Up(since=0.0), wanted=True), B1, 0.0)  # not ready yet
    assert not delivery(outbox=False).holds(managed_down, B1, 0.0)


def test_a_deleted_remote_drops_its_lines_and_a_renamed_one_keeps_them():
    d = delivery()
    d.keep("home", B1, ["x"], 1000.0)
    assert d.rename("home", "house") == [ra.Persist()]
    assert d.outbox.remotes() == ["house"]
    assert tells(d.forget("house")) == [(ra.TELL_DELETED, 1, "")] and d.outbox.count() == 0


# -- the user's word on one line, by its id -----------------------------------------------


def test_new_lines_never_take_the_start_of_a_kept_lines_id():
    idents = iter(["3fa9aaaa", "3fa9bbbb", "3fa9cccc", "77ab0000", "3fa9dddd"])
    d = ra.Delivery(ra.Settings(), new_id=lambda: next(idents))
    d.keep("home", B1, ["first"], 1000.0)
    d.keep("home", B1, ["second"], 1001.0)  # drawn again until its start is free
    assert [line.ident for line in d.outbox.lines] == ["3fa9aaaa", "77ab0000"]
    assert [d.outbox.line_id(line) for line in d.outbox.lines] == ["3fa9", "77ab"]
    d.keep("other", B1, ["elsewhere"], 1002.0)
    assert d.outbox.lines[-1].ident == "3fa9dddd"  # each remote has its own ids


@pytest.mark.parametrize(
    ("buffer", "typed", "verb", "problem"),
    [
        (B1, "l0", "drop", ""),
        ("", "l", "drop", '"l" is the start of the ids of 3 queued lines of remote[home]'),
        (B1, "zz", "drop", 'no queued line of remote[home] has the id "zz"'),
        (B1, "l2", "drop", 'line l2 of remote[home] is queued for "irc.libera.#two", not "irc.libera.#one"'),
        (B1, "l0", "send", "line l0 of remote[home] is being sent now (its answer has not come)"),
    ],
)
def test_a_line_named_by_its_id_or_why_not(buffer, typed, verb, problem):
    d = delivery()
    d.keep("home", B1, ["a", "b"], 1000.0)
    d.keep("home", B2, ["c"], 1000.0)
    ready_with_auth(d)  # "a" is in flight
    assert d.pick("home", buffer, typed, verb) == (problem, "" if problem else typed)


def unconfirmed(d, name="home"):
    """The first line of a remote left not confirmed (as after a reload in the middle of its delivery)."""
    line = d.outbox.of(name)[0]
    d.outbox.sending(line)
    lines, _ = ra.outbox_from_json(ra.outbox_to_json(d.outbox))
    d.outbox.lines = lines
    return lines[0]


def served(d, actions, now, outcome=ra.DELIVERED):
    """These actions and all that follow while the server answers every request (the handshake
    with AUTH, each line with `outcome`)."""
    done = list(actions)
    while d.round("home").busy:
        pending = d.round("home").lines
        answer = d.answered("home", outcome, "x", now) if pending else d.handshake_answered("home", AUTH, "", now)
        done += answer
    return done


def test_a_line_not_confirmed_is_told_once_with_its_id_and_holds_back_its_buffer_only():
    d = delivery()
    d.keep("home", B1, ["maybe", "behind 1", "behind 2"], 1000.0)
    d.keep("home", B2, ["free"], 1000.0)
    line = unconfirmed(d)
    actions = served(d, d.link_ready("home", 1000.0), 1000.0)
    assert sends(actions) == [(B2, "free")]
    assert [a for a in actions if isinstance(a, ra.Tell) and a.what == ra.TELL_UNCONFIRMED] == [
        ra.Tell("home", ra.TELL_UNCONFIRMED, 2, B1, line=d.outbox.line_id(line))
    ]
    assert tells(d.deliver("home", 1002.0)) == []  # said once
    d.link_down("home")
    assert tells(served(d, d.link_ready("home", 1100.0), 1100.0)) == []


@pytest.mark.parametrize("verb", ["send", "drop"])
def test_sending_or_dropping_the_line_not_confirmed_by_its_id_lets_the_lines_behind_go(verb):
    d = delivery()
    d.keep("home", B1, ["maybe", "behind 1", "behind 2"], 1000.0)
    line = unconfirmed(d)
    assert sends(served(d, d.link_ready("home", 1000.0), 1000.0)) == []
    problem, ident = d.pick("home", B1, d.outbox.line_id(line), verb)
    assert problem == "" and ident == line.ident
    actions = d.send("home", B1, 1001.0, ident) if verb == "send" else d.drop("home", B1, 1001.0, ident)
    went = sends(served(d, actions, 1002.0))
    assert went == ([(B1, "maybe")] if verb == "send" else []) + [(B1, "behind 1"), (B1, "behind 2")]
    if verb == "drop":
        assert tells(actions)[0] == (ra.TELL_DROPPED, 1, "")


def test_a_line_sent_by_its_id_behind_held_lines_waits_its_turn_and_says_so():
    d = delivery(outbox_max_age=60)
    d.keep("home", B1, ["old 1", "old 2", "old 3"], 1000.0)
    served(d, d.link_ready("home", 1100.0), 1100.0)  # all held: older than a minute
    actions = d.send("home", B1, 1100.0, "l1")
    assert sends(actions) == [] and [a for a in actions if isinstance(a, ra.Tell)] == [
        ra.Tell("home", ra.TELL_BEHIND, 1, B1, line="l1")
    ]
    went = sends(served(d, d.drop("home", B1, 1101.0, "l0"), 1101.0))  # the line before it goes: its turn
    assert went == [(B1, "old 2")]  # "old 3" still waits
    assert [line.text for line in d.outbox.lines] == ["old 3"]


def test_a_line_sent_by_its_id_while_the_link_is_down_goes_after_the_reconnection():
    d = delivery()
    d.keep("home", B1, ["maybe", "behind"], 1000.0)
    line = unconfirmed(d)
    assert tells(d.send("home", B1, 1001.0, line.ident)) == [(ra.TELL_NOT_CONNECTED, 1, "")]
    assert sends(served(d, d.link_ready("home", 1002.0), 1002.0)) == [(B1, "maybe"), (B1, "behind")]


def test_dropping_lines_forgets_only_what_was_told_of_them():
    d = delivery(outbox_wait=10)
    d.keep("home", B1, ["lost"], 1000.0)
    d.keep("home", B2, ["lost too"], 1000.0)
    served(d, d.link_ready("home", 1000.0), 1000.0, ra.MISSING)
    held = served(d, d.retry_fired("home", 1011.0), 1011.0, ra.MISSING)
    assert sorted(t[2] for t in tells(held) if t[0] == ra.TELL_NO_BUFFER) == [B1, B2]
    assert tells(d.drop("home", B1, 1012.0)) == [(ra.TELL_DROPPED, 1, "")]  # B2 is not said again
    d.keep("home", B1, ["again"], 1013.0)
    served(d, [], 1013.0, ra.MISSING)
    again = served(d, d.retry_fired("home", 1024.0), 1024.0, ra.MISSING)
    assert [t for t in tells(again) if t[0] == ra.TELL_NO_BUFFER] == [(ra.TELL_NO_BUFFER, 1, B1)]  # a new line


def test_lines_of_a_file_read_again_go_first_once_and_wait_for_the_link():
    d = delivery()
    d.keep("home", B1, ["typed meanwhile"], 1000.0)
    before = filled(("home", B1, "from before"), ("work", B2, "of another remote")).lines
    assert d.found([], 1001.0) == []
    assert d.found(before, 1001.0) == [ra.Persist()]  # on disk; the links are down: nothing goes
    assert [line.text for line in d.outbox.lines] == ["from before", "of another remote", "typed meanwhile"]
    assert d.found(before, 1002.0) == [] and d.outbox.count() == 3  # never taken twice
    assert d.link_ready("home", 1003.0) == [ra.Handshake("home")]
    assert sends(d.handshake_answered("home", AUTH, "", 1003.0)) == [(B1, "from before")]


def test_lines_found_while_the_link_answers_go_at_once_written_as_sending_first():
    d = delivery()
    ready_with_auth(d)
    actions = d.found(filled(("home", B1, "from before")).lines, 1001.0)
    assert actions[-2:] == [ra.Persist(), ra.Send("home", (d.outbox.lines[0],), AUTH)]
    assert d.outbox.lines[0].state == ra.LINE_SENDING


def test_random_answers_never_deliver_a_line_twice_or_out_of_order():  # noqa: PLR0912 (one branch per event)
    """A random walk of links, answers and the user's word (also on one line by its id): each
    line is delivered at most once, in the order typed in its buffer, and only one request of a
    remote is in flight."""
    for seed in range(200):
        rng = random.Random(seed)
        d = delivery(outbox_wait=30, outbox_max_age=rng.choice((0, 50)))
        now, typed, taken, in_flight = 1000.0, 0, [], None
        for _ in range(200):
            now += rng.choice((0.0, 0.5, 5.0, 40.0))
            op = rng.choice(
                ("type", "type", "ready", "down", "answer", "answer", "answer", "send", "retry", "open")
                + ("send one", "drop one")
            )
            actions = []
            if op == "type":
                typed += 1
                actions = d.keep("home", rng.choice((B1, B2)), [f"t{typed}"], now)
            elif op == "ready":
                actions = d.link_ready("home", now)
            elif op == "down":
                d.link_down("home")
            elif op == "answer" and in_flight == "handshake":
                actions = d.handshake_answered("home", rng.choice((AUTH, AUTH, None)), "x", now)
                in_flight = None
            elif op == "answer" and in_flight is not None:
                outcome = rng.choice((ra.DELIVERED, ra.DELIVERED, ra.MISSING, ra.UNKNOWN, ra.REFUSED, ra.NOT_SENT))
                if outcome == ra.DELIVERED:
                    taken.append((in_flight.buffer, in_flight.text, in_flight.ident))
                actions = d.answered("home", outcome, "x", now)
                in_flight = None
            elif op == "send":
                actions = d.send("home", "", now)
            elif op in ("send one", "drop one") and d.outbox.lines:
                line = rng.choice(d.outbox.lines)
                verb = op.split()[0]
                problem, ident = d.pick("home", line.buffer, d.outbox.line_id(line), verb)
                assert ident == ("" if verb == "send" and line.state == ra.LINE_SENDING else line.ident), seed
                if ident:
                    actions = d.send("home", "", now, ident) if verb == "send" else d.drop("home", "", now, ident)
            elif op == "retry":
                actions = d.retry_fired("home", now)
            elif op == "open":
                actions = d.buffer_opened("home", rng.choice((B1, B2)), now)
            for action in actions:
                if isinstance(action, (ra.Send, ra.Handshake)):
                    assert in_flight is None, f"seed {seed}: a second request in flight"
                    in_flight = action.lines[0] if isinstance(action, ra.Send) else "handshake"
                    if isinstance(action, ra.Send):
                        assert action.lines == (in_flight,), seed  # batching off: one line per request
                        assert in_flight.state == ra.LINE_SENDING and in_flight in d.outbox.lines
        idents = [ident for _, _, ident in taken]
        assert len(idents) == len(set(idents)), f"seed {seed}: a line delivered twice"
        for buffer in (B1, B2):
            numbers = [int(text[1:]) for b, text, _ in taken if b == buffer]
            assert numbers == sorted(numbers), f"seed {seed}: {buffer} out of order"


# -- core: every line typed is confirmed or said not confirmed (the link may die silently) --


class Walk:
    """One random walk of lines typed on a link that dies silently (see the test below)."""

    def __init__(self, seed):
        self.seed, self.rng, self.d = seed, random.Random(seed), delivery()
        self.now, self.typed = 1000.0, set()  # idents of the lines typed
        self.taken, self.late, self.told = [], [], set()  # lines the server took, will take; ids said
        self.late_seen = False
        self.in_flight = None  # the line of the request in flight, or "handshake"

    def run(self, actions):
        for action in actions:
            if isinstance(action, (ra.Send, ra.Handshake)):
                assert self.in_flight is None, f"seed {self.seed}: a second request in flight"
                self.in_flight = action.lines[0] if isinstance(action, ra.Send) else "handshake"
            elif isinstance(action, ra.Tell) and action.what in (ra.TELL_UNKNOWN, ra.TELL_UNCONFIRMED):
                self.told.add(action.line)

    def answer(self, fate):
        """The request in flight ends: taken and answered, never sent (nothing reached the server),
        or no answer (the server took it then, takes it later through a closed connection, or never)."""
        line, self.in_flight = self.in_flight, None
        if line == "handshake":
            self.run(self.d.handshake_answered("home", AUTH if fate != ra.NOT_SENT else None, "x", self.now))
            return
        where = {ra.DELIVERED: "now", ra.NOT_SENT: "never"}.get(fate) or self.rng.choice(("now", "later", "never"))
        if where == "now":
            self.taken.append(line)
        elif where == "later":
            self.late.append(line)
            self.late_seen = True
        self.run(self.d.answered("home", fate, "x", self.now))

    def step(self):
        d, rng = self.d, self.rng
        self.now += rng.choice((0.0, 0.1, 2.0, 10.0))
        op = rng.choice(("type", "type", "type", "ready", "down", "answer", "answer", "overdue", "late"))
        if op == "type":
            self.run(d.keep("home", rng.choice((B1, B2)), [f"t{len(self.typed) + 1}"], self.now))
            self.typed.add(d.outbox.lines[-1].ident)
        elif op == "ready":
            self.run(d.link_ready("home", self.now))
        elif op == "down":
            self.run(d.link_down("home"))
        elif op == "answer" and self.in_flight is not None:
            self.answer(rng.choice((ra.DELIVERED, ra.NOT_SENT, ra.UNKNOWN)))
        elif op == "overdue":
            self.run(d.overdue("home"))
        elif op == "late" and self.late:
            self.taken.append(self.late.pop(0))
        on_disk = {line.ident for line in d.outbox.kept()}
        for line in d.outbox.lines:  # on disk, or on its way with nothing ahead that waits for the user
            assert line.quiet or line.ident in on_disk, self.seed
            if line.quiet:
                assert all(o.quiet and o.state != LINE_UNKNOWN for o in d.outbox.before(line)), self.seed

    def settle(self):
        """The link answers for good: what is in flight, and any late data, arrives."""
        self.taken += self.late
        self.run(self.d.link_ready("home", self.now))
        while self.in_flight is not None:
            self.now += 0.1
            self.answer(ra.DELIVERED)


def test_every_line_typed_is_taken_once_or_said_not_confirmed_whatever_the_link_does():
    """A random walk of lines typed on a link that answers or not, links dropping and coming
    back, requests that never connect (the server never sees them), requests answered, and
    requests without an answer whose line the server took then, takes later (data a closed
    connection still carries), or never. The user never acts. Then the link answers for good.
    Each line is taken by the server at most once, in the order typed in its buffer; a line the
    server did not take is in the outbox: said not confirmed (by its id), or behind such a line
    in its buffer; the file holds every line that is not on its way quietly."""
    walks = []
    for seed in range(300):
        walk = Walk(seed)
        for _ in range(150):
            walk.step()
        walk.settle()
        d, taken = walk.d, walk.taken
        idents = [line.ident for line in taken]
        assert len(idents) == len(set(idents)), f"seed {seed}: a line taken twice"
        for buffer in (B1, B2):
            numbers = [int(line.text[1:]) for line in taken if line.buffer == buffer]
            assert numbers == sorted(numbers), f"seed {seed}: {buffer} out of order"
        ids = d.outbox.line_ids("home")
        for line in d.outbox.lines:  # not taken (or not known to be): never silently
            head = d.outbox.of("home", line.buffer)[0]
            assert head.state == LINE_UNKNOWN and ids[head.ident] in walk.told, f"seed {seed}: {line.text} unsaid"
        assert walk.typed == {*idents, *(line.ident for line in d.outbox.lines)}, f"seed {seed}: a line lost"
        walks.append(walk.late_seen)
    assert any(walks) and not all(walks)  # walks with and without late data


def test_with_outbox_confirm_off_a_connected_remotes_input_goes_on_the_link_unless_lines_wait():
    d = delivery(outbox_confirm=False)
    remote = ra.Remote("home", ra.Phase.CONNECTED)
    ready_with_auth(d)
    assert not d.holds(remote, B1, 1000.0)
    d.link_down("home")
    assert d.holds(ra.Remote("home", ra.Phase.IDLE, wanted=True), B1, 1001.0)  # down: kept
    d.keep("home", B1, ["kept while down"], 1001.0)
    ready_with_auth(d, now=1002.0)
    assert d.holds(remote, B1, 1002.0) and not d.holds(remote, B2, 1002.0)  # behind it: in order


# -- core: batches (several lines of a buffer in one request, proven by a marker) -------------


def split(command):
    """What the server runs of a batch: string_split_command as the stub's server does it."""
    assert command.startswith("/command -s ")
    return fake_weechat._split_command(command[len("/command -s ") :])  # pylint: disable=protected-access


@pytest.mark.parametrize(
    ("text", "batchable"),
    [
        ("plain", True),
        ("a;b", True),
        ("a\\;b", True),
        ("a\\\\;b", True),
        ("a\\b", True),
        ("//x", False),  # starts with "/": goes alone, as it would without batches
        ("/me waves", False),  # a command goes alone
        ("  leading", False),
        ("trailing ", False),
        ("tab\t", False),
        ("two\nlines", False),
        ("ends with \\", False),  # would escape the separator after it
        ("", False),
    ],
)
def test_which_lines_arrive_as_typed_in_a_batch(text, batchable):
    assert ra.batchable(text) is batchable


def test_a_batch_runs_its_lines_as_typed_then_sets_its_marker():
    texts = ["a;b", "a\\;b", "a\\\\;b", "back\\slash", "x ; y", "\\;", ";"]
    command = ra.batch_command(texts, "m1")
    assert split(command) == [
        *(f"/input send {text}" for text in texts),
        f"/input send /buffer setvar {ra.BATCH_VARIABLE} m1",
    ]


def batch_ready(d, name="home", now=1000.0):
    """The link is ready, the handshake answered, the first line of the link went alone with a
    marker that came back and was answered 204; the actions of that answer."""
    first = ready_with_auth(d, name, now)
    send = next(a for a in first if isinstance(a, ra.Send))
    assert len(send.lines) == 1 and send.marker
    assert d.marker_seen(name, send.marker, now) == []  # before its answer: nothing yet
    return d.answered(name, ra.DELIVERED, "", now)


def the_send(actions):
    found = [a for a in actions if isinstance(a, ra.Send)]
    assert len(found) == 1, actions
    return found[0]


def test_the_first_line_of_a_link_goes_alone_marked_then_the_rest_in_batches_of_a_hundred():
    d = delivery(batching=ra.BATCH_UNTRIED)
    d.keep("home", B1, [f"line {n}" for n in range(250)], 1000.0)
    send = the_send(batch_ready(d))
    assert [line.text for line in send.lines] == [f"line {n}" for n in range(1, 101)] and send.marker
    assert all(line.state == ra.LINE_SENDING for line in send.lines)
    assert d.answered("home", ra.DELIVERED, "", 1000.1) == [ra.MarkerWait("home", ra.BATCH_MARKER_SECONDS)]
    actions = d.marker_seen("home", send.marker, 1000.2)  # after its answer
    assert ra.Persist() in actions and d.outbox.count() == 149
    send = the_send(actions)
    assert d.marker_seen("home", "an older marker", 1000.3) == [] and d.round("home").busy
    assert d.marker_seen("home", send.marker, 1000.3) == []
    send = the_send(d.answered("home", ra.DELIVERED, "", 1000.3))
    assert len(send.lines) == 49
    d.marker_seen("home", send.marker, 1000.4)
    assert tells(d.answered("home", ra.DELIVERED, "", 1000.4)) == [(ra.TELL_DELIVERED, 250, "")]
    assert not d.outbox.count() and not d.round("home").busy


def test_a_batch_stops_at_a_line_that_does_not_arrive_as_typed_in_one_and_at_16_kib():
    d = delivery(batching=ra.BATCH_UNTRIED)
    long = "x" * 5000
    d.keep("home", B1, ["first", "a", "b", "/me waves", "c", "  spaced", "d\\", "e", *[long] * 5], 1000.0)
    d.keep("home", B2, ["other"], 1000.0)
    went = []
    actions = batch_ready(d)
    while d.round("home").busy:
        send = the_send(actions)
        went.append(([line.text for line in send.lines], bool(send.marker)))
        if send.marker:
            d.marker_seen("home", send.marker, 1000.0)
            body = ra.batch_command([line.text for line in send.lines], send.marker)
            assert len(body.encode()) <= ra.BATCH_BYTES
        actions = d.answered("home", ra.DELIVERED, "", 1000.0)
    assert went == [
        (["a", "b"], True),
        (["/me waves"], False),  # a command goes alone, as it is
        (["c"], False),  # alone: as it is
        (["  spaced"], False),
        (["d\\"], False),
        (["e", long, long, long], True),
        ([long, long], True),
        (["other"], False),
    ]


def test_a_batch_whose_marker_never_comes_is_not_confirmed_and_batching_stops_on_the_remote():
    d = delivery(batching=ra.BATCH_UNTRIED)
    d.keep("home", B1, [f"line {n}" for n in range(5)], 1000.0)
    first = the_send(ready_with_auth(d))
    assert d.answered("home", ra.DELIVERED, "", 1000.1) == [ra.MarkerWait("home", ra.BATCH_MARKER_SECONDS)]
    assert d.keep("home", B1, ["typed meanwhile"], 1000.5) == [ra.Persist()]  # still one request at a time
    actions = d.marker_overdue("home", 1002.1)
    told = [a for a in actions if isinstance(a, ra.Tell)]
    assert told == [
        ra.Tell("home", ra.TELL_UNKNOWN, 5, B1, told[0].detail, line=d.outbox.line_id(first.lines[0]), text="line 0")
    ]
    assert "marker" in told[0].detail and d.outbox.lines[0].state == LINE_UNKNOWN
    assert d.marker_overdue("home", 1003.0) == []  # once
    d.link_down("home")
    assert d.round("home").batching == ra.BATCH_OFF  # on every link of the remote
    d.send("home", B1, 1010.0)  # the user's word: they go, one per request, unmarked
    actions = served(d, d.link_ready("home", 1020.0), 1020.0)
    assert [s.marker for s in actions if isinstance(s, ra.Send)] == [""] * 6 and not d.outbox.count()


def test_a_batch_of_several_lines_not_confirmed_names_its_first_line_and_how_many():
    d = delivery(batching=ra.BATCH_UNTRIED)
    d.keep("home", B1, [f"line {n}" for n in range(10)], 1000.0)
    send = the_send(batch_ready(d))
    assert len(send.lines) == 9
    d.answered("home", ra.DELIVERED, "", 1000.1)
    told = [a for a in d.marker_overdue("home", 1002.1) if isinstance(a, ra.Tell)]
    assert [(t.what, t.count, t.line, t.text, t.lines) for t in told] == [
        (ra.TELL_UNKNOWN, 0, d.outbox.line_id(send.lines[0]), "line 1", 9),
        (ra.TELL_DELIVERED, 1, "", "", 1),  # the first line, alone, was confirmed
    ]
    assert all(line.state == LINE_UNKNOWN for line in d.outbox.lines)
    assert tells(d.deliver("home", 1003.0)) == []  # not told again line by line as unconfirmed


@pytest.mark.parametrize(
    ("outcome", "state"), [(ra.MISSING, LINE_MISSING), (ra.NOT_SENT, LINE_QUEUED), (ra.UNKNOWN, LINE_UNKNOWN)]
)
def test_the_answer_to_a_batch_applies_to_all_its_lines(outcome, state):
    d = delivery(batching=ra.BATCH_UNTRIED)
    d.keep("home", B1, [f"line {n}" for n in range(4)], 1000.0)
    send = the_send(batch_ready(d))
    actions = d.answered("home", outcome, "x", 1000.1)
    assert all(line.state == state for line in d.outbox.lines) and d.outbox.count() == 3
    if outcome == ra.UNKNOWN:
        assert [(a.line, a.lines) for a in actions if isinstance(a, ra.Tell) and a.what == ra.TELL_UNKNOWN] == [
            (d.outbox.line_id(send.lines[0]), 3)
        ]


def test_a_marker_seen_is_proof_whatever_the_answer_and_a_stale_batch_goes_again_whole():
    d = delivery(batching=ra.BATCH_UNTRIED)
    d.keep("home", B1, ["a", "b", "c"], 1000.0)
    send = the_send(batch_ready(d))
    again = the_send(d.answered("home", ra.STALE_TOTP, "", 1000.1))
    assert again.lines == send.lines and again.marker == send.marker and again.tries == 1
    d.marker_seen("home", send.marker, 1000.2)
    d.answered("home", ra.UNKNOWN, "transfer timeout", 1000.3)  # the marker came: they ran
    assert not d.outbox.count()


def test_a_line_alone_goes_as_it_is_and_batching_stays_untried():
    d = delivery(batching=ra.BATCH_UNTRIED)
    d.keep("home", B1, ["alone"], 1000.0)
    d.keep("home", B2, ["alone too"], 1000.0)
    send = the_send(ready_with_auth(d))
    assert send.marker == "" and [line.text for line in send.lines] == ["alone"]
    send = the_send(d.answered("home", ra.DELIVERED, "", 1000.1))  # a 204 says it ran
    assert send.marker == "" and d.round("home").batching == ra.BATCH_UNTRIED


def test_a_new_link_proves_batching_again():
    d = delivery(batching=ra.BATCH_UNTRIED)
    d.keep("home", B1, ["a", "b"], 1000.0)
    send = the_send(batch_ready(d))
    d.marker_seen("home", send.marker, 1000.1)
    d.answered("home", ra.DELIVERED, "", 1000.1)
    assert d.round("home").batching == ra.BATCH_WORKS
    d.link_down("home")
    d.keep("home", B1, ["c", "d"], 1001.0)
    send = the_send(ready_with_auth(d, now=1002.0))
    assert [line.text for line in send.lines] == ["c"] and send.marker  # alone again


@pytest.mark.parametrize("server", ["works", "no buffer", "no input"])
def test_random_batches_never_confirm_a_line_that_did_not_run_nor_send_one_twice(server):  # noqa: PLR0912, PLR0915
    """A random walk with batches on a server that runs them and sets their marker, runs them
    without the marker (relay.network.commands "*,!buffer"), or runs nothing ("*,!input"), the
    marker coming before the answer, after it, or lost with the link: a line leaves the outbox
    only if it ran (or the user dropped it), the server never runs a line twice unless the user
    sent again a line not confirmed, a buffer's lines run in order, one request at a time."""
    batches = 0  # requests of several lines
    for seed in range(150):
        rng = random.Random(seed)
        d = delivery(batching=ra.BATCH_UNTRIED, outbox_wait=30)
        now, typed, ran, dropped, resent, places = 1000.0, 0, [], set(), set(), {}
        flight = None  # (lines, marker, answered) of the request in flight, or "handshake"
        for _ in range(150):
            now += rng.choice((0.0, 0.1, 1.0, 3.0))
            before = {line.ident for line in d.outbox.lines}
            op = rng.choice(("type", "type", "ready", "down", "answer", "answer", "answer", "overdue", "send", "drop"))
            actions = []
            if op == "type":
                texts = [f"t{typed + n}" for n in range(rng.choice((1, 1, 5, 30)))]
                typed += len(texts)
                actions = d.keep("home", rng.choice((B1, B2)), texts, now)
                places.update((line.ident, (line.buffer, int(line.text[1:]))) for line in d.outbox.lines[-len(texts) :])
            elif op == "ready":
                actions = d.link_ready("home", now)
            elif op == "down":
                actions = d.link_down("home")
            elif op == "answer" and flight == "handshake":
                actions, flight = d.handshake_answered("home", AUTH, "", now), None
            elif op == "answer" and flight is not None and not flight[2]:
                lines, marker, _ = flight
                outcome = rng.choice((ra.DELIVERED, ra.DELIVERED, ra.DELIVERED, ra.MISSING, ra.UNKNOWN, ra.NOT_SENT))
                runs = outcome == ra.DELIVERED or (outcome == ra.UNKNOWN and rng.random() < 0.5)
                if runs and (not marker or server != "no input"):
                    ran.extend(line.ident for line in lines)
                seen = runs and marker and server == "works" and rng.random() < 0.8
                if seen and rng.random() < 0.5:
                    actions += d.marker_seen("home", marker, now)
                actions += d.answered("home", outcome, "x", now)
                if seen and d.round("home").awaiting:
                    actions += d.marker_seen("home", marker, now)
                flight = (lines, marker, True) if d.round("home").awaiting else None
            elif op == "overdue" and flight is not None and flight != "handshake" and flight[2]:
                actions, flight = d.marker_overdue("home", now), None
            elif op == "send" and d.outbox.lines:
                line = rng.choice(d.outbox.lines)
                if line.state == LINE_UNKNOWN:
                    resent.add(line.ident)
                if line.state != ra.LINE_SENDING:
                    actions = d.send("home", "", now, line.ident)
            elif op == "drop" and d.outbox.lines and rng.random() < 0.3:
                line = rng.choice(d.outbox.lines)
                dropped.add(line.ident)
                actions = d.drop("home", "", now, line.ident)
            for action in actions:
                if isinstance(action, (ra.Send, ra.Handshake)):
                    assert flight is None or (isinstance(action, ra.Send) and action.tries), (
                        f"seed {seed}: two in flight"
                    )
                    flight = (action.lines, action.marker, False) if isinstance(action, ra.Send) else "handshake"
                    if isinstance(action, ra.Send):
                        assert len({line.buffer for line in action.lines}) == 1, seed
                        assert len(action.lines) == 1 or action.marker, seed
                        batches += len(action.lines) > 1
            gone = before - {line.ident for line in d.outbox.lines} - dropped
            assert gone <= set(ran), f"seed {seed}: a line left the outbox that never ran"
        twice = {ident for ident in ran if ran.count(ident) > 1}
        assert twice <= resent, f"seed {seed}: a line ran twice"
        for buffer in (B1, B2):
            numbers = [places[i][1] for i in dict.fromkeys(ran) if places[i][0] == buffer and i not in resent]
            assert numbers == sorted(numbers), f"seed {seed}: {buffer} out of order"
    assert (batches > 100) == (server == "works"), batches


def test_a_handshake_that_fails_after_its_link_dropped_stops_nothing_and_says_nothing():
    d = delivery()
    assert d.link_ready("home", 1000.0) == [ra.Handshake("home")]  # asked once the link answers
    d.link_down("home")
    d.keep("home", B1, ["typed while down"], 1001.0)
    assert d.handshake_answered("home", None, "Connection reset by peer", 1001.5) == []
    assert ra.Handshake("home") in d.link_ready("home", 1010.0)  # the next link asks again
