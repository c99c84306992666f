#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an outage prints: attempts and core-buffer lines while offline or while a server is down.

- real: real weechat-headless server and client in two network namespaces,
  every option of the script at its default. The server goes away (the
  link drops), the client's network link goes down, the server is back at
  once (reachable only when the link is up), the link stays down OFFLINE
  seconds, then comes up. Counted while the link is down: "connecting"
  signals (attempts) and lines of the core buffer about the remote; then
  link up -> "connected".
- hour: the fake weechat module on virtual time, one hour of each kind of
  outage, every option at its default: the script's attempts and its own
  lines in the core buffer. WeeChat prints 3 lines of its own per attempt
  ("connecting to remote relay", "handshake failed", "disconnected",
  measured by "real"): the lines per hour are the script's + 3 x attempts.

Both take --script PATH to measure another version of the script (an
older one, for a before/after).

Run: python3 bench/offline.py real [offline_seconds [runs]] [--script PATH]
     python3 bench/offline.py hour [--script PATH]
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "stubs"), str(ROOT / "tests" / "e2e")]

import weechat  # noqa: E402 (the fake module, for "hour")
import weechat_sim  # noqa: E402
from harness import PROBE, SCRIPT, NetPair, WeeChat, client_commands, free_port, server_commands  # noqa: E402
from machine import machine  # noqa: E402

# lines WeeChat itself prints in the core buffer for one failed attempt
WEECHAT_LINES_PER_ATTEMPT = 3


def about_remote(event: dict) -> bool:
    """A line of the core buffer about the remote "srv" (WeeChat's or the script's)."""
    return event["buffer"] == "core.weechat" and "remote[srv]" in event["message"]


def real_run(script: Path, offline: float) -> dict:
    """One outage; returns attempts and lines while the link was down, and link up -> connected."""
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-bench-"))
    net = NetPair().create()
    port = free_port()
    target = tmp / "relay_autoreconnect.py"
    shutil.copy(script, target)
    server = WeeChat(tmp / "server", [PROBE], server_commands(port, net.SERVER_ADDRESS), net.server_ns)
    client = WeeChat(tmp / "client", [PROBE, target], client_commands(port, [], net.SERVER_ADDRESS), net.client_ns)
    restarted = WeeChat(tmp / "server2", [PROBE], server_commands(port, net.SERVER_ADDRESS), net.server_ns)
    try:
        server.start()
        client.start()
        client.connect_remote()
        killed = time.monotonic()
        server.kill()
        client.wait_line("remote[srv]: reconnecting in ", killed, 5)  # the drop is decided
        down = time.monotonic()
        net.link(False)
        restarted.start()
        # the link stays down OFFLINE seconds (the fault, not a wait for a result)
        time.sleep(max(0.0, down + offline - time.monotonic()))
        up = time.monotonic()
        net.link(True)
        connected = client.nth("signal", "connected", up, timeout=700)["t"]
        attempts = [e for e in client.signals(down) if e["status"] == "connecting" and e["t"] < up]
        lines = [e for e in client.lines(since=down) if e["t"] < up and about_remote(e)]
        return {"attempts": len(attempts), "lines": [e["message"] for e in lines], "lag": connected - up}
    finally:
        for instance in (client, server, restarted):
            instance.stop()
        net.delete()
        shutil.rmtree(tmp, ignore_errors=True)


def real(script: Path, offline: float, runs: int) -> None:
    print(f"offline {offline:g} s, every option at its default, WeeChat {WeeChat.version()}, script {script}")
    results = [real_run(script, offline) for _ in range(runs)]
    for number, result in enumerate(results, 1):
        print(
            f"  run {number}: {result['attempts']} attempts, {len(result['lines'])} lines about the remote "
            f"while offline; link up -> connected {result['lag']:.2f} s"
        )
        for line in result["lines"]:
            print(f"      {line}")
    lags = [r["lag"] for r in results]
    print(
        f"mean: {statistics.mean(r['attempts'] for r in results):.1f} attempts, "
        f"{statistics.mean(len(r['lines']) for r in results):.1f} lines; "
        f"link up -> connected median {statistics.median(lags):.2f} s, max {max(lags):.2f} s"
    )


# -- an hour on virtual time (the fake weechat module) -------------------------------------

HOUR = 3600.0
HOURS = 2  # the first hour, and one later (the delay at its maximum)
ADDRESS, NAME, HTTPS = "http://10.231.0.1:9000", "http://relay.example:9000", "https://10.231.0.1:9000"
# what WeeChat says when an attempt fails (printed by the bench: the script reads it, as in WeeChat)
REFUSED = "handshake failed with URL {url}, error: Couldn't connect to server"
UNRESOLVED = "handshake failed with URL {url}, error: Could not resolve host: relay.example"
CERTIFICATE = "handshake failed with URL {url}, error: SSL certificate problem: self-signed certificate"
PASSWORD = "error: authentication failed with remote relay (Invalid password)"


