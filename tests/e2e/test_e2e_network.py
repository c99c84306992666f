# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: back the moment it can be — network changes, offline waits, TLS, lag.

The client and the server are hosts in two network namespaces the test
makes (tests/e2e/harness.py NetPair): the client's link goes down and up, an
address comes, and the script reads these changes from its netlink socket.
"""

from __future__ import annotations

import time

import pytest
from helpers import autoreconnect_line, fast, heartbeat, killed_after_connect, statuses

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)


def test_offline_attempts_wait_for_the_network_uncounted_and_the_link_is_back_when_it_is(lab, net):
    lab.server(net=net)
    client = lab.client([*fast(2, 2), *heartbeat(1, 1), "/set relay.network.autoreconnect_max 2"], net=net)
    client.connect_remote()
    cut = time.monotonic()
    net.link(False)  # no route to the server any more
    client.nth("signal", "disconnected", cut, timeout=6)  # the heartbeat finds the link dead
    client.nth("signal", "connecting", cut, n=2, timeout=15)  # three attempts: more than autoreconnect_max
    client.wait_for(lambda: "waiting for network (attempt 1 in " in autoreconnect_line(client), 5, "offline")
    assert not client.lines("giving up", cut)
    up = time.monotonic()
    net.link(True)
    connected = client.nth("signal", "connected", up, timeout=10)
    print(f"link up -> connected in {connected['t'] - up:.2f} s")
    assert connected["t"] - up < 2.0  # the delay was 2 s: the network change brought it sooner
    assert client.lines("remote[srv]: the network changed: reconnecting now", up)


def test_a_server_name_that_can_not_be_resolved_without_a_network_waits_uncounted(lab, net):
    """Offline with the server given by name: WeeChat can not resolve it, the machine
    has no default route (only the kernel's "unreachable" IPv6 one, in every
    namespace): attempts wait for the network and are not counted."""
    net.link(False)
    client = lab.client(
        [*fast(2, 2), "/set relay.network.autoreconnect_max 2"], net=net, address="relay-server.invalid"
    )
    since = time.monotonic()
    client.send("/remote connect srv")
    client.nth("signal", "connecting", since, n=3, timeout=20)  # four attempts: more than autoreconnect_max
    client.wait_for(lambda: "waiting for network (attempt " in autoreconnect_line(client), 5, "offline")
    assert not client.lines("giving up", since)
    assert client.lines("remote[srv]: handshake failed with URL http://relay-server.invalid:", since)


def test_a_new_address_makes_a_waiting_remote_check_its_server_at_once(lab, net):
    client, since = killed_after_connect(
        lab, ["/set relay.network.autoreconnect_delay 60", "/set relay.network.autoreconnect_poll 0"], net
    )
    client.wait_line("remote[srv]: reconnecting in 1 minute (attempt 1)", since, 5)
    lab.server(net=net)  # back, but the next attempt is a minute away and polls are off
    changed = time.monotonic()
    net.add_address()
    connected = client.nth("signal", "connected", since, timeout=10)
    print(f"address added -> connected in {connected['t'] - changed:.2f} s")
    assert connected["t"] - changed < 3.0
    assert client.lines("remote[srv]: the server answers again: reconnecting now", changed)


def test_tls_failures_stop_after_two_and_a_network_change_tries_again(lab, net, tls_pem):
    lab.server(net=net, tls_pem=tls_pem)
    client = lab.client(["/set relay.network.autoreconnect_delay 1"], net=net, scheme="https")
    since = time.monotonic()
    client.send("/remote connect srv")
    client.wait_line("remote[srv]: TLS failed 2 times in a row with 10.231.0.1", since, 15)
    assert len(statuses(client, "connecting", since)) == 2
    changed = time.monotonic()
    net.add_address()  # a new network (a captive portal gone, say)
    client.wait_line("remote[srv]: the network changed: reconnecting now", changed, 5)
    client.nth("signal", "connecting", changed, timeout=5)


def test_lag_is_shown_and_lag_max_drops_a_link_that_stays_slow(lab):
    server = lab.server()
    client = lab.client(
        [
            *fast(2, 2),
            *heartbeat(1, 10),
            "/set relay.network.autoreconnect_lag_show 1",
        ]
    )
    client.connect_remote()
    deadline = time.monotonic() + 15
    while "connected, lag " not in autoreconnect_line(client):
        assert time.monotonic() < deadline, "no lag shown"
        server.freeze()  # a slow server: a check in flight waits until it thaws
        time.sleep(1.6)
        server.thaw()
    since = time.monotonic()
    client.send("/set relay.network.autoreconnect_lag_max 1")
    deadline = time.monotonic() + 20
    while not client.signals(since) and time.monotonic() < deadline:
        server.freeze()  # pauses of 1.5 s: every check takes longer than 1 s
        time.sleep(1.5)
        server.thaw()
        time.sleep(0.1)
    drop = client.nth("signal", "disconnected", since, timeout=1)
    assert client.lines("above 1 second for 2 checks (autoreconnect_lag_max): disconnecting", since)
    print(f"slow link dropped {drop['t'] - since:.1f} s after lag_max was set")
