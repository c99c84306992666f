# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command, bar item, failure classes, jitter and passwords (core and shell, virtual time)."""

from __future__ import annotations

import pytest

import relay_autoreconnect as ra

SECRET = "Tr0ub4dor&3-secret"
AUTH_LINE = "remote[home]: error: authentication failed with remote relay (Invalid password)"
VERSION_LINE = (
    "remote[home]: API version mismatch: remote API is 0.9.9 (WeeChat 9.9.9), local API 0.4.0 (WeeChat 4.6.3)"
)


# -- shell helpers ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def secret_never_shown(sim):
    """A second remote, "work"; "home" has a password, which no line may show."""
    sim.add_remote("work")
    weechat_set(sim, "relay.remote.home.password", SECRET)
    yield
    sim.unload()
    assert not [line for line in sim.lines() if SECRET in line]


def weechat_set(sim, name, value):
    sim.state.option(name).value = value


def up_then_down(sim, name="home"):
    sim.user(f"/remote connect {name}")
    sim.accept(name)
    sim.advance(100)
    sim.drop(name)
    sim.settle()


def auth_failure(sim, said=True):
    """An attempt in flight fails at authentication."""
    sim.status("home", "waiting_auth")
    if said:
        ra.weechat.prnt("", AUTH_LINE)
    sim.drop("home")
    sim.settle()


# -- command -----------------------------------------------------------------------------


def test_list_shows_every_remote(sim, load):
    load(autoreconnect_max=5)
    up_then_down(sim)
    sim.user("/remote connect work")
    sim.accept("work")
    sim.advance(3)
    sim.user("/autoreconnect")
    assert sim.lines()[-3:] == [
        "relay_autoreconnect: 2 relay remote(s) (autoreconnect on):",
        "  home: disconnected, attempt 1/5 in 7 seconds, server polled every 2 seconds, last failure: network, managed",
        "  work: connected, managed",
    ]


def test_retry_cancel_reset(sim, load):
    load()
    up_then_down(sim)
    sim.user("/autoreconnect retry home")
    assert len(sim.connects("home")) == 2
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 20 seconds (attempt 2)")
    sim.user("/autoreconnect reset home")
    assert sim.lines()[-2].endswith("reconnecting in 10 seconds (attempt 1)")
    sim.user("/autoreconnect cancel home")
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: auto-reconnection cancelled"
    sim.advance(3600)
    assert len(sim.connects("home")) == 2
    assert "not managed" in ra.describe(ra.SHELL.engine, ra.SHELL.engine.remotes["home"], 0)


def test_retry_all_only_touches_disconnected_remotes(sim, load):
    load()
    up_then_down(sim)
    sim.user("/remote connect work")
    sim.accept("work")
    sim.user("/autoreconnect retry -all")
    assert len(sim.connects("home")) == 2 and len(sim.connects("work")) == 1
    assert sim.lines()[-1] == "relay_autoreconnect: retry: 1 of 2 remote(s)"


@pytest.mark.parametrize(
    ("command", "said"),
    [
        ("/autoreconnect retry -all", "retry: 0 of 2 remote(s)"),  # both connected: nothing to do, said
        ("/autoreconnect cancel -all", "cancel: 0 of 2 remote(s)"),  # no error for idle remotes
        ("/autoreconnect reset -all", "reset: 2 of 2 remote(s)"),
        ("/autoreconnect secure -all", "secure: 1 of 2 remote(s)"),  # "work" has no password
    ],
)
def test_all_says_how_many_remotes_it_touched_and_never_errs(sim, load, command, said):
    load()
    for name in ("home", "work"):
        sim.user(f"/remote connect {name}")
        sim.accept(name)
    sim.user(command)
    assert sim.lines()[-1] == f"relay_autoreconnect: {said}"
    assert not sim.lines("=!=")


@pytest.mark.parametrize(
    "command, text",
    [
        ("/autoreconnect retry nosuch", 'remote "nosuch" not found (see /remote list)'),
        ("/autoreconnect retry", '"retry" takes one remote name or -all (see /help autoreconnect)'),
        ("/autoreconnect list extra", '"list" takes no argument (see /help autoreconnect)'),
        ("/autoreconnect frobnicate", 'unknown argument "frobnicate" (see /help autoreconnect)'),
        ("/autoreconnect cancel home", "remote[home] has no attempt pending"),
        ("/autoreconnect secure work", "remote[work]: no password: nothing changed"),
    ],
)
def test_bad_arguments_give_one_error_line(sim, command, text, load):
    load()
    printed = len(sim.state.printed)
    sim.user(command)
    assert sim.lines()[printed:] == [f"=!=\trelay_autoreconnect: {text}"]


