# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: a remote behind a proxy (relay.remote.NAME.proxy) is reached through it.

The remote's URL points at a front (tests/e2e/fakes.py CountingFront) that
forwards to the server and records where each connection came from: the
proxy (an HTTP proxy that makes tunnels, with a password kept in secured
data) connects from 127.0.0.2, anything straight from the client comes from
127.0.0.1. WeeChat's own remote sends its websocket through the proxy but its
handshake (POST /api/handshake, curl) straight to the URL, in every version
(relay-remote-network.c): those are the only straight connections allowed.
"""

from __future__ import annotations

import time

import pytest
from fakes import CountingFront, TunnelProxy
from harness import PASSWORD, free_port, secret_in_files
from helpers import CHAN, MIRROR, fast, heartbeat, inputs, statuses

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)

PROXY_SECRET = "pr0xy-Secret-pw"
THROUGH_PROXY, STRAIGHT = "127.0.0.2", "127.0.0.1"


def test_heartbeats_and_queued_lines_go_through_the_remotes_proxy_never_straight(lab):
    front_port, proxy_port = free_port(), free_port()
    with CountingFront(front_port, lab.port) as front, TunnelProxy(proxy_port, ("alice", PROXY_SECRET)) as proxy:
        server = lab.server(extra=CHAN)
        client = lab.client([*fast(), *heartbeat(1, 3)])
        for command in (
            f"/secure set corp_pw {PROXY_SECRET}",
            f"/proxy add corp http 127.0.0.1 {proxy_port} alice",
            '/set weechat.proxy.corp.password "${sec.data.corp_pw}"',  # the fifo does not evaluate it
            "/set relay.remote.srv.proxy corp",
            f"/set relay.remote.srv.url http://127.0.0.1:{front_port}",
        ):
            client.send(command)
        assert client.option("relay.remote.srv.url") == f"http://127.0.0.1:{front_port}"
        since = time.monotonic()
        client.send("/remote connect srv")
        client.wait_for(lambda: client.find(kind="buffer", name=MIRROR, since=since), 10, "the mirror")
        # WeeChat's websocket goes through the proxy (its handshake does not: see the module's text)
        assert front.requests(THROUGH_PROXY, "GET /api")
        client.wait_for(lambda: front.requests(THROUGH_PROXY, "POST /api/handshake"), 5, "a heartbeat")
        killed = time.monotonic()
        server.kill()
        client.wait_for(lambda: statuses(client, "disconnected", killed), 5, "the drop")
        client.send("through the proxy", buffer=MIRROR)
        client.wait_line("(1 waiting", killed, 5)
        server = lab.server(extra=CHAN)
        client.wait_line("remote[srv]: 1 queued line(s) delivered", killed, 20)
        assert inputs(server) == ["through the proxy"]
        # straight to the server: WeeChat's own handshakes, one per attempt, and nothing else
        client.wait_for(
            lambda: len(front.requests(STRAIGHT)) == len(statuses(client, "connecting", since)), 5, "the count"
        )
        straight, proxied = front.requests(STRAIGHT), front.requests(THROUGH_PROXY)
        print(f"straight: {straight}\nthrough the proxy: {proxied}")
        assert all(line.startswith("POST /api/handshake") for line in straight)
        assert front.requests(THROUGH_PROXY, "POST /api/input")
        assert all(authorized for _, authorized in proxy.tunnels), proxy.tunnels
    own = "".join(e["message"] for e in client.lines("relay_autoreconnect"))
    assert PROXY_SECRET not in own and PASSWORD not in own
    client.quit()
    assert secret_in_files(client.home, PROXY_SECRET) == []
