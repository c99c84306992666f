# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The script's WeeChat layer against the fake weechat module (virtual time)."""

from __future__ import annotations

import pytest
import weechat

import relay_autoreconnect as ra

NETWORK = "relay.network."
ATTEMPT = "attempt_timer_cb"


def connected(sim, name="home"):
    sim.user(f"/remote connect {name}")
    sim.accept(name)


def stable_link_drops(sim, name="home"):
    """The user connects, the link stays up 100 s, then drops; decisions run."""
    connected(sim, name)
    sim.advance(100)
    sim.drop(name)
    sim.settle()


def refuse(sim, name="home"):
    """The attempt in flight fails (connecting -> disconnected)."""
    assert sim.remote(name).status == "connecting"
    sim.drop(name)
    sim.settle()


def attempt_times(sim, name, count, refuse_each=True):
    """Run `count` attempts; return the virtual times they were made at."""
    times = []
    for _ in range(count):
        before = len(sim.connects(name))
        deadline = sim.state.now + 700000
        while len(sim.connects(name)) == before and sim.state.now < deadline:
            sim.advance(0.001 if not sim.timers() else min(h.due for h in sim.timers()) - sim.state.now)
        times.append(sim.state.now)
        if refuse_each:
            refuse(sim, name)
    return times


# -- options -------------------------------------------------------------------


def test_options_created_with_defaults_and_documented(sim):
    assert sim.load(ra) is not None
    for spec in ra.OPTIONS:
        option = sim.state.option(NETWORK + spec.name)
        assert option is not None, spec.name
        assert option.value == spec.default
        # WeeChat's words: no "default: N" (/set and /fset show it), units and zero values in parentheses
        assert "default" not in spec.description and spec.description.endswith("(script relay_autoreconnect)")
        if spec.kind == "integer" and spec.name not in ("autoreconnect_delay_growing",):
            assert "(in seconds" in spec.description or "(in percent" in spec.description or "(0 = " in spec.description
        if spec.kind == "integer" and spec.minimum == 0:
            assert "0 = " in spec.description, spec.name
    assert (
        sim.state.option(NETWORK + "autoreconnect_delay").minimum,
        sim.state.option(NETWORK + "autoreconnect_delay").maximum,
    ) == (1, 65535)
    assert sim.state.option(NETWORK + "autoreconnect_delay_max").maximum == 604800
    assert sim.state.option(NETWORK + "autoreconnect_max").maximum == 1000000


def test_option_values_come_from_plugins_var_and_go_back_there(sim, load):
    load(autoreconnect_delay=7, autoreconnect_max="junk")
    assert sim.option(NETWORK + "autoreconnect_delay") == "7"
    assert sim.option(NETWORK + "autoreconnect_max") == "0"
    assert sim.set_option(NETWORK + "autoreconnect_delay", "42") == weechat.WEECHAT_CONFIG_OPTION_SET_OK_CHANGED
    assert sim.state.plugin_vars["autoreconnect_delay"] == "42"
    assert sim.set_option(NETWORK + "autoreconnect_delay", "0") == weechat.WEECHAT_CONFIG_OPTION_SET_ERROR
    assert sim.option(NETWORK + "autoreconnect_delay") == "42"


def test_save_writes_relay_conf_without_script_options_and_with_user_native_delays(sim, load):
    load()
    assert sim.option("relay.remote.home.autoreconnect_delay") == "10"  # never touched
    sim.user("/save")
    saved = sim.state.saved["relay"]
    assert not [k for k in saved if k.startswith(NETWORK + "autoreconnect")]
    assert saved["relay.remote.home.autoreconnect_delay"] == "10"
    # back in place right after the save
    assert sim.option(NETWORK + "autoreconnect") == "on"
    assert not sim.lines("native")


@pytest.mark.parametrize("spelling", ["/save", "/SAVE relay", "/sav", "/sa"])
def test_save_in_any_spelling_weechat_runs_leaves_script_options_out(sim, load, spelling):
    load()
    sim.user("/set weechat.look.command_incomplete on")
    sim.state.options[ra.weechat.config_get("weechat.look.command_incomplete")].value = "on"
    sim.user(spelling)
    saved = sim.state.saved.get("relay", {})
    assert not [k for k in saved if k.startswith(NETWORK + "autoreconnect")], spelling
    assert sim.option(NETWORK + "autoreconnect") == "on"


