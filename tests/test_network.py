# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Back the moment it can be: network changes, offline waits, TLS failures, lag (core and shell)."""

from __future__ import annotations

import binascii
import struct
from pathlib import Path

import pytest

import relay_autoreconnect as ra
from relay_autoreconnect import (
    STATUS_CONNECTED,
    STATUS_CONNECTING,
    STATUS_DISCONNECTED,
    Engine,
    GiveUp,
    NetworkBack,
    PollAt,
    Schedule,
    Settings,
)

RECORDED = {
    line.split()[0]: binascii.unhexlify(line.split()[1])
    for line in (Path(__file__).parent / "data" / "netlink_recorded.txt").read_text().splitlines()
    if line and not line.startswith("#")
}

# -- parsers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "gained"),
    [("setup", False), ("up", True), ("addr", True), ("route", True), ("down", False), ("deladdr", False)],
)
def test_recorded_netlink_messages(label, gained):
    assert ra.netlink_gains(RECORDED[label]) is gained


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 15,  # shorter than a header
        struct.pack("=IHHII", 8, ra.RTM_NEWADDR, 0, 0, 0),  # a length below the header's
        struct.pack("=IHHII", 400, ra.RTM_NEWADDR, 0, 0, 0),  # a length past the data
        RECORDED["up"][:37],  # cut in the middle of a message
    ],
)
def test_a_malformed_netlink_message_is_ignored(data):
    assert ra.netlink_gains(data) is False


def test_a_good_message_before_a_malformed_one_counts():
    assert ra.netlink_gains(RECORDED["addr"] + b"\x01\x02\x03") is True


def route_message(kind, flags=0, length=16):
    return struct.pack("=HBBii", length, 5, kind, 0, flags) + b"\x00" * (length - 12)


@pytest.mark.parametrize(
    ("data", "gained"),
    [
        (route_message(ra.RTM_IFINFO, ra.IFF_UP | ra.IFF_RUNNING), True),
        (route_message(ra.RTM_IFINFO, ra.IFF_UP), False),
        (route_message(ra.RTM_ADD), True),
        (route_message(ra.RTM_NEWADDR_BSD), True),
        (route_message(2), False),  # RTM_DELETE
        (route_message(ra.RTM_ADD)[:10], False),
        (struct.pack("=HBB", 2, 5, ra.RTM_ADD), False),
    ],
)
def test_routing_socket_messages(data, gained):
    assert ra.route_socket_gains(data) is gained


# route tables as /proc/net shows them, recorded on this project's machines
ROUTE4_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
ROUTE4_DEFAULT = "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
ROUTE4_LAN = "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
ROUTE4_UNREACHABLE = "*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n"  # ip route add unreachable default
ZERO = "0" * 32
ROUTE6_DEFAULT = f"{ZERO} 00 {ZERO} 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
ROUTE6_LAN = f"fd000000000000000000000000000000 40 {ZERO} 00 {ZERO} 00000100 00000001 00000000 00000001     eth0\n"
ROUTE6_LOOPBACK = f"{ZERO[:-1]}1 80 {ZERO} 00 {ZERO} 00000000 00000002 00000000 80200001       lo\n"
ROUTE6_REJECT = f"{ZERO} 00 {ZERO} 00 {ZERO} ffffffff 00000001 00000000 00200200       lo\n"  # in every namespace


@pytest.mark.parametrize(
    ("ipv4", "ipv6", "found"),
    [
        (ROUTE4_DEFAULT + ROUTE4_LAN, ROUTE6_LAN + ROUTE6_DEFAULT + ROUTE6_REJECT, True),  # a machine on a network
        (ROUTE4_DEFAULT, "", True),
        ("", ROUTE6_LAN + ROUTE6_DEFAULT, True),  # IPv6 only
        ("", ROUTE6_LOOPBACK + ROUTE6_REJECT + ROUTE6_REJECT, False),  # a namespace with only lo: no network
        (ROUTE4_LAN, ROUTE6_LAN + ROUTE6_REJECT, False),  # a LAN and no way out
        (ROUTE4_UNREACHABLE, ROUTE6_REJECT, False),
        ("", "", False),
        ("garbage\n00000000", "short line\n" + ZERO + " 00 x", False),
    ],
)
def test_default_route_read_from_the_route_tables(ipv4, ipv6, found):
    assert ra.default_route_in(ROUTE4_HEADER + ipv4, ipv6) is found


