# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the shell tests: a simulated WeeChat (stubs/weechat_sim.py) and the script loaded in it."""

import pytest
import weechat_sim

import relay_autoreconnect as ra


@pytest.fixture
def sim(request):
    """A simulated WeeChat (4.6.3, or the version given as indirect parameter) with one
    remote, "home"; the script is unloaded after the test."""
    simulation = weechat_sim.Sim(version=getattr(request, "param", 0x04060300))
    simulation.add_remote("home")
    yield simulation
    simulation.unload()


@pytest.fixture
def load(sim):
    """load(**values): load the script into `sim` with these option values (jitter 0 unless given)."""

    def load_script(**values):
        values = {"autoreconnect_jitter": 0, **values}
        shell = sim.load(ra, {name: str(value) for name, value in values.items()})
        assert shell is not None
        return shell

    return load_script
