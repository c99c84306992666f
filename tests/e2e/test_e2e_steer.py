# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: failure classes, /autoreconnect and password hygiene in real WeeChat."""

from __future__ import annotations

import time

import pytest
from fakes import OtherVersionRelay
from harness import PASSWORD, secret_in_files
from helpers import fast, own_lines, statuses

WRONG = "Wr0ng-pa55word-e2e"


@pytest.mark.newest
def test_wrong_password_stops_at_auth_max_and_is_never_shown(lab):
    lab.server()
    client = lab.client([*fast(), "/set logger.file.flush_delay 0"], password=WRONG)
    since = time.monotonic()
    client.send("/remote connect srv")
    client.wait_line("authentication failed 2 times in a row", since, 15)
    client.assert_no_signal("connecting", since=time.monotonic(), seconds=3)
    assert len(statuses(client, "connecting", since)) == 2
    assert len(statuses(client, "waiting_auth", since)) == 2
    assert client.lines("fix relay.remote.srv.password (or totp_secret)", since)
    client.send("/autoreconnect list")
    line = client.wait_line("  srv: ", since, 5)["message"]
    assert line.startswith("  srv: disconnected, gave up after 1 attempt(s), last failure: auth")
    assert "not managed" in line
    client.quit()
    assert WRONG not in "".join(e.get("prefix", "") + e.get("message", "") for e in client.poll())
    assert (client.home / "logs" / "core.weechat.weechatlog").exists()
    assert secret_in_files(client.home, WRONG) == []


@pytest.mark.newest
def test_secure_moves_the_password_and_the_remote_still_connects(lab):
    lab.server()
    client = lab.client(fast())
    since = time.monotonic()
    client.wait_line("the password is stored in plain text", since - 30, 5)
    client.send("/autoreconnect secure srv")
    client.wait_line('password moved to secured data "relay_remote_srv"', since, 5)
    assert client.option("relay.remote.srv.password") == "${sec.data.relay_remote_srv}"
    client.send("/save")
    client.send("/remote connect srv")
    client.wait_for(lambda: statuses(client, "connected", since), 10, "connected")
    client.send("/autoreconnect")
    client.wait_line("  srv: connected, managed", since, 5)
    client.quit()
    assert 'password = "${sec.data.relay_remote_srv}"' in (client.home / "relay.conf").read_text()
    assert PASSWORD not in (client.home / "relay.conf").read_text()
    assert PASSWORD not in "".join(e["message"] for e in own_lines(client))


def test_api_version_mismatch_stops_at_once(lab):
    with OtherVersionRelay(lab.port):
        client = lab.client(fast())
        since = time.monotonic()
        client.send("/remote connect srv")
        line = client.wait_line("API version mismatch (remote API is 0.0.1 (WeeChat 9.9.9), local API", since, 10)
        assert line["message"].endswith('giving up; update WeeChat on one side, then "/remote connect srv"')
        client.assert_no_signal("connecting", since=time.monotonic(), seconds=3)
        assert len(statuses(client, "connecting", since)) == 1