# -- core --------------------------------------------------------------------------------


def engine(**settings):
    e = Engine(Settings(jitter=0, connect_timeout=0, **settings))
    e.status_changed("r", STATUS_CONNECTING, 0.0)
    e.status_changed("r", STATUS_CONNECTED, 0.0)
    return e


def offline_drop(e, now):
    e.status_changed("r", STATUS_DISCONNECTED, now)
    e.offline("r")
    return e.settle()


def test_offline_attempts_are_not_counted_and_the_delay_does_not_grow():
    e = engine(delay=10, max_attempts=2, poll=15)
    assert offline_drop(e, 100.0) == [Schedule("r", 110.0, 10, 1, 2)]  # no poll: nothing to reach
    for now in (110.0, 120.0, 130.0, 140.0):
        assert e.timer_fired("r", now) == [ra.Connect("r")]
        e.status_changed("r", STATUS_CONNECTING, now)
        assert offline_drop(e, now) == [Schedule("r", now + 10, 10, 1, 2)]  # attempt 1 again, never gives up
    assert "waiting for network (attempt 1 in 10 seconds)" in ra.describe(e, e.remotes["r"], 140.0)


def test_a_drop_taken_for_offline_that_reached_the_server_counts_and_may_give_up():
    e = engine(delay=10, max_attempts=2, poll=0)
    e.failure_said("r", ra.FAILURE_NETWORK, "response code: 0")
    assert offline_drop(e, 100.0) == [Schedule("r", 110.0, 10, 1, 2)]
    assert e.online_found("r") == []  # the address was reached: attempt 1 of 2 counted
    assert (e.remotes["r"].failure, e.remotes["r"].attempt) == (ra.FAILURE_NETWORK, 1)
    assert "attempt 2/2 in 10 seconds" in ra.describe(e, e.remotes["r"], 100.0)
    assert e.online_found("r") == []  # said once: not counted twice
    assert e.timer_fired("r", 110.0) == [ra.Connect("r")]
    e.status_changed("r", STATUS_CONNECTING, 110.0)
    e.failure_said("r", ra.FAILURE_NETWORK, "response code: 0")
    offline_drop(e, 110.0)
    assert e.online_found("r") == [ra.Cancel("r", False), GiveUp("r", 2)]  # the cap
    assert e.online_found("r") == []


def test_a_network_change_brings_the_offline_remote_at_once_and_polls_the_others():
    e = engine(delay=60, poll=15)
    e.remote_add("n", STATUS_DISCONNECTED)
    e.status_changed("n", STATUS_CONNECTING, 0.0)
    e.status_changed("n", STATUS_CONNECTED, 0.0)
    offline_drop(e, 100.0)
    e.status_changed("n", STATUS_DISCONNECTED, 100.0)  # a network failure (server down)
    e.settle()
    assert e.network_changed(105.0) == [
        NetworkBack("r"),
        Schedule("r", 105.0, 60, 1, 0, True),
        PollAt("n", 105.0),
    ]


def tls_failure(e, now):
    e.status_changed("r", STATUS_CONNECTING, now)
    e.failure_said("r", ra.FAILURE_TLS, "SSL certificate problem: self-signed certificate")
    e.status_changed("r", STATUS_DISCONNECTED, now)
    return e.settle()


def test_tls_failures_stop_after_two_in_a_row_and_a_network_change_starts_over():
    e = engine(delay=1)
    e.status_changed("r", STATUS_DISCONNECTED, 10.0)
    e.settle()
    e.timer_fired("r", 11.0)
    assert tls_failure(e, 11.0) == [Schedule("r", 13.0, 2, 2, 0)]  # TLS 1 (after a network drop)
    e.timer_fired("r", 13.0)
    assert tls_failure(e, 13.0) == [GiveUp("r", 2, ra.FAILURE_TLS, "SSL certificate problem: self-signed certificate")]
    assert e.network_changed(20.0) == [NetworkBack("r"), Schedule("r", 20.0, 0.0, 1, 0)]