class Outage(NamedTuple):
    url: str
    said: str  # WeeChat's line about each failed attempt
    watched: bool = True  # network changes are watched (else the netlink socket is refused)
    offline: bool = False  # the machine has no route to the server (nor a default route)
    auth: bool = False  # each attempt fails while authenticating


OUTAGES = {
    "offline, address, network changes watched": Outage(ADDRESS, REFUSED, offline=True),
    "offline, name, network changes watched": Outage(NAME, UNRESOLVED, offline=True),
    "offline, address, not watched (socket refused)": Outage(ADDRESS, REFUSED, watched=False, offline=True),
    "offline, name, not watched (socket refused)": Outage(NAME, UNRESOLVED, watched=False, offline=True),
    "server down (refused), online": Outage(ADDRESS, REFUSED),
    "wrong password": Outage(ADDRESS, PASSWORD, auth=True),
    "certificate fails verification": Outage(HTTPS, CERTIFICATE),
}


def load_script(path: Path):
    spec = importlib.util.spec_from_file_location("relay_autoreconnect_measured", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def hour(ra, outage: Outage) -> dict:
    """HOURS hours of an outage with every option at its default: attempts and the script's lines
    in each hour, and the times (s into the outage) the next attempt (or route look-up) was planned for."""
    ra.random.seed(1)
    sim = weechat_sim.Sim()
    sim.add_remote("srv", outage.url)
    ra.kernel_route = lambda _address: not outage.offline
    ra.default_route = lambda: not outage.offline
    if outage.watched:
        sim.load(ra)
    else:
        with mock.patch.object(ra.socket, "socket", side_effect=PermissionError(1, "Operation not permitted")):
            sim.load(ra)
    sim.user("/remote connect srv")
    sim.accept("srv")
    sim.advance(100)
    start, attempts, own, dues = sim.state.now, [0] * HOURS, [[] for _ in range(HOURS)], []
    seen = len(sim.lines())
    sim.drop("srv")  # the network went (offline) or the server (online)
    while sim.state.now < start + HOURS * HOUR:
        sim.advance(0.1)
        sim.answer_probes(False)  # a poll finds nothing
        now = min(int((sim.state.now - start) // HOUR), HOURS - 1)
        remote = ra.SHELL.engine.remotes["srv"]
        if remote.due is not None and (not dues or dues[-1] != remote.due - start):
            dues.append(remote.due - start)
        if sim.remote("srv").status == "connecting":
            attempts[now] += 1
            if outage.auth:
                sim.status("srv", "waiting_auth")
            weechat.prnt("", f"remote[srv]: {outage.said.format(url=outage.url)}")
            sim.drop("srv")
        lines = sim.lines()
        own[now] += [line for line in lines[seen:] if "relay_autoreconnect: remote[srv]" in line]
        seen = len(lines)
    sim.unload()
    return {"attempts": attempts, "lines": own, "dues": dues}


def hours(path: Path) -> None:
    ra = load_script(path)
    print(f"an hour of each outage, every option at its default, fake module, virtual time; script {path}")
    print(f"lines = the script's + {WEECHAT_LINES_PER_ATTEMPT} of WeeChat per attempt")
    for name, outage in OUTAGES.items():
        result = hour(ra, outage)
        print(f"  {name}:")
        for number, (attempts, lines) in enumerate(zip(result["attempts"], result["lines"]), 1):
            total = len(lines) + WEECHAT_LINES_PER_ATTEMPT * attempts
            print(f"    hour {number}: {attempts} attempts, {len(lines)} lines of the script, {total} lines in all")
        schedule = ", ".join(f"{due:.0f}" for due in result["dues"][:10])
        print(f"    planned at (s into the outage): {schedule}{', ...' if len(result['dues']) > 10 else ''}")
        for line in list(dict.fromkeys(sum(result["lines"], [])))[:3]:
            print(f"      {line}")


if __name__ == "__main__":
    args = sys.argv[1:]
    path = SCRIPT
    if "--script" in args:
        at = args.index("--script")
        path = Path(args[at + 1]).resolve()
        del args[at : at + 2]
    mode = args[0] if args else "real"
    print(machine())
    if mode == "real":
        real(path, float(args[1]) if len(args) > 1 else 60.0, int(args[2]) if len(args) > 2 else 1)
    elif mode == "hour":
        hours(path)
    print(f"command: python3 bench/offline.py {' '.join(sys.argv[1:])}")