def test_an_ambiguous_start_of_a_command_is_not_taken_for_save(sim, load, mocker):
    load()
    sim.state.options[ra.weechat.config_get("weechat.look.command_incomplete")].value = "on"
    detach = mocker.spy(ra.Options, "detach")
    for command in ("/s", "/se", "/sa x"):  # /say, /secure, /set, /server ... start so too
        sim.user(command)
    assert ra.config_command("/sa x") == "" and detach.call_count == 0


def test_quit_gives_relay_conf_back(sim, load):
    load()
    weechat._signal_send("quit", "")  # pylint: disable=protected-access
    sim.settle()
    assert sim.option(NETWORK + "autoreconnect") is None
    assert sim.option("relay.remote.home.autoreconnect_delay") == "10"


# -- engine through the shell -----------------------------------------------------


def test_drop_schedules_growing_attempts_on_time(sim, load):
    load(autoreconnect_delay=10, autoreconnect_delay_max=35)
    connected(sim)
    sim.advance(100)
    drop_time = sim.state.now
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: reconnecting in 10 seconds (attempt 1)"
    times = attempt_times(sim, "home", 4)
    waits = [times[0] - drop_time] + [b - a for a, b in zip(times, times[1:])]
    assert waits == pytest.approx([10, 20, 35, 35], abs=0.005)
    # WeeChat's own engine planned an attempt at each drop: never shown, always cancelled
    assert len(sim.state.native_schedules) == 5 and sim.state.native_fired == []
    assert not sim.lines("reconnecting to remote relay") and not sim.lines("auto-reconnection is cancelled")
    assert sim.state.overlaps == 0


def test_attempt_cap_gives_up_once_with_how_to_retry(sim, load):
    load(autoreconnect_delay=1, autoreconnect_max=3)
    connected(sim)
    sim.advance(60)
    sim.drop("home")
    sim.settle()
    attempt_times(sim, "home", 3)
    sim.advance(3600)
    assert len(sim.connects("home")) == 4  # the user's and 3 attempts
    give_up = sim.lines("giving up")
    assert give_up == [
        "--\trelay_autoreconnect: remote[home]: giving up after 3 failed attempts "
        '(relay.network.autoreconnect_max); retry with "/remote connect home"'
    ]
    assert [line for line in sim.lines("attempt ") if "/3)" in line][-1].endswith("(attempt 3/3)")
    # a user connect starts over
    connected(sim)
    sim.advance(60)
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 1 second (attempt 1/3)")


def test_unstable_link_keeps_backing_off_and_stable_link_resets(sim, load):
    load(autoreconnect_delay=10)
    stable_link_drops(sim)
    sim.advance(10)
    sim.accept("home")  # attempt 1 connects ...
    sim.advance(5)
    sim.drop("home")  # ... and drops within the stability window
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 20 seconds (attempt 2)")
    sim.advance(20)
    sim.accept("home")
    sim.advance(ra.STABLE_SECONDS + 1)
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 10 seconds (attempt 1)")


def test_user_disconnect_cancels_and_is_respected(sim, load):
    load(autoreconnect_delay=5)
    connected(sim)
    sim.user("/remote disconnect home")
    sim.settle()
    sim.advance(600)
    assert len(sim.connects("home")) == 1
    assert not sim.lines("reconnecting")
    # a drop, then the user disconnects while the attempt is pending
    connected(sim)
    sim.advance(60)
    sim.drop("home")
    sim.settle()
    sim.user("/remote disconnect home")
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[home]: auto-reconnection cancelled"
    assert sim.timers(ATTEMPT) == []
    sim.advance(600)
    assert len(sim.connects("home")) == 2


def test_user_connect_while_connecting_is_refused(sim, load):
    load()
    sim.user("/remote connect home")
    sim.user("/remote connect home")
    sim.user("/remote reconnect home")
    assert sim.state.overlaps == 0
    assert sim.remote("home").in_flight == 1
    assert sim.lines("already in progress")[0].startswith("=!=\t")


def test_user_connect_resets_backoff_and_cancels_pending(sim, load):
    load(autoreconnect_delay=10)
    stable_link_drops(sim)
    attempt_times(sim, "home", 2)  # next wait would be 40 s
    sim.user("/remote connect home")
    assert sim.timers(ATTEMPT) == []
    refuse(sim)
    assert sim.lines()[-1].endswith("reconnecting in 10 seconds (attempt 1)")


def test_user_reconnect_is_not_a_drop(sim, load):
    load()
    connected(sim)
    sim.user("/remote reconnect home")
    sim.settle()
    assert not sim.lines("reconnecting in")
    assert sim.timers(ATTEMPT) == []