def test_retry_refused_while_connected(sim, load):
    load()
    sim.user("/remote connect home")
    sim.accept("home")
    sim.user("/autoreconnect retry home")
    assert sim.lines()[-1] == "=!=\trelay_autoreconnect: remote[home] is connected"


def test_command_is_documented_and_completes_remote_names(sim, load):
    load()
    hook = next(h for h in sim.hooks() if h.kind == "command")
    assert hook.pattern == "autoreconnect"
    assert "retry %(relay_remotes)|-all" in hook.completion
    assert "secure %(relay_remotes)" in hook.completion
    assert ra.COMMAND_ARGS_DESC.rstrip().splitlines()[-1].startswith("  /autoreconnect")


# -- bar item ------------------------------------------------------------------------


def test_bar_item_counts_down_and_is_empty_when_nothing_waits(sim, load):
    load()
    assert sim.bar_item() == ""
    up_then_down(sim)
    assert sim.bar_item() == "home 10s (network)"
    updates = len(sim.state.bar_updates)
    sim.advance(3.5)
    assert sim.bar_item() == "home 7s (network)"
    assert 3 <= len(sim.state.bar_updates) - updates <= 4  # one per second, not more
    sim.advance(6.5)
    assert sim.bar_item() == ""  # the attempt is in flight
    assert sim.timers("bar_timer_cb") == []
    updates = len(sim.state.bar_updates)
    sim.advance(600)
    assert len(sim.state.bar_updates) == updates  # nothing pending: no refresh


def test_bar_item_is_rebuilt_once_per_burst_and_shows_eight_entries_at_most(sim, load):
    names = [f"r{n:02}" for n in range(20)]
    for name in names:
        sim.add_remote(name)
    load()
    for name in names:
        sim.user(f"/remote connect {name}")
        sim.accept(name)
    sim.advance(100)
    updates = len(sim.state.bar_updates)
    for name in names:
        sim.drop(name)  # all links drop at once (the server went away)
    sim.settle()
    assert len(sim.state.bar_updates) == updates + 1
    assert sim.bar_item() == ", ".join(f"{name} 10s (network)" for name in names[:8]) + ", +12 more"


def test_bar_item_is_rebuilt_at_most_four_times_a_second_in_a_storm(sim, load):
    names = [f"r{n:03}" for n in range(200)]
    for name in names:
        sim.add_remote(name)
    load(autoreconnect_jitter=30)
    for name in names:
        sim.user(f"/remote connect {name}")
        sim.accept(name)
    sim.advance(100)
    for name in names:
        sim.drop(name)
    sim.settle()
    updates = len(sim.state.bar_updates)
    sim.advance(11)  # 200 attempts, each a change of the text, spread over 3 s
    assert len(sim.connects("r123")) == 2
    rebuilds = len(sim.state.bar_updates) - updates
    assert 3 <= rebuilds <= 11 * 4 + 11  # 4 a second at most, + the 1-s countdown
    assert sim.bar_item() == ""  # and the last one shows where things are


def test_bar_item_shows_remotes_that_gave_up_with_their_class(sim, load):
    load(autoreconnect_auth_max=1)
    sim.user("/remote connect home")
    auth_failure(sim)
    assert sim.bar_item() == "home gave up (auth)"
    assert sim.timers("bar_timer_cb") == []


# -- failure classes ---------------------------------------------------------------------


def test_wrong_password_stops_after_auth_max_with_how_to_fix(sim, load):
    load(autoreconnect_auth_max=3, autoreconnect_delay=1)
    sim.user("/remote connect home")
    auth_failure(sim)
    for _ in range(2):
        sim.advance(10)
        auth_failure(sim)
    sim.advance(3600)
    assert len(sim.connects("home")) == 3
    assert sim.lines("giving up") == [
        "=!=\trelay_autoreconnect: remote[home]: authentication failed 3 times in a row (wrong password or TOTP?): "
        'giving up; fix relay.remote.home.password (or totp_secret), then "/remote connect home"'
    ]
    sim.user("/autoreconnect")
    assert "last failure: auth (authentication failed with remote relay (Invalid password))" in sim.lines()[-2]


def test_authentication_failure_is_known_without_weechat_s_words(sim, load):
    load(autoreconnect_auth_max=1)
    sim.user("/remote connect home")
    auth_failure(sim, said=False)  # another language: the signal sequence tells
    assert sim.lines("authentication failed 1 times")


