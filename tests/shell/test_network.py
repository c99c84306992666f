# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Back the moment it can be: network changes, offline waits, TLS failures, lag (core and shell)."""

from __future__ import annotations

import errno

import pytest
from shared import NETLINK

import relay_autoreconnect as ra

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


@pytest.fixture
def lost(sim, load, mocker):
    """lost(**values): the script loaded with these values (autoreconnect_delay 60 unless given),
    "home" connected, then its link drops and the kernel has no route to its server left
    (settled). Returns the patched kernel_route (set its return_value)."""

    def lose(**values):
        kernel = mocker.patch.object(ra, "kernel_route", return_value=True)
        load(**{"autoreconnect_delay": 60, **values})
        sim.user("/remote connect home")
        sim.accept("home")
        sim.advance(100)
        kernel.return_value = False  # this machine lost its route
        sim.drop("home")
        sim.settle()
        return kernel

    return lose


def test_a_network_change_is_debounced_and_acted_on(sim, lost):
    kernel = lost()
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: no route to the server: waiting for the network"
    assert sim.timers("attempt_timer_cb") == []
    watch = ra.SHELL.netwatch
    watch.sock = FakeSocket(NETLINK["down"], NETLINK["up"], NETLINK["route"])
    kernel.return_value = True
    watch.readable()
    assert len(sim.connects("home")) == 1
    sim.advance(0.31)  # 300 ms after the burst (and the attempt 1 ms later)
    assert sim.lines("remote[home]: the network is back: reconnecting now")
    assert len(sim.connects("home")) == 2


def test_an_hour_offline_makes_no_attempt_and_says_it_once(sim, lost):
    lost()
    before = len(sim.lines())
    sim.advance(3600)
    assert len(sim.connects("home")) == 1 and len(sim.lines()) == before  # no attempt, no line
    assert not [h for h in sim.probes() if h.callback == "poll_url_cb"]  # no poll either: nothing to reach
    assert sim.bar_item() == "home waiting for network"
    sim.user("/autoreconnect")
    assert sim.lines()[-1] == "  home: disconnected, waiting for network, last failure: offline, managed"
    sim.user("/autoreconnect cancel home")
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: auto-reconnection cancelled"


def test_a_network_change_without_a_route_to_the_server_brings_nothing(sim, lost):
    lost()
    watch = ra.SHELL.netwatch
    watch.sock = FakeSocket(NETLINK["up"])  # another link came up, the server's address is still unreachable
    watch.readable()
    sim.advance(1)
    assert len(sim.connects("home")) == 1 and not sim.lines("network is back")


def test_an_overrun_of_the_socket_is_taken_as_a_change(sim, lost):
    kernel = lost()

    class Overrun(FakeSocket):
        def recv(self, _size):
            raise OSError(errno.ENOBUFS, "No buffer space available")  # messages were lost

    ra.SHELL.netwatch.sock = Overrun()
    kernel.return_value = True
    ra.SHELL.netwatch.readable()
    sim.advance(0.31)
    assert len(sim.connects("home")) == 2


def test_network_changes_not_watched_the_route_is_checked_at_growing_intervals(sim, lost, mocker):
    """The netlink socket refused: safety checks after the growing delay (10, 20, 40 s...),
    for an address a route lookup and no attempt; the attempt comes once there is a route."""
    mocker.patch.object(ra.socket, "socket", side_effect=PermissionError(1, "Operation not permitted"))
    kernel = lost(autoreconnect_delay=10)
    assert sim.lines()[-1] == (
        "--\trelay_autoreconnect: remote[home]: no route to the server: waiting for the network (network "
        "changes are not watched: next try in 10 seconds, then further apart)"
    )
    dues = []
    for _ in range(4):
        (timer,) = sim.timers("attempt_timer_cb")
        dues.append(round(timer.due - sim.clock()))
        sim.advance(timer.due - sim.clock())
    assert dues == [10, 20, 40, 80] and len(sim.connects("home")) == 1
    kernel.return_value = True
    (timer,) = sim.timers("attempt_timer_cb")
    sim.advance(timer.due - sim.clock())
    assert sim.lines("the network is back: reconnecting now") and len(sim.connects("home")) == 2
    assert ra.SHELL.engine.remotes["home"].number == 1  # only this attempt counts


def test_network_events_turned_off_while_waiting_for_the_network_bring_a_safety_attempt(sim, lost):
    lost(autoreconnect_delay=10)
    assert sim.timers("attempt_timer_cb") == []
    sim.set_option("relay.network.autoreconnect_network_events", "off")
    (timer,) = sim.timers("attempt_timer_cb")
    assert round(timer.due - sim.clock()) == 10


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
        sim.answer_connect(ask, ra.weechat.WEECHAT_HOOK_CONNECT_OK, ip_address="127.0.0.1")
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
    sim.answer_connect(ask, ra.weechat.WEECHAT_HOOK_CONNECT_CONNECTION_REFUSED)
    assert ra.SHELL.engine.remotes["home"].kind == ra.FAILURE_NETWORK


def test_weechat_4_10_a_name_not_resolved_with_no_default_route_waits_for_the_network(sim, load, mocker):
    """4.10 says "response code: 0" for a name it could not resolve too: with no
    default route the drop is taken for offline, and the script asks to be sure.
    Network changes not watched here: safety attempts after the growing delay."""
    mocker.patch.object(ra, "default_route", return_value=False)
    sim.set_option("relay.remote.home.url", "http://relay.example:9000")
    load(autoreconnect_delay=1, autoreconnect_max=2, autoreconnect_network_events="off")
    sim.user("/remote connect home")
    remote = ra.SHELL.engine.remotes["home"]
    weechat = ra.weechat
    for wait, answer in (
        (1, weechat.WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND),
        (2, weechat.WEECHAT_HOOK_CONNECT_IP_ADDRESS_NOT_FOUND),
        (4, weechat.WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND),
    ):
        failed_unsaid(sim, "http://relay.example:9000")
        (ask,) = sim.state.of_kind("connect")
        assert (ask.address, ask.port) == ("relay.example", 9000)
        sim.answer_connect(ask, answer, error="Name or service not known")
        assert (remote.kind, remote.run.attempt) == (ra.FAILURE_OFFLINE, 0)
        text = f"waiting for network (attempt 1 in {ra.duration(wait)})"
        assert text in ra.describe(ra.SHELL.engine, remote, sim.clock())
        sim.advance(wait)
    assert len(sim.lines("waiting for the network")) == 1
    failed_unsaid(sim, "http://relay.example:9000")  # the name resolves, the server refuses: it counts
    (ask,) = sim.state.of_kind("connect")
    sim.answer_connect(ask, ra.weechat.WEECHAT_HOOK_CONNECT_CONNECTION_REFUSED)
    assert (remote.kind, remote.run.attempt) == (ra.FAILURE_NETWORK, 1)
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
        assert remote.kind == ra.FAILURE_NETWORK
        sim.advance(1)
    assert remote.run.attempt == 1  # counted
