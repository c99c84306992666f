# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the end-to-end tests share: settings, readings of the probe's record, common steps.

`lab` is the fixture of conftest.py (a server and clients on demand); a
client is a harness.WeeChat (or a terminal.Terminal).
"""

from __future__ import annotations

import time
from typing import Dict, List, Optional, Tuple

from harness import WeeChat

CHAN = ["/probe buffer chan"]  # a buffer on the server whose input the probe records
MIRROR = "relay.remote.srv.python.chan"  # its mirror on the client
SPACED = "python.my chan"  # a buffer named with a space (as a script names one) on the server
SPACED_CHAN = [f"/probe buffer {SPACED[len('python.') :]}"]
SPACED_MIRROR = f"relay.remote.srv.{SPACED}"  # its mirror on the client
SCRIPT_NAME = "relay_autoreconnect"

# -- settings -------------------------------------------------------------------------------


def fast(delay: int = 1, delay_max: int = 2) -> List[str]:
    """A short schedule: the first attempt `delay` s after a drop, the wait growing up to `delay_max` s."""
    return [
        f"/set relay.network.autoreconnect_delay {delay}",
        f"/set relay.network.autoreconnect_delay_max {delay_max}",
    ]


def heartbeat(interval: int, timeout: int) -> List[str]:
    """A heartbeat every `interval` s, a link dropped when one gets no answer within `timeout` s."""
    return [
        f"/set relay.network.autoreconnect_heartbeat {interval}",
        f"/set relay.network.autoreconnect_heartbeat_timeout {timeout}",
    ]


# -- what the probe recorded ------------------------------------------------------------------


def statuses(client: WeeChat, status: str, since: Optional[float] = None, pointer: Optional[str] = None) -> List[Dict]:
    """The relay_remote_* signals of `status` since `since` (of one remote, its pointer, if given)."""
    return [e for e in client.signals(since) if e["status"] == status and (pointer is None or e["pointer"] == pointer)]


def own_lines(instance: WeeChat, since: Optional[float] = None) -> List[Dict]:
    """Lines printed in the instance's own buffers (not in relay.remote.*, the mirrors of the server)."""
    return [e for e in instance.lines(since=since) if not e["buffer"].startswith("relay.remote.")]


def startup_warnings(client: WeeChat, since: Optional[float] = None) -> List[str]:
    """WeeChat's start-up lines about relay.conf (printed before the script loads), since a start."""
    early = [e["message"] for e in client.find(kind="line", early=True, since=since)]
    return [m for m in early if "unknown option" in m or ("Warning" in m and "relay.conf" in m)]


def inputs(server: WeeChat, since: Optional[float] = None, buffer: str = "python.chan") -> List[str]:
    """Lines the server's buffer "chan" (or another) received (since a restart: the probe file is kept)."""
    return [e["text"] for e in server.find(kind="input", buffer=buffer, since=since)]


def autoreconnect_line(client: WeeChat, name: str = "srv") -> str:
    """The line of /autoreconnect for a remote."""
    since = time.monotonic()
    client.send("/autoreconnect")
    return client.wait_line(f"  {name}: ", since, 5)["message"]


# -- steps ------------------------------------------------------------------------------------

SCRIPT_DONE = {
    "load": f'registered script "{SCRIPT_NAME}"',
    "reload": f'registered script "{SCRIPT_NAME}"',
    "unload": f'script "{SCRIPT_NAME}" unloaded',
}


def python_script(client: WeeChat, action: str, since: float) -> Dict:
    """/python load|reload|unload of the script (load: the copy in the client's python/ folder);
    return WeeChat's line that it is done (printed after `since`)."""
    target = client.home / "python" / f"{SCRIPT_NAME}.py" if action == "load" else SCRIPT_NAME
    client.send(f"/python {action} {target}")
    return client.wait_line(SCRIPT_DONE[action], since, 5)


def connected(lab, settings=(), net=None) -> Tuple[WeeChat, WeeChat]:
    """A server, and a client with these settings connected to it (WeeChat printed the remote's version)."""
    server = lab.server(net=net)
    client = lab.client(settings, net=net)
    client.connect_remote()
    return server, client


def killed_after_connect(lab, settings=(), net=None) -> Tuple[WeeChat, float]:
    """Server and client up, connected; then the server is killed (SIGKILL). Returns the client, and
    the moment just before the kill."""
    server, client = connected(lab, settings, net)
    since = time.monotonic()
    server.kill()
    return client, since


def server_killed(server: WeeChat, client: WeeChat) -> float:
    """Kill the server (SIGKILL); return the moment just before, once the client saw the link drop."""
    since = time.monotonic()
    server.kill()
    client.wait_for(lambda: statuses(client, "disconnected", since), 5, "drop")
    return since


def connect_with_mirror(client: WeeChat, typed: bool = False) -> float:
    """/remote connect srv (typed, in a terminal), then wait for the mirror of "chan"; return the moment
    just before the command."""
    since = time.monotonic()
    if typed:
        client.submit("/remote connect srv")
    else:
        client.send("/remote connect srv")
    client.wait_for(lambda: client.find(kind="buffer", name=MIRROR, since=since), 10, "the mirror buffer")
    return since


def connected_with_mirror(lab, settings=(), terminal: bool = False) -> Tuple[WeeChat, WeeChat]:
    """The server with its buffer "chan", and a client with these settings that connects the remote and
    gets the mirror of "chan". With `terminal`: the curses client, where the person types /remote connect
    and, once the remote answered, goes to the mirror."""
    server = lab.server(extra=CHAN)
    client = lab.terminal(settings) if terminal else lab.client(settings)
    since = connect_with_mirror(client, typed=terminal)
    if terminal:
        client.wait_line("remote[srv]: WeeChat: ", since, 5)
        client.submit(f"/buffer {MIRROR}")
        client.wait_switch(MIRROR, since)
    return server, client