def test_version_mismatch_stops_at_once_naming_both_sides(sim, load):
    load()
    sim.user("/remote connect home")
    sim.accept("home")
    ra.weechat.prnt("", VERSION_LINE)
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1] == (
        "=!=\trelay_autoreconnect: remote[home]: API version mismatch (remote API is 0.9.9 (WeeChat 9.9.9), "
        'local API 0.4.0 (WeeChat 4.6.3)): giving up; update WeeChat on one side, then "/remote connect home"'
    )
    sim.advance(3600)
    assert len(sim.connects("home")) == 1


def test_network_failures_back_off_and_heartbeat_drops_are_not_auth(sim, load):
    load(autoreconnect_auth_max=1, autoreconnect_connect_timeout=5)
    sim.user("/remote connect home")
    sim.status("home", "waiting_auth")
    sim.advance(5)  # stuck: dropped by the connect timeout while authenticating
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 10 seconds (attempt 1)")
    assert ra.SHELL.engine.remotes["home"].kind == "network"


# -- passwords ---------------------------------------------------------------------------


def test_plain_password_is_reported_once_and_moved_to_secured_data(sim, load):
    load()
    assert sim.lines("plain text") == [
        "relay_autoreconnect: remote[home]: the password is stored in plain text in relay.conf; "
        'move it to secured data with "/autoreconnect secure home"'
    ]
    up_then_down(sim)
    sim.user("/remote add other http://127.0.0.1:1")
    sim.settle()
    assert len(sim.lines("plain text")) == 1
    sim.user("/autoreconnect secure home")
    assert sim.option("relay.remote.home.password") == "${sec.data.relay_remote_home}"
    assert sim.state.secured == {"relay_remote_home": SECRET}
    assert sim.lines()[-1].startswith(
        'relay_autoreconnect: remote[home]: password moved to secured data "relay_remote_home"'
    )
    sim.user("/autoreconnect secure home")
    assert sim.lines()[-1] == (
        "=!=\trelay_autoreconnect: remote[home]: the password is already an expression (secured data?): nothing changed"
    )
    sim.user("/remote rename home house")
    sim.settle()
    sim.user("/remote rename house home")
    sim.settle()
    assert len(sim.lines("plain text")) == 1  # not said again after a rename


@pytest.mark.parametrize(
    "password",
    ["with  inner  spaces", "quotes \"double\" and 'single'", "ünïcödé ✓ 密码", "semi;colon /slash -dash", "%percent"],
)
def test_any_password_secure_set_keeps_is_moved_intact(sim, load, password):
    weechat_set(sim, "relay.remote.home.password", password)
    load()
    sim.user("/autoreconnect secure home")
    assert sim.state.secured == {"relay_remote_home": password}
    assert ra.weechat.string_eval_expression(sim.option("relay.remote.home.password"), {}, {}, {}) == password
    assert not [line for line in sim.lines() if password in line]


@pytest.mark.parametrize(
    ("password", "why"),
    [
        (" leading", "starts or ends with a space"),
        ("trailing ", "starts or ends with a space"),
        ("pre${sec.data.x}", "already an expression"),
    ],
)
def test_a_password_secure_set_would_change_is_left_alone_with_one_line(sim, load, password, why):
    weechat_set(sim, "relay.remote.home.password", password)
    load()
    sim.user("/autoreconnect secure home")
    assert sim.option("relay.remote.home.password") == password and sim.state.secured == {}
    (line,) = sim.lines("nothing changed")
    assert why in line and line.startswith("=!=\trelay_autoreconnect: remote[home]: ")


def test_secure_never_overwrites_secured_data_an_option_uses_and_leaves_no_half_copy(sim, load, mocker):
    sim.state.secured["relay_remote_home"] = "the user's own"
    sim.state.add_option("irc.server.libera.password", "string", 0, 0, "", "${sec.data.relay_remote_home}")
    load()
    sim.user("/autoreconnect secure home")
    assert sim.state.secured == {"relay_remote_home": "the user's own", "relay_remote_home_2": SECRET}
    assert sim.option("relay.remote.home.password") == "${sec.data.relay_remote_home_2}"
    weechat_set(sim, "relay.remote.work.password", "kept as it is")
    real = ra.weechat.command
    mocker.patch.object(  # /secure set stores a different value (say, cut short)
        ra.weechat, "command", side_effect=lambda b, c: real(b, c.replace("kept as it is", "kept as"))
    )
    sim.user("/autoreconnect secure work")
    assert sim.option("relay.remote.work.password") == "kept as it is"
    assert "relay_remote_work" not in sim.state.secured  # the copy was removed
    assert sim.lines()[-1].endswith('could not be stored in secured data "relay_remote_work": nothing changed')


