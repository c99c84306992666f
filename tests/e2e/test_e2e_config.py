# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the user's configuration is never lost, whatever writes relay.conf."""

from __future__ import annotations

import time

FAST = ["/set relay.network.autoreconnect_delay 1", "/set relay.network.autoreconnect_delay_max 2"]


def warnings(client):
    """WeeChat's start-up lines about relay.conf (printed before the script loads)."""
    early = [e["message"] for e in client.find(kind="line", early=True)]
    return [m for m in early if "unknown option" in m or ("Warning" in m and "relay.conf" in m)]


def relay_conf(client):
    return (client.home / "relay.conf").read_text()


def test_an_explicit_native_0_is_the_users_and_survives_save_and_unload(lab):
    server = lab.server()
    client = lab.client(FAST)
    client.connect_remote()
    since = time.monotonic()
    client.send("/set relay.remote.srv.autoreconnect_delay 0")
    client.wait_line("Option changed: relay.remote.srv.autoreconnect_delay", since, 5)  # not "unchanged"
    client.send("/save relay")
    client.wait_for(lambda: "srv.autoreconnect_delay = 0" in relay_conf(client), 5, "relay.conf with 0")
    client.send("/python unload relay_autoreconnect")
    client.wait_line('script "relay_autoreconnect" unloaded', since, 5)
    assert client.option("relay.remote.srv.autoreconnect_delay") == "0"
    dropped = time.monotonic()
    server.kill()
    client.nth("signal", "disconnected", dropped)
    client.assert_no_signal("connecting", dropped, seconds=3)  # WeeChat alone, with the user's 0: no attempt


def test_the_native_engine_never_acts_while_the_script_runs_and_is_whole_after(lab):
    server = lab.server()
    client = lab.client(["/set relay.network.autoreconnect_delay 30", "/set relay.remote.srv.autoreconnect_delay 1"])
    client.connect_remote()
    since = time.monotonic()
    server.kill()
    client.wait_line("remote[srv]: reconnecting in 30 seconds (attempt 1)", since, 5)
    client.assert_no_signal("connecting", since, seconds=3)  # WeeChat's own 1-s attempt was cancelled
    assert not client.lines("reconnecting to remote relay", since) and not client.lines("auto-reconnection", since)
    assert client.option("relay.remote.srv.autoreconnect_delay") == "1"
    unloaded = time.monotonic()
    client.send("/python unload relay_autoreconnect")
    client.wait_line('script "relay_autoreconnect" unloaded', unloaded, 5)
    client.send("/remote connect srv")  # fails (server down): WeeChat's own engine takes it from here
    client.nth("signal", "connecting", unloaded, n=1, timeout=5)
    assert client.lines("remote[srv]: reconnecting to remote relay in", unloaded)


def test_incomplete_config_commands_never_write_script_options_and_a_crash_after_them_loses_nothing(lab):
    lab.server()
    client = lab.client(
        [
            "/set weechat.look.command_incomplete on",
            "/set relay.network.autoreconnect_delay 7",
            "/set relay.remote.srv.autoreconnect_delay 25",
        ]
    )
    since = time.monotonic()
    for command in ("/sav", "/relo", "/plu list"):
        client.send(command)
    assert client.option("relay.network.autoreconnect_delay") == "7"  # fifo commands run in order
    text = relay_conf(client)
    assert "\nautoreconnect" not in text and "srv.autoreconnect_delay = 25" in text
    assert not client.lines("unknown option", since)
    client.kill()  # a crash: nothing runs at exit
    client.start()
    assert warnings(client) == []
    assert client.option("relay.network.autoreconnect_delay") == "7"
    assert client.option("relay.remote.srv.autoreconnect_delay") == "25"
