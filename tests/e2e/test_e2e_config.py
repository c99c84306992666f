# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the user's configuration is never lost, whatever writes relay.conf."""

from __future__ import annotations

import sys
import time

import pytest
from harness import PASSWORD as HARNESS_PASSWORD
from harness import ROOT, SCRIPT
from helpers import connected, fast, killed_after_connect, python_script, startup_warnings

sys.path.insert(0, str(ROOT))
import relay_autoreconnect as ra  # noqa: E402

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)


def relay_conf(client):
    return (client.home / "relay.conf").read_text()


def test_an_explicit_native_0_is_the_users_and_survives_save_and_unload(lab):
    server, client = connected(lab, fast())
    since = time.monotonic()
    client.send("/set relay.remote.srv.autoreconnect_delay 0")
    client.wait_line("Option changed: relay.remote.srv.autoreconnect_delay", since, 5)  # not "unchanged"
    client.send("/save relay")
    client.wait_for(lambda: "srv.autoreconnect_delay = 0" in relay_conf(client), 5, "relay.conf with 0")
    python_script(client, "unload", since)
    assert client.option("relay.remote.srv.autoreconnect_delay") == "0"
    dropped = time.monotonic()
    server.kill()
    client.nth("signal", "disconnected", dropped)
    client.assert_no_signal("connecting", dropped, seconds=3)  # WeeChat alone, with the user's 0: no attempt


def test_the_native_engine_never_acts_while_the_script_runs_and_is_whole_after(lab):
    client, since = killed_after_connect(
        lab, ["/set relay.network.autoreconnect_delay 30", "/set relay.remote.srv.autoreconnect_delay 1"]
    )
    client.wait_line("remote[srv]: reconnecting in 30 seconds (attempt 1)", since, 5)
    client.assert_no_signal("connecting", since, seconds=3)  # WeeChat's own 1-s attempt was cancelled
    assert not client.lines("reconnecting to remote relay", since) and not client.lines("auto-reconnection", since)
    assert client.option("relay.remote.srv.autoreconnect_delay") == "1"
    unloaded = time.monotonic()
    python_script(client, "unload", unloaded)
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
    client.send("/alias add sv /save")
    for command in ("/sav", "/relo", "/plu list", "/sv", "/mute /save", "/eval /save", "/mute /eval /sav"):
        client.send(command)
    assert client.option("relay.network.autoreconnect_delay") == "7"  # fifo commands run in order
    text = relay_conf(client)
    assert "\nautoreconnect" not in text and "srv.autoreconnect_delay = 25" in text
    assert not client.lines("unknown option", since)
    client.kill()  # a crash: nothing runs at exit
    client.start()
    assert startup_warnings(client) == []
    assert client.option("relay.network.autoreconnect_delay") == "7"
    assert client.option("relay.remote.srv.autoreconnect_delay") == "25"


# -- values read as WeeChat reads them; secure that cannot half-fail ----------------------


def test_stored_values_weechat_would_refuse_are_told_once_and_replaced(lab):
    home = lab.tmp / "client"
    home.mkdir()
    (home / "plugins.conf").write_text(
        "[var]\n"
        'python.relay_autoreconnect.autoreconnect_heartbeat = "60 "\n'
        'python.relay_autoreconnect.autoreconnect_auth_max = "２"\n'
        'python.relay_autoreconnect.autoreconnect_connect_timeout = "1_0"\n'
    )
    client = lab.client()
    assert client.option("relay.network.autoreconnect_heartbeat") == "60"  # not 0: the heartbeat stays on
    assert client.option("relay.network.autoreconnect_auth_max") == "2"  # not 0: a wrong password stops
    assert client.option("relay.network.autoreconnect_connect_timeout") == "30"
    told = [e["message"] for e in client.lines("invalid value")]
    assert len(told) == 3 and all(m.startswith("relay_autoreconnect: plugins.var.python.") for m in told), told


PASSWORD = "in ner  'single' ünï 密码"  # spaces inside, quotes, unicode


def test_secure_moves_any_password_secure_set_keeps_and_the_remote_connects(lab):
    lab.server(extra=[f'/set relay.network.password "{PASSWORD}"'])
    client = lab.client([f'/set relay.remote.srv.password "{PASSWORD}"'])
    since = time.monotonic()
    client.send("/autoreconnect secure srv")
    client.wait_line('password moved to secured data "relay_remote_srv"', since, 5)
    client.connect_remote()
    # connected: the server took the password as it is now, in secured data
    assert client.option("relay.remote.srv.password") == "${sec.data.relay_remote_srv}"
    assert PASSWORD not in "".join(e["message"] for e in client.lines("relay_autoreconnect"))


def test_a_password_with_spaces_at_its_ends_is_left_alone_and_no_copy_is_left(lab):
    client = lab.client(['/set relay.remote.srv.password " lead and trail "'])
    assert client.option("relay.remote.srv.password") == " lead and trail "
    since = time.monotonic()
    client.send("/autoreconnect secure srv")
    client.wait_line("starts or ends with a space, which /secure set can not keep: nothing changed", since, 5)
    client.send("/save")
    assert client.option("relay.remote.srv.password") == " lead and trail "
    assert "relay_remote_srv" not in (client.home / "sec.conf").read_text()


