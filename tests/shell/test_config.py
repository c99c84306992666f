# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user's configuration: values read back as WeeChat reads them, files deployed by hand."""

from __future__ import annotations

import os

import relay_autoreconnect as ra

SPECS = {spec.name: spec for spec in ra.OPTIONS}
WHERE = "plugins.var.python.relay_autoreconnect"


def test_a_stored_value_weechat_would_refuse_is_told_once_and_never_turns_a_safety_off(sim, load):
    sim.state.plugin_vars.update({"autoreconnect_heartbeat": "60 ", "autoreconnect_auth_max": "２"})
    load()
    assert sim.option("relay.network.autoreconnect_heartbeat") == "60"
    assert sim.option("relay.network.autoreconnect_auth_max") == "2"
    sim.user("/save")  # the options step out of relay.conf and come back: nothing said twice
    assert sorted(line for line in sim.lines() if "invalid value" in line) == [
        f'=!=\trelay_autoreconnect: {WHERE}.autoreconnect_auth_max: invalid value "２", using 2 (the default)',
        f'=!=\trelay_autoreconnect: {WHERE}.autoreconnect_heartbeat: invalid value "60 ", using 60',
    ]


def test_values_written_by_hand_into_relay_conf_are_adopted(sim, load):
    path = os.path.join(sim.state.data_dir, "relay.conf")
    with open(path, "w", encoding="utf-8") as file:
        file.write(
            "[network]\n"
            'bind_address = ""\n'
            "autoreconnect_delay = 5\n"
            '  autoreconnect_max = "7"\n'
            "autoreconnect_jitter = lots\n"
            "[remote]\n"
            "home.autoreconnect_delay = 3\n"
        )
    sim.state.plugin_vars["autoreconnect_delay"] = "9"  # an older value: the deployed file wins
    load()
    assert sim.option("relay.network.autoreconnect_delay") == "5"
    assert sim.option("relay.network.autoreconnect_max") == "7"
    assert sim.option("relay.network.autoreconnect_jitter") == "30"
    assert sim.state.plugin_vars["autoreconnect_delay"] == "5"
    assert sim.lines("adopted from") == [
        f"relay_autoreconnect: adopted from {path} [network]: autoreconnect_delay = 5, autoreconnect_max = 7, "
        "autoreconnect_jitter = 30; these values now live in plugins.var.python.relay_autoreconnect.* "
        "(relay.conf drops them at its next save)"
    ]
    assert sim.lines(f'{path} [network] autoreconnect_jitter: invalid value "lots", using 30 (the default)')


def test_unloading_leaves_plugins_conf_with_only_the_values_the_user_set(sim, load):
    load()
    assert sim.state.plugin_vars == {"autoreconnect_jitter": "0"}  # what this test's load() sets, nothing more
    sim.set_option("relay.network.autoreconnect_delay", "5")
    assert sim.state.plugin_vars["autoreconnect_delay"] == "5"
    assert set(sim.state.plugin_descs) == {"autoreconnect_jitter", "autoreconnect_delay"}  # what they are, while loaded
    sim.unload()
    assert sim.state.plugin_vars == {"autoreconnect_jitter": "0", "autoreconnect_delay": "5"}
    assert sim.state.plugin_descs == {}
