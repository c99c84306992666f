# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault matrix on real WeeChat: each fault, its documented outcome, and the client left healthy.

Healthy: the client process is alive, no Python traceback was printed, the
script holds the same hooks as before the fault (timers aside: they come and
go with the schedule), and the password is in none of the client's own lines
and none of its files but its configuration.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from fakes import FlappingRelay
from harness import PASSWORD, WeeChat, secret_in_files
from helpers import connected, fast, own_lines, python_script, statuses


def steady_hooks(client):
    """The client's hooks but its timers, once no URL transfer is in flight (the outbox asks the
    server's handshake once a link answers; a heartbeat may be on its way)."""

    def settled():
        found = client.hooks()
        return "url" not in found and found

    hooks = client.wait_for(settled, 5, "no transfer")
    return {kind: count for kind, count in hooks.items() if kind != "timer"}


def connected_and_steady(lab, settings):
    """Server and client connected; the client's steady hooks (the baseline of assert_healthy) and then
    the moment the fault starts."""
    server, client = connected(lab, settings)
    baseline = steady_hooks(client)
    return server, client, baseline, time.monotonic()


def assert_healthy(client: WeeChat, baseline) -> None:
    assert client.proc.poll() is None, "the client exited"
    lines = client.lines()
    assert not [e for e in lines if "Traceback" in e["message"] or "python: error" in e["message"]]
    assert steady_hooks(client) == baseline
    assert PASSWORD not in "".join(e["prefix"] + e["message"] for e in own_lines(client))
    # logs of the mirrored server buffers hold what the server showed: its test setup sets it
    assert [f for f in secret_in_files(client.home, PASSWORD) if "relay.remote." not in f] == []


def reconnected(client, since, timeout=20):
    client.wait_for(lambda: statuses(client, "connected", since), timeout, "reconnected")


def never_two_attempts_in_flight(client, since):
    in_flight = False
    for event in client.signals(since):
        if event["status"] == "connecting":
            assert not in_flight, "a second attempt started while one was in flight"
            in_flight = True
        elif event["status"] in ("connected", "disconnected"):
            in_flight = False


def test_server_sigterm_then_restart(lab):
    server, client, baseline, since = connected_and_steady(lab, fast())
    server.kill(signal.SIGTERM)
    client.wait_for(lambda: statuses(client, "disconnected", since), 10, "drop")
    lab.server()
    reconnected(client, since)
    assert_healthy(client, baseline)


@pytest.mark.newest
def test_server_upgrade(lab):
    server, client, baseline, since = connected_and_steady(lab, fast())
    server.send("/upgrade")
    client.wait_for(lambda: statuses(client, "disconnected", since), 10, "drop")
    reconnected(client, since)
    assert_healthy(client, baseline)


@pytest.mark.newest
def test_client_upgrade_with_an_attempt_pending(lab):
    server, client, baseline, since = connected_and_steady(lab, fast(3, 3))
    server.kill()
    client.wait_line("reconnecting in 3 seconds (attempt 1)", since, 5)
    client.send("/upgrade")
    client.wait_line("Upgrade done", since, 10)
    client.wait_line("reconnecting in 1 second (attempt 1)", since, 5)  # taken over after /upgrade
    lab.server()
    reconnected(client, since)
    assert_healthy(client, baseline)


@pytest.mark.newest
def test_client_upgrade_while_connected_reconnects(lab):
    _, client, baseline, since = connected_and_steady(lab, fast())
    client.send("/upgrade")
    client.wait_line("Upgrade done", since, 10)
    reconnected(client, since, timeout=5)  # WeeChat alone leaves the remote disconnected
    assert_healthy(client, baseline)


