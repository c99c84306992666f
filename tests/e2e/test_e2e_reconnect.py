# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: a real weechat-headless server and client on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
from harness import PASSWORD, SCRIPT
from helpers import connected, fast, killed_after_connect, own_lines, python_script, startup_warnings, statuses

# seconds, between a drop and the attempt it schedules: WeeChat's timers and a loaded machine
# promise no better; the precision is measured by bench/schedule_error.py and bench/deadlines.py
TOLERANCE = 0.5


def attempt_pending(lab, delay):
    """Connected, then the server killed: the first attempt is due in `delay` s. Returns the client and
    the moment just before the kill."""
    client, since = killed_after_connect(lab, [f"/set relay.network.autoreconnect_delay {delay}"])
    client.wait_line(f"reconnecting in {delay} seconds (attempt 1)", since, 5)
    return client, since


def script_or_lookup_errors(client, since):
    """Error lines of the script, or of a /remote naming a remote that is gone."""
    return [
        e["message"]
        for e in client.lines(since=since)
        if "=!=" in e["prefix"] and ("relay_autoreconnect" in e["message"] or "not found" in e["message"])
    ]


def no_secret_anywhere(instance):
    """The password is in no line of the client's own buffers.

    (Buffers relay.remote.* mirror the server, whose test setup sets it.)
    """
    own = own_lines(instance)
    assert own and PASSWORD not in "".join(e["prefix"] + e["message"] for e in own)


@pytest.mark.newest
@pytest.mark.parametrize("native_delay", ["default", "0"])
def test_server_killed_then_restarted_reconnects_on_schedule(lab, native_delay):
    native = [] if native_delay == "default" else [f"/set relay.remote.srv.autoreconnect_delay {native_delay}"]
    server, client = connected(lab, fast() + native)
    since = time.monotonic()
    server.kill()
    drops = [client.nth("signal", "disconnected", since, n=n)["t"] for n in range(4)]
    server = lab.server()
    client.nth("signal", "connected", since, n=0, timeout=10)
    attempts = [e["t"] for e in statuses(client, "connecting", since)]
    assert len(attempts) == 4, attempts
    waits = [attempt - drop for drop, attempt in zip(drops, attempts)]
    errors_ms = [round((wait - expected) * 1000, 1) for wait, expected in zip(waits, [1, 2, 2, 2])]
    print(f"native={native_delay} schedule errors (ms): {errors_ms}")
    assert all(abs(e) <= TOLERANCE * 1000 for e in errors_ms), errors_ms  # precision: bench/schedule_error.py
    assert min(b - a for a, b in zip(attempts, attempts[1:])) >= 1.0
    assert not client.lines("reconnecting to remote relay", since)  # the native engine stayed off
    assert [line["message"] for line in client.lines("relay_autoreconnect: remote[srv]", since)] == [
        "relay_autoreconnect: remote[srv]: reconnecting in 1 second (attempt 1)",
        "relay_autoreconnect: remote[srv]: reconnecting in 2 seconds (attempt 2)",
        "relay_autoreconnect: remote[srv]: reconnecting in 2 seconds (attempt 3)",
        "relay_autoreconnect: remote[srv]: reconnecting in 2 seconds (attempt 4)",
    ]
    no_secret_anywhere(client)


@pytest.mark.parametrize("poll", [1, 0])
def test_server_back_during_a_long_wait_is_polled_and_reconnected_at_once(lab, poll):
    """A 30-s wait; the server is back after 2 seconds: polls every second find it."""
    client, since = killed_after_connect(
        lab, ["/set relay.network.autoreconnect_delay 30", f"/set relay.network.autoreconnect_poll {poll}"]
    )
    client.wait_line("reconnecting in 30 seconds (attempt 1)", since, 5)
    time.sleep(2)  # the outage lasts 2 s
    server = lab.server()
    up = server.find(kind="ready")[-1]["t"]
    if poll:
        connected = client.nth("signal", "connected", since, n=0, timeout=5)["t"]
        print(f"poll {poll} s: connected {connected - up:.2f} s after the server was up")
        assert connected - up <= poll + 1.0
        assert len(client.lines("the server answers again: reconnecting now", since)) == 1
        assert len(statuses(client, "connecting", since)) == 1
        assert not client.lines("reconnecting to remote relay", since)  # the native engine stayed off
        no_secret_anywhere(client)
    else:  # the control: without polls the attempt waits its 30 s
        client.assert_no_signal("connecting", since, seconds=up + 3 - time.monotonic())


