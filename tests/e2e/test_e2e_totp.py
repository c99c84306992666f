# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: the outbox of a remote whose server asks for a TOTP (relay.network.totp_secret,
relay.network.totp_window 0), delivered across a 30-s step of the TOTP.

A code made just before the step changes and checked by the server just after is refused
("Invalid TOTP"): the line goes again at once with a new code, and the outbox never stalls.
A front in front of the server makes the crossing certain: a line's request that comes in
the last 0.5 s before the step reaches the server just after it (a slow network).
Run on 4.6.3 only: WeeChat 4.10 has the same messages and checks (relay-http.c).
"""

from __future__ import annotations

import socket
import time

from fakes import CountingFront
from harness import free_port
from helpers import CHAN, MIRROR, connect_with_mirror, fast, inputs, server_killed, statuses

TOTP = "JBSWY3DPEHPK3PXP"
LINES = 30  # ~0.1 s each (WeeChat's URL transfers): ~3 s of delivery
LEAD = 3.0  # s before the step changes that the link can come up again (attempts every second)
HOLD = 0.5  # s before the step: a line's request that comes then reaches the server after it


class SlowFront(CountingFront):
    """A front whose line requests that come in the last HOLD s before `step` reach the
    server just after it (a slow network): their TOTP is then of the step the server left."""

    def __init__(self, port: int, server_port: int, step: float) -> None:
        self.step = step
        self.held = 0
        super().__init__(port, server_port)

    def handle(self, conn: socket.socket, peer: str) -> None:
        wait = self.step + 0.05 - time.time()
        if wait < HOLD + 0.05:
            data = conn.recv(16, socket.MSG_PEEK)
            if data.startswith(b"POST /api/input") and wait > 0:
                with self.lock:
                    self.held += 1
                time.sleep(wait)
        super().handle(conn, peer)


def wall_of(monotonic: float) -> float:
    """The wall-clock time of a time.monotonic() reading (the probe's "t")."""
    return monotonic + time.time() - time.monotonic()


def test_lines_delivered_across_a_totp_step_arrive_once_in_order_and_delivery_does_not_stop(lab):
    totp = [f"/set relay.network.totp_secret {TOTP}"]
    client = lab.client(fast(1, 1) + [f"/set relay.remote.srv.totp_secret {TOTP}"])
    front_port, lab.port = lab.port, free_port()  # the client reaches the server through a front
    server = lab.server(extra=CHAN + totp)
    with CountingFront(front_port, lab.port):
        connect_with_mirror(client)
        since = server_killed(server, client)
    server = lab.server(extra=CHAN + totp)  # up, but not reached until the front opens again
    # a trailing backslash: a line a batch would change goes alone, so the lines go one a request
    texts = [f"totp line {n:03d}\\" for n in range(LINES)]
    client.send_all(texts, buffer=MIRROR)
    client.wait_line(f"({LINES} waiting", since, 10)
    # the link comes up LEAD s before the next step of the TOTP (the next but one if that is too near)
    step = (time.time() + LEAD + 0.5) // 30 * 30 + 30
    time.sleep(max(0.0, step - LEAD - time.time()))  # waits for the clock: at most 30 s
    with SlowFront(front_port, lab.port, step) as front:
        # "N queued line(s) delivered" or "queued lines not delivered (...)"
        client.wait_for(lambda: client.lines("queued line", since), 20, "the delivery's end")
        got = server.find(kind="input", buffer="python.chan")
        sent = front.requests("127.0.0.1", "POST /api/input")
    up = wall_of(statuses(client, "connected", since)[-1]["t"])
    first, last = wall_of(got[0]["t"]), wall_of(got[-1]["t"])
    print(f"link up {up - step:+.2f} s, {len(got)} lines {first - step:+.2f} s to {last - step:+.2f} s, ", end="")
    print(f"{len(sent)} requests, {front.held} held across the step")
    assert front.held  # a line's request crossed the step: its TOTP was refused and it went again
    assert not client.lines("not delivered", since)
    assert [e["text"] for e in got] == texts
    assert inputs(server) == texts
    assert client.lines(f"remote[srv]: {LINES} queued line(s) delivered", since)
    assert len(sent) == LINES + front.held  # each held line went twice, every other once