def test_lag_is_measured_shown_and_two_checks_above_lag_max_drop_the_link():
    e = engine(heartbeat=10, lag_show=1, lag_max=3)
    e.heartbeat(10.0)
    assert e.probe_answered("r", True, 10.4) == []
    assert e.remotes["r"].lag == pytest.approx(0.4)
    assert "lag" not in ra.describe(e, e.remotes["r"], 11.0) and ra.bar_text(e, 11.0) == ""
    e.heartbeat(20.0)
    assert e.probe_answered("r", True, 24.0) == []  # 4 s: one check above 3 s
    assert "connected, lag 4 seconds" in ra.describe(e, e.remotes["r"], 25.0)
    assert ra.bar_text(e, 25.0) == "r lag 4.0s"
    e.heartbeat(30.0)
    assert e.probe_answered("r", True, 30.5) == []  # back under: the run ends
    e.heartbeat(40.0)
    e.probe_answered("r", True, 45.0)
    e.heartbeat(50.0)
    (drop,) = e.probe_answered("r", True, 56.0)
    assert drop == ra.DropLink("r", "lag 6 seconds above 3 seconds for 2 checks (autoreconnect_lag_max)")


def test_failure_lines_of_weechat_classify_tls_and_network():
    tls = "remote[r]: handshake failed with URL https://h:9000, error: SSL certificate problem: self-signed certificate"
    refused = (
        "remote[r]: handshake failed with URL http://h:9000, error: Failed to connect to h port 9000: Couldn't ..."
    )
    assert ra.failure_from_line(tls) == ("r", ra.FAILURE_TLS, "SSL certificate problem: self-signed certificate")
    assert ra.failure_from_line(refused)[1] == ra.FAILURE_NETWORK


# -- shell -------------------------------------------------------------------------------


class FakeSocket:
    """Stands for the netlink socket: messages to read, then nothing (EAGAIN)."""

    def __init__(self, *messages):
        self.messages = list(messages)

    def recv(self, _size):
        if self.messages:
            return self.messages.pop(0)
        raise BlockingIOError

    def close(self):
        self.messages = []


def test_a_network_change_is_debounced_and_acted_on(sim, load, mocker):
    load(autoreconnect_delay=60)
    sim.user("/remote connect home")
    sim.accept("home")
    sim.advance(100)
    mocker.patch.object(ra, "route_to", return_value=False)  # this machine lost its route
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1].endswith("remote[home]: reconnecting in 1 minute (attempt 1)")
    watch = ra.SHELL.netwatch
    watch.sock = FakeSocket(RECORDED["down"], RECORDED["up"], RECORDED["route"])
    watch.readable()
    assert len(sim.connects("home")) == 1
    sim.advance(0.31)  # 300 ms after the burst (and the attempt 1 ms later)
    assert sim.lines("the network changed: reconnecting now")
    assert len(sim.connects("home")) == 2


def test_a_socket_that_can_not_be_opened_costs_one_line(sim, load, mocker):
    mocker.patch.object(ra.socket, "socket", side_effect=PermissionError(1, "Operation not permitted"))
    load()
    sim.set_option("relay.network.autoreconnect_network_events", "off")
    sim.set_option("relay.network.autoreconnect_network_events", "on")
    assert sim.lines("network changes are not watched") == [
        "=!=\trelay_autoreconnect: network changes are not watched ([Errno 1] Operation not permitted); "
        "relay.network.autoreconnect_network_events"
    ]
    assert not [h for h in sim.hooks() if h.kind == "fd"]


def test_network_events_off_close_the_socket(sim, load):
    load()
    assert [h for h in sim.hooks() if h.kind == "fd"]
    sim.set_option("relay.network.autoreconnect_network_events", "off")
    assert not [h for h in sim.hooks() if h.kind == "fd"] and ra.SHELL.netwatch.sock is None


def failed_unsaid(sim, url, name="home"):
    """An attempt of the remote fails as WeeChat 4.10 says it: no reason."""
    sim.status(name, "connecting")
    ra.weechat.prnt("", f"remote[{name}]: handshake failed with URL {url}, response code: 0")
    sim.drop(name)
    sim.settle()