def secured(client):
    """The secured data of the script in sec.conf, written now (no passphrase: the values are in the file)."""
    since = time.monotonic()
    client.send("/save sec")
    client.wait_line("Options saved to", since, 5)
    text = (client.home / "sec.conf").read_text()
    data = ra.config_section(text, "data")
    return {name: value for name, value in data.items() if name.startswith("relay_remote")}


def test_secure_after_a_password_change_keeps_one_secured_value_the_new_one(lab):
    client = lab.client()
    since = time.monotonic()
    client.send("/autoreconnect secure srv")
    client.wait_line('password moved to secured data "relay_remote_srv";', since, 5)
    assert secured(client) == {"relay_remote_srv": HARNESS_PASSWORD}
    client.send("/set relay.remote.srv.password second-pw")  # changed, in plain text
    client.send("/autoreconnect secure srv")
    client.wait_line('password moved to secured data "relay_remote_srv" (the value it held is replaced)', since, 5)
    assert secured(client) == {"relay_remote_srv": "second-pw"}
    assert client.option("relay.remote.srv.password") == "${sec.data.relay_remote_srv}"
    printed = "".join(e["message"] for e in client.lines("relay_autoreconnect", since))
    assert HARNESS_PASSWORD not in printed and "second-pw" not in printed


TOTP = "JBSWY3DPEHPK3PXP"


def test_a_plain_totp_secret_is_flagged_secured_and_still_works(lab):
    lab.server(extra=[f"/set relay.network.totp_secret {TOTP}"])
    client = lab.client([f"/set relay.remote.srv.totp_secret {TOTP}"])
    since = time.monotonic()
    python_script(client, "reload", since)  # as at start-up, with the secret in relay.conf
    client.wait_line("the password and the TOTP secret are stored in plain text in relay.conf; move them", since, 5)
    client.send("/autoreconnect secure srv")
    client.wait_line('TOTP secret moved to secured data "relay_remote_srv_totp"', since, 5)
    assert secured(client) == {"relay_remote_srv": HARNESS_PASSWORD, "relay_remote_srv_totp": TOTP}
    assert client.option("relay.remote.srv.totp_secret") == "${sec.data.relay_remote_srv_totp}"
    client.connect_remote()  # WeeChat's own client takes both from secured data
    assert TOTP not in "".join(e["message"] for e in client.lines("relay_autoreconnect", since))


# -- deployment by files: every documented way, zero warnings from then on -------------------


def restart_clean(lab, client):
    """/save, /quit, and start again from the files alone (no /set on the command line).

    Returns the new client and when it started (its probe file goes on).
    """
    client.send("/save")
    client.quit()
    started = time.monotonic()
    return lab.client(), started


def test_deployed_in_plugins_conf(lab):
    home = lab.tmp / "client"
    home.mkdir()
    (home / "plugins.conf").write_text('[var]\npython.relay_autoreconnect.autoreconnect_delay = "5"\n')
    client = lab.client()
    assert startup_warnings(client) == []
    assert client.option("relay.network.autoreconnect_delay") == "5"
    client, started = restart_clean(lab, client)
    assert startup_warnings(client, started) == [] and client.option("relay.network.autoreconnect_delay") == "5"


def test_deployed_in_weechat_conf_startup_command(lab):
    home = lab.tmp / "client"
    home.mkdir()
    (home / "weechat.conf").write_text(
        '[startup]\ncommand_after_plugins = "/set relay.network.autoreconnect_delay 6"\n'
    )
    client = lab.client()
    assert startup_warnings(client) == []
    assert client.option("relay.network.autoreconnect_delay") == "6"


def test_deployed_on_the_command_line(lab):
    client = lab.client(["/set relay.network.autoreconnect_delay 4"])  # weechat -r "/set ..."
    assert startup_warnings(client) == [] and client.option("relay.network.autoreconnect_delay") == "4"
    client, started = restart_clean(lab, client)
    assert startup_warnings(client, started) == [] and client.option("relay.network.autoreconnect_delay") == "4"


def test_deployed_in_relay_conf_by_hand_is_adopted_then_lives_in_plugins_conf(lab):
    home = lab.tmp / "client"
    home.mkdir()
    (home / "relay.conf").write_text("[network]\nautoreconnect_delay = 3\nautoreconnect_max = 9\n")
    client = lab.client()
    # WeeChat warns once (it reads relay.conf before any script), the script adopts the values
    assert len(startup_warnings(client)) == 2
    adopted = client.wait_line("adopted from", time.monotonic() - 60, 5)["message"]
    assert "autoreconnect_delay = 3, autoreconnect_max = 9" in adopted
    assert client.option("relay.network.autoreconnect_delay") == "3"
    assert client.option("relay.network.autoreconnect_max") == "9"
    client, started = restart_clean(lab, client)
    assert startup_warnings(client, started) == []
    assert client.option("relay.network.autoreconnect_delay") == "3"
    assert client.option("relay.network.autoreconnect_max") == "9"
    assert "\nautoreconnect" not in relay_conf(client)


