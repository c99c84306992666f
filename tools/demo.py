#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""make demo: a real WeeChat server and client on 127.0.0.1; the link is cut and comes back.

Shows the client's core buffer as it happens: the server is killed, a line
is given to the server's buffer on the client (kept in the outbox), the
script schedules attempts with a growing delay, the server comes back, the
client reconnects by itself and the line reaches the server's buffer once.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PROBE, SCRIPT, WeeChat, client_commands, free_port, server_commands  # noqa: E402

MIRROR = "relay.remote.srv.python.chan"  # the server's buffer python.chan, on the client
TYPED = "hello from the laptop"
COLOR = re.compile(r"\x19(?:F?@?\d{2,5}|[\x1a\x1b].|\*?\d{2}(?:,\d{2})?|.)|[\x1a\x1b\x1c].?")
START = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - START:5.1f} s] {text}", flush=True)


class Tail:
    """Print the client's core-buffer lines about the remote as they come."""

    def __init__(self, client: WeeChat) -> None:
        self.client = client
        self.seen = 0

    def show(self, seconds: float, until=None) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            lines = self.client.lines()
            for event in lines[self.seen :]:
                text = COLOR.sub("", event["message"])
                if event["buffer"] in ("core.weechat", MIRROR) and ("remote[" in text or "relay_autoreconnect" in text):
                    say(f"  client | {text}")
            self.seen = len(lines)
            if until and until():
                return True
            time.sleep(0.02)
        return False


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-demo-"))
    port = free_port()
    settings = [
        "/set relay.network.autoreconnect_delay 2",
        "/set relay.network.autoreconnect_delay_max 8",
        "/set relay.network.autoreconnect_poll 2",
    ]
    server_setup = [*server_commands(port), "/probe buffer chan"]  # a buffer whose input the server records
    server = WeeChat(tmp / "server", [PROBE], server_setup)
    client = WeeChat(tmp / "client", [PROBE, SCRIPT], client_commands(port, settings))
    try:
        say(f"starting a WeeChat relay server on 127.0.0.1:{port}")
        server.start()
        say("starting a WeeChat client with relay_autoreconnect.py (delay 2 s, growing x2, max 8 s, polls every 2 s)")
        client.start()
        tail = Tail(client)
        client.send("/remote connect srv")
        tail.show(10, until=lambda: client.find(kind="buffer", name=MIRROR))
        say(">>> killing the server (SIGKILL): the link drops")
        killed = time.monotonic()
        server.kill()
        tail.show(1)
        say(f'>>> typing "{TYPED}" in the server\'s buffer while the link is down')
        client.send(TYPED, buffer=MIRROR)
        tail.show(6.5)
        say(">>> starting the server again on the same port")
        server = WeeChat(tmp / "server", [PROBE], server_setup)
        server.start()
        back = tail.show(15, until=lambda: client.lines("queued line(s) delivered", killed))
        tail.show(0.5)
        if not back:
            say("the client did not reconnect")
            return 1
        elapsed = time.monotonic() - killed
        say(f"reconnected by itself, {elapsed:.1f} s after the link was cut. No /remote connect typed.")
        got = [e["text"] for e in server.find(kind="input", buffer="python.chan")]
        say(f"the server's buffer received: {got}")
        return 0 if got == [TYPED] else 1
    finally:
        client.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        say("stopped both WeeChats")


if __name__ == "__main__":
    sys.exit(main())