def test_script_reload_while_pending_keeps_the_schedule(lab):
    server, client, baseline, since = connected_and_steady(lab, ["/set relay.network.autoreconnect_delay 3"])
    server.kill()
    drop = client.wait_for(lambda: statuses(client, "disconnected", since), 5, "drop")[0]["t"]
    client.wait_line("reconnecting in 3 seconds (attempt 1)", since, 5)
    python_script(client, "reload", since)
    attempt = client.wait_for(lambda: statuses(client, "connecting", since), 6, "the attempt")[0]["t"]
    print(f"attempt {(attempt - drop - 3) * 1000:+.1f} ms from its time before the reload (3 s after the drop)")
    assert abs(attempt - drop - 3) <= 0.5  # precision: bench/deadlines.py (reload)
    lab.server()
    reconnected(client, since)
    assert_healthy(client, baseline)


def test_tls_verification_failure_stops_after_two_with_what_to_do(lab, tls_pem):
    lab.server(tls_pem=tls_pem)
    client = lab.client(fast(), scheme="https")
    baseline = steady_hooks(client)
    since = time.monotonic()
    client.send("/remote connect srv")
    told = client.wait_line("TLS failed 2 times in a row with 127.0.0.1", since, 15)["message"]
    assert "certificate" in told and "tls_verify" in told  # curl's reason, as WeeChat printed it
    client.assert_no_signal("connecting", since=time.monotonic(), seconds=3)
    assert len(statuses(client, "connecting", since)) == 2 and not statuses(client, "connected", since)
    client.send("/autoreconnect")
    assert "last failure: tls (" in client.wait_line("  srv: ", since, 5)["message"]
    never_two_attempts_in_flight(client, since)
    assert_healthy(client, baseline)


def test_unresolvable_host_backs_off(lab, net):
    """A name that does not resolve on a machine that has a network (a default
    route): a mistake, not offline; attempts count and the delay grows."""
    net.default_route()
    resolv = Path("/etc/netns") / net.client_ns / "resolv.conf"
    resolv.parent.mkdir(parents=True, exist_ok=True)
    resolv.write_text("nameserver 127.0.0.1\n")  # inside the namespace: nothing answers, nothing leaves
    try:
        client = lab.client(fast(), net=net, address="relay-autoreconnect-test.invalid")
        baseline = steady_hooks(client)
        since = time.monotonic()
        client.send("/remote connect srv")
        client.wait_line("reconnecting in 2 seconds (attempt 2)", since, 20)
        never_two_attempts_in_flight(client, since)
        assert_healthy(client, baseline)
    finally:
        resolv.unlink()
        resolv.parent.rmdir()


def test_a_hundred_flaps(lab):
    server, client, baseline, since = connected_and_steady(lab, fast())
    for _ in range(100):
        server.kill()
        server = lab.server()
    calm = time.monotonic()
    reconnected(client, calm, timeout=15)
    never_two_attempts_in_flight(client, since)
    assert_healthy(client, baseline)


def test_a_server_that_takes_links_and_drops_them_at_once_is_not_hammered(lab):
    """It answers polls and the websocket upgrade, then closes the link: one poll brings one
    attempt sooner, then attempts follow the growing delay (2, 4, 8, 8 s), said in one line."""
    with FlappingRelay(lab.port) as relay:
        client = lab.client(
            ["/set relay.network.autoreconnect_delay 2", "/set relay.network.autoreconnect_delay_max 8"]
        )
        since = time.monotonic()
        client.send("/remote connect srv")
        client.wait_line("attempts follow the backoff, without polls", since, 15)
        time.sleep(max(0.0, since + 24 - time.monotonic()))
        attempts = [e["t"] - since for e in statuses(client, "connecting", since)]
        gaps = [round(b - a, 2) for a, b in zip(attempts, attempts[1:])]
        print(f"{len(attempts)} attempts in 24 s, gaps {gaps} s; {len(relay.requests)} requests to the server")
        assert len(client.lines("the server answers again: reconnecting now", since)) == 1
        assert len(client.lines("attempts follow the backoff, without polls", since)) == 1
        assert len(attempts) <= 6  # before: a poll every 2 s brought an attempt each time (about 12)
        assert gaps[-1] >= 8 - 0.5 and all(b >= a - 0.5 for a, b in zip(gaps[1:], gaps[2:]))  # growing, then capped