# -- /help as WeeChat shows it -------------------------------------------------------------


def test_help_speaks_like_weechat(lab):
    client = lab.client()
    since = time.monotonic()
    client.send("/help autoreconnect")
    client.send("/help relay.network.autoreconnect_delay")
    client.wait_line("current value:", since, 5)
    lines = [e["message"] for e in client.lines(since=since)]
    text = "\n".join(lines)
    print(text)
    assert "raw[" not in text and "[fmt]" not in text
    # the argument lines are aligned on their colon, as in /help remote, and start with a verb
    start = next(n for n, line in enumerate(lines) if line.endswith(ra.COMMAND_DESC))
    block = lines[start + 2 : next(n for n, line in enumerate(lines) if line.startswith("Options: /set")) - 1]
    arguments = {line.split(":")[0].strip(): line for line in block}
    for verb in ("list", "retry", "cancel", "reset", "secure"):
        assert arguments[verb].split(": ", 1)[1].split()[0] in (verb, "attempt", "start", "move", "list")
    assert len({line.index(":") for line in arguments.values() if not line.startswith("  /")}) == 1
    # on its own (weechat/scripts ships only the .py): what it needs, does, sends and keeps
    for said in ("Needs WeeChat >= 4.3 and Python", "its attempts are cancelled", "line is hidden", "POST /api/input",
                 "own password and TOTP", "relay_autoreconnect_outbox.json", "(mode 0600)"):  # fmt: skip
        assert said in text, said
    (description,) = [line for line in lines if line.startswith("  description: ")]
    assert description.startswith("  description: delay before trying again to reconnect to a remote relay server")
    assert "(in seconds)" in description and "default" not in description  # WeeChat shows it below
    assert "  default value: 10" in lines


def test_relay_plugin_reload_and_quit_write_relay_conf_without_script_options(lab):
    client = lab.client(["/set relay.network.autoreconnect_delay 8", "/set relay.remote.srv.autoreconnect_delay 12"])
    since = time.monotonic()
    client.send("/plugin reload relay")  # relay writes relay.conf as it unloads
    client.wait_line('Plugin "relay" loaded', since, 5)
    text = relay_conf(client)
    assert "\nautoreconnect" not in text and "srv.autoreconnect_delay = 12" in text
    assert client.option("relay.network.autoreconnect_delay") == "8"  # back once relay is
    client.quit()
    text = relay_conf(client)
    assert "\nautoreconnect" not in text and "srv.autoreconnect_delay = 12" in text


# -- an option of these names that the script did not make ---------------------------------

FOREIGN = """
import weechat
weechat.register("foreign", "tests", "0.1", "GPL3", "owns an option in relay.conf's [network]", "", "")
anchor = weechat.config_get("relay.network.password")
weechat.config_new_option(
    weechat.config_option_get_pointer(anchor, "config_file"), weechat.config_option_get_pointer(anchor, "section"),
    "autoreconnect_delay", "integer", "someone else's delay", "", 0, 100, "5", "7", 0, "", "", "", "", "", "",
)
"""


def test_an_option_of_these_names_that_someone_else_made_is_never_freed(lab, tmp_path):
    """A future WeeChat (or another script) has relay.network.autoreconnect_delay: the
    script says so and stays out of the way; the owner's option is never freed under it."""
    client = lab.client(script=False)
    foreign = tmp_path / "foreign.py"
    foreign.write_text(FOREIGN)
    since = time.monotonic()
    client.send(f"/python load {foreign}")
    client.wait_line('registered script "foreign"', since, 5)
    (client.home / "python" / "relay_autoreconnect.py").write_bytes(SCRIPT.read_bytes())
    client.send(f"/python load {client.home / 'python' / 'relay_autoreconnect.py'}")
    told = client.wait_line("already exists and was not made by this script", since, 5)
    assert "relay.network.autoreconnect_delay" in told["message"] and "=!=" in told["prefix"]
    assert client.option("relay.network.autoreconnect_delay") == "7"  # the owner's, alive and untouched
    client.send("/set relay.network.autoreconnect_delay 8")  # WeeChat still has the option: no dangling pointer
    assert client.option("relay.network.autoreconnect_delay") == "8"
    assert client.option("relay.network.autoreconnect") is None  # none of the script's options made
    assert client.hooks() == {}  # nothing of the script's left
    assert not client.lines("Traceback", since)


def test_unloading_leaves_plugins_conf_with_only_the_values_the_user_set(lab):
    client = lab.client(["/set relay.network.autoreconnect_delay 5"])  # jitter 0 too (the harness sets it)
    since = time.monotonic()
    python_script(client, "unload", since)
    client.send("/save plugins")
    assert client.option("weechat.look.command_incomplete") is not None  # the fifo ran /save before this
    lines = [line.strip() for line in (client.home / "plugins.conf").read_text().splitlines()]
    ours = [line for line in lines if "relay_autoreconnect" in line]
    assert sorted(ours) == [
        'python.relay_autoreconnect.autoreconnect_delay = "5"',
        'python.relay_autoreconnect.autoreconnect_jitter = "0"',
    ], ours
