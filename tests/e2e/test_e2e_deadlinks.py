# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: links that die without closing, and servers that never answer."""

from __future__ import annotations

import time

import pytest
from fakes import SilentListener, StallingRelay
from helpers import connected, fast, heartbeat, own_lines, statuses

HEARTBEAT, TIMEOUT = 2, 1
SETTINGS = [*heartbeat(HEARTBEAT, TIMEOUT), *fast()]
BOUND = HEARTBEAT + TIMEOUT + 1  # seconds to notice a dead link
CONNECT_TIMEOUT = [*SETTINGS, "/set relay.network.autoreconnect_connect_timeout 2"]


@pytest.mark.newest
def test_heartbeats_are_silent_on_both_sides_and_a_frozen_server_is_noticed(lab):
    server, client = connected(lab, SETTINGS)
    quiet = time.monotonic()
    # three heartbeats reach the server (each probe is a relay client there)
    server.nth("client_signal", "disconnected", quiet, n=2, timeout=4 * HEARTBEAT + 2)
    assert own_lines(client, quiet) == []
    assert own_lines(server, quiet) == []
    frozen = time.monotonic()
    server.freeze()
    drop = client.nth("signal", "disconnected", frozen, timeout=BOUND + 5)
    detection = drop["t"] - frozen
    print(f"frozen server noticed in {detection:.2f} s (bound {BOUND} s)")
    assert detection <= BOUND
    assert client.lines("no answer from the server within 1 second (heartbeat): disconnecting", frozen)
    server.thaw()
    client.nth("signal", "connected", frozen, timeout=20)


def test_blackholed_network_is_noticed_and_the_link_comes_back(lab, net):
    lab.server(net=net)
    client = lab.client(SETTINGS, net=net)
    client.connect_remote()
    cut = time.monotonic()
    net.blackhole(True)
    drop = client.nth("signal", "disconnected", cut, timeout=BOUND + 5)
    print(f"blackholed link noticed in {drop['t'] - cut:.2f} s (bound {BOUND} s)")
    assert drop["t"] - cut <= BOUND
    net.blackhole(False)
    client.nth("signal", "connected", cut, timeout=20)


def test_half_open_link_after_a_server_restart_is_noticed(lab, net):
    server = lab.server(net=net)
    client = lab.client([*SETTINGS, "/set relay.network.autoreconnect_heartbeat 4"], net=net)
    client.connect_remote()
    cut = time.monotonic()
    net.blackhole(True)
    server.kill()  # its FIN is lost ...
    net.replace_server_host()  # ... and the new host knows nothing of the old link
    lab.server(net=net)
    healed = time.monotonic()
    assert not statuses(client, "disconnected", cut)  # still "connected"
    drop = client.nth("signal", "disconnected", cut, timeout=4 + TIMEOUT + 5)
    print(f"half-open link noticed {drop['t'] - healed:.2f} s after traffic flowed again")
    assert drop["t"] - healed <= 4 + TIMEOUT + 1
    assert not client.lines("(heartbeat): disconnecting", cut)  # the server answers: the in-band ping did it
    client.nth("signal", "connected", drop["t"], timeout=20)


def attempt(lab):
    """A client (connect timeout 2 s) starts an attempt, to the fake server on the lab's port; returns it and
    the moment just before."""
    client = lab.client(CONNECT_TIMEOUT)
    since = time.monotonic()
    client.send("/remote connect srv")
    return client, since


def test_listener_that_never_answers_is_dropped_and_backoff_continues(lab):
    with SilentListener(lab.port):
        client, since = attempt(lab)
        first = client.nth("signal", "connecting", since)
        drop = client.nth("signal", "disconnected", since, timeout=10)
        print(f"silent listener: attempt dropped {drop['t'] - first['t']:.2f} s after it started (bound 6 s)")
        # nothing to close while connecting: WeeChat's own 5-s handshake timeout ends it
        assert drop["t"] - first["t"] <= 5 + 1
        client.wait_line("reconnecting in 2 seconds (attempt 2)", since, 20)


def test_authentication_that_never_ends_is_dropped_after_the_connect_timeout(lab):
    with StallingRelay(lab.port):
        client, since = attempt(lab)
        connecting = client.nth("signal", "connecting", since)
        client.nth("signal", "waiting_auth", since)
        drop = client.nth("signal", "disconnected", since, timeout=10)
        print(f"stuck authentication dropped {drop['t'] - connecting['t']:.2f} s after the attempt started")
        context = [e.get("status") or e.get("message") for e in client.poll() if e["t"] >= since]
        assert abs(drop["t"] - connecting["t"] - 2) <= 0.5, context  # precision: bench/deadlines.py (timeout)
        assert client.lines("no answer within 2 seconds while authenticating: disconnecting", since)
        client.wait_line("reconnecting in 1 second (attempt 1)", since, 5)
        client.nth("signal", "waiting_auth", since, n=1, timeout=10)
        client.wait_line("reconnecting in 2 seconds (attempt 2)", since, 10)