def test_weechat_4_10_does_not_say_why_https_failed_the_script_asks_and_finds_tls(sim, load):
    sim.set_option("relay.remote.home.url", "https://127.0.0.1:9000")
    load(autoreconnect_delay=1)
    sim.user("/remote connect home")
    for attempt in (1, 2):
        failed_unsaid(sim, "https://127.0.0.1:9000")
        (ask,) = sim.state.of_kind("connect")  # a TCP connection to the server: it is taken
        assert (ask.address, ask.port) == ("127.0.0.1", 9000)
        sim.state.remove_hook(ask.pointer)
        ra.diagnose_cb(ask.data, ra.weechat.WEECHAT_HOOK_CONNECT_OK, 0, -1, "127.0.0.1", "")
        if attempt == 1:
            assert "last failure: tls (TLS handshake failed" in ra.describe(
                ra.SHELL.engine, ra.SHELL.engine.remotes["home"], sim.clock()
            )
            sim.advance(1)
    assert sim.lines("TLS failed 2 times in a row with 127.0.0.1 (TLS handshake failed (the server takes TCP")
    assert sim.timers("attempt_timer_cb") == []
    sim.advance(60)
    assert len(sim.connects("home")) == 2


def test_a_refused_tcp_connection_is_not_tls(sim, load):
    sim.set_option("relay.remote.home.url", "https://127.0.0.1:9000")
    load(autoreconnect_delay=1)
    sim.user("/remote connect home")
    failed_unsaid(sim, "https://127.0.0.1:9000")
    (ask,) = sim.state.of_kind("connect")
    sim.state.remove_hook(ask.pointer)
    ra.diagnose_cb(ask.data, ra.weechat.WEECHAT_HOOK_CONNECT_CONNECTION_REFUSED, 0, -1, "", "refused")
    assert ra.SHELL.engine.remotes["home"].failure == ra.FAILURE_NETWORK


def test_weechat_4_10_a_name_not_resolved_with_no_default_route_waits_for_the_network(sim, load, mocker):
    """4.10 says "response code: 0" for a name it could not resolve too: with no
    default route the drop is taken for offline, and the script asks to be sure."""
    mocker.patch.object(ra, "default_route", return_value=False)
    sim.set_option("relay.remote.home.url", "http://relay.example:9000")
    load(autoreconnect_delay=1, autoreconnect_max=2)
    sim.user("/remote connect home")
    remote = ra.SHELL.engine.remotes["home"]
    weechat = ra.weechat
    for answer in (weechat.WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND, weechat.WEECHAT_HOOK_CONNECT_IP_ADDRESS_NOT_FOUND):
        failed_unsaid(sim, "http://relay.example:9000")
        (ask,) = sim.state.of_kind("connect")
        assert (ask.address, ask.port) == ("relay.example", 9000)
        sim.state.remove_hook(ask.pointer)
        ra.diagnose_cb(ask.data, answer, 0, -1, "", "")
        assert (remote.failure, remote.attempt) == (ra.FAILURE_OFFLINE, 0)
        assert "waiting for network (attempt 1 in 1 second)" in ra.describe(ra.SHELL.engine, remote, sim.clock())
        sim.advance(1)
    failed_unsaid(sim, "http://relay.example:9000")  # the name resolves, the server refuses: it counts
    (ask,) = sim.state.of_kind("connect")
    sim.state.remove_hook(ask.pointer)
    ra.diagnose_cb(ask.data, ra.weechat.WEECHAT_HOOK_CONNECT_CONNECTION_REFUSED, 0, -1, "", "refused")
    assert (remote.failure, remote.attempt) == (ra.FAILURE_NETWORK, 1)
    assert not sim.lines("giving up")


def test_with_a_default_route_an_unsaid_failure_of_a_name_counts_at_once(sim, load, mocker):
    mocker.patch.object(ra, "default_route", return_value=True)
    sim.set_option("relay.remote.home.url", "http://relay.example:9000")
    load(autoreconnect_delay=1)
    sim.user("/remote connect home")
    remote = ra.SHELL.engine.remotes["home"]
    for _ in range(2):  # the user's attempt, then the script's first
        failed_unsaid(sim, "http://relay.example:9000")
        assert not sim.state.of_kind("connect")  # http: nothing to ask
        assert remote.failure == ra.FAILURE_NETWORK
        sim.advance(1)
    assert remote.attempt == 1  # counted


def test_an_unsaid_reason_that_is_not_tls_changes_nothing():
    e = engine(delay=1)
    e.failure_said("r", ra.FAILURE_NETWORK, "response code: 0")
    e.status_changed("r", STATUS_DISCONNECTED, 10.0)
    e.settle()
    assert e.tls_found("x", "y") == [] and e.remotes["r"].failure == ra.FAILURE_NETWORK