def test_server_back_after_20_s_with_every_option_at_its_default_is_found_by_a_poll(lab):
    """Defaults: the first attempt fails about 10 s in and the next waits 20 s more;
    the polls of the outage's first minute (every 2 s, jittered) find the server."""
    client, since = killed_after_connect(lab, [])
    client.wait_line("remote[srv]: reconnecting in ", since, 5)
    time.sleep(max(0.0, since + 20 - time.monotonic()))  # the outage lasts 20 s
    up = lab.server().find(kind="ready")[-1]["t"]
    connected = client.nth("signal", "connected", since, n=0, timeout=10)["t"]
    print(f"defaults, server down 20 s: connected {connected - up:.2f} s after it was up")
    assert connected - up <= 2.0 * 1.3 + 1.0  # one poll interval at most (2 s + 30 % jitter), then the attempt
    assert client.lines("the server answers again: reconnecting now", since)
    assert not client.lines("reconnecting to remote relay", since)  # the native engine stayed off


def test_attempt_cap_holds(lab):
    client, since = killed_after_connect(lab, [*fast(), "/set relay.network.autoreconnect_max 2"])
    client.wait_line("giving up after 2 failed attempts", since, 10)
    assert len(statuses(client, "connecting", since)) == 2
    client.assert_no_signal("connecting", since=time.monotonic(), seconds=3)


@pytest.mark.newest
def test_user_disconnect_is_respected(lab):
    server, client = connected(lab, fast())
    since = time.monotonic()
    client.send("/remote disconnect srv")
    client.nth("signal", "disconnected", since, n=0)
    client.assert_no_signal("connecting", since, seconds=2.5)
    # and while an attempt is pending
    client.connect_remote()
    since = time.monotonic()
    server.kill()
    client.wait_line("reconnecting in 1 second", since, 5)
    client.send("/remote disconnect srv")
    client.wait_line("remote[srv]: auto-reconnection cancelled", since, 5)
    client.assert_no_signal("connecting", since, seconds=2.5)


def test_option_off_does_nothing(lab):
    client, since = killed_after_connect(
        lab, [*fast(), "/set relay.remote.srv.autoreconnect_delay 0", "/set relay.network.autoreconnect off"]
    )
    client.nth("signal", "disconnected", since, n=0)
    client.assert_no_signal("connecting", since, seconds=3)
    assert not client.lines("relay_autoreconnect: remote[srv]", since)


def test_unload_while_pending_stops_everything(lab):
    client, since = attempt_pending(lab, 2)
    python_script(client, "unload", since)
    client.assert_no_signal("connecting", since, seconds=3.5)
    assert client.option("relay.remote.srv.autoreconnect_delay") == "10"
    assert client.option("relay.network.autoreconnect") is None


@pytest.mark.newest
def test_options_persist_across_restart_without_warning(lab):
    client = lab.client(["/set relay.network.autoreconnect_delay 7", "/save", "/set relay.network.autoreconnect_max 5"])
    assert client.option("relay.network.autoreconnect_delay") == "7"
    client.quit()  # save_config_on_exit is on: the quit path writes too
    relay_conf = (client.home / "relay.conf").read_text()
    assert "\nautoreconnect" not in relay_conf
    assert "srv.autoreconnect_delay = 10" in relay_conf  # the user's value, not 0
    client.start()
    assert startup_warnings(client) == []
    assert client.option("relay.network.autoreconnect_delay") == "7"
    assert client.option("relay.network.autoreconnect_max") == "5"
    assert client.option("relay.remote.srv.autoreconnect_delay") == "10"  # never touched