def test_delete_while_pending_leaves_no_timer_and_no_error(sim, load):
    load()
    stable_link_drops(sim)
    sim.user("/remote del home")
    sim.settle()
    assert sim.timers(ATTEMPT) == []
    sim.advance(3600)
    assert len(sim.connects("home")) == 1
    assert not sim.lines("=!=")


def test_rename_while_pending_attempts_under_the_new_name_on_time(sim, load):
    load(autoreconnect_delay=10)
    connected(sim)
    sim.advance(100)
    drop_time = sim.state.now
    sim.drop("home")
    sim.settle()
    sim.advance(3)
    sim.user("/remote rename home office")
    sim.settle()
    sim.advance(7)
    assert sim.connects("office") and sim.state.now == pytest.approx(drop_time + 10, abs=0.005)
    assert not sim.lines("=!=")
    sim.unload()
    assert sim.option("relay.remote.office.autoreconnect_delay") == "10"


def test_option_off_cancels_everything_and_leaves_weechat_its_own_engine(sim, load):
    load()
    stable_link_drops(sim)
    assert sim.timers(ATTEMPT)
    sim.set_option(NETWORK + "autoreconnect", "off")
    assert sim.timers(ATTEMPT) == []
    sim.advance(3600)
    assert len(sim.connects("home")) == 1 and sim.state.native_fired == []  # that drop was ours
    sim.set_option(NETWORK + "autoreconnect", "on")
    sim.advance(10)
    assert len(sim.connects("home")) == 2
    sim.set_option(NETWORK + "autoreconnect", "off")
    sim.accept("home")
    sim.drop("home")  # off: WeeChat alone, as the user configured it
    sim.settle()
    assert sim.lines()[-1] == "remote[home]: reconnecting to remote relay in 10 seconds"
    sim.advance(10)
    assert sim.state.native_fired == ["home"]


def test_remote_connected_before_load_is_managed_from_its_next_drop(sim, load):
    sim.status("home", "connecting")
    sim.accept("home")
    load()
    sim.drop("home")
    sim.settle()
    assert sim.lines()[-1].endswith("reconnecting in 10 seconds (attempt 1)")


def test_new_remote_is_not_a_drop_and_keeps_its_native_delay(sim, load):
    load()
    sim.user("/remote add work http://127.0.0.1:9001")
    sim.settle()
    assert not sim.lines("reconnecting in")
    assert sim.option("relay.remote.work.autoreconnect_delay") == "10"


def test_remote_made_without_a_command_is_taken_at_its_first_signal(sim, load):
    """/set relay.remote.NAME.url makes a remote too: no /remote command to see."""
    load()
    sim.add_remote("work")
    sim.status("work", "connecting")
    sim.settle()
    sim.accept("work")
    sim.advance(100)
    sim.drop("work")
    sim.settle()
    assert sim.lines()[-1] == "--\trelay_autoreconnect: remote[work]: reconnecting in 10 seconds (attempt 1)"


def test_flaps_do_not_read_the_list_of_remotes_again(sim, mocker, load):
    """Each event costs the same with 10 or 10 000 remotes (see bench/scale.py)."""
    for n in range(20):
        sim.add_remote(f"r{n}")
    load(autoreconnect_delay=1)
    for n in range(20):
        connected(sim, f"r{n}")
    sim.advance(100)
    names = mocker.spy(ra, "remote_names")
    for _ in range(3):
        for n in range(20):
            sim.drop(f"r{n}")
        sim.advance(5)
        for n in range(20):
            sim.accept(f"r{n}")
        sim.advance(100)
    assert len(sim.connects("r7")) == 4
    assert names.call_count == 0
    sim.user("/remote del r7")
    sim.settle()
    assert names.call_count == 2  # before and after the command ran


@pytest.mark.parametrize("value", ["30", "0"])
def test_the_users_native_delay_is_never_touched(sim, load, value):
    load()
    sim.set_option("relay.remote.home.autoreconnect_delay", value)  # an explicit 0 too
    stable_link_drops(sim)
    assert sim.option("relay.remote.home.autoreconnect_delay") == value
    sim.user("/save")
    assert sim.state.saved["relay"]["relay.remote.home.autoreconnect_delay"] == value
    sim.unload()
    assert sim.option("relay.remote.home.autoreconnect_delay") == value
    assert sim.state.native_fired == []


