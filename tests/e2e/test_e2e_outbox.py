# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: text typed in a remote buffer while the server is down arrives after the reconnection."""

from __future__ import annotations

import time

FAST = ["/set relay.network.autoreconnect_delay 1", "/set relay.network.autoreconnect_delay_max 2"]
CHAN = ["/probe buffer chan"]  # a buffer on the server whose input the probe records
MIRROR = "relay.remote.srv.python.chan"


def inputs(server, since=None):
    """Lines the server's buffer received (since a restart: the probe file is kept)."""
    return [e["text"] for e in server.find(kind="input", buffer="python.chan", since=since)]


def connected_with_mirror(lab, extra=()):
    server = lab.server(extra=CHAN)
    client = lab.client([*FAST, *extra])
    since = time.monotonic()
    client.send("/remote connect srv")
    client.wait_for(lambda: client.find(kind="buffer", name=MIRROR, since=since), 10, "mirror buffer")
    return server, client


def kill(server, client):
    since = time.monotonic()
    server.kill()
    client.wait_for(lambda: client.find(kind="signal", status="disconnected", since=since), 5, "drop")
    return since


def test_text_typed_while_down_arrives_once_in_order_and_commands_are_refused(lab):
    server, client = connected_with_mirror(lab)
    since = kill(server, client)
    for text in ("msg one", "msg two", "/me waves", "msg three"):
        client.send(text, buffer=MIRROR)
    client.wait_line("command not run", since, 5)
    kept = client.wait_line("(3 waiting; /autoreconnect outbox)", since, 5)
    assert kept["buffer"] == MIRROR
    assert not [e for e in client.lines(since=since) if "msg " in e["message"]]  # not shown as sent
    server = lab.server(extra=CHAN)
    server.wait_for(lambda: len(inputs(server)) >= 3, 15, "3 lines on the server")
    client.wait_line("remote[srv]: 3 queued line(s) sent", since, 5)
    assert inputs(server) == ["msg one", "msg two", "msg three"]
    # the link drops and comes back again: nothing is sent twice (a duplicate
    # would come before "msg four": one socket, and queued lines go first)
    since = kill(server, client)
    server = lab.server(extra=CHAN)
    client.wait_for(lambda: client.find(kind="signal", status="connected", since=since), 15, "reconnected")
    client.send("msg four", buffer=MIRROR)
    server.wait_for(lambda: inputs(server, since), 10, "a line after the second reconnection")
    assert inputs(server, since) == ["msg four"]


def test_old_lines_wait_for_the_user(lab):
    server, client = connected_with_mirror(lab, ["/set relay.network.autoreconnect_outbox_max_age 1"])
    since = kill(server, client)
    client.send("too old", buffer=MIRROR)
    client.wait_line("(1 waiting", since, 5)
    client.wait_line("reconnecting in 2 s (attempt 2)", since, 10)  # more than 1 s has passed
    server = lab.server(extra=CHAN)
    client.wait_line("1 queued line(s) older than 1 s not sent", since, 15)
    assert inputs(server) == []
    client.send("/autoreconnect outbox send srv")
    server.wait_for(lambda: inputs(server), 5, "the old line, on request")
    assert inputs(server) == ["too old"]