def test_invalid_values_are_refused_by_weechat(lab):
    client = lab.client()
    since = time.monotonic()
    client.send("/set relay.network.autoreconnect_delay 0")
    client.send("/set relay.network.autoreconnect_delay_growing 101")
    client.send("/set relay.network.autoreconnect_max abc")
    errors = client.wait_for(
        lambda: len(client.lines("Failed to set option", since)) >= 3 and client.lines("Failed to set option", since),
        5,
        "3 errors",
    )
    assert all(e["prefix"] for e in errors)
    assert client.option("relay.network.autoreconnect_delay") == "10"
    assert client.option("relay.network.autoreconnect_delay_growing") == "2"
    assert client.option("relay.network.autoreconnect_max") == "0"


def test_save_and_reload_keep_values_and_print_no_warning(lab):
    client = lab.client(["/set relay.network.autoreconnect_delay 9"])
    since = time.monotonic()
    client.send("/save")
    client.send("/reload")
    # fifo commands run in order: the probe answers after /save and /reload ran
    assert client.option("relay.network.autoreconnect_delay") == "9"
    assert client.option("relay.remote.srv.autoreconnect_delay") == "10"
    assert not [e["message"] for e in client.lines("relay.conf", since) if "Warning" in e["message"]]
    assert not client.lines("unknown option", since)
    assert "\nautoreconnect" not in (client.home / "relay.conf").read_text()


@pytest.mark.newest
def test_rename_while_pending_attempts_under_the_new_name(lab):
    client, since = attempt_pending(lab, 2)
    drop = client.nth("signal", "disconnected", since, n=0)["t"]
    client.send("/remote rename srv office")
    attempt = client.nth("signal", "connecting", since, n=0)["t"]
    print(f"attempt {(attempt - drop - 2) * 1000:+.1f} ms from its time before the rename (2 s after the drop)")
    assert abs(attempt - drop - 2) <= TOLERANCE  # precision: bench/deadlines.py (rename)
    client.wait_line("reconnecting in 4 seconds (attempt 2)", since, 5)
    assert client.lines("remote[office]: reconnecting in 4 seconds", since)
    assert not script_or_lookup_errors(client, since)
    assert client.option("relay.remote.office.autoreconnect_delay") == "10"


def test_delete_while_pending_leaves_no_attempt_and_no_error(lab):
    client, since = attempt_pending(lab, 2)
    client.send("/remote del srv")
    client.wait_line('remote relay "srv" has been deleted', since, 5)
    client.assert_no_signal("connecting", since, seconds=3)
    assert not script_or_lookup_errors(client, since)


@pytest.mark.newest
def test_remote_connected_before_the_script_loads_is_managed(lab):
    server = lab.server()
    client = lab.client(script=False)
    client.connect_remote()
    (client.home / "python" / "relay_autoreconnect.py").write_bytes(SCRIPT.read_bytes())
    since = time.monotonic()
    python_script(client, "load", since)
    for command in fast():
        client.send(command)
    assert client.option("relay.network.autoreconnect_delay") == "1"
    server.kill()
    attempt = client.nth("signal", "connecting", since, n=0)
    drop = client.nth("signal", "disconnected", since, n=0)
    print(f"attempt {(attempt['t'] - drop['t'] - 1) * 1000:+.1f} ms from its time (1 s after the drop)")
    assert abs(attempt["t"] - drop["t"] - 1) <= TOLERANCE  # precision: bench/deadlines.py (load)


def test_remote_add_is_not_a_drop(lab):
    client = lab.client(fast())
    since = time.monotonic()
    client.send("/remote add other http://127.0.0.1:1")
    client.wait_line('Remote relay "other" created', since, 5)
    assert client.option("relay.remote.other.autoreconnect_delay") == "10"
    client.assert_no_signal("connecting", since, seconds=2)
    assert not client.lines("reconnecting in", since)