def test_unload_while_pending_removes_every_hook(sim, mocker, load):
    unhook = mocker.spy(weechat, "unhook")
    load()
    stable_link_drops(sim)
    hooks = {h.pointer for h in sim.hooks() if h.kind != "bar_item"}
    items = [h.pointer for h in sim.hooks() if h.kind == "bar_item"]
    remove_item = mocker.spy(weechat, "bar_item_remove")
    sim.unload()
    assert sim.hooks() == []
    assert {call[0][0] for call in unhook.call_args_list} >= hooks
    assert [call[0][0] for call in remove_item.call_args_list] == items
    assert sim.option(NETWORK + "autoreconnect") is None
    assert sim.option("relay.remote.home.autoreconnect_delay") == "10"
    assert ra.SHELL is None


@pytest.mark.parametrize("sim", [0x04030600], indirect=True)
def test_weechat_4_3_has_no_native_engine_to_guard(sim, load):
    load(autoreconnect_delay=3)
    assert not sim.lines("native")
    stable_link_drops(sim)
    sim.advance(3)
    assert len(sim.connects("home")) == 2
    sim.unload()


@pytest.mark.parametrize("sim", [0x04020000], indirect=True)
def test_too_old_weechat_says_so_and_hooks_nothing(sim):
    assert sim.load(ra) is None
    assert sim.lines()[0].startswith("=!=\trelay_autoreconnect: WeeChat >= 4.3.0 is required")
    assert sim.hooks() == []


def test_unreadable_signal_pointer_is_ignored(sim, mocker, load):
    load()
    mocker.patch.object(weechat, "hdata_string", autospec=True, return_value="")
    connected(sim)
    sim.drop("home")
    sim.settle()
    assert not sim.lines("relay_autoreconnect: remote[home]: reconnecting")


def test_timer_is_set_for_the_remaining_time(sim, mocker, load):
    hook_timer = mocker.spy(weechat, "hook_timer")
    load(autoreconnect_delay=12)
    stable_link_drops(sim)
    intervals = [call[0][0] for call in hook_timer.call_args_list if call[0][3] == "attempt_timer_cb"]
    # decided 1 ms after the drop (deferred out of the signal callback)
    assert intervals == [12000 - 1]


def test_rename_with_a_heartbeat_probe_in_flight_keeps_the_heartbeat(sim, load):
    load(autoreconnect_heartbeat=10, autoreconnect_heartbeat_timeout=5)
    connected(sim)
    sim.advance(10)  # a probe is in flight
    assert len(sim.probes("home")) == 1
    sim.user("/remote rename home office")
    sim.settle()
    sim.answer_probes(True)
    sim.advance(10)
    assert len(sim.probes("office")) == 1  # heartbeats go on under the new name


def test_rename_then_add_of_the_old_name_in_one_burst_keeps_each_remote_its_own(sim, load):
    load(autoreconnect_delay=10)
    sim.set_option("relay.remote.home.autoreconnect_delay", "30")  # the user's native delay
    stable_link_drops(sim)
    sim.user("/remote rename home old")  # one burst: nothing runs in between
    sim.user("/remote add home http://127.0.0.1:9999")
    sim.settle()
    sim.advance(10)
    assert sim.connects("old") == ["/remote connect old"] and sim.connects("home") == ["/remote connect home"]
    assert sim.remote("home").status == "disconnected"  # the new "home" was never attempted
    sim.user("/save")
    assert sim.state.saved["relay"]["relay.remote.old.autoreconnect_delay"] == "30"


def test_an_option_of_these_names_made_by_someone_else_is_never_freed(sim):
    """WeeChat (or another script) has relay.network.autoreconnect_delay: the script stays out of the way."""
    theirs = sim.state.add_option("relay.network.autoreconnect_delay", "integer", 0, 100, "5", "7")
    theirs.description = "their own delay"
    assert sim.load(ra) is None  # the script does not start
    assert sim.lines("already exists") == [
        "=!=\trelay_autoreconnect: relay.network.autoreconnect_delay already exists and was not made by this "
        "script (WeeChat has it, or another script): the script stays out of the way"
    ]
    assert sim.state.options.get(theirs.pointer) is theirs and theirs.value == "7"  # untouched
    assert not sim.state.option("relay.network.autoreconnect")  # none of the script's made
    assert not [h for h in sim.hooks() if h.kind != "timer"]


def test_the_scripts_own_options_left_behind_are_made_again(sim, load):
    load(autoreconnect_delay=9)
    left = sim.state.option("relay.network.autoreconnect_delay")
    ra.SHELL = None  # the script ended without its shutdown: its options stay in relay.conf
    load()
    assert left.pointer not in sim.state.options  # freed: it was the script's
    assert sim.option("relay.network.autoreconnect_delay") == "9"
