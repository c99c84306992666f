# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: one record per remote, and a state that is checked, not assumed.

Renames in the middle of a probe and in a burst with /remote add, reloads and
the relay plugin going away and coming back, hand-over values that are not
valid, and authentication failures that are not in a row.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from harness import free_port
from helpers import (
    CHAN,
    MIRROR,
    autoreconnect_line,
    connect_with_mirror,
    connected,
    fast,
    heartbeat,
    python_script,
)

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)


def test_case1_rename_while_a_heartbeat_probe_is_in_flight_keeps_the_heartbeat(lab):
    server, client = connected(lab, [*fast(), *heartbeat(1, 3)])
    since = time.monotonic()
    server.freeze()  # the next probe gets no answer until the server thaws
    time.sleep(1.5)  # a heartbeat tick (every 1 s) has sent its probe: it is in flight
    client.send("/remote rename srv office")
    client.wait_line('remote relay "srv" has been renamed to "office"', since, 5)
    server.thaw()  # the probe is answered (within its 3-s timeout)
    time.sleep(1.5)
    frozen = time.monotonic()
    server.freeze()  # the renamed remote still gets heartbeats: this is noticed
    drop = client.nth("signal", "disconnected", frozen, timeout=8)
    print(f"the renamed remote's frozen server noticed in {drop['t'] - frozen:.2f} s (bound 5.5 s)")
    assert drop["t"] - frozen <= 1 + 3 + 1.5
    assert client.lines("remote[office]: no answer from the server within 3 seconds (heartbeat)", frozen)
    server.thaw()


def test_case2_rename_and_add_in_one_burst_keep_each_remote_its_own(lab):
    native = "/set relay.remote.srv.autoreconnect_delay 30"  # the user's native delay
    server, client = connected(lab, [*fast(3, 3), native])
    other_port = free_port()  # nothing listens there: an attempt of the new "srv" would fail
    since = time.monotonic()
    server.kill()
    client.wait_line("remote[srv]: reconnecting in 3 seconds (attempt 1)", since, 5)
    # one burst: the fifo reads both lines at once
    client.send(f"/remote rename srv old\n*/remote add srv http://127.0.0.1:{other_port} -password=x")
    client.wait_line('Remote relay "srv" created', since, 5)
    server = lab.server()
    # "old" is the remote that dropped: its attempt brings it back
    client.wait_line("remote[old]: WeeChat: ", since, 15)  # connected, and the remote answers
    assert not client.lines("remote[srv]: connecting", since)  # the new srv was never attempted
    assert "old: connected" in autoreconnect_line(client, "old")
    client.send("/save relay")
    client.wait_for(lambda: "old.autoreconnect_delay = 30" in (client.home / "relay.conf").read_text(), 5, "save")


def test_case3_reload_while_connected_lets_typed_text_through(lab):
    server = lab.server(extra=CHAN)
    client = lab.client(fast())
    since = connect_with_mirror(client)
    python_script(client, "reload", since)
    client.send("typed after the reload", buffer=MIRROR)
    server.wait_for(lambda: server.find(kind="input", buffer="python.chan", since=since), 5, "the line, at once")
    assert not client.lines("kept", since)

    def outbox_empty():  # the server's answer is seen at hook_url's next 100-ms timer
        asked = time.monotonic()
        client.send("/autoreconnect outbox")
        return "nothing queued" in client.wait_line("relay_autoreconnect: outbox: ", asked, 5)["message"]

    client.wait_for(outbox_empty, 5, "the outbox empty")
    assert [e["text"] for e in server.find(kind="input", buffer="python.chan", since=since)] == [
        "typed after the reload"
    ]


def test_case4_unload_drop_and_load_finds_the_link_down_and_brings_it_back(lab):
    native = "/set relay.remote.srv.autoreconnect_delay 0"  # WeeChat alone: no retry
    server, client = connected(lab, [*fast(), native])
    since = time.monotonic()
    python_script(client, "unload", since)
    server.kill()
    client.nth("signal", "disconnected", since)
    python_script(client, "load", since)
    line = autoreconnect_line(client, "srv")
    assert line.startswith("  srv: disconnected, attempt 1 in ") and line.endswith(", managed"), line
    server = lab.server()
    client.nth("signal", "connected", since, timeout=10)


def test_case5_a_handover_value_that_is_not_valid_gives_one_line_and_a_clean_start(lab):
    client = lab.client(fast())
    now = time.time()
    bad = [
        {"time": now, "remotes": {"srv": ["disconnected", True, "abc", 3.0]}},
        {"time": now, "remotes": {"srv": ["disconnected", True, None, 3.0]}},
        {"time": now, "remotes": {"srv": ["disconnected", True, 1, 1e308]}},
        {"time": now, "remotes": {"srv": ["disconnected", True, 1, "soon"]}},
        {"time": "then", "remotes": {}},
        {"time": now, "remotes": {"srv": ["sleeping", True, 1, None]}},
        {"time": now, "remotes": ["srv"]},
        "[" * 200000 + "]" * 200000,  # deeper than Python's recursion limit (a traceback before)
    ]
    for state in bad:
        since = time.monotonic()
        python_script(client, "unload", since)
        text = state if isinstance(state, str) else json.dumps(state)
        client.send(f"/buffer setvar relay_autoreconnect_state {text}")
        python_script(client, "load", since)
        told = client.wait_line("relay_autoreconnect: ignoring saved state: ", since, 5)
        assert len(client.lines("ignoring saved state", since)) == 1, state
        assert "Traceback" not in "".join(e["message"] for e in client.lines(since=since))
        client.send("/autoreconnect")
        client.wait_line("relay remote(s) (autoreconnect on)", since, 5)
        assert told["buffer"] == "core.weechat"


def test_case6_relay_plugin_unload_and_load_keep_what_the_user_wanted(lab):
    server = lab.server()
    down_port = free_port()  # nothing listens there: its remote waits between attempts
    client = lab.client([*fast(2, 2), f"/remote add down http://127.0.0.1:{down_port} -password=x"])
    client.connect_remote()
    since = time.monotonic()
    client.send("/remote connect down")
    client.wait_line("remote[down]: reconnecting in 2 seconds (attempt 1)", since, 5)
    client.send("/plugin unload relay")
    client.wait_line('Plugin "relay" unloaded', since, 5)
    back = time.monotonic()
    client.send("/plugin load relay")
    client.wait_line('Plugin "relay" loaded', since, 5)
    # the remote that was up comes back by itself, the one waiting keeps trying
    client.wait_for(lambda: client.lines("remote[srv]: connected to", back), 10, "srv reconnected")
    client.wait_for(lambda: client.lines("remote[down]: connecting to", back), 10, "down attempted")
    assert "managed" in autoreconnect_line(client, "down") and "not managed" not in autoreconnect_line(client, "srv")
    assert server.proc.poll() is None


def test_case7_auth_failures_in_a_row_are_consecutive_attempts(lab):
    server = lab.server()
    client = lab.client(fast(), password="Wr0ng-pa55word-e2e")
    since = time.monotonic()
    client.send("/remote connect srv")
    client.wait_line("remote[srv]: reconnecting in 1 second (attempt 1)", since, 5)  # after auth failure 1
    server.kill(signal.SIGKILL)
    # the next attempt is refused: a network failure, which ends the run of auth failures
    refused = client.wait_line("remote[srv]: reconnecting in 2 seconds (attempt 2)", since, 5)
    server = lab.server()
    client.wait_line("remote[srv]: reconnecting in 2 seconds (attempt 3)", refused["t"], 10)  # auth failure again
    assert not client.lines("authentication failed 2 times in a row", since)
