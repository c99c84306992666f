# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: every line typed on a link that looks up is confirmed by the server, or said not confirmed.

Lines go out of band (POST /api/input, on connections of their own), never
on the websocket: a line handed to the websocket of a link that died
silently is lost, or reaches the server late through the old connection
after the reconnection. A request that never connected sent nothing and goes
again by itself; one that connected and got no answer is said not
confirmed, with the commands that send or drop it. (The heartbeat options
are the defaults: 60 s and 20 s.)
"""

from __future__ import annotations

import time

import pytest
from helpers import CHAN, MIRROR, connect_with_mirror, connected_with_mirror, inputs, statuses
from terminal import plain

# what the server answered: the late data of a closed connection came 10 s after the
# reconnection when it was measured (the kernel's retransmission timer)
LATE_DATA_WINDOW = 12.0


def submit(client, text, buffer=MIRROR):
    """What Enter does in a buffer: the text on its input line, then /input return."""
    client.send(f"/input insert {text}", buffer=buffer)
    client.send("/input return", buffer=buffer)


def script_lines_in(client, buffer, since):
    return [e["message"] for e in client.lines("relay_autoreconnect", since) if e["buffer"] == buffer]


def test_lines_typed_on_a_healthy_link_arrive_once_in_order_and_nothing_is_said(lab):
    server = lab.server(extra=CHAN)
    client = lab.client()
    since = connect_with_mirror(client)
    client.wait_line("remote[srv]: WeeChat: ", since, 5)
    typed = time.monotonic()
    texts = [f"live {n}" for n in range(20)]
    for text in texts:
        submit(client, text)
    server.wait_for(lambda: len(inputs(server)) >= len(texts), 10, "the lines")
    # a line's answer comes long before LINE_CONFIRM_SECONDS: no check, nothing said
    client.wait_for(lambda: time.monotonic() - typed > 3, 5, "3 s")
    assert inputs(server) == texts
    assert script_lines_in(client, MIRROR, typed) == []
    assert not client.lines("no answer from the server", typed) and not statuses(client, "disconnected", typed)
    assert not (client.home / "relay_autoreconnect_outbox.json").exists()


@pytest.mark.newest
def test_lines_typed_into_a_blackholed_link_arrive_once_in_order_after_it_is_back(lab, net):
    server = lab.server(net=net, extra=CHAN)
    client = lab.client(net=net)
    since = connect_with_mirror(client)
    client.wait_line("remote[srv]: WeeChat: ", since, 5)
    submit(client, "before")
    server.wait_for(lambda: inputs(server) == ["before"], 5, "the line before the blackhole")
    cut = time.monotonic()
    net.blackhole(True)
    client.wait_for(lambda: time.monotonic() - cut > 1, 2, "1 s")
    typed = time.monotonic()
    for text in ("one", "two", "three"):
        submit(client, text)
    drop = client.nth("signal", "disconnected", typed, timeout=20)
    noticed = drop["t"] - typed
    print(f"dead link noticed {noticed:.2f} s after the first line typed into it (heartbeat 60 s + 20 s)")
    assert noticed <= 10
    assert client.lines("no answer from the server within 5 seconds (check after a line got no answer)", typed)
    net.blackhole(False)
    healed = time.monotonic()
    back = client.nth("signal", "connected", healed, timeout=30)
    server.wait_for(lambda: len(inputs(server)) >= 4, 15, "the lines after the reconnection")
    arrived = time.monotonic()
    print(f"connected {back['t'] - healed:.2f} s after the network healed, lines in {arrived - back['t']:.2f} s")
    client.wait_line("remote[srv]: 3 queued line(s) delivered", typed, 5)
    submit(client, "after")
    server.wait_for(lambda: len(inputs(server)) >= 5, 5, "the line after")
    # late data on a closed connection arrives within this window: none may come
    server.wait_for(lambda: time.monotonic() - healed > LATE_DATA_WINDOW, LATE_DATA_WINDOW + 1, "the window")
    assert inputs(server) == ["before", "one", "two", "three", "after"]
    assert not client.lines("not confirmed", typed)


@pytest.mark.newest
def test_lines_typed_to_a_frozen_server_arrive_once_or_are_said_not_confirmed(lab):
    server = lab.server(extra=CHAN)
    client = lab.client()
    since = connect_with_mirror(client)
    client.wait_line("remote[srv]: WeeChat: ", since, 5)
    submit(client, "before")
    server.wait_for(lambda: inputs(server) == ["before"], 5, "the line before the freeze")
    server.freeze()
    typed = time.monotonic()
    texts = ["frozen one", "frozen two", "frozen three"]
    for text in texts:
        submit(client, text)
    drop = client.nth("signal", "disconnected", typed, timeout=20)
    print(f"frozen server noticed {drop['t'] - typed:.2f} s after the first line")
    assert drop["t"] - typed <= 10
    # the first line's request reached the frozen server's kernel: no answer within
    # DELIVERY_TIMEOUT_MS, it may have arrived
    told = client.wait_line("not confirmed (", typed, 15)
    assert told["buffer"] == MIRROR and told["message"].endswith(": frozen one")
    assert "holds back the 2 line(s) behind it" in told["message"]
    server.thaw()
    client.nth("signal", "connected", drop["t"], timeout=30)
    server.wait_for(lambda: time.monotonic() - drop["t"] > 5, 10, "the server catching up")
    ran = inputs(server)[1:]
    print(f"the server ran {ran} after it was thawed")
    assert ran in ([], ["frozen one"])  # never twice, never out of order
    hint = told["message"].split('"')[3]  # "/autoreconnect outbox drop srv python.chan ID"
    assert hint.startswith("/autoreconnect outbox drop srv python.chan ")
    dropped = time.monotonic()
    client.send(hint)
    client.wait_line("remote[srv]: 1 queued line(s) dropped", dropped, 5)
    server.wait_for(lambda: inputs(server)[-2:] == texts[1:], 10, "the lines behind it")
    assert inputs(server) == ["before", *ran, *texts[1:]]


def test_a_person_typing_to_a_frozen_server_sees_the_line_not_confirmed_and_drops_it_with_the_hint(lab):
    server, term = connected_with_mirror(lab, terminal=True)
    term.submit("before")
    server.wait_for(lambda: inputs(server) == ["before"], 5, "the line before the freeze")
    server.freeze()
    typed = time.monotonic()
    term.submit("are you there?")
    screen = term.wait_screen(lambda s: "not confirmed" in plain(s), 25, "the line said not confirmed")
    told = term.wait_line("not confirmed (", typed, 5)
    assert told["buffer"] == MIRROR and told["message"].endswith(": are you there?")
    assert "remote[srv]: line " in plain(screen)  # shown in the buffer where it was typed
    hint = told["message"].split('"')[3]  # "/autoreconnect outbox drop srv python.chan ID"
    assert hint.startswith("/autoreconnect outbox drop srv python.chan ")
    server.thaw()
    term.nth("signal", "connected", typed, timeout=30)
    server.wait_for(lambda: time.monotonic() - typed > 15, 20, "the server catching up")
    ran = inputs(server)[1:]
    assert ran in ([], ["are you there?"])  # at most once
    dropped = time.monotonic()
    term.submit(hint)  # the person runs the hint as printed, where it was printed: it runs here
    term.wait_line("remote[srv]: 1 queued line(s) dropped", dropped, 5)
    term.submit("and now?")
    server.wait_for(lambda: inputs(server)[-1:] == ["and now?"], 10, "the next line")
    assert inputs(server) == ["before", *ran, "and now?"]
    assert not term.lines("Traceback")