def test_secure_after_a_password_change_replaces_its_own_secured_data(sim, load, mocker):
    load()
    sim.user("/autoreconnect secure home")
    sim.set_option("relay.remote.home.password", "the new one")  # the user changes it, in plain text
    sim.user("/autoreconnect secure home")
    assert sim.state.secured == {"relay_remote_home": "the new one"}  # one entry: the old value is gone
    assert sim.option("relay.remote.home.password") == "${sec.data.relay_remote_home}"
    assert sim.lines()[-1].startswith(
        'relay_autoreconnect: remote[home]: password moved to secured data "relay_remote_home" '
        "(the value it held is replaced); relay.remote.home.password is now ${sec.data.relay_remote_home}"
    )
    # a replacement that fails gives the old value back
    sim.set_option("relay.remote.home.password", "newer still")
    real = ra.weechat.command
    mocker.patch.object(ra.weechat, "command", side_effect=lambda b, c: real(b, c.replace("newer still", "newer")))
    sim.user("/autoreconnect secure home")
    assert sim.state.secured == {"relay_remote_home": "the new one"}
    assert sim.option("relay.remote.home.password") == "newer still"
    assert sim.lines()[-1].endswith('could not be stored in secured data "relay_remote_home": nothing changed')
    assert not [line for line in sim.lines() if "the new one" in line or "newer" in line]


TOTP = "JBSWY3DPEHPK3PXP"


def test_a_plain_totp_secret_is_reported_and_moved_with_the_password(sim, load):
    weechat_set(sim, "relay.remote.home.totp_secret", TOTP)
    weechat_set(sim, "relay.remote.work.totp_secret", TOTP)
    load()
    assert sim.lines("plain text") == [
        "relay_autoreconnect: remote[home]: the password and the TOTP secret are stored in plain text in "
        'relay.conf; move them to secured data with "/autoreconnect secure home"',
        "relay_autoreconnect: remote[work]: the TOTP secret is stored in plain text in relay.conf; "
        'move it to secured data with "/autoreconnect secure work"',
    ]
    sim.user("/autoreconnect secure -all")
    assert sim.state.secured == {
        "relay_remote_home": SECRET,
        "relay_remote_home_totp": TOTP,
        "relay_remote_work_totp": TOTP,
    }
    assert sim.option("relay.remote.home.totp_secret") == "${sec.data.relay_remote_home_totp}"
    assert sim.option("relay.remote.work.totp_secret") == "${sec.data.relay_remote_work_totp}"
    assert sim.lines("TOTP secret moved") == [
        f'relay_autoreconnect: remote[{name}]: TOTP secret moved to secured data "relay_remote_{name}_totp"; '
        f"relay.remote.{name}.totp_secret is now ${{sec.data.relay_remote_{name}_totp}} (/save to keep it; "
        "/secure passphrase encrypts sec.conf)"
        for name in ("home", "work")
    ]
    assert sim.lines()[-1] == "relay_autoreconnect: secure: 2 of 2 remote(s)"
    assert not [line for line in sim.lines() if TOTP in line]


def test_a_secret_that_can_not_move_is_said_and_the_other_still_moves(sim, load):
    weechat_set(sim, "relay.remote.home.totp_secret", f"{TOTP} ")
    load()
    sim.user("/autoreconnect secure home")
    assert sim.state.secured == {"relay_remote_home": SECRET}
    assert sim.option("relay.remote.home.totp_secret") == f"{TOTP} "
    assert sim.lines()[-1] == (
        "=!=\trelay_autoreconnect: remote[home]: the TOTP secret starts or ends with a space, which /secure set "
        "can not keep: left in plain text"
    )


def test_auth_failures_in_a_row_are_consecutive_attempts(sim, load):
    load(autoreconnect_auth_max=2, autoreconnect_delay=1)
    sim.user("/remote connect home")
    auth_failure(sim)  # auth 1
    sim.advance(1)
    sim.drop("home")  # the next attempt is refused: network, the run ends
    sim.settle()
    sim.advance(2)
    auth_failure(sim)  # auth 1 again, not 2
    assert not sim.lines("giving up")
    sim.advance(4)
    auth_failure(sim)  # auth 2 in a row
    assert sim.lines("authentication failed 2 times in a row")
