# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Failure classes: one row per WeeChat line and signal sequence seen in 4.3 - 4.10 (core).

The lines are WeeChat's own (src/plugins/relay/api/remote/relay-remote-network.c
and relay-remote.c, msgids as in 4.3.0 ... 4.10.0), after "remote[NAME]: ",
with curl's reasons as WeeChat printed them in this project's end-to-end tests.
"""

from __future__ import annotations

import dataclasses

import pytest

import relay_autoreconnect as ra
from relay_autoreconnect import (
    FAILURE_AUTH,
    FAILURE_NETWORK,
    FAILURE_OFFLINE,
    FAILURE_TLS,
    FAILURE_VERSION,
    FOUND_REACHED,
    FOUND_TAKEN,
    FOUND_UNRESOLVED,
    Drop,
    Failure,
    Route,
)

CONNECTING, AUTH, CONNECTED = ra.STATUS_CONNECTING, ra.STATUS_WAITING_AUTH, ra.STATUS_CONNECTED
URL = "http://relay.example:9000"
REFUSED = f"handshake failed with URL {URL}, error: Failed to connect to relay.example port 9000 after 0 ms: Couldn't connect to server"  # noqa: E501
NOT_RESOLVED = "Could not resolve host: relay.example"
UNRESOLVED = f"handshake failed with URL {URL}, error: {NOT_RESOLVED}"
TIMEOUT = f"handshake failed with URL {URL}, error: Operation timed out after 5001 milliseconds with 0 bytes received"
SELF_SIGNED = "SSL certificate problem: self-signed certificate"
CERTIFICATE = f"handshake failed with URL https://h:9000, error: {SELF_SIGNED}"
TLS_VERSION = "handshake failed with URL https://h:9000, error: error:0A00010B:SSL routines::wrong version number"
UNSAID_410 = f"handshake failed with URL {URL}, response code: 0"  # WeeChat 4.10: curl's reason not said
HTTP_500 = f"handshake failed with URL {URL}, response code: 500"
PASSWORD = "error: authentication failed with remote relay (Invalid password)"
TOTP = "error: authentication failed with remote relay (Invalid TOTP)"
AUTH_BARE = "error: authentication failed with remote relay"
INVALID = "error: invalid response from remote relay (Forbidden)"
WEBSOCKET = "error: invalid websocket response (handshake error)"
MISMATCH = "API version mismatch: remote API is 0.9.9 (WeeChat 9.9.9), local API 0.4.0 (WeeChat 4.6.3)"

ADDRESS_UP = Route(address=True, reachable=True)
ADDRESS_OFFLINE = Route(address=True, reachable=False)
NAME_ONLINE = Route(address=False, default_route=True)
NAME_OFFLINE = Route(address=False, default_route=False)
HTTPS = Route(address=True, reachable=True, https=True)
HTTPS_NAME_OFFLINE = Route(address=False, default_route=False, https=True)
HTTPS_PROXIED = Route(address=True, reachable=True, https=True, proxied=True)
HTTPS_NAME_OFFLINE_PROXIED = Route(address=False, default_route=False, https=True, proxied=True)


@pytest.mark.parametrize(
    ("previous", "said", "reason", "route", "found", "expected"),
    [
        # connecting -> disconnected: network, DNS, refused, TLS, the 5-s handshake timeout
        (CONNECTING, "", "", None, "", Failure(FAILURE_NETWORK)),  # another language, or nothing said
        (CONNECTING, REFUSED, "", ADDRESS_UP, "", Failure(FAILURE_NETWORK, REFUSED.split("error: ")[1])),
        (CONNECTING, TIMEOUT, "", ADDRESS_UP, "", Failure(FAILURE_NETWORK, TIMEOUT.split("error: ")[1])),
        (CONNECTING, HTTP_500, "", ADDRESS_UP, "", Failure(FAILURE_NETWORK, "response code: 500")),
        (CONNECTING, UNRESOLVED, "", NAME_ONLINE, "", Failure(FAILURE_NETWORK, NOT_RESOLVED)),
        (CONNECTING, UNRESOLVED, "", NAME_OFFLINE, "", Failure(FAILURE_OFFLINE, NOT_RESOLVED)),
        (CONNECTING, REFUSED, "", ADDRESS_OFFLINE, "", Failure(FAILURE_OFFLINE, REFUSED.split("error: ")[1])),
        (CONNECTING, REFUSED, "", NAME_OFFLINE, "", Failure(FAILURE_NETWORK, REFUSED.split("error: ")[1])),
        (CONNECTING, CERTIFICATE, "", HTTPS, "", Failure(FAILURE_TLS, SELF_SIGNED)),
        (CONNECTING, TLS_VERSION, "", HTTPS, "", Failure(FAILURE_TLS, TLS_VERSION.split("error: ", 1)[1])),
        # WeeChat 4.10 says "response code: 0" for any of these: a TCP connection is asked
        (CONNECTING, UNSAID_410, "", ADDRESS_UP, "", Failure(FAILURE_NETWORK, "response code: 0")),
        (CONNECTING, UNSAID_410, "", HTTPS, "", Failure(FAILURE_NETWORK, "response code: 0", ask=True)),
        (CONNECTING, UNSAID_410, "", HTTPS, FOUND_TAKEN, Failure(FAILURE_TLS, ra.TLS_UNSAID)),
        (CONNECTING, UNSAID_410, "", HTTPS, FOUND_REACHED, Failure(FAILURE_NETWORK, "response code: 0")),
        (CONNECTING, UNSAID_410, "", ADDRESS_OFFLINE, "", Failure(FAILURE_OFFLINE, "response code: 0")),  # kernel said
        (CONNECTING, UNSAID_410, "", NAME_OFFLINE, "", Failure(FAILURE_OFFLINE, "response code: 0", ask=True)),
        (CONNECTING, UNSAID_410, "", NAME_OFFLINE, FOUND_UNRESOLVED, Failure(FAILURE_OFFLINE, "response code: 0")),
        (CONNECTING, UNSAID_410, "", NAME_OFFLINE, FOUND_REACHED, Failure(FAILURE_NETWORK, "response code: 0")),
        (CONNECTING, UNSAID_410, "", NAME_OFFLINE, FOUND_TAKEN, Failure(FAILURE_NETWORK, "response code: 0")),  # http
        (CONNECTING, UNSAID_410, "", HTTPS_NAME_OFFLINE, "", Failure(FAILURE_OFFLINE, "response code: 0", ask=True)),
        (CONNECTING, UNSAID_410, "", HTTPS_NAME_OFFLINE, FOUND_TAKEN, Failure(FAILURE_TLS, ra.TLS_UNSAID)),
        (CONNECTING, UNSAID_410, "", NAME_ONLINE, "", Failure(FAILURE_NETWORK, "response code: 0")),
        # behind a proxy WeeChat's handshake takes another path than the proxy: nothing is asked
        (CONNECTING, UNSAID_410, "", HTTPS_PROXIED, "", Failure(FAILURE_NETWORK, "response code: 0")),
        (CONNECTING, UNSAID_410, "", HTTPS_NAME_OFFLINE_PROXIED, "", Failure(FAILURE_OFFLINE, "response code: 0")),
        # waiting_auth -> disconnected: authentication, or the websocket upgrade went wrong
        (AUTH, "", "", None, "", Failure(FAILURE_AUTH)),  # another language: the signal sequence tells
        (AUTH, PASSWORD, "", ADDRESS_UP, "", Failure(FAILURE_AUTH, PASSWORD[len("error: ") :])),
        (AUTH, TOTP, "", ADDRESS_UP, "", Failure(FAILURE_AUTH, TOTP[len("error: ") :])),
        (AUTH, AUTH_BARE, "", ADDRESS_UP, "", Failure(FAILURE_AUTH, AUTH_BARE[len("error: ") :])),
        (AUTH, INVALID, "", ADDRESS_UP, "", Failure(FAILURE_NETWORK, INVALID[len("error: ") :])),
        (AUTH, WEBSOCKET, "", ADDRESS_UP, "", Failure(FAILURE_NETWORK, WEBSOCKET[len("error: ") :])),
        # the script's own connect timeout while authenticating
        (AUTH, "", "no answer within 30 seconds while authenticating", ADDRESS_UP, "",
         Failure(FAILURE_NETWORK, "no answer within 30 seconds while authenticating")),
        # connected -> disconnected: the server went away, quit, /upgrade, a version mismatch
        (CONNECTED, "", "", ADDRESS_UP, "", Failure(FAILURE_NETWORK)),
        (CONNECTED, "", "", ADDRESS_OFFLINE, "", Failure(FAILURE_OFFLINE)),  # the machine lost its network
        (CONNECTED, MISMATCH, "", ADDRESS_UP, "", Failure(FAILURE_VERSION, MISMATCH[len("API version mismatch: ") :])),
        (CONNECTED, "", "no answer from the server within 20 seconds (heartbeat)", ADDRESS_UP, "",
         Failure(FAILURE_NETWORK, "no answer from the server within 20 seconds (heartbeat)")),
        (CONNECTED, "", "lag 6 seconds above 3 seconds for 2 checks (autoreconnect_lag_max)", ADDRESS_OFFLINE, "",
         Failure(FAILURE_OFFLINE, "lag 6 seconds above 3 seconds for 2 checks (autoreconnect_lag_max)")),
        # the attempt never started (WeeChat refused the command): no signal at all
        (ra.STATUS_DISCONNECTED, "", "", ADDRESS_UP, "", Failure(FAILURE_NETWORK)),
    ],
)  # fmt: skip
def test_classify(previous, said, reason, route, found, expected):  # noqa: PLR0917 (one column each)
    drop = Drop(at=0.0, previous=previous, said=said, reason=reason, route=route, found=found)
    assert ra.classify(drop) == expected


def test_a_line_that_says_nothing_about_a_failure_is_not_a_reason():
    for text in ("WeeChat: 4.6.3 (2025-05-11), API: 0.4.0", "connecting to remote relay http://h:9000...", ""):
        assert ra.reason_said(text) is None


def test_every_class_has_its_row_and_every_cap_names_a_setting():
    settings = ra.Settings()
    for kind, rule in ra.FAILURE_CLASSES.items():
        assert rule.in_a_row(settings) >= 0, kind
        if isinstance(rule.cap, str):
            assert rule.cap in {f.name for f in dataclasses.fields(ra.Settings)}, kind
        assert bool(rule.cap) == bool(rule.giveup), f"{kind}: a cap says what it did"
    assert ra.FAILURE_CLASSES[FAILURE_AUTH].in_a_row(ra.Settings(auth_max=5)) == 5
    assert not ra.FAILURE_CLASSES[FAILURE_OFFLINE].counted


@pytest.mark.parametrize(
    ("kind", "failures", "launched", "attempt", "streak"),
    [
        (FAILURE_NETWORK, 3, True, 3, (FAILURE_NETWORK, 3)),
        (FAILURE_NETWORK, 3, False, 0, (FAILURE_NETWORK, 3)),  # attempts the script did not make do not count
        (FAILURE_OFFLINE, 3, True, 0, (FAILURE_OFFLINE, 3)),  # not counted, the delay does not grow
        (FAILURE_AUTH, 2, True, 2, (FAILURE_AUTH, 2)),
    ],
)
def test_a_run_counts_as_the_class_says(kind, failures, launched, attempt, streak):
    run = ra.Run()
    for _ in range(failures):
        run = run.failed(kind, launched)
    assert (run.attempt, run.step, run.streak) == (attempt, attempt, streak)
    assert run.failed(FAILURE_NETWORK if kind != FAILURE_NETWORK else FAILURE_AUTH, True).streak[1] == 1
    assert run.succeeded(launched) == ra.Run(attempt + launched, attempt + launched)
