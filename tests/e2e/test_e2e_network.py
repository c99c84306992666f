# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: back the moment it can be — network changes, offline waits, TLS, lag.

The client and the server are hosts in two network namespaces the test
makes (tests/e2e/harness.py NetPair): the client's link goes down and up, an
address comes, and the script reads these changes from its netlink socket.
"""

from __future__ import annotations

import re
import time

import pytest
from helpers import autoreconnect_line, fast, heartbeat, killed_after_connect, statuses

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)


WAITING = "remote[srv]: no route to the server: waiting for the network"
BACK = "remote[srv]: the network is back: reconnecting now"
# the script's defaults made an attempt every 7 to 10 s while offline (4 lines each): at least 3 in this time;
# after the attempt that comes due (at most 10 s after the drop) nothing is planned, so more adds no proof
OFFLINE_SECONDS = 32.0


def about_remote(client, since: float, until: float):
    """Lines of the core buffer about the remote (WeeChat's and the script's) between two moments."""
    found = client.lines("remote[srv]", since)
    return [e["message"] for e in found if e["buffer"] == "core.weechat" and e["t"] < until]


def test_offline_with_the_defaults_makes_no_attempt_says_it_once_and_is_back_at_once(lab, net):
    """The server goes away, then the client's network for OFFLINE_SECONDS, every option of
    the script at its default: the attempt that comes due is not made (the kernel has no
    route), one line says the remote waits for the network; once the link is up, one line
    says it is back and the remote is connected within 3 s."""
    server = lab.server(net=net)
    client = lab.client(["/set relay.network.autoreconnect_jitter 30"], net=net)  # the default, too
    client.connect_remote()
    killed = time.monotonic()
    server.kill()
    client.wait_line("remote[srv]: reconnecting in ", killed, 5)  # the drop is decided: a network failure
    down = time.monotonic()
    net.link(False)
    lab.server(net=net)  # back at once, reachable only when the link is up
    client.wait_line(WAITING, down, 12)  # when the first attempt came due (7 to 10 s after the drop)
    assert "waiting for network, last failure: offline" in autoreconnect_line(client)
    client.assert_no_signal("connecting", down, max(0.0, down + OFFLINE_SECONDS - time.monotonic()))
    up = time.monotonic()
    net.link(True)
    connected = client.nth("signal", "connected", up, timeout=10)
    offline = about_remote(client, down, up)
    attempts = [e for e in statuses(client, "connecting", down) if e["t"] < up]
    print(f"offline {up - down:.1f} s: {len(attempts)} attempts, {len(offline)} lines about the remote")
    print(f"link up -> connected in {connected['t'] - up:.2f} s")
    assert len(offline) <= 3 and len([m for m in offline if WAITING in m]) == 1, offline
    assert connected["t"] - up < 3.0
    assert len(client.lines(BACK, down)) == 1


def test_offline_online_offline_each_change_is_said_once_and_offline_is_not_counted(lab, net):
    """The network goes while the link is up (the heartbeat finds it dead), comes back while
    the server is down (one attempt, refused: counted), goes again and comes back with the
    server: each change said once, no attempt while offline, no give-up at autoreconnect_max 2."""
    server = lab.server(net=net)
    client = lab.client([*fast(2, 2), *heartbeat(1, 1), "/set relay.network.autoreconnect_max 2"], net=net)
    client.connect_remote()
    cut = time.monotonic()
    net.link(False)  # no route to the server any more
    client.nth("signal", "disconnected", cut, timeout=6)
    client.wait_line(WAITING, cut, 5)
    server.kill()  # unseen by the client: its next attempt is refused
    client.assert_no_signal("connecting", cut, 5.0)  # the script before attempted every 2 s
    back = time.monotonic()
    net.link(True)
    client.wait_line(BACK, back, 5)
    client.wait_line("remote[srv]: reconnecting in 2 seconds (attempt 2/2)", back, 5)  # refused: attempt 1 counted
    cut_again = time.monotonic()
    net.link(False)
    client.wait_line(WAITING, cut_again, 5)  # attempt 2 came due: not made
    lab.server(net=net)
    client.assert_no_signal("connecting", cut_again, 2.0)
    up = time.monotonic()
    net.link(True)
    connected = client.nth("signal", "connected", up, timeout=10)
    print(f"link up -> connected in {connected['t'] - up:.2f} s")
    assert connected["t"] - up < 3.0
    assert [e["message"] for e in client.lines(since=cut) if WAITING in e["message"] or BACK in e["message"]] == [
        f"relay_autoreconnect: {text}" for text in (WAITING, BACK, WAITING, BACK)
    ]
    assert not client.lines("giving up", cut)


def test_without_the_watcher_the_route_is_checked_after_the_growing_delay_and_the_remote_comes_back(lab, net):
    """The kernel refuses the netlink socket (a sandbox): one line says network changes are not
    watched. Offline, the route to the server's address is looked up after the growing delay
    (1, 2, 4, 4 s): no attempt is made while there is none, nothing is counted; once the link
    is up, the next look-up finds the route and the remote comes back."""
    lab.server(net=net)
    client = lab.client(
        [*fast(1, 4), *heartbeat(1, 1), "/set relay.network.autoreconnect_max 1"], net=net, netlink=False
    )
    assert client.lines("network changes are not watched ([Errno 1] Operation not permitted)")
    client.connect_remote()
    cut = time.monotonic()
    net.link(False)
    client.nth("signal", "disconnected", cut, timeout=6)
    client.wait_line(f"{WAITING} (network changes are not watched: next try in 1 second, then further apart)", cut, 5)
    waits = set()
    deadline = time.monotonic() + 8.0  # look-ups at +1, +3, +7 s
    while time.monotonic() < deadline:
        found = re.search(r"waiting for network \(attempt 1 in ([0-9.]+) seconds?\)", autoreconnect_line(client))
        assert found, "not waiting for the network"
        waits.add(float(found.group(1)))
        assert not statuses(client, "connecting", cut), "an attempt while offline"
        time.sleep(0.5)
    assert max(waits) > 2.0, waits  # the delay grew (jitter 0: 1 s, then 2 s, then 4 s)
    up = time.monotonic()
    net.link(True)
    connected = client.nth("signal", "connected", up, timeout=10)
    print(f"link up -> connected in {connected['t'] - up:.2f} s (the next look-up at most 4 s away)")
    assert connected["t"] - up < 4.0 + 1.5
    assert len(client.lines(BACK, up)) == 1 and not client.lines("giving up", cut)


@pytest.mark.parametrize("netlink", [True, False], ids=["watched", "not-watched"])
def test_a_server_name_that_can_not_be_resolved_without_a_network_waits_uncounted(lab, net, netlink):
    """Offline with the server given by name: WeeChat can not resolve it, the machine
    has no default route (only the kernel's "unreachable" IPv6 one, in every
    namespace): the remote waits for the network, attempts are not counted. With the
    watcher no other attempt comes; without it, attempts follow the growing delay."""
    net.link(False)
    client = lab.client(
        [*fast(1, 8), "/set relay.network.autoreconnect_max 2"],
        net=net,
        address="relay-server.invalid",
        netlink=netlink,
    )
    since = time.monotonic()
    client.send("/remote connect srv")
    client.wait_line(WAITING, since, 10)
    if netlink:
        client.assert_no_signal("connecting", time.monotonic(), 4.0)  # the script before attempted every 1 s
        assert len(statuses(client, "connecting", since)) == 1  # the user's own
        retried = time.monotonic()
        client.send("/autoreconnect retry srv")
        client.nth("signal", "connecting", retried, timeout=2)  # at once, offline or not
    else:
        client.nth("signal", "connecting", since, n=3, timeout=20)  # the user's, then after 1, 2 and 4 s
        times = [e["t"] for e in statuses(client, "connecting", since)][:4]
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        print("gaps between attempts: " + ", ".join(f"{gap:.2f} s" for gap in gaps))
        assert gaps[1] > gaps[0] + 0.5 and gaps[2] > gaps[0] + 2.0, gaps
    client.wait_for(lambda: "waiting for network" in autoreconnect_line(client), 5, "waiting for network")
    assert not client.lines("giving up", since) and len(client.lines(WAITING, since)) == 1
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
