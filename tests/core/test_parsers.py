# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers: netlink and routing socket messages, route tables, the hand-over, values and files (core)."""

from __future__ import annotations

import json
import struct

import pytest
from shared import NETLINK

import relay_autoreconnect as ra

# -- parsers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "gained"),
    [("setup", False), ("up", True), ("addr", True), ("route", True), ("down", False), ("deladdr", False)],
)
def test_recorded_netlink_messages(label, gained):
    assert ra.netlink_gains(NETLINK[label]) is gained


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 15,  # shorter than a header
        struct.pack("=IHHII", 8, ra.RTM_NEWADDR, 0, 0, 0),  # a length below the header's
        struct.pack("=IHHII", 400, ra.RTM_NEWADDR, 0, 0, 0),  # a length past the data
        NETLINK["up"][:37],  # cut in the middle of a message
    ],
)
def test_a_malformed_netlink_message_is_ignored(data):
    assert ra.netlink_gains(data) is False


def test_a_good_message_before_a_malformed_one_counts():
    assert ra.netlink_gains(NETLINK["addr"] + b"\x01\x02\x03") is True


def route_message(kind, flags=0, length=16):
    return struct.pack("=HBBii", length, 5, kind, 0, flags) + b"\x00" * (length - 12)


@pytest.mark.parametrize(
    ("data", "gained"),
    [
        (route_message(ra.RTM_IFINFO, ra.IFF_UP | ra.IFF_RUNNING), True),
        (route_message(ra.RTM_IFINFO, ra.IFF_UP), False),
        (route_message(ra.RTM_ADD), True),
        (route_message(ra.RTM_NEWADDR_BSD), True),
        (route_message(2), False),  # RTM_DELETE
        (route_message(ra.RTM_ADD)[:10], False),
        (struct.pack("=HBB", 2, 5, ra.RTM_ADD), False),
    ],
)
def test_routing_socket_messages(data, gained):
    assert ra.route_socket_gains(data) is gained


# route tables as /proc/net shows them, recorded on this project's machines
ROUTE4_HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
ROUTE4_DEFAULT = "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
ROUTE4_LAN = "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
ROUTE4_UNREACHABLE = "*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0\n"  # ip route add unreachable default
ZERO = "0" * 32
ROUTE6_DEFAULT = f"{ZERO} 00 {ZERO} 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n"
ROUTE6_LAN = f"fd000000000000000000000000000000 40 {ZERO} 00 {ZERO} 00000100 00000001 00000000 00000001     eth0\n"
ROUTE6_LOOPBACK = f"{ZERO[:-1]}1 80 {ZERO} 00 {ZERO} 00000000 00000002 00000000 80200001       lo\n"
ROUTE6_REJECT = f"{ZERO} 00 {ZERO} 00 {ZERO} ffffffff 00000001 00000000 00200200       lo\n"  # in every namespace


@pytest.mark.parametrize(
    ("ipv4", "ipv6", "found"),
    [
        (ROUTE4_DEFAULT + ROUTE4_LAN, ROUTE6_LAN + ROUTE6_DEFAULT + ROUTE6_REJECT, True),  # a machine on a network
        (ROUTE4_DEFAULT, "", True),
        ("", ROUTE6_LAN + ROUTE6_DEFAULT, True),  # IPv6 only
        ("", ROUTE6_LOOPBACK + ROUTE6_REJECT + ROUTE6_REJECT, False),  # a namespace with only lo: no network
        (ROUTE4_LAN, ROUTE6_LAN + ROUTE6_REJECT, False),  # a LAN and no way out
        (ROUTE4_UNREACHABLE, ROUTE6_REJECT, False),
        ("", "", False),
        ("garbage\n00000000", "short line\n" + ZERO + " 00 x", False),
    ],
)
def test_default_route_read_from_the_route_tables(ipv4, ipv6, found):
    assert ra.default_route_in(ROUTE4_HEADER + ipv4, ipv6) is found


# -- the hand-over ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remotes", "problem"),
    [
        ({"home": ["disconnected", True, "abc", 3.0]}, "remote 'home': attempt 'abc' is not a count"),
        ({"home": ["disconnected", True, None, 3.0]}, "remote 'home': attempt None is not a count"),
        ({"home": ["disconnected", True, True, 3.0]}, "remote 'home': attempt True is not a count"),
        ({"home": ["disconnected", True, 1, 1e308]}, "remote 'home': due 1e+308 is not a wait in seconds"),
        ({"home": ["disconnected", True, 1, "soon"]}, "remote 'home': due 'soon' is not a wait in seconds"),
        ({"home": ["disconnected", True, 1, -1]}, "remote 'home': due -1 is not a wait in seconds"),
        ({"home": ["sleeping", True, 1, None]}, "remote 'home': status 'sleeping' is not known"),
        ({"home": ["connected", "yes", 1, None]}, "remote 'home': wanted 'yes' is not true, false or null"),
        (
            {"home": ["connected", True, 1]},
            "remote 'home': ['connected', True, 1] is not [status, wanted, attempt, due]",
        ),
        (["home"], "no remotes"),
    ],
)
def test_a_hand_over_that_is_not_valid_is_refused_whole(remotes, problem):
    text = json.dumps({"time": 1000.0, "remotes": {"work": ["connected", True, 0, None], **remotes}}
                      if isinstance(remotes, dict) else {"time": 1000.0, "remotes": remotes})  # fmt: skip
    assert ra.parse_handover(text, 1001.0, 60.0) == ({}, problem)


