# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Out-of-band requests of a remote behind a proxy (relay.remote.NAME.proxy) go through it (shell)."""

from __future__ import annotations

import pytest

import relay_autoreconnect as ra

CHAN = "irc.libera.#weechat"
VERSION_LINE = "remote[home]: WeeChat: 4.6.3 (), API: 0.4.0"
PROXY_SECRET = "pr0xy-secret"
HTTP_TUNNEL = {
    "proxy": "10.0.0.9",
    "proxyport": "3128",
    "proxytype": "http",
    "httpproxytunnel": "1",
    "proxyusername": "alice",
    "proxypassword": PROXY_SECRET,
}


@pytest.fixture
def proxied(sim):
    """Remote "home" behind the HTTP proxy "corp", whose password is in secured data."""
    sim.state.secured["corp_pw"] = PROXY_SECRET
    sim.add_proxy("corp", "http", "10.0.0.9", 3128, username="alice", password="${sec.data.corp_pw}")
    sim.set_option("relay.remote.home.proxy", "corp")
    yield sim
    assert not sim.lines(PROXY_SECRET)


def proxy_of(options):
    return {key: value for key, value in options.items() if key.startswith("proxy") or key == "httpproxytunnel"}


def connected(sim, load, **values):
    load(autoreconnect_heartbeat=10, **values)
    sim.remote("home").server_buffers.add(CHAN)
    sim.user("/remote connect home")
    sim.accept("home")
    ra.weechat.prnt("", VERSION_LINE)
    sim.settle()


def test_heartbeats_and_polls_go_through_the_remotes_proxy(proxied, load):
    sim = proxied
    connected(sim, load, autoreconnect_poll=5)
    sim.advance(10)
    (heartbeat,) = sim.probes("home")
    assert heartbeat.callback == "heartbeat_url_cb" and proxy_of(heartbeat.options) == HTTP_TUNNEL
    sim.answer_probes()
    sim.drop("home")
    sim.settle()
    sim.advance(2.5)  # the first poll of the outage
    (poll,) = sim.probes("home")
    assert poll.callback == "poll_url_cb" and proxy_of(poll.options) == HTTP_TUNNEL


def typed_while_down(sim, text):
    """A line typed in a buffer of "home" while its link is down, then the link back (its version line)."""
    buffer = sim.open_buffer("home", CHAN)
    sim.drop("home")
    sim.settle()
    sim.type(buffer, text)
    sim.advance(10)
    sim.accept("home")
    ra.weechat.prnt("", VERSION_LINE)
    sim.settle()


def test_queued_lines_go_through_the_remotes_proxy(proxied, load):
    sim = proxied
    connected(sim, load)
    typed_while_down(sim, "through the proxy")
    requests = list(sim.deliveries())
    assert requests and all(proxy_of(hook.options) == HTTP_TUNNEL for hook in requests)
    sim.serve()
    assert sim.remote("home").server_inputs == [(CHAN, "through the proxy")]


@pytest.mark.parametrize(
    ("kind", "address", "expected"),
    [
        ("socks5", "proxy.example", {"proxy": "proxy.example", "proxytype": "socks5_hostname"}),
        ("socks4", "::1", {"proxy": "[::1]", "proxytype": "socks4"}),
    ],
)
def test_socks_proxies_and_ipv6_addresses_as_curl_takes_them(sim, load, kind, address, expected):
    sim.add_proxy("p", kind, address, 1080)
    sim.set_option("relay.remote.home.proxy", "p")
    connected(sim, load)
    sim.advance(10)
    (heartbeat,) = sim.probes("home")
    assert proxy_of(heartbeat.options) == {**expected, "proxyport": "1080"}


def test_a_proxy_not_found_makes_no_request_and_is_said_for_queued_lines(sim, load):
    sim.set_option("relay.remote.home.proxy", "nowhere")
    connected(sim, load)
    typed_while_down(sim, "kept")
    assert not sim.state.of_kind("url")  # nothing went straight to the server
    assert sim.lines('queued lines not delivered (proxy "nowhere" not found (relay.remote.home.proxy))')
    sim.advance(10)  # a heartbeat: the in-band ping only
    assert not sim.probes() and sim.remote("home").status == "connected"


def test_a_failure_weechat_does_not_explain_is_not_diagnosed_behind_a_proxy(proxied, load):
    sim = proxied
    sim.state.version = 0x040A0000  # WeeChat 4.10: "response code: 0" for any failure
    sim.set_option("relay.remote.home.url", "https://server.example:9000")
    load()
    sim.user("/remote connect home")
    ra.weechat.prnt("", "remote[home]: handshake failed with URL https://server.example:9000, response code: 0")
    sim.drop("home")
    sim.settle()
    assert not sim.state.of_kind("connect")  # no TCP connection, straight or through the proxy
    assert ra.SHELL.engine.remotes["home"].failure.kind == "network"
