# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the script and the fake weechat module importable."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "stubs", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


@pytest.fixture
def sim():
    """A simulated WeeChat with one remote, "home"; the script is unloaded after the test."""
    import weechat_sim  # noqa: PLC0415  (importable once the paths above are set)

    simulation = weechat_sim.Sim()
    simulation.add_remote("home")
    yield simulation
    simulation.unload()