def test_a_pending_attempt_keeps_its_time_however_long_the_hand_over_took():
    text = json.dumps(
        {"time": 1000.0, "remotes": {"home": ["disconnected", True, 2, 3.0], "up": ["connected", True, 0, None]}}
    )
    assert ra.parse_handover(text, 1000.4, 60.0)[0] == {
        "home": ("disconnected", True, 2, pytest.approx(2.6)),
        "up": ("connected", True, 0, None),
    }
    assert ra.parse_handover(text, 1005.0, 60.0)[0]["home"][3] == 0.0  # already due: at once


def test_a_hand_over_time_that_is_not_a_time_or_not_json_is_refused():
    assert ra.parse_handover('{"time": "then", "remotes": {}}', 0.0, 60.0) == ({}, "time 'then' is not a time")
    assert ra.parse_handover('{"time": NaN, "remotes": {}}', 0.0, 60.0) == ({}, "time nan is not a time")
    assert ra.parse_handover("{", 0.0, 60.0)[1].startswith("not JSON")


# -- values and files as WeeChat reads them -------------------------------------------------

SPECS = {spec.name: spec for spec in ra.OPTIONS}
WHERE = "plugins.var.python.relay_autoreconnect"


@pytest.mark.parametrize(
    ("name", "text", "value", "told"),
    [
        ("autoreconnect_heartbeat", "60", "60", ""),
        ("autoreconnect_heartbeat", " 60", "60", ""),  # strtol skips leading blanks
        ("autoreconnect_heartbeat", "+60", "60", ""),
        ("autoreconnect_heartbeat", "60 ", "60", 'invalid value "60 ", using 60'),
        ("autoreconnect_heartbeat", "1_0", "60", 'invalid value "1_0", using 60 (the default)'),
        ("autoreconnect_heartbeat", "２", "60", 'invalid value "２", using 60 (the default)'),
        ("autoreconnect_heartbeat", "", "60", 'invalid value "", using 60 (the default)'),
        ("autoreconnect_heartbeat", "   ", "60", 'invalid value "   ", using 60 (the default)'),
        ("autoreconnect_heartbeat", "0x10", "60", 'invalid value "0x10", using 60 (the default)'),
        ("autoreconnect_heartbeat", "-1", "60", 'invalid value "-1", using 60 (the default)'),
        ("autoreconnect_heartbeat", "99999999999999999999", "60", "using 60 (the default)"),
        ("autoreconnect_delay", "0", "10", 'invalid value "0", using 10 (the default)'),  # below its minimum
        ("autoreconnect_max", "7", "7", ""),
        ("autoreconnect_max", "7.5", "0", 'invalid value "7.5", using 0 (the default)'),
        ("autoreconnect", "on", "on", ""),
        ("autoreconnect", "yes", "on", ""),
        ("autoreconnect", "0", "off", ""),
        ("autoreconnect", "On", "on", 'invalid value "On", using on'),
        ("autoreconnect", "maybe", "on", 'invalid value "maybe", using on (the default)'),
    ],
)
def test_stored_values_are_read_as_weechat_reads_them(name, text, value, told):
    used, problem = ra.stored_value(SPECS[name], text, WHERE)
    assert used == value
    assert (told in problem and problem.startswith(WHERE)) if told else problem == ""


def test_config_section_reads_like_weechat():
    text = '#\n[network]\n  a = 1\nb=2\nc = "x y"  \n\\d = 4\ne =\n[remote]\na = 9\n'
    assert ra.config_section(text, "network") == {"a": "1", "c": "x y", "d": "4", "e": ""}


NESTED = "[" * 200000 + "]" * 200000  # deeper than Python's recursion limit


def test_a_hand_over_nested_too_deep_or_too_big_is_refused_in_one_line():
    assert ra.parse_handover(NESTED, 0.0, 60.0) == ({}, "not JSON (nested too deep)")
    huge = '{"time": 0, "remotes": {}, "pad": "' + "x" * ra.HANDOVER_LIMIT + '"}'
    assert ra.parse_handover(huge, 0.0, 60.0) == (
        {},
        f"not JSON ({len(huge)} characters, more than {ra.HANDOVER_LIMIT})",
    )


@pytest.mark.parametrize("text", [NESTED, '{"format": 1, "lines": ' + NESTED + "}"])
def test_an_outbox_file_nested_too_deep_is_not_valid(text):
    with pytest.raises(ValueError, match="nested too deep"):
        ra.outbox_from_json(text)
