# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the core and the shell tests."""

import binascii
from pathlib import Path

import relay_autoreconnect as ra

# netlink messages recorded in a network namespace (tests/data/netlink_recorded.txt), by label
NETLINK = {
    line.split()[0]: binascii.unhexlify(line.split()[1])
    for line in (Path(__file__).parent / "data" / "netlink_recorded.txt").read_text().splitlines()
    if line and not line.startswith("#")
}


def filled(*specs) -> ra.Outbox:
    """An outbox with lines (remote, buffer, text), queued a second apart from 1000 s."""
    box = ra.Outbox()
    for n, (remote, buffer, text) in enumerate(specs):
        box.add(f"id{n}", remote, buffer, text, 1000.0 + n)
    return box
