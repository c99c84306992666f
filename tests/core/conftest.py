# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The core tests run without WeeChat: any call the core makes to the weechat module fails."""

import pytest

import relay_autoreconnect as ra


class NoWeeChat:
    """Stands for the weechat module in core tests: the core must never reach it."""

    def __getattr__(self, name):
        raise AssertionError(f"the core called weechat.{name}")


@pytest.fixture(autouse=True)
def no_weechat(monkeypatch):
    monkeypatch.setattr(ra, "weechat", NoWeeChat())
