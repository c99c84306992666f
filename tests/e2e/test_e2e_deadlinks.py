# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: links that die without closing, and servers that never answer."""

from __future__ import annotations

import time

import pytest
from fakes import SilentListener, StallingRelay

HEARTBEAT, TIMEOUT = 2, 1
SETTINGS = [
    f"/set relay.network.autoreconnect_heartbeat {HEARTBEAT}",
    f"/set relay.network.autoreconnect_heartbeat_timeout {TIMEOUT}",
    "/set relay.network.autoreconnect_delay 1",
    "/set relay.network.autoreconnect_delay_max 2",
]
BOUND = HEARTBEAT + TIMEOUT + 1  # seconds to notice a dead link


def own_lines(instance, since):
    """Lines printed in the instance's own buffers (not mirrors of the server)."""
    return [e["message"] for e in instance.lines(since=since) if not e["buffer"].startswith("relay.remote.")]


@pytest.mark.newest
def test_heartbeats_are_silent_on_both_sides_and_a_frozen_server_is_noticed(lab):
    server = lab.server()
    client = lab.client(SETTINGS)
    client.connect_remote()
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
    assert not [e for e in client.signals(cut) if e["status"] == "disconnected"]  # still "connected"
    drop = client.nth("signal", "disconnected", cut, timeout=4 + TIMEOUT + 5)
    print(f"half-open link noticed {drop['t'] - healed:.2f} s after traffic flowed again")
    assert drop["t"] - healed <= 4 + TIMEOUT + 1
    assert not client.lines("(heartbeat): disconnecting", cut)  # the server answers: the in-band ping did it
    client.nth("signal", "connected", drop["t"], timeout=20)


def test_listener_that_never_answers_is_dropped_and_backoff_continues(lab):
    listener = SilentListener(lab.port)
    try:
        client = lab.client([*SETTINGS, "/set relay.network.autoreconnect_connect_timeout 2"])
        since = time.monotonic()
        client.send("/remote connect srv")
        first = client.nth("signal", "connecting", since)
        drop = client.nth("signal", "disconnected", since, timeout=10)
        # nothing to close while connecting: WeeChat's own 5-s handshake timeout ends it
        assert drop["t"] - first["t"] <= 5 + 1
        client.wait_line("reconnecting in 2 seconds (attempt 2)", since, 20)
    finally:
        listener.close()


def test_authentication_that_never_ends_is_dropped_after_the_connect_timeout(lab):
    relay = StallingRelay(lab.port)
    try:
        client = lab.client([*SETTINGS, "/set relay.network.autoreconnect_connect_timeout 2"])
        since = time.monotonic()
        client.send("/remote connect srv")
        connecting = client.nth("signal", "connecting", since)
        client.nth("signal", "waiting_auth", since)
        drop = client.nth("signal", "disconnected", since, timeout=10)
        print(f"stuck authentication dropped {drop['t'] - connecting['t']:.2f} s after the attempt started")
        context = [e.get("status") or e.get("message") for e in client.poll() if e["t"] >= since]
        assert abs(drop["t"] - connecting["t"] - 2) <= 0.2, context
        assert client.lines("no answer within 2 seconds while authenticating: disconnecting", since)
        client.wait_line("reconnecting in 1 second (attempt 1)", since, 5)
        client.nth("signal", "waiting_auth", since, n=1, timeout=10)
        client.wait_line("reconnecting in 2 seconds (attempt 2)", since, 10)
    finally:
        relay.close()
