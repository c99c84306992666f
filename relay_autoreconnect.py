# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# This program is free software; you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation; either version 3 of the License, or
# (at your option) any later version.
#
# This program is distributed in the hope that it will be useful,
# but WITHOUT ANY WARRANTY; without even the implied warranty of
# MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
# GNU General Public License for more details.
#
# You should have received a copy of the GNU General Public License
# along with this program.  If not, see <https://www.gnu.org/licenses/>.

"""Reconnect WeeChat relay remotes (/remote) automatically.

When the link of a relay remote drops, the next attempt comes after an
IRC-style growing delay (with jitter), up to an optional number of attempts;
a wrong password, another API version or a certificate that fails stop the
attempts with a line that says what to fix. A link that looks connected but
is dead is noticed (heartbeat), and a server that comes back is found at once
(polls, the system's network changes). Text typed in a remote's buffers is
delivered out of band and confirmed by the server, in order: kept while the
link is down and delivered once it is back; a line whose fate can not be
known is said not confirmed, never sent twice by itself.

Needs: WeeChat >= 4.3 (relay remotes) with its python plugin, Python >= 3.7.
Network changes are watched on Linux (netlink) and on BSD and macOS (routing
socket); elsewhere the script works without them.

What it does to WeeChat: on WeeChat >= 4.4 it cancels WeeChat's own
reconnection attempts for the remotes it manages (a quiet "/remote
disconnect") and hides WeeChat's "reconnecting to remote relay" line; it
never changes relay.remote.*.autoreconnect_delay, and when the script is off
or unloaded WeeChat's own engine works as configured. Its options live in
relay.conf's [network] section while WeeChat runs and are kept in
plugins.var.python.relay_autoreconnect.* (relay.conf is read before scripts).

What it sends: every autoreconnect_heartbeat seconds, for each connected
remote, an in-band ping on the link and POST /api/handshake (no credentials)
to the remote's URL; while an attempt waits after a network failure, the same
handshake request polls the server; text typed in a remote buffer is sent
with POST /api/input to the remote's URL (one request per line), authenticated with the remote's own password
(and TOTP) options, as WeeChat's own remote client does. A remote with a
proxy (relay.remote.NAME.proxy) gets all of these through it, as WeeChat sends
its websocket. Passwords are never printed, logged or stored.

What it keeps on disk: the lines that wait (typed while down, or behind), in
relay_autoreconnect_outbox.json in WeeChat's data directory (mode 0600),
removed once they are delivered.

Contents (every section starts with a "# === N." line; the core, sections
1-9, is pure Python driven by the clock it is given; the shell, sections
10-17, only translates between WeeChat and the core):

 1. Options and settings ......... Settings (one field per option), OPTIONS
 2. Waits ........................ duration, jittered, backoff_delay, poll_interval
 3. Failure classes .............. FAILURE_CLASSES (one row per class), classify
 4. The record of a remote ....... Phase, Run, Remote
 5. Actions of the engine ........ Schedule, Connect, GiveUp, ...
 6. Engine ....................... Engine (Engine.plan: the next attempt or giving up)
 7. Outbox and delivery .......... Outbox, Delivery (which line goes, what an answer means)
 8. Views ........................ describe, bar_text
 9. Parsers ...................... hand-over, netlink, route tables, relay.conf, HTTP answers
10. Shell: WeeChat's words ....... printing, quoted arguments, remote names and options, /help text
11. Shell: options ............... Options, ConfigGuard, Native (WeeChat's own reconnection)
12. Shell: records and hooks ..... Slot, Link, Links, Runner
13. Shell: the network ........... route_of, NetWatch, Prober
14. Shell: the outbox ............ OutboxFile, Courier, InputGate
15. Shell: the user .............. OutboxCommand, Console (/autoreconnect, bar item), StatusCheck
16. Shell: wiring ................ Shell
17. WeeChat callbacks and main
"""

from __future__ import annotations

import base64
import enum
import errno
import hashlib
import ipaddress
import json
import math
import os
import random
import re
import socket
import struct
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple, Union

try:
    import weechat

    IMPORT_OK = True
except ImportError:
    IMPORT_OK = False

SCRIPT_NAME = "relay_autoreconnect"
SCRIPT_AUTHOR = "relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>"
SCRIPT_VERSION = "0.1.0"
SCRIPT_LICENSE = "GPL3"
SCRIPT_DESC = "Reconnect relay remotes automatically, with a growing delay and an attempt cap"

# ===========================================================================
# === 1. Options and settings (core)
# ===========================================================================


@dataclass(frozen=True)
class OptionSpec:
    """One relay.network.autoreconnect* option (made from a field of Settings)."""

    name: str
    kind: str  # "boolean" or "integer"
    description: str
    default: str  # as /set shows it
    minimum: int = 0
    maximum: int = 0
    field: str = ""  # the Settings field that holds its value

    def value(self, text: str) -> Union[bool, int]:
        """The value of a text as /set shows it ("on", "42")."""
        return text == "on" if self.kind == "boolean" else int(text)


def option(name: str, default: Union[bool, int], description: str, minimum: int = 0, maximum: int = 0) -> Any:
    """A field of Settings and the option that sets it (descriptions in WeeChat's words:
    what it does, units and special values in parentheses; /set shows the default)."""
    kind = "boolean" if isinstance(default, bool) else "integer"
    shown = ("on" if default else "off") if isinstance(default, bool) else str(default)
    spec = OptionSpec(name, kind, f"{description} (script {SCRIPT_NAME})", shown, minimum, maximum)
    return field(default=default, metadata={"option": spec})


@dataclass(frozen=True)
class Settings:
    """The values of the relay.network.autoreconnect* options: one field per option.

    Adding an option is adding a field here; the shell creates it, reads it
    and keeps its value.
    """

    enabled: bool = option("autoreconnect", True, "automatically reconnect to remote relay servers when disconnected")
    delay: int = option(
        "autoreconnect_delay",
        10,
        "delay before trying again to reconnect to a remote relay server (in seconds)",
        1,
        65535,
    )
    growing: int = option(
        "autoreconnect_delay_growing",
        2,
        "growing factor for autoreconnect delay to remote relay (1 = always same delay, "
        "2 = delay*2 for each retry, etc.)",
        1,
        100,
    )
    delay_max: int = option(
        "autoreconnect_delay_max",
        600,
        "maximum autoreconnect delay to remote relay (in seconds, 0 = no maximum)",
        0,
        604800,
    )
    max_attempts: int = option(
        "autoreconnect_max", 0, "number of failed attempts in a row before giving up (0 = unlimited)", 0, 1000000
    )
    jitter: int = option(
        "autoreconnect_jitter",
        30,
        "shorten each delay by a random part up to this, so that clients cut off together do not "
        "come back in the same second (in percent, 0 = no jitter)",
        0,
        100,
    )
    auth_max: int = option(
        "autoreconnect_auth_max",
        2,
        "number of authentication failures in a row (wrong password or TOTP) before giving up "
        "(0 = never give up for that)",
        0,
        100,
    )
    outbox: bool = option(
        "autoreconnect_outbox",
        True,
        "keep text typed in the buffers of a remote relay server that is not connected and send it "
        "after the reconnection, out of band, confirmed by the server",
    )
    outbox_confirm: bool = option(
        "autoreconnect_outbox_confirm",
        True,
        "also send text typed while the remote is connected out of band, confirmed by the server: a line "
        "with no answer is said not confirmed, and a link that died silently loses nothing (off = it goes "
        "on the link as WeeChat sends it: sooner by the server's check of the password hash, tens of ms "
        "with pbkdf2, but lost, or run late after the reconnection, if the link died silently)",
    )
    outbox_commands: bool = option(
        "autoreconnect_outbox_commands",
        False,
        "also keep commands for the remote typed while it is not connected (off = refuse them)",
    )
    outbox_max_age: int = option(
        "autoreconnect_outbox_max_age",
        600,
        "text kept longer than this is not sent by itself: you are asked to send or drop it (in seconds, 0 = no limit)",
        0,
        604800,
    )
    outbox_wait: int = option(
        "autoreconnect_outbox_wait",
        60,
        "text kept for a buffer the remote does not have (yet, like a channel joined again after a "
        "restart) is tried again for this long, then waits for you to send, move or drop it (in seconds)",
        1,
        86400,
    )
    network_events: bool = option(
        "autoreconnect_network_events",
        True,
        "watch the system's network changes (links, addresses, routes; Linux netlink, BSD and macOS "
        "routing socket): when one may bring a server within reach, remotes waiting for the network "
        "reconnect and remotes waiting after a network failure check their server at once (off: remotes "
        "with no route to their server try again after the growing delay)",
    )
    lag_show: int = option(
        "autoreconnect_lag_show",
        1,
        "show the lag of a connected remote (the round trip of its heartbeat check) in the bar item "
        "and /autoreconnect when it is at least this (in seconds, 0 = always)",
        0,
        3600,
    )
    lag_max: int = option(
        "autoreconnect_lag_max",
        0,
        "drop and reconnect a link whose lag stays above this for two heartbeat checks in a row "
        "(in seconds, 0 = never)",
        0,
        3600,
    )
    heartbeat: int = option(
        "autoreconnect_heartbeat",
        60,
        "interval between two checks that the link and the server of a connected remote answer "
        "(in seconds, 0 = disable)",
        0,
        86400,
    )
    heartbeat_timeout: int = option(
        "autoreconnect_heartbeat_timeout",
        20,
        "a check without answer within this delay drops the link and reconnects (in seconds)",
        1,
        3600,
    )
    poll: int = option(
        "autoreconnect_poll",
        15,
        "while an attempt waits after a network failure, check at this interval whether the server "
        "answers (one HTTP request, no login) and reconnect as soon as it does (in seconds, 0 = disable)",
        0,
        86400,
    )
    connect_timeout: int = option(
        "autoreconnect_connect_timeout",
        30,
        "drop a connection attempt still connecting or authenticating after this delay (in seconds, 0 = disable)",
        0,
        3600,
    )


OPTIONS = tuple(replace(f.metadata["option"], field=f.name) for f in fields(Settings))
OPTION_NAMES = frozenset(spec.name for spec in OPTIONS)


def settings_from(values: Dict[str, str]) -> Settings:
    """Settings from option values as /set shows them, by option name."""
    return Settings(**{spec.field: spec.value(values[spec.name]) for spec in OPTIONS})


# ===========================================================================
# === 2. Waits (core)
# ===========================================================================

# a link must stay up this long (seconds) for a drop to start the run over
STABLE_SECONDS = 30.0
# with no cap (autoreconnect_delay_max = 0), a wait never exceeds this (seconds)
UNCAPPED_DELAY_LIMIT = 604800
# a timer that fires this early (seconds) still counts as on time
TIMER_TOLERANCE = 0.05
# the wall clock moving this much (seconds) more than the monotonic clock
# between two wake-ups means the machine was suspended (or the clock set)
CLOCK_JUMP_SECONDS = 10.0
# polls of a waiting remote's server: this often (s) in the first POLL_FAST_SECONDS
# of an outage, then twice as far apart each minute, up to autoreconnect_poll
POLL_FIRST = 2.0
POLL_FAST_SECONDS = 60.0
# a poll or an attempt brought forward needs this much time (s) before the attempt
POLL_MARGIN = 1.0
# a line sent to a connected remote with no answer after this long (s) makes the link
# checked at once, and that check waits at most this long (s) for its answer: a link
# that died silently is noticed within 7 s of the first line typed into it
LINE_CONFIRM_SECONDS = 2.0
SUSPECT_CHECK_TIMEOUT = 5
# why a link was checked, as said when it is dropped
CHECK_HEARTBEAT = "heartbeat"
CHECK_LINE = "check after a line got no answer"


def duration(value: float) -> str:
    """A duration as WeeChat says it: "1 second", "8.7 seconds", "1 minute, 30 seconds", "2 hours"."""
    if round(value, 1) < 60:
        number = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
        return f"{number} second{'' if number == '1' else 's'}"
    left = int(round(value))
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return ", ".join(parts[:2])


def jittered(wait: float, settings: Settings, draw: float) -> float:
    """Shorten a wait by up to `jitter` percent (draw in [0, 1)), never below 1 s.

    The result stays in [wait * (1 - jitter/100), wait].
    """
    if not settings.jitter or wait <= 1:
        return float(wait)
    return max(1.0, wait * (1 - settings.jitter / 100 * draw))


def backoff_delay(attempt: int, settings: Settings) -> int:
    """Return the wait in seconds before attempt number `attempt` (1-based).

    Attempt n waits min(delay * growing^(n-1), delay_max); delay_max 0 means
    no cap (bounded by UNCAPPED_DELAY_LIMIT).
    """
    cap = settings.delay_max if settings.delay_max > 0 else UNCAPPED_DELAY_LIMIT
    wait = settings.delay
    for _ in range(max(attempt, 1) - 1):
        if settings.growing <= 1 or wait >= cap:
            break
        wait *= settings.growing
    return min(wait, cap)


def poll_interval(outage: float, settings: Settings) -> float:
    """Seconds between two polls of a waiting remote's server, `outage` seconds into the outage.

    Often at the start (the server is most likely back soon: a restart, a
    blip), then twice as far apart each minute, up to autoreconnect_poll.
    """
    first = min(POLL_FIRST, float(settings.poll))
    if outage < POLL_FAST_SECONDS:
        return first
    return min(float(settings.poll), first * 2 ** ((outage - POLL_FAST_SECONDS) / 60.0))


# ===========================================================================
# === 3. Failure classes (core)
# ===========================================================================

STATUS_UNKNOWN = "unknown"
STATUS_DISCONNECTED = "disconnected"
STATUS_CONNECTING = "connecting"
STATUS_WAITING_AUTH = "waiting_auth"
STATUS_CONNECTED = "connected"
STATUSES_IN_FLIGHT = (STATUS_CONNECTING, STATUS_WAITING_AUTH)

FAILURE_NETWORK = "network"  # refused, DNS, timeout, link lost, the server went away
FAILURE_AUTH = "auth"  # wrong password or TOTP
FAILURE_VERSION = "version"  # relay API versions differ
FAILURE_TLS = "tls"  # the server's certificate fails verification
FAILURE_OFFLINE = "offline"  # this machine has no route to the server

# TLS failures in a row before giving up (retrying does not fix a certificate)
TLS_MAX = 2
# a link that drops this soon (seconds) after coming up does not end the outage
FLAP_SECONDS = 10.0
# give-up reason when autoreconnect_max is reached (the others are failure classes)
GIVEUP_ATTEMPTS = "attempts"


@dataclass(frozen=True)
class FailureClass:
    """What follows a failure of one class: one row of FAILURE_CLASSES."""

    counted: bool  # the attempt counts toward autoreconnect_max
    grows: bool  # the next wait is longer (the backoff steps up)
    polled: bool  # while the next attempt waits, its server is polled (it may be back sooner)
    # no attempt until a network change brings it; where changes are not watched, a safety
    # attempt after the growing delay of these failures in a row (Engine._await_network)
    awaits_network: bool = False
    cap: Union[int, str] = 0  # this many in a row give up: a number or a Settings field (0: never)
    giveup: str = ""  # what is said then; fields: {name} {count} {detail} {host} {retry}

    def in_a_row(self, settings: Settings) -> int:
        """How many failures of this class in a row make the script give up (0: never)."""
        return int(getattr(settings, self.cap)) if isinstance(self.cap, str) else self.cap


FAILURE_CLASSES: Dict[str, FailureClass] = {
    FAILURE_NETWORK: FailureClass(counted=True, grows=True, polled=True),
    FAILURE_AUTH: FailureClass(
        counted=True,
        grows=True,
        polled=False,  # the server answers polls and refuses the password: no attempt sooner
        cap="auth_max",
        giveup="authentication failed {count} times in a row (wrong password or TOTP?): giving up; "
        "fix relay.remote.{name}.password (or totp_secret), then {retry}",
    ),
    FAILURE_VERSION: FailureClass(
        counted=True,
        grows=True,
        polled=False,
        cap=1,
        giveup="API version mismatch ({detail}): giving up; update WeeChat on one side, then {retry}",
    ),
    FAILURE_TLS: FailureClass(
        counted=True,
        grows=True,
        polled=False,
        cap=TLS_MAX,
        giveup="TLS failed {count} times in a row with {host} ({detail}): giving up; check the server's "
        "certificate (or, if you trust this server, /set relay.remote.{name}.tls_verify off), then {retry}; "
        "a change of network tries again",
    ),
    # no route: nothing to reach; a network change brings the next attempt
    FAILURE_OFFLINE: FailureClass(counted=False, grows=False, polled=False, awaits_network=True),
}

# WeeChat's lines that say why a link drops, after "remote[NAME]: " (English;
# in other languages the signal sequence tells an authentication failure)
UNSAID = "unsaid"  # a network failure whose reason WeeChat did not say (4.10: "response code: 0")
REASONS_SAID = (
    (re.compile(r"^error: (authentication failed.*)$"), FAILURE_AUTH),
    # the server answered the websocket upgrade with something else than 401 or 101
    (re.compile(r"^error: (invalid (?:websocket )?response.*)$"), FAILURE_NETWORK),
    (re.compile(r"^API version mismatch: (.*)$"), FAILURE_VERSION),
    # WeeChat's handshake (curl): the reason of a network or TLS failure
    (re.compile(r"^handshake failed with URL \S+, error: (.*)$"), FAILURE_NETWORK),
    (re.compile(r"^handshake failed with URL \S+, (response code: .*)$"), UNSAID),
)
# curl's words for a certificate or TLS failure
TLS_WORDS = re.compile(r"SSL|TLS|certificate", re.IGNORECASE)
# what a TCP connection to the server found (asked when WeeChat did not say why an attempt failed)
FOUND_UNRESOLVED = "unresolved"  # the server's name does not resolve
FOUND_TAKEN = "taken"  # the server takes TCP connections
FOUND_REACHED = "reached"  # the server's address answered (refused, reset...)
TLS_UNSAID = "TLS handshake failed (the server takes TCP connections; WeeChat 4.10 says no more)"
# why an attempt that was due was not made
NO_ROUTE = "no route to the server's address"


def reason_said(text: str) -> Optional[Tuple[str, str]]:
    """(class or UNSAID, detail) if a line of WeeChat (after "remote[NAME]: ") says why a link drops."""
    for pattern, kind in REASONS_SAID:
        match = pattern.match(text)
        if match:
            return kind, match.group(1)
    return None


class Route(NamedTuple):
    """What this machine knows of the way to a remote's server (asked after a drop)."""

    address: bool = False  # the URL's host is an IP address (else a name)
    reachable: Optional[bool] = None  # the kernel has a route to that address (None: not known)
    default_route: Optional[bool] = None  # the machine has a default route (None: not known)
    https: bool = False
    # the remote goes through a proxy (relay.remote.NAME.proxy): WeeChat's handshake does not
    # (it goes straight, or through weechat.network.proxy_curl), so a TCP connection, made
    # either way, would tell about another path than the one that failed
    proxied: bool = False


NO_ROUTE_KNOWN = Route()


class Failure(NamedTuple):
    """A failed attempt or a drop, classed."""

    kind: str  # a key of FAILURE_CLASSES
    detail: str = ""  # why, in WeeChat's words or the script's
    ask: bool = False  # WeeChat did not say why: a TCP connection to the server would tell more

    @property
    def rule(self) -> FailureClass:
        return FAILURE_CLASSES[self.kind]


# a remote with no failure yet is treated as after a network failure
UNKNOWN_FAILURE = Failure(FAILURE_NETWORK)


@dataclass
class Drop:
    """The facts of one drop (or failed attempt) of a remote, as they come in."""

    at: float  # clock time
    previous: str  # the status before the drop: the signal sequence
    launched: bool = False  # it ended an attempt the script made (counted by its class)
    said: str = ""  # WeeChat's line about it (after "remote[NAME]: ")
    reason: str = ""  # the script's own reason, when it dropped the link itself (or made no attempt)
    route: Optional[Route] = None  # asked when it was a network failure
    uptime: Optional[float] = None  # how long the link had been up (None: it was not up)
    found: str = ""  # what a TCP connection found (FOUND_*), when WeeChat did not say why
    asked: bool = False  # that connection was asked for
    before: Optional[Run] = None  # the run before this failure (a later finding reclasses it)

    @property
    def stable(self) -> bool:
        """The link had stayed up STABLE_SECONDS (or for a time not known: loaded while up)."""
        return self.previous == STATUS_UNKNOWN or (self.uptime is not None and self.uptime >= STABLE_SECONDS)

    @property
    def flapped(self) -> bool:
        """The link came up and dropped again within FLAP_SECONDS."""
        return self.uptime is not None and self.uptime < FLAP_SECONDS


def unreachable(route: Route) -> bool:
    """Whether the kernel said it has no route to the server's address (for a name: not known)."""
    return route.address and route.reachable is False


def offline(route: Route, detail: str, unsaid: bool) -> bool:
    """Whether a network failure came from having no route to the server.

    An address: the kernel says so. A name (resolving it could block): only
    when WeeChat could not resolve it (or did not say why) and the machine
    has no default route.
    """
    if route.address:
        return unreachable(route)
    return ("resolve" in detail or unsaid) and route.default_route is False


def classify(drop: Drop) -> Failure:
    """The class of a failed attempt or a drop, from all that is known of it."""
    said = reason_said(drop.said) if drop.said else None
    unsaid = False
    if drop.reason:
        kind, detail = FAILURE_NETWORK, drop.reason
    elif said is not None:
        kind, detail = said
        unsaid = kind == UNSAID
        if unsaid:
            kind = FAILURE_NETWORK
        elif kind == FAILURE_NETWORK and TLS_WORDS.search(detail):
            kind = FAILURE_TLS
    elif drop.previous == STATUS_WAITING_AUTH:
        kind, detail = FAILURE_AUTH, ""
    else:
        kind, detail = FAILURE_NETWORK, ""
    if kind != FAILURE_NETWORK:
        return Failure(kind, detail)
    route = drop.route or NO_ROUTE_KNOWN
    if drop.found == FOUND_TAKEN and unsaid and route.https:
        return Failure(FAILURE_TLS, TLS_UNSAID)
    if drop.found in (FOUND_TAKEN, FOUND_REACHED):
        return Failure(FAILURE_NETWORK, detail)  # the server's address was reached
    if offline(route, detail, unsaid):
        # the kernel said so for an address; for a name, a connection confirms it
        ask = unsaid and not drop.found and not route.address and not route.proxied
        return Failure(FAILURE_OFFLINE, detail, ask=ask)
    return Failure(FAILURE_NETWORK, detail, ask=unsaid and not drop.found and route.https and not route.proxied)


# ===========================================================================
# === 4. The record of a remote (core)
# ===========================================================================


class Phase(enum.Enum):
    """Where a remote stands; each phase has its own data (PHASE_DATA)."""

    UNKNOWN = "unknown"  # loaded while its status was not known yet
    IDLE = "idle"  # disconnected, no attempt planned (not wanted, or the script is off)
    LAUNCHED = "launched"  # the script asked WeeChat for an attempt; no signal yet
    CONNECTING = "connecting"  # an attempt in flight: TCP, handshake (InFlight)
    AUTHENTICATING = "waiting_auth"  # an attempt in flight: websocket, password (InFlight)
    CONNECTED = "connected"  # the link is up (Up)
    DROPPED = "dropped"  # the link just dropped: the decision waits for settle()
    WAITING = "waiting"  # disconnected, the next attempt is due (Wait)
    GAVE_UP = "gave up"  # disconnected, no more attempts until the user's word


@dataclass
class InFlight:
    """Data of an attempt in flight."""

    since: float  # clock time it started
    launched: bool = False  # the script made it (it counts when it ends)
    watched: bool = False  # its connect timeout runs
    abort: bool = False  # the user disconnected meanwhile: close it once connected
    said: str = ""  # WeeChat's line about the coming drop
    reason: str = ""  # the script's reason to drop it


@dataclass
class Up:
    """Data of a link that is up."""

    since: float  # clock time it came up
    probe_sent: Optional[float] = None  # clock time of the heartbeat check in flight
    probe_timeout: int = 0  # seconds that check waits for its answer
    probe_cause: str = ""  # why it was made: "heartbeat", or a line typed with no answer
    lag: Optional[float] = None  # round trip of the last heartbeat check (seconds)
    lag_high: int = 0  # checks in a row above autoreconnect_lag_max
    said: str = ""
    reason: str = ""


@dataclass
class Wait:
    """Data of a remote whose next attempt is due."""

    due: Optional[float]  # clock time of the attempt (None: a network change brings it)
    probe_sent: Optional[float] = None  # clock time of the poll in flight


@dataclass
class Outage:
    """Since a remote's link was lost. It ends when the link has stayed up FLAP_SECONDS:
    a server that takes links and drops them at once does not get polls again."""

    since: float  # clock time
    polls_spent: bool = False  # no more polls: the server answered (an attempt came sooner) or can not be polled
    flapped: bool = False  # a link of this outage dropped within FLAP_SECONDS (said once)


PhaseData = Union[InFlight, Up, Wait, None]
PHASE_DATA: Dict[Phase, type] = {
    Phase.CONNECTING: InFlight,
    Phase.AUTHENTICATING: InFlight,
    Phase.CONNECTED: Up,
    Phase.WAITING: Wait,
}
PHASE_STATUS = {
    Phase.UNKNOWN: STATUS_UNKNOWN,
    Phase.CONNECTING: STATUS_CONNECTING,
    Phase.AUTHENTICATING: STATUS_WAITING_AUTH,
    Phase.CONNECTED: STATUS_CONNECTED,
}
# the phase a relay_remote_<status> signal of a live link brings
STATUS_PHASES = {
    STATUS_CONNECTING: Phase.CONNECTING,
    STATUS_WAITING_AUTH: Phase.AUTHENTICATING,
    STATUS_CONNECTED: Phase.CONNECTED,
}
PHASES_DOWN = (Phase.IDLE, Phase.DROPPED, Phase.WAITING, Phase.GAVE_UP)


class Run(NamedTuple):
    """A run of attempts: since the last stable link or the user's word (a new Run starts over)."""

    attempt: int = 0  # attempts counted toward autoreconnect_max
    step: int = 0  # steps the delay grew
    streak: Tuple[str, int] = ("", 0)  # the class of the last failures, and how many in a row
    gave_up: bool = False  # the run ended: no more attempts until the link is up or the user's word
    # told that it waits for the network; until told it is back (or another outcome)
    offline_told: bool = False

    def failed(self, kind: str, launched: bool) -> Run:
        """The run after a failure (an attempt the script made counts as its class says)."""
        rule = FAILURE_CLASSES[kind]
        in_a_row = self.streak[1] + 1 if self.streak[0] == kind else 1
        attempt, step = self.attempt + (launched and rule.counted), self.step + (launched and rule.grows)
        return Run(attempt, step, (kind, in_a_row), self.gave_up, self.offline_told and rule.awaits_network)

    def succeeded(self, launched: bool) -> Run:
        """The run after a link came up: the attempt counts, the failures in a row end."""
        return Run(self.attempt + launched, self.step + launched)


@dataclass
class Remote:
    """Everything the engine knows about one remote."""

    name: str
    phase: Phase = Phase.UNKNOWN
    data: PhaseData = None  # the data of its phase (PHASE_DATA)
    # does the user want it connected? None: not known yet (loaded while up)
    wanted: Optional[bool] = None
    run: Run = field(default_factory=Run)
    failure: Optional[Failure] = None  # the last failure
    drop: Optional[Drop] = None  # the facts of the last drop
    outage: Optional[Outage] = None  # None until the link is first lost

    @property
    def status(self) -> str:
        """WeeChat's status of the remote."""
        return PHASE_STATUS.get(self.phase, STATUS_DISCONNECTED)

    @property
    def flight(self) -> Optional[InFlight]:
        return self.data if isinstance(self.data, InFlight) else None

    @property
    def up(self) -> Optional[Up]:
        return self.data if isinstance(self.data, Up) else None

    @property
    def wait(self) -> Optional[Wait]:
        return self.data if isinstance(self.data, Wait) else None

    @property
    def due(self) -> Optional[float]:
        """Clock time of the next attempt (None: none is planned, or a network change brings it)."""
        return self.data.due if isinstance(self.data, Wait) else None

    @property
    def gave_up(self) -> bool:
        return self.phase is Phase.GAVE_UP

    @property
    def number(self) -> int:
        """The number of the attempt in flight (the last one made when none is)."""
        flight = self.flight
        launched = self.phase is Phase.LAUNCHED or (flight is not None and flight.launched)
        return self.run.attempt + launched

    @property
    def lag(self) -> Optional[float]:
        return self.data.lag if isinstance(self.data, Up) else None

    @property
    def kind(self) -> str:
        """The class of the last failure ("" if none)."""
        return self.failure.kind if self.failure else ""


# what the hand-over keeps of a remote: status, wanted, attempt, seconds to the next attempt
Saved = Tuple[str, Optional[bool], int, Optional[float]]

# ===========================================================================
# === 5. Actions of the engine (core): what the shell is asked to do
# ===========================================================================


@dataclass(frozen=True)
class Schedule:
    """Start a timer for the next attempt (and say so unless quiet)."""

    name: str
    due: float
    wait: float
    attempt: int
    max_attempts: int
    quiet: bool = False


@dataclass(frozen=True)
class Cancel:
    """Remove the timer of a pending attempt (and its poll)."""

    name: str
    announce: bool = False


@dataclass(frozen=True)
class Connect:
    """Run the attempt now."""

    name: str


@dataclass(frozen=True)
class Disconnect:
    """Close a link the user asked to close while it was being opened."""

    name: str


@dataclass(frozen=True)
class GiveUp:
    """Stop trying: why is a failure class whose cap is reached, or GIVEUP_ATTEMPTS."""

    name: str
    count: int  # failures of that class in a row, or attempts
    why: str = GIVEUP_ATTEMPTS
    detail: str = ""


@dataclass(frozen=True)
class Watch:
    """Start the connect timeout of an attempt in flight (due: clock time)."""

    name: str
    due: float


@dataclass(frozen=True)
class Unwatch:
    """The attempt is over: remove its connect timeout."""

    name: str


@dataclass(frozen=True)
class Heartbeat:
    """Check that the link and the server of a connected remote answer within `timeout` seconds."""

    name: str
    timeout: int


@dataclass(frozen=True)
class PollAt:
    """While an attempt waits, check at this clock time whether the server answers."""

    name: str
    due: float


@dataclass(frozen=True)
class Poll:
    """Check now whether the server of a waiting remote answers."""

    name: str


@dataclass(frozen=True)
class Diagnose:
    """Ask the server's address with a TCP connection: WeeChat did not say why an attempt failed."""

    name: str


@dataclass(frozen=True)
class ServerBack:
    """The server of a waiting remote answers again: its attempt comes now."""

    name: str


@dataclass(frozen=True)
class NetworkBack:
    """The network changed: a remote that waited for it attempts now."""

    name: str
    offline: bool = False  # it had no route to its server, and now may have (else: TLS gave up)


@dataclass(frozen=True)
class NoRoute:
    """No route to a remote's server: it waits for the network (said once, until it is back)."""

    name: str
    check: Optional[float] = None  # network changes are not watched: seconds to a safety attempt


@dataclass(frozen=True)
class Notice:
    """Tell the user something about a remote's link (a line with the network prefix)."""

    name: str
    text: str


@dataclass(frozen=True)
class DropLink:
    """Close a link found dead (or stuck); the drop then follows the backoff."""

    name: str
    reason: str


Action = Union[
    Schedule,
    Cancel,
    Connect,
    Disconnect,
    GiveUp,
    Watch,
    Unwatch,
    Heartbeat,
    PollAt,
    Poll,
    Diagnose,
    ServerBack,
    NetworkBack,
    NoRoute,
    Notice,
    DropLink,
]


# ===========================================================================
# === 6. Engine (core): signals, timers and the user's word in, actions out
# ===========================================================================


def no_route_known(_name: str) -> Route:
    return NO_ROUTE_KNOWN


class Engine:
    """The phases of every remote; Engine.plan is the one place that decides
    the next attempt, and a give-up, of a remote whose link is down.

    `draw` gives the random part of the jitter, `route` what the machine knows
    of the way to a remote's server (the shell asks the kernel), `watched`
    whether the system's network changes are watched (network_watched).
    """

    def __init__(
        self,
        settings: Settings,
        draw: Callable[[], float] = random.random,
        route: Callable[[str], Route] = no_route_known,
        watched: bool = False,
    ) -> None:
        self.settings = settings
        self.draw = draw
        self.route = route
        self.watched = watched  # a network change calls network_changed
        self.remotes: Dict[str, Remote] = {}
        # kept so that each event costs the same with 10 or 10 000 remotes
        self.connected: Set[str] = set()  # names of the remotes connected
        self.drops: Dict[str, None] = {}  # names of the drops settle() decides, in order

    # -- phases -----------------------------------------------------------------

    def enter(self, remote: Remote, phase: Phase, data: PhaseData = None) -> None:
        """Move a remote to a phase with its data (the only place that sets a phase)."""
        remote.phase, remote.data = phase, data
        if phase is Phase.CONNECTED:
            self.connected.add(remote.name)
        else:
            self.connected.discard(remote.name)
        if phase is Phase.DROPPED:
            self.drops[remote.name] = None

    @staticmethod
    def start_over(remote: Remote) -> None:
        """A new run: attempts, the growing delay, failures in a row and polls start from zero."""
        remote.run = Run()
        if remote.outage is not None:
            remote.outage.polls_spent = False

    # -- remotes come and go -------------------------------------------------

    def remote_add(self, name: str, status: str = STATUS_UNKNOWN) -> Remote:
        """Start tracking a remote (known at load, or just created)."""
        remote = self.remotes.get(name)
        if remote is None:
            remote = self.remotes[name] = Remote(name=name)
            if status == STATUS_DISCONNECTED:
                remote.wanted = False
                self.enter(remote, Phase.IDLE)
        return remote

    def remote_remove(self, name: str) -> List[Action]:
        """Forget a deleted remote, cancelling its pending attempt."""
        remote = self.remotes.pop(name, None)
        self.connected.discard(name)
        self.drops.pop(name, None)
        if remote is None or remote.phase is not Phase.WAITING:
            return []
        return [Cancel(name)]

    def remote_rename(self, old: str, new: str) -> List[Action]:
        """Follow a renamed remote: its state moves with it (a pending attempt, a
        probe in flight); the shell's timers follow their record."""
        remote = self.remotes.pop(old, None)
        if remote is None:
            return []
        # a record made for the new name meanwhile (a signal seen first) is
        # younger than the renamed remote's: the renamed one wins
        actions = self.remote_remove(new)
        self.connected.discard(old)
        self.drops.pop(old, None)
        remote.name = new
        self.remotes[new] = remote
        self.enter(remote, remote.phase, remote.data)
        return actions

    # -- signals -------------------------------------------------------------

    def status_changed(self, name: str, status: str, now: float) -> List[Action]:
        """Take a relay_remote_<status> signal; return actions to run now."""
        remote = self.remotes.get(name)
        if remote is None:
            # a remote unseen so far whose first news is "disconnected" was
            # just created (/remote add); anything else means a live attempt
            remote = self.remote_add(name, status)
            if status == STATUS_DISCONNECTED:
                return []
        if status == STATUS_DISCONNECTED:
            return self._link_down(remote, now)
        return self._link_up(remote, status, now)

    def _link_up(self, remote: Remote, status: str, now: float) -> List[Action]:
        """An attempt started or progressed: nothing else may be scheduled."""
        phase = STATUS_PHASES[status]
        if remote.phase is phase:
            return []  # no change (WeeChat signals changes only)
        actions: List[Action] = self._cancel(remote, announce=False)
        flight = remote.flight
        if flight is None:
            flight = InFlight(since=now, launched=remote.phase is Phase.LAUNCHED)
            if status in STATUSES_IN_FLIGHT and self.settings.connect_timeout:
                flight.watched = True
                actions.append(Watch(remote.name, now + self.settings.connect_timeout))
        if not flight.abort:
            remote.wanted = True
        if phase is not Phase.CONNECTED:
            self.enter(remote, phase, flight)
            return actions
        actions.extend(self._unwatch(flight, remote.name))
        remote.run = remote.run.succeeded(flight.launched)
        self.enter(remote, Phase.CONNECTED, Up(since=now, said=flight.said))
        if flight.abort:
            actions.append(Disconnect(remote.name))
        return actions

    @staticmethod
    def _unwatch(flight: Optional[InFlight], name: str) -> List[Action]:
        """The attempt in flight is over (connected or failed)."""
        if flight is None or not flight.watched:
            return []
        flight.watched = False
        return [Unwatch(name)]

    def _link_down(self, remote: Remote, now: float) -> List[Action]:
        """Record a drop; the decision waits for settle()."""
        flight, up = remote.flight, remote.up
        unwatch = self._unwatch(flight, remote.name)
        if remote.phase in PHASES_DOWN or remote.phase is Phase.LAUNCHED:
            return unwatch
        previous = remote.status
        if remote.phase is Phase.UNKNOWN and remote.wanted is None:
            remote.wanted = True  # loaded while the remote was up: this is its first drop
        live = flight or up
        uptime = None if up is None else now - up.since
        remote.drop = Drop(
            at=now,
            previous=previous,
            uptime=uptime,
            launched=flight is not None and flight.launched,
            said=live.said if live else "",
            reason=live.reason if live else "",
        )
        if remote.outage is None or (uptime is not None and not remote.drop.flapped):
            # a link that stayed up a while ended the last outage (one that came up and
            # dropped again within seconds did not: its polls stay spent)
            remote.outage = Outage(since=now)
        self.enter(remote, Phase.DROPPED)
        return unwatch

    def settle(self) -> List[Action]:
        """Decide on drops seen since the last call (run out of signal context)."""
        actions: List[Action] = []
        drops, self.drops = self.drops, {}
        for name in drops:
            remote = self.remotes.get(name)
            if remote is not None and remote.phase is Phase.DROPPED and remote.drop is not None:
                actions.extend(self._failed(remote, remote.drop))
        return actions

    def _failed(self, remote: Remote, drop: Drop) -> List[Action]:
        """Class a drop, count it in the run, and plan what follows."""
        if drop.stable:
            self.start_over(remote)
        drop.before = remote.run
        if drop.route is None:
            drop.route = self.route(remote.name)  # what the machine knows of the way to the server
        self._reclass(remote, drop)
        actions = self.plan(remote, drop.at)
        outage = remote.outage
        if drop.flapped and outage is not None and outage.polls_spent and not outage.flapped:
            outage.flapped = True
            if remote.phase is Phase.WAITING:
                text = f"the link dropped {duration(drop.uptime or 0.0)} after it came up: attempts follow the backoff"
                actions.insert(
                    0, Notice(remote.name, f"{text}, without polls (the server takes links, then drops them?)")
                )
        if remote.failure is not None and remote.failure.ask:
            drop.asked = True
            actions.append(Diagnose(remote.name))
        return actions

    @staticmethod
    def _reclass(remote: Remote, drop: Drop) -> None:
        """Class the last drop with what is known of it now; the run follows its class
        (what was said stays said: a finding may come after)."""
        remote.failure = classify(drop)
        before = (drop.before or Run())._replace(offline_told=remote.run.offline_told)
        remote.run = before.failed(remote.failure.kind, drop.launched)

    # -- the one decider -------------------------------------------------------

    def give_up_reason(self, remote: Remote) -> str:
        """Why the script stops trying for a remote whose link is down ("" if it does not)."""
        failure = remote.failure or UNKNOWN_FAILURE
        rule = failure.rule
        cap = rule.in_a_row(self.settings)
        kind, in_a_row = remote.run.streak
        if cap and kind == failure.kind and in_a_row >= cap:
            return kind
        limit = self.settings.max_attempts
        if limit and rule.counted and remote.run.attempt >= limit:
            return GIVEUP_ATTEMPTS
        return ""

    def _give_up(self, remote: Remote, why: str) -> List[Action]:
        """The run ends: no more attempts until the link is up or the user's word."""
        remote.run = remote.run._replace(gave_up=True)
        self.enter(remote, Phase.GAVE_UP)
        count = remote.run.attempt if why == GIVEUP_ATTEMPTS else remote.run.streak[1]
        detail = remote.failure.detail if remote.failure and why != GIVEUP_ATTEMPTS else ""
        return [GiveUp(remote.name, count, why, detail)]

    def plan(self, remote: Remote, since: float, wait: Optional[float] = None) -> List[Action]:
        """What follows for a remote whose link is down: the next attempt (after the
        backoff's wait from `since`, or after `wait`), giving up, or nothing (not wanted,
        the script is off, or the run gave up already)."""
        if not self.settings.enabled or not remote.wanted:
            self.enter(remote, Phase.IDLE)
            return []
        if remote.run.gave_up:
            self.enter(remote, Phase.GAVE_UP)  # said once: an attempt made by someone else changes nothing
            return []
        why = self.give_up_reason(remote)
        if why:
            return self._give_up(remote, why)
        if wait is None and (remote.failure or UNKNOWN_FAILURE).rule.awaits_network:
            return self._await_network(remote, since)
        if wait is None:
            wait = jittered(backoff_delay(remote.run.step + 1, self.settings), self.settings, self.draw())
        self.enter(remote, Phase.WAITING, Wait(due=since + wait))
        schedule = Schedule(remote.name, since + wait, wait, remote.run.attempt + 1, self.settings.max_attempts)
        return [schedule, *self._poll_at(remote, since)]

    def _await_network(self, remote: Remote, since: float) -> List[Action]:
        """No route to the server: the next attempt waits for a network change. Where
        changes are not watched, a safety attempt follows the growing delay of these
        failures in a row (not counted, not announced). Said once, until it is back."""
        check: Optional[float] = None
        if not self.watched:
            check = jittered(backoff_delay(remote.run.streak[1], self.settings), self.settings, self.draw())
        self.enter(remote, Phase.WAITING, Wait(due=None if check is None else since + check))
        actions: List[Action] = []
        if not remote.run.offline_told:
            remote.run = remote.run._replace(offline_told=True)
            actions.append(NoRoute(remote.name, check))
        if check is not None:
            number, limit = remote.run.attempt + 1, self.settings.max_attempts
            actions.append(Schedule(remote.name, since + check, check, number, limit, quiet=True))
        return actions

    def _rearm(self, remote: Remote, wait: Wait) -> List[Action]:
        """A new timer for the pending attempt at its current time, not announced."""
        if wait.due is None:
            return []
        backoff = backoff_delay(remote.run.step + 1, self.settings)
        return [Schedule(remote.name, wait.due, backoff, remote.run.attempt + 1, self.settings.max_attempts, True)]

    # -- timers --------------------------------------------------------------

    def timer_fired(self, name: str, now: float) -> List[Action]:
        """The timer of a pending attempt fired: attempt now if still due."""
        remote = self.remotes.get(name)
        wait = remote.wait if remote is not None else None
        if remote is None or wait is None:
            return []
        if wait.due is None or now < wait.due - TIMER_TOLERANCE:
            return self._rearm(remote, wait)
        if not self.settings.enabled or not remote.wanted:
            self.enter(remote, Phase.IDLE)
            return []
        why = self.give_up_reason(remote)  # a limit was lowered while this attempt was pending
        if why:
            return self._give_up(remote, why)
        route = self.route(name)
        if unreachable(route):
            # the kernel has no route to the server's address: an attempt can not succeed
            remote.drop = Drop(at=now, previous=STATUS_DISCONNECTED, reason=NO_ROUTE, route=route)
            return self._failed(remote, remote.drop)
        self.enter(remote, Phase.LAUNCHED)
        return [*self._told_back(remote, route), Connect(name)]

    def connect_issued(self, name: str, now: float) -> List[Action]:
        """After an attempt was sent: if no attempt started, it failed."""
        remote = self.remotes.get(name)
        if remote is None or remote.phase is not Phase.LAUNCHED:
            return []
        remote.drop = Drop(at=now, previous=STATUS_DISCONNECTED, launched=True)
        self.enter(remote, Phase.DROPPED)
        return []

    def said(self, name: str, text: str) -> None:
        """WeeChat printed a line about a remote (after "remote[NAME]: "): it may say
        why its link is about to drop."""
        remote = self.remotes.get(name)
        live = (remote.flight or remote.up) if remote is not None else None
        if live is not None and reason_said(text) is not None:
            live.said = text

    def diagnosed(self, name: str, found: str) -> List[Action]:
        """What a TCP connection to the server found (FOUND_*), asked after a failure
        WeeChat did not explain: the failure is classed again, and may end the run."""
        remote = self.remotes.get(name)
        drop = remote.drop if remote is not None else None
        if remote is None or drop is None or not drop.asked or drop.found or remote.phase not in PHASES_DOWN:
            return []
        drop.found = found
        before = remote.failure
        self._reclass(remote, drop)
        if remote.failure == before or remote.phase is not Phase.WAITING:
            return []
        why = self.give_up_reason(remote)
        if why:
            return [*self._cancel(remote, announce=False), *self._give_up(remote, why)]
        if remote.due is None and remote.failure is not None and not remote.failure.rule.awaits_network:
            return self.plan(remote, drop.at)  # it waited for the network, and the server's address answered
        return []

    def network_changed(self, now: float) -> List[Action]:
        """A link, address or route came up: what waits for the network goes now.

        A remote waiting for the network attempts at once (unless the kernel
        still has no route to its server's address); one waiting after a network
        failure polls its server at once (and attempts as soon as it answers);
        one that gave up on TLS starts over (a captive portal is gone, say).
        """
        actions: List[Action] = []
        if not self.settings.enabled:
            return actions
        for remote in self.remotes.values():
            wait = remote.wait
            if not remote.wanted:
                continue
            if remote.phase is Phase.GAVE_UP and remote.kind == FAILURE_TLS:
                self.start_over(remote)
                actions += [NetworkBack(remote.name), *self.plan(remote, now, 0.0)]
            elif wait is not None and remote.kind == FAILURE_OFFLINE:
                actions += self._network_back(remote, wait, now)
            elif wait is not None and wait.due is not None and remote.kind in ("", FAILURE_NETWORK):
                if remote.outage is not None:
                    remote.outage.polls_spent = False  # one check now, even with polls off: the network is new
                if wait.probe_sent is None and wait.due - now >= POLL_MARGIN:
                    actions.append(PollAt(remote.name, now))
        return actions

    def _network_back(self, remote: Remote, wait: Wait, now: float) -> List[Action]:
        """A network change while a remote waits for the network: it attempts now, unless
        the kernel still has no route to the server's address. That the network is back is
        said once; a name with still no default route is tried quietly (it may resolve)."""
        route = self.route(remote.name)
        if unreachable(route):
            return []
        wait.due = now
        return [*self._told_back(remote, route), *self._rearm(remote, wait)]

    @staticmethod
    def _told_back(remote: Remote, route: Route) -> List[Action]:
        """That the network is back, said once to a remote told that it waits for it (not
        for a name while the machine still has no default route: it is tried quietly)."""
        if not remote.run.offline_told or route.default_route is False:
            return []
        remote.run = remote.run._replace(offline_told=False)
        return [NetworkBack(remote.name, offline=True)]

    def network_watched(self, watched: bool, now: float) -> List[Action]:
        """Whether the system's network changes are watched (the shell says so when it
        starts or stops watching): when they are not, a remote that waits for the network
        gets its safety attempt (one pending keeps its time when they are again)."""
        self.watched = watched
        actions: List[Action] = []
        for remote in self.remotes.values():
            if not watched and remote.wait is not None and remote.due is None:
                actions += self.plan(remote, now)
        return actions

    # -- dead links ------------------------------------------------------------

    def watch_fired(self, name: str, now: float) -> List[Action]:
        """The connect timeout of an attempt fired: drop it if still in flight."""
        remote = self.remotes.get(name)
        flight = remote.flight if remote is not None else None
        timeout = self.settings.connect_timeout
        if remote is None or flight is None or not timeout:
            return []
        if now < flight.since + timeout - TIMER_TOLERANCE:
            return [Watch(name, flight.since + timeout)]
        if remote.phase is Phase.CONNECTING:
            # no socket to close yet (WeeChat bounds this step itself: 5-s
            # handshake, weechat.network.connection_timeout): look again soon
            return [Watch(name, now + 1.0)]
        flight.reason = f"no answer within {duration(timeout)} while authenticating"
        return [DropLink(name, flight.reason)]

    def heartbeat_needed(self) -> bool:
        """Whether a heartbeat tick has any work: a remote is connected."""
        return bool(self.settings.heartbeat) and bool(self.connected)

    def heartbeat(self, now: float) -> List[Action]:
        """Heartbeat tick: check every connected remote not being checked."""
        actions: List[Action] = []
        for remote in self.remotes.values():
            up = remote.up
            if up is not None and up.probe_sent is None:
                actions.append(self._check(up, remote.name, self.settings.heartbeat_timeout, now, CHECK_HEARTBEAT))
        return actions

    def line_unconfirmed(self, name: str, now: float) -> List[Action]:
        """A line sent to a connected remote has had no answer for LINE_CONFIRM_SECONDS: its
        link is checked at once, with a short timeout (as TCP's retransmission timer would),
        unless a check already in flight ends as soon (heartbeat 0: no check at all)."""
        remote = self.remotes.get(name)
        up = remote.up if remote is not None else None
        timeout = min(self.settings.heartbeat_timeout, SUSPECT_CHECK_TIMEOUT)
        if up is None or not self.settings.heartbeat:
            return []
        if up.probe_sent is not None and up.probe_sent + up.probe_timeout <= now + timeout:
            return []
        return [self._check(up, name, timeout, now, CHECK_LINE)]

    @staticmethod
    def _check(up: Up, name: str, timeout: int, now: float, cause: str) -> Heartbeat:
        up.probe_sent, up.probe_timeout, up.probe_cause = now, timeout, cause
        return Heartbeat(name, timeout)

    def probe_answered(self, name: str, answered: bool, now: Optional[float] = None) -> List[Action]:
        """The heartbeat check of a remote got an answer (or none within its timeout);
        `now` measures its round trip: the lag of the link (like IRC's lag)."""
        remote = self.remotes.get(name)
        up = remote.up if remote is not None else None
        if up is None or up.probe_sent is None:
            return []  # the link changed meanwhile: the result is stale
        sent, up.probe_sent = up.probe_sent, None
        if not answered:
            up.reason = f"no answer from the server within {duration(up.probe_timeout)} ({up.probe_cause})"
            return [DropLink(name, up.reason)]
        if now is None:
            return []
        up.lag = now - sent
        limit = self.settings.lag_max
        up.lag_high = up.lag_high + 1 if limit and up.lag > limit else 0
        if up.lag_high < 2:
            return []
        up.lag_high = 0
        up.reason = f"lag {duration(up.lag)} above {duration(limit)} for 2 checks (autoreconnect_lag_max)"
        return [DropLink(name, up.reason)]

    def clock_jumped(self, now: float) -> List[Action]:
        """After a suspend: check every link now, make pending attempts now (one that waits
        for a network change still waits for it)."""
        actions = self.heartbeat(now)
        for remote in self.remotes.values():
            wait = remote.wait
            if wait is not None and wait.due is not None and wait.due > now:
                wait.due = now
                actions += self._rearm(remote, wait)
        return actions

    def status_checked(self, name: str, status: str, now: float) -> List[Action]:
        """The real status of a remote, read when its signals may have been missed
        (after a reload, the relay plugin's return): a change is taken as signalled."""
        remote = self.remotes.get(name)
        if remote is None or status == remote.status:
            return []
        if remote.phase is Phase.UNKNOWN and status == STATUS_DISCONNECTED:
            # loaded with nothing known: down is how it is, not a drop
            if remote.wanted is None:
                remote.wanted = False
            self.enter(remote, Phase.IDLE)
            return []
        return self.status_changed(name, status, now)

    # -- the server of a waiting remote comes back -----------------------------

    def polled(self, remote: Remote) -> bool:
        """Whether the server of this waiting remote is polled (its failure class says so)."""
        wait = remote.wait
        rule = (remote.failure or UNKNOWN_FAILURE).rule
        spent = remote.outage is not None and remote.outage.polls_spent
        return bool(self.settings.poll) and wait is not None and not spent and rule.polled

    def _poll_at(self, remote: Remote, now: float) -> List[Action]:
        """The next poll of a waiting remote's server, if one fits before its attempt."""
        wait = remote.wait
        if wait is None or wait.due is None or not self.polled(remote):
            return []
        interval = poll_interval(now - (remote.outage.since if remote.outage else now), self.settings)
        due = now + jittered(interval, self.settings, self.draw())
        return [PollAt(remote.name, due)] if due < wait.due - POLL_MARGIN else []

    def poll_fired(self, name: str, now: float) -> List[Action]:
        """Poll time: check the server if the attempt still waits long enough."""
        remote = self.remotes.get(name)
        wait = remote.wait if remote is not None else None
        spent = remote is not None and remote.outage is not None and remote.outage.polls_spent
        if wait is None or wait.due is None or spent or wait.probe_sent is not None or wait.due - now < POLL_MARGIN:
            return []
        wait.probe_sent = now
        return [Poll(name)]

    def poll_answered(self, name: str, answered: Optional[bool], now: float) -> List[Action]:
        """A poll ended: True the server answers, False not, None no verdict or no way to poll.

        A server that answers gets the attempt now, once per outage: if that
        attempt fails anyway, the backoff goes on without polls until the
        link is up again (a server that answers but refuses links is not
        hammered at the poll interval).
        """
        remote = self.remotes.get(name)
        wait = remote.wait if remote is not None else None
        if remote is None or wait is None or wait.probe_sent is None:
            return []
        wait.probe_sent = None
        if answered is None:
            self._polls_spent(remote)
            return []
        if not answered:
            return self._poll_at(remote, now)
        self._polls_spent(remote)
        wait.due = now
        return [ServerBack(name), *self._rearm(remote, wait)]

    @staticmethod
    def _polls_spent(remote: Remote) -> None:
        """No more polls this outage."""
        if remote.outage is not None:
            remote.outage.polls_spent = True

    # -- the user's word -------------------------------------------------------

    def user_connect(self, name: str) -> Tuple[bool, List[Action]]:
        """/remote connect|reconnect by the user: the run starts over.

        Returns (allowed, actions); not allowed when an attempt is already in
        flight, since WeeChat would start a second, overlapping one.
        """
        remote = self.remotes.get(name)
        if remote is None:
            return True, []
        remote.wanted = True
        flight = remote.flight
        if flight is not None:
            flight.abort = False
            return False, []
        self.start_over(remote)
        actions = self._cancel(remote, announce=False)
        if remote.phase is Phase.GAVE_UP:
            self.enter(remote, Phase.IDLE)
        return True, actions

    def user_disconnect(self, name: str) -> List[Action]:
        """/remote disconnect by the user: no more attempts for this remote."""
        remote = self.remotes.get(name)
        if remote is None:
            return []
        remote.wanted = False
        self.start_over(remote)
        flight = remote.flight
        if flight is not None:
            flight.abort = True
        actions = self._cancel(remote, announce=True)
        if remote.phase in (Phase.DROPPED, Phase.GAVE_UP):
            self.drops.pop(name, None)
            self.enter(remote, Phase.IDLE)
        return actions

    def _cancel(self, remote: Remote, announce: bool) -> List[Action]:
        """No attempt is pending any more (the remote is idle until something else happens)."""
        if remote.phase is not Phase.WAITING:
            return []
        self.enter(remote, Phase.IDLE)
        return [Cancel(remote.name, announce)]

    def retry(self, name: str, _now: float) -> Tuple[str, List[Action]]:
        """Attempt now, in the current run (also after giving up). Returns (error, actions)."""
        remote = self.remotes[name]
        if remote.status != STATUS_DISCONNECTED:
            what = "is connected" if remote.status == STATUS_CONNECTED else "has an attempt in flight"
            if remote.status == STATUS_UNKNOWN:
                what = "has a status not known yet (use /remote connect)"
            return f"remote[{name}] {what}", []
        remote.wanted = True
        remote.run = remote.run._replace(gave_up=False)  # one more attempt: if it fails, giving up is said again
        actions = self._cancel(remote, announce=False)
        self.drops.pop(name, None)
        self.enter(remote, Phase.LAUNCHED)
        return "", actions + [Connect(name)]

    def cancel(self, name: str, _now: float) -> Tuple[str, List[Action]]:
        """Cancel the pending attempt; no more until the user connects."""
        remote = self.remotes[name]
        if remote.phase is not Phase.WAITING:
            return f"remote[{name}] has no attempt pending", []
        remote.wanted = False
        return "", self._cancel(remote, announce=True)

    def reset(self, name: str, now: float) -> Tuple[str, List[Action]]:
        """Start the run over (a pending attempt is planned again as attempt 1)."""
        remote = self.remotes[name]
        self.start_over(remote)
        remote.failure = None
        actions = self._cancel(remote, announce=False)
        if remote.phase in (Phase.IDLE, Phase.GAVE_UP) and remote.wanted:
            actions += self.plan(remote, now)
        return "", actions

    # -- options -------------------------------------------------------------

    def settings_changed(self, settings: Settings, now: float) -> List[Action]:
        """New option values: off cancels everything, on starts every run over."""
        was_enabled = self.settings.enabled
        self.settings = settings
        actions: List[Action] = []
        if not settings.enabled:
            for remote in self.remotes.values():
                actions.extend(self._cancel(remote, announce=False))
        elif not was_enabled:
            # drops not settled yet are planned by settle()
            for remote in self.remotes.values():
                self.start_over(remote)
                if remote.phase in (Phase.IDLE, Phase.GAVE_UP):
                    actions.extend(self.plan(remote, now) if remote.wanted else [])
        return actions

    def pending(self) -> List[Remote]:
        """Remotes with an attempt scheduled (at a time: not those a network change brings)."""
        return [r for r in self.remotes.values() if r.due is not None]

    def managed(self, remote: Remote) -> bool:
        """Whether the engine brings this remote back when its link drops."""
        return self.settings.enabled and remote.wanted is not False and not remote.run.gave_up

    # -- hand-over across a script reload or /upgrade ------------------------

    def snapshot(self, now: float) -> Dict[str, list]:
        """What a next instance of the script needs to carry on (see restore); a remote
        that waits for a network change attempts at once in the next one."""
        return {name: [r.status, r.wanted, r.number, self._due_in(r, now)] for name, r in self.remotes.items()}

    @staticmethod
    def _due_in(remote: Remote, now: float) -> Optional[float]:
        """Seconds to the pending attempt (0: one a network change brings; None: none is pending)."""
        if remote.wait is None:
            return None
        return 0.0 if remote.due is None else max(0.0, remote.due - now)

    def restore(self, name: str, saved: Saved, now: float, upgraded: bool) -> List[Action]:
        """Take over a remote from the previous instance (snapshot, read by parse_handover).

        After /upgrade every remote is disconnected and WeeChat does not
        reconnect them: those that were up or waiting get an attempt in 1 s.
        After a script reload the state is as it was (the shell then checks
        it); a pending attempt keeps its time.
        """
        status, wanted, attempt, due_in = saved
        remote = self.remote_add(name)
        remote.wanted, remote.run = wanted, Run(attempt, attempt)
        if upgraded:
            self.enter(remote, Phase.IDLE)
            if wanted and (status != STATUS_DISCONNECTED or due_in is not None):
                self.start_over(remote)
                return self.plan(remote, now, 1.0)
            return []
        if status in STATUSES_IN_FLIGHT:
            phase = Phase.CONNECTING if status == STATUS_CONNECTING else Phase.AUTHENTICATING
            self.enter(remote, phase, InFlight(since=now))
        elif status == STATUS_CONNECTED:
            self.enter(remote, Phase.CONNECTED, Up(since=now))
        elif status == STATUS_DISCONNECTED:
            self.enter(remote, Phase.IDLE)
            if due_in is not None and wanted:
                return self.plan(remote, now, due_in)
        return []


# ===========================================================================
# === 7. Outbox and delivery (core)
# ===========================================================================

# where a line given to a remote buffer goes while the script holds its input
ROUTE_KEEP = "keep"  # for the remote: into the outbox
ROUTE_REFUSE = "refuse"  # a command for the remote, not kept (outbox_commands off)
ROUTE_LOCAL = "local"  # runs on this WeeChat, as it would with the link up
ROUTE_HERE = "here"  # the script's own command: run here even where commands go to the remote


def route_input(
    lines: List[Tuple[str, bool]], submitted: bool, to_remote: bool, keep_commands: bool, own: str = ""
) -> List[Tuple[str, str]]:
    """Where each line given to the buffer of a remote whose input is held goes.

    lines: (text, is_command). Text always goes to the remote: WeeChat gives
    it to the buffer whoever sends it. A command goes to the remote only when
    the person submitted it (Enter on the input line) in a buffer that sends
    commands to the remote (/remote togglecmd), but for the script's own
    command (`own`, its name): its hints are printed in these buffers and
    run as printed; every other command (key bindings, the fifo, other
    scripts) runs here, as with the link up.
    """
    routes = []
    for line, is_command in lines:
        if not is_command:
            route = ROUTE_KEEP
        elif own and line[1:].split(" ", 1)[0] == own:
            route = ROUTE_HERE
        elif submitted and to_remote:
            route = ROUTE_KEEP if keep_commands else ROUTE_REFUSE
        else:
            route = ROUTE_LOCAL
        routes.append((line, route))
    return routes


LINE_QUEUED = "queued"  # goes by itself once the remote is connected
LINE_SENDING = "sending"  # handed to the remote, its answer not known yet
LINE_MISSING = "missing"  # the remote has no such buffer (yet): tried again later
LINE_UNKNOWN = "unknown"  # the answer never came: it may have arrived
LINE_STATES = (LINE_QUEUED, LINE_SENDING, LINE_MISSING, LINE_UNKNOWN)

# a line's id as the user sees and types it is the start of its ident, this many
# characters at least (more only if lines of a remote start alike; new ones never do)
LINE_ID_SIZE = 4
# a new ident is drawn again at most this often while its start is taken
LINE_ID_DRAWS = 64

# why the lines of a buffer wait for the user's word
HELD_OLD = "older than autoreconnect_outbox_max_age"
HELD_NO_BUFFER = "buffer not found on the remote"
HELD_UNKNOWN = "delivery not confirmed"


@dataclass
class QueuedLine:
    """A line typed in a remote buffer, kept until the remote's server took it."""

    ident: str
    remote: str
    buffer: str  # full name of the buffer on the remote WeeChat
    text: str
    queued_at: float  # wall clock: the outbox outlives restarts
    state: str = LINE_QUEUED
    missing_since: Optional[float] = None  # wall clock of the first "buffer not found"
    approved: bool = False  # the user said "send": age and waits hold it no more
    quiet: bool = False  # typed on a link that answers, nothing said of it yet (not in the file)


class Outbox:
    """Lines kept for remotes, delivered in order per buffer, each at most once.

    Only the first line of a buffer may go; when it waits for the user's word
    (too old, its buffer never appeared, its delivery not confirmed), the
    lines behind it wait too: a buffer never gets its lines out of order.
    """

    def __init__(self, lines: Optional[List[QueuedLine]] = None) -> None:
        self.lines: List[QueuedLine] = list(lines or [])

    def add(self, ident: str, remote: str, buffer: str, text: str, now: float) -> QueuedLine:
        line = QueuedLine(ident, remote, buffer, text, now)
        self.lines.append(line)
        return line

    def of(self, remote: str = "", buffer: str = "", ident: str = "") -> List[QueuedLine]:
        """Lines of a remote ("" every remote), of one of its buffers ("" every buffer),
        the line of an ident ("" every line)."""
        return [
            line
            for line in self.lines
            if (not remote or line.remote == remote)
            and (not buffer or line.buffer == buffer)
            and (not ident or line.ident == ident)
        ]

    def count(self, remote: str = "", buffer: str = "") -> int:
        return len(self.of(remote, buffer))

    def kept(self) -> List[QueuedLine]:
        """The lines the file holds: not the quiet ones (on their way, nothing said of them;
        a crash loses them as it would without the script, and never sends them twice)."""
        return [line for line in self.lines if not line.quiet]

    def buffers(self, remote: str = "") -> List[str]:
        """Buffers with lines queued (of a remote, "" every remote), in the order first typed."""
        return list(dict.fromkeys(line.buffer for line in self.of(remote)))

    def line_ids(self, remote: str) -> Dict[str, str]:
        """The id the user sees and types for each line of a remote, by ident: the shortest
        start of its ident, LINE_ID_SIZE characters at least, that no other line of the remote has."""
        idents = sorted(line.ident for line in self.of(remote))
        ids = {}
        for index, ident in enumerate(idents):
            neighbours = idents[max(0, index - 1) : index] + idents[index + 1 : index + 2]
            shared = max((len(os.path.commonprefix((ident, other))) for other in neighbours), default=0)
            ids[ident] = ident[: max(LINE_ID_SIZE, shared + 1)]
        return ids

    def line_id(self, line: QueuedLine) -> str:
        return self.line_ids(line.remote)[line.ident]

    def pick(self, remote: str, buffer: str, typed: str) -> Tuple[Optional[QueuedLine], str]:
        """The line of a remote's buffer whose id the user typed (or the start of it),
        or why there is none."""
        lines = self.of(remote)
        found = [line for line in lines if line.ident == typed] or [
            line for line in lines if typed and line.ident.startswith(typed)
        ]
        if not found:
            return None, f'no queued line of remote[{remote}] has the id "{typed}"'
        if len(found) > 1:
            return None, f'"{typed}" is the start of the ids of {len(found)} queued lines of remote[{remote}]'
        line = found[0]
        if buffer and line.buffer != buffer:
            return None, f'line {self.line_id(line)} of remote[{remote}] is queued for "{line.buffer}", not "{buffer}"'
        return line, ""

    def before(self, line: QueuedLine) -> List[QueuedLine]:
        """The lines of its buffer that go before a line."""
        lines = self.of(line.remote, line.buffer)
        return lines[: lines.index(line)] if line in lines else []

    def counts(self) -> Dict[str, int]:
        """How many lines each remote has queued."""
        counts: Dict[str, int] = {}
        for line in self.lines:
            counts[line.remote] = counts.get(line.remote, 0) + 1
        return counts

    def remotes(self) -> List[str]:
        return sorted({line.remote for line in self.lines})

    def heads(self, remote: str) -> List[QueuedLine]:
        """The first line of each buffer of a remote, in the order they were typed."""
        seen: Set[str] = set()
        heads = []
        for line in self.of(remote):
            if line.buffer not in seen:
                seen.add(line.buffer)
                heads.append(line)
        return heads

    @staticmethod
    def held(line: QueuedLine, now: float, max_age: int, wait: int) -> str:
        """Why a line waits for the user's word ("" if it goes by itself)."""
        if line.state == LINE_UNKNOWN:
            return HELD_UNKNOWN
        if line.missing_since is not None and now - line.missing_since >= wait:
            return HELD_NO_BUFFER
        if line.approved:
            return ""
        if max_age and now - line.queued_at > max_age:
            return HELD_OLD
        return ""

    def next_line(self, remote: str, now: float, max_age: int, wait: int) -> Optional[QueuedLine]:
        """The next line of a remote to send now, if any."""
        for line in self.heads(remote):
            if line.state == LINE_QUEUED and not self.held(line, now, max_age, wait):
                return line
        return None

    def blocks(self, remote: str, buffer: str, now: float, max_age: int, wait: int) -> bool:
        """Whether new input for a buffer must queue behind lines that go by themselves."""
        lines = self.of(remote, buffer)
        return bool(lines) and not self.held(lines[0], now, max_age, wait)

    def stuck(self, remote: str, now: float, max_age: int, wait: int) -> Dict[str, List[QueuedLine]]:
        """Lines waiting for the user's word, by reason."""
        stuck: Dict[str, List[QueuedLine]] = {}
        for head in self.heads(remote):
            reason = self.held(head, now, max_age, wait)
            if reason:
                stuck.setdefault(reason, []).extend(self.of(remote, head.buffer))
        return stuck

    def missing_pending(self, remote: str, now: float, wait: int) -> Optional[float]:
        """Earliest wall time a missing buffer passes its wait (None: none is waiting)."""
        times = [
            line.missing_since + wait
            for line in self.heads(remote)
            if line.state == LINE_MISSING and line.missing_since is not None and now - line.missing_since < wait
        ]
        return min(times) if times else None

    def retry_missing(self, remote: str, buffer: str = "") -> int:
        """Lines whose buffer was not found may be tried again (their wait goes on)."""
        lines = [line for line in self.of(remote, buffer) if line.state == LINE_MISSING]
        for line in lines:
            line.state = LINE_QUEUED
        return len(lines)

    def sending(self, line: QueuedLine) -> None:
        line.state = LINE_SENDING

    def delivered(self, line: QueuedLine) -> None:
        """The remote took the line: it leaves the outbox."""
        if line in self.lines:
            self.lines.remove(line)

    def missing(self, line: QueuedLine, now: float) -> None:
        """The remote has no such buffer: the line waits for it (see held)."""
        line.state = LINE_MISSING
        if line.missing_since is None:
            line.missing_since = now

    def not_sent(self, line: QueuedLine) -> None:
        """The line never reached the remote: it goes again, first in its buffer."""
        line.state = LINE_QUEUED

    def unknown(self, line: QueuedLine) -> None:
        """No answer: the line may have arrived; only the user sends it again."""
        line.state = LINE_UNKNOWN

    def approve(self, remote: str, buffer: str = "", ident: str = "") -> int:
        """The user says "send": these lines go, whatever their age or state (in their turn in their buffer)."""
        lines = [line for line in self.of(remote, buffer, ident) if line.state != LINE_SENDING]
        for line in lines:
            line.approved = True
            line.missing_since = None
            line.state = LINE_QUEUED
        return len(lines)

    def drop(self, remote: str = "", buffer: str = "", ident: str = "") -> int:
        """Forget lines (of every remote if remote is ""); return how many."""
        dropped = self.of(remote, buffer, ident)
        self.lines = [line for line in self.lines if line not in dropped]
        return len(dropped)

    def move(self, remote: str, buffer: str, target: str) -> int:
        """The user sends the lines of a buffer to another buffer of the remote."""
        lines = [line for line in self.of(remote, buffer) if line.state != LINE_SENDING]
        for line in lines:
            line.buffer = target
            line.approved = True
            line.missing_since = None
            line.state = LINE_QUEUED
        # they go after the lines the target buffer already has
        self.lines = [line for line in self.lines if line not in lines] + lines
        return len(lines)

    def rename(self, old: str, new: str) -> None:
        for line in self.lines:
            if line.remote == old:
                line.remote = new

    def merge(self, lines: List[QueuedLine]) -> List[QueuedLine]:
        """Take lines read from the file once it can be read again: those not known yet go
        first (they were queued before the lines typed since); return them."""
        known = {line.ident for line in self.lines}
        added = [line for line in lines if line.ident not in known]
        self.lines = added + self.lines
        return added


OUTBOX_FORMAT = 1


def outbox_to_json(outbox: Outbox) -> str:
    """The outbox as the text of its file."""
    lines = [
        {
            "id": line.ident,
            "remote": line.remote,
            "buffer": line.buffer,
            "text": line.text,
            "queued_at": line.queued_at,
            "state": line.state,
            "missing_since": line.missing_since,
            "approved": line.approved,
        }
        for line in outbox.kept()
    ]
    return json.dumps({"format": OUTBOX_FORMAT, "lines": lines}, indent=1) + "\n"


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _line_from_json(item: object) -> Optional[QueuedLine]:
    """A line read back from the file, or None if it is not valid."""
    if not isinstance(item, dict):
        return None
    texts = [item.get(key) for key in ("id", "remote", "buffer", "text")]
    missing_since = item.get("missing_since")
    if (
        not all(isinstance(text, str) for text in texts)
        or not all(texts[:3])
        or not _finite(item.get("queued_at"))
        or item.get("state") not in LINE_STATES
        or not (missing_since is None or _finite(missing_since))
        or not isinstance(item.get("approved"), bool)
    ):
        return None
    ident, remote, buffer, text = (str(text) for text in texts)
    line = QueuedLine(ident, remote, buffer, text, float(item["queued_at"]), str(item["state"]))
    line.missing_since = None if missing_since is None else float(missing_since)  # type: ignore[arg-type]
    line.approved = bool(item["approved"])
    if line.state == LINE_SENDING:
        # it was being sent when WeeChat or the script stopped: it may have
        # arrived, and is never sent twice by itself
        line.state = LINE_UNKNOWN
    return line


def outbox_from_json(text: str) -> Tuple[List[QueuedLine], int]:
    """Lines read from the outbox file and how many were not valid.

    Raises ValueError when the file as a whole can not be read.
    """
    data = json_bounded(text, OUTBOX_LIMIT)
    if not isinstance(data, dict) or data.get("format") != OUTBOX_FORMAT or not isinstance(data.get("lines"), list):
        raise ValueError(f"not an outbox file of format {OUTBOX_FORMAT}")
    lines, bad, seen = [], 0, set()
    for item in data["lines"]:
        line = _line_from_json(item)
        if line is None or line.ident in seen:
            bad += 1
        else:
            seen.add(line.ident)
            lines.append(line)
    return lines, bad


# what the answer to a POST /api/input says of its line
DELIVERED = "delivered"  # the remote took the line
MISSING = "missing"  # the remote has no such buffer
REFUSED = "refused"  # the remote answered with an error: the line was not run
NOT_SENT = "not sent"  # the request never left (no route, refused connection, TLS)
UNKNOWN = "unknown"  # no answer: the line may have arrived
# the server refused credentials made a moment too early (the line was not run):
STALE_TOTP = "stale totp"  # the TOTP was of a time step the server had left (or not reached)
STALE_SALT = "stale salt"  # the salt of the password's hash (a time) was out of the server's time_window

# a line refused for stale credentials goes again at once, up to this many times in a row:
# the TOTP of the current time step, then of the next one and of the previous one (clocks
# a step apart); a hash refused for its salt is made again for the current second
STALE_TOTP_STEPS = (0, 1, -1)
# one hash of the password serves the requests of this many seconds (its salt's and the
# next ones): the server takes a salt within relay.network.time_window (5 s by default)
# of its clock and keeps no record of salts seen (relay-auth.c), and a pbkdf2 hash at
# 100000 iterations takes ~60 ms of WeeChat's main loop; a server that refused a salt
# for its age gets a hash of the current second for the rest of the connection
HASH_SPAN_SECONDS = 3

# consecutive lines of a buffer go in one request (POST /api/input of "/command -s /input send
# LINE;/input send LINE;..."), at most this many and this long (bytes of the command): the server
# splits them in a time that grows with the square of the count (tools/batch_facts.py)
BATCH_LINES = 100
BATCH_BYTES = 16384
# a batch ends with "/input send /buffer setvar BATCH_VARIABLE ID" on its buffer: the server
# runs it only after the lines, and only if it runs nested /input (relay.network.commands
# checks each nested command: a batch it refuses is still answered 204), and the local
# variable comes back to the remote's mirror of the buffer through the websocket
BATCH_VARIABLE = "relay_autoreconnect_batch"
# a batch answered 204 whose marker did not come within this time (s) may have run or not
BATCH_MARKER_SECONDS = 2.0
# whether a link takes batches: not known yet (the first of several lines goes alone, marked), seen to work
# (a marker came back on this link), off (a marker did not come: one line per request until reload)
BATCH_UNTRIED = "untried"
BATCH_WORKS = "works"
BATCH_OFF = "off"


def batchable(text: str) -> bool:
    """Whether a line arrives as typed inside a batch: plain text (not a command), with no
    newline, no leading or trailing white space (the split drops them) and no trailing
    backslash (it would escape the separator after it; the marker always follows)."""
    return (
        bool(text)
        and not text.startswith("/")
        and "\n" not in text
        and "\r" not in text
        and text == text.strip()
        and not text.endswith("\\")
    )


def batch_command(texts: Sequence[str], marker: str) -> str:
    """The input that runs lines in order in their buffer, then sets the marker
    (string_split_command: a ";" preceded by a backslash is a ";" and takes that backslash)."""
    sends = [f"/input send {text.replace(';', chr(92) + ';')}" for text in texts]
    return "/command -s " + ";".join([*sends, f"/input send /buffer setvar {BATCH_VARIABLE} {marker}"])


# a line whose buffer the remote does not have is tried again this often (s),
# and at once when the buffer appears
MISSING_RETRY_SECONDS = 5.0

# what the user is told about the outbox (the shell words each: Courier.NOTICES)
TELL_DELIVERED = "delivered"  # lines the remote took in this round
TELL_STOPPED = "stopped"  # delivery stops until the next connection or the user's word
TELL_UNKNOWN = "unknown"  # no answer for a line: it may have arrived
TELL_HELD = "held"  # the link dropped before lines typed while it answered could go
TELL_UNCONFIRMED = "unconfirmed"  # a line whose answer never came (before a reload) holds its buffer back
TELL_BEHIND = "behind"  # the user said "send" for a line that waits behind lines held in its buffer
TELL_OLD = "old"  # lines older than autoreconnect_outbox_max_age wait for the user
TELL_NO_BUFFER = "no buffer"  # a buffer never appeared on the remote
TELL_NOT_CONNECTED = "not connected"  # the user said "send" while the link is down
TELL_DROPPED = "dropped"
TELL_MOVED = "moved"
TELL_DELETED = "deleted"  # the remote was deleted with lines queued

# the server's answer to the handshake: (hash algorithm, iterations, totp)
Auth = Tuple[str, int, bool]


@dataclass(frozen=True)
class Persist:
    """Write the outbox to its file, before what follows depends on it."""


@dataclass(frozen=True)
class Handshake:
    """Ask the remote's server how it wants the password (POST /api/handshake)."""

    name: str


@dataclass(frozen=True)
class Send:
    """Send lines of one buffer to the remote's server (POST /api/input), authenticated as
    `auth` says: one line as it is, or lines with a marker (batch_command; on a link not proven
    yet, the first of several lines goes alone with one)."""

    name: str
    lines: Tuple[QueuedLine, ...]
    auth: Auth
    tries: int = 0  # the server refused this line's credentials as stale this many times in a row
    totp_step: int = 0  # the TOTP is that of the time step this many steps (30 s) from the current one
    hash_span: int = HASH_SPAN_SECONDS  # a hash whose salt is less than this many seconds old serves again
    marker: str = ""  # the id the batch sets as BATCH_VARIABLE once its lines ran ("": one line as it is)


@dataclass(frozen=True)
class MarkerWait:
    """A batch was answered 204: call Delivery.marker_overdue in this many seconds unless its marker comes."""

    name: str
    seconds: float


@dataclass(frozen=True)
class RetryAt:
    """Call Delivery.retry_fired at this wall-clock time."""

    name: str
    due: float


@dataclass(frozen=True)
class Tell:
    """Tell the user something about the outbox of a remote (what: a TELL_* kind; line: the id of a line)."""

    name: str
    what: str
    count: int = 0
    buffer: str = ""
    detail: str = ""
    line: str = ""
    text: str = ""  # the text of that line
    lines: int = 1  # how many lines it is about, from that one (a batch)


DeliveryAction = Union[Persist, Handshake, Send, MarkerWait, RetryAt, Tell]


@dataclass
class Round:
    """Where the delivery of one remote's outbox stands."""

    ready: bool = False  # the link answers: lines may go
    busy: bool = False  # a request is in flight, or a batch waits for its marker
    lines: Tuple[QueuedLine, ...] = ()  # the lines in flight, in order (none while busy: the handshake)
    marker: str = ""  # the marker of the batch in flight ("": not a batch)
    marked: bool = False  # that marker came back: its lines ran
    awaiting: bool = False  # that batch was answered 204, its marker has not come yet
    batching: str = BATCH_UNTRIED  # whether this link takes batches (BATCH_*)
    auth: Optional[Auth] = None  # the server's answer to the handshake
    delivered: int = 0  # lines the remote took in this round
    stopped: str = ""  # why delivery waits for the next connection or the user's word ("" if it does not)
    told: Set[Tuple[str, str]] = field(default_factory=set)  # notices given since the outbox was empty
    retry: bool = False  # a RetryAt is pending
    stale: int = 0  # the line in flight was refused this many times in a row for stale credentials
    hash_span: int = HASH_SPAN_SECONDS  # how long one hash serves on this link (Send.hash_span)


class Delivery:
    """Which queued line goes when, what the server's answer means, what the user is told.

    Lines leave the outbox only when the remote's server took them; one
    request at a time per remote; a buffer's lines in the order typed. Time
    is the wall clock (lines outlive restarts), passed in.
    """

    def __init__(
        self,
        settings: Settings,
        lines: Optional[List[QueuedLine]] = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
        batching: str = BATCH_UNTRIED,
    ) -> None:
        self.settings = settings
        self.outbox = Outbox(lines)
        self.new_id = new_id
        self.batching = batching  # how a remote's batching starts (BATCH_OFF: one line per request)
        self.rounds: Dict[str, Round] = {}

    def round(self, name: str) -> Round:
        """The round of a remote, made if it has none yet."""
        found = self.rounds.get(name)
        if found is None:
            found = self.rounds[name] = Round(batching=self.batching)
        return found

    def ready(self, name: str) -> bool:
        """Whether the link of a remote answers (lines may go)."""
        found = self.rounds.get(name)
        return found is not None and found.ready

    # -- lines come in ---------------------------------------------------------

    def keep(self, name: str, buffer: str, texts: List[str], now: float) -> List[DeliveryAction]:
        """Queue lines typed for a buffer of a remote: on disk, then delivered if the link is up.

        A line typed on a link that answers, behind nothing but such lines, is
        quiet: it goes as it would without the script; only a line that has to
        wait, or whose fate is not known, is said."""
        taken = {line.ident[:LINE_ID_SIZE] for line in self.outbox.of(name)}
        current = self.round(name)
        quiet = current.ready and not current.stopped and all(line.quiet for line in self.outbox.of(name, buffer))
        for text in texts:
            ident = self.fresh_id(taken)
            taken.add(ident[:LINE_ID_SIZE])
            self.outbox.add(ident, name, buffer, text, now).quiet = quiet
        return [*([] if quiet else [Persist()]), *self.deliver(name, now)]

    def worth_saying(self, name: str, buffer: str, now: float) -> bool:
        """Whether lines just kept for a buffer are said: the link does not answer, delivery
        stopped, or the lines ahead wait for the user's word (not lines that just go first)."""
        current = self.round(name)
        settings = self.settings
        lines = self.outbox.of(name, buffer)
        held = bool(lines) and bool(self.outbox.held(lines[0], now, settings.outbox_max_age, settings.outbox_wait))
        return not current.ready or bool(current.stopped) or held

    def fresh_id(self, taken: Set[str]) -> str:
        """A new ident whose first LINE_ID_SIZE characters are not taken by a line of its remote:
        the id the user sees for the line stays the same while it is kept."""
        ident = self.new_id()
        for _ in range(LINE_ID_DRAWS):
            if ident[:LINE_ID_SIZE] not in taken:
                break
            ident = self.new_id()
        return ident

    def found(self, lines: List[QueuedLine], now: float) -> List[DeliveryAction]:
        """Lines of a file that could not be read before: kept, on disk, delivered if their link is up."""
        added = self.outbox.merge(lines)
        actions: List[DeliveryAction] = [Persist()] if added else []
        for name in sorted({line.remote for line in added}):
            actions += self.deliver(name, now)
        return actions

    def holds(self, remote: Optional[Remote], buffer: str, now: float) -> bool:
        """Whether input for a buffer of a remote goes through the outbox: every line for a
        remote the engine manages (on a link that answers too: a line handed to the websocket
        of a link that died silently is lost, or arrives late, after the reconnection), and
        every line behind earlier ones for that buffer that still go first."""
        settings = self.settings
        if remote is None or not settings.outbox:
            return False
        if remote.status == STATUS_CONNECTED and self.ready(remote.name):
            blocked = self.outbox.blocks(remote.name, buffer, now, settings.outbox_max_age, settings.outbox_wait)
            return (settings.enabled and settings.outbox_confirm) or blocked
        return settings.enabled and bool(remote.wanted) and remote.status != STATUS_UNKNOWN

    # -- the link --------------------------------------------------------------

    def link_ready(self, name: str, now: float) -> List[DeliveryAction]:
        """The remote answers on its link: what it has queued goes; with nothing queued, the
        server is asked how it wants the password, so that the first line typed goes at once."""
        current = self.round(name)
        current.ready, current.stopped = True, ""
        if current.auth is None and not current.busy and not self.outbox.count(name):
            current.busy, current.lines = True, ()
            return [Handshake(name)]
        return self.deliver(name, now)

    def link_down(self, name: str) -> List[DeliveryAction]:
        """The link dropped: the server may change (its password hash is asked again); lines
        typed while it answered that have not gone yet are said kept."""
        current = self.round(name)
        current.ready, current.auth, current.hash_span = False, None, HASH_SPAN_SECONDS
        if current.batching == BATCH_WORKS:
            current.batching = BATCH_UNTRIED  # the next link may lead to a server set otherwise
        waiting = [line for line in self.outbox.of(name) if line.quiet and line.state == LINE_QUEUED]
        for line in waiting:
            line.quiet = False
        return [Tell(name, TELL_HELD, count=len(waiting))] if waiting else []

    # -- one line at a time ----------------------------------------------------

    def deliver(self, name: str, now: float) -> List[DeliveryAction]:
        """Send the next line of a remote whose link is up (one request at a time)."""
        current = self.round(name)
        if current.busy or current.stopped or not current.ready:
            return []
        settings = self.settings
        line = self.outbox.next_line(name, now, settings.outbox_max_age, settings.outbox_wait)
        if line is None:
            return self.round_over(name, now)
        current.busy = True
        if current.auth is None:
            current.lines = ()
            return [Handshake(name)]
        # a line alone goes as it is (a 204 says it ran); lines that could go together go in a
        # batch once a marker proved batches run on this link; until then the first goes alone, marked
        lines = self.batch(line, now) if current.batching != BATCH_OFF else (line,)
        batched = len(lines) > 1
        if current.batching != BATCH_WORKS:
            lines = lines[:1]
        for each in lines:
            self.outbox.sending(each)
        current.lines, current.stale, current.awaiting, current.marked = lines, 0, False, False
        current.marker = self.new_id() if batched else ""
        send = Send(name, lines, current.auth, hash_span=current.hash_span, marker=current.marker)
        return [*([] if all(each.quiet for each in lines) else [Persist()]), send]

    def batch(self, first: QueuedLine, now: float) -> Tuple[QueuedLine, ...]:
        """The lines that go in one request from the first line of a buffer: those behind it
        that go by themselves and arrive as typed in a batch, BATCH_LINES and BATCH_BYTES at most."""
        if not batchable(first.text):
            return (first,)
        settings = self.settings
        lines = [first]
        size = len(batch_command([first.text], "0" * 32).encode())  # a marker: an ident of 32 digits
        for line in self.outbox.of(first.remote, first.buffer)[1:]:
            size += len(batch_command([line.text], "").encode()) - len(batch_command([], "").encode())
            if (
                len(lines) >= BATCH_LINES
                or size > BATCH_BYTES
                or line.state != LINE_QUEUED
                or not batchable(line.text)
                or self.outbox.held(line, now, settings.outbox_max_age, settings.outbox_wait)
            ):
                break
            lines.append(line)
        return tuple(lines)

    def handshake_answered(self, name: str, auth: Optional[Auth], detail: str, now: float) -> List[DeliveryAction]:
        """The server said how it wants the password (None: no usable answer, detail says why)."""
        current = self.round(name)
        current.busy, current.auth = False, auth
        if auth is None and self.outbox.count(name) and current.ready:
            return self.stop_round(name, f"handshake failed: {detail}", now)
        # nothing waits, or the link dropped meanwhile: the next line, or the next link, asks again
        return self.deliver(name, now) if auth is not None else []

    def answered(self, name: str, outcome: str, detail: str, now: float) -> List[DeliveryAction]:
        """The server answered the request of the lines in flight (outcome: DELIVERED, MISSING...).

        A batch answered 204 ran only if its marker came back: until it does (or
        BATCH_MARKER_SECONDS pass) its lines stay in flight; a marker seen is proof
        whatever the answer."""
        current = self.round(name)
        if current.marker and current.marked:
            outcome = DELIVERED
        elif current.marker and outcome == DELIVERED and any(line in self.outbox.lines for line in current.lines):
            current.awaiting = True
            return [MarkerWait(name, BATCH_MARKER_SECONDS)]
        lines = self.take(name)
        if not lines:
            return self.deliver(name, now)  # dropped by the user meanwhile
        if outcome in (STALE_TOTP, STALE_SALT):
            if current.stale < len(STALE_TOTP_STEPS) and current.auth is not None:
                return self.send_again(name, lines, outcome, current.auth)
            outcome = REFUSED
        return self.settle(name, lines, outcome, detail, now)

    def settle(
        self, name: str, lines: Tuple[QueuedLine, ...], outcome: str, detail: str, now: float
    ) -> List[DeliveryAction]:
        """What an answer (or a marker, or its absence) means for the lines of a request."""
        current = self.round(name)
        actions: List[DeliveryAction] = []
        if outcome == DELIVERED and all(line.quiet for line in lines):  # nothing said of them, not on disk
            for line in lines:
                self.outbox.delivered(line)
            return self.deliver(name, now)
        if outcome == DELIVERED:
            for line in lines:
                self.outbox.delivered(line)
            current.delivered += len(lines)
        elif outcome == MISSING:
            for line in lines:
                self.outbox.missing(line, now)
        elif outcome == UNKNOWN:
            for line in lines:
                self.outbox.unknown(line)
            actions.append(self.tell_unknown(name, lines, detail))
        else:
            for line in lines:
                self.outbox.not_sent(line)
            if outcome == REFUSED:
                current.auth = None
            reason = f"{'refused by the remote' if outcome == REFUSED else 'not sent'}: {detail}"
            actions += self.stop_round(name, reason, now)
        return [*actions, Persist(), *self.deliver(name, now)]

    def take(self, name: str) -> Tuple[QueuedLine, ...]:
        """The request in flight is over: its lines still in the outbox (the user may have dropped some)."""
        current = self.round(name)
        lines = tuple(line for line in current.lines if line in self.outbox.lines)
        current.lines, current.busy, current.awaiting = (), False, False
        return lines

    def marker_seen(self, name: str, marker: str, now: float) -> List[DeliveryAction]:
        """The marker of a batch came back: its lines ran, and this link takes batches."""
        current = self.round(name)
        if not marker or marker != current.marker or current.marked:
            return []
        current.marked = True
        if current.batching != BATCH_OFF:
            current.batching = BATCH_WORKS
        if not current.awaiting:
            return []  # its answer is still to come
        lines = self.take(name)
        return self.settle(name, lines, DELIVERED, "", now) if lines else self.deliver(name, now)

    def marker_overdue(self, name: str, now: float) -> List[DeliveryAction]:
        """A batch was answered 204 and its marker did not come: its lines may have run or not
        (relay.network.commands may refuse /buffer, or /input); this link sends one line per
        request from now on (and so does every link of the remote until the script reloads)."""
        current = self.round(name)
        if not current.awaiting:
            return []
        current.batching = BATCH_OFF
        lines = self.take(name)
        detail = f"answered, but the marker of its batch did not come back within {duration(BATCH_MARKER_SECONDS)}"
        return self.settle(name, lines, UNKNOWN, detail, now) if lines else self.deliver(name, now)

    def send_again(self, name: str, lines: Tuple[QueuedLine, ...], outcome: str, auth: Auth) -> List[DeliveryAction]:
        """The server refused the credentials of a request as made too early (its lines did not
        run): it goes again at once, with the TOTP of the next step to try, or a hash of the current second."""
        current = self.round(name)
        current.stale += 1
        current.lines, current.busy = lines, True
        if outcome == STALE_SALT:
            current.hash_span = 1
        step = STALE_TOTP_STEPS[current.stale - 1] if outcome == STALE_TOTP else 0
        return [Send(name, lines, auth, current.stale, step, current.hash_span, current.marker)]

    def unsendable(self, name: str, reason: str, now: float) -> List[DeliveryAction]:
        """The request could not be made (no URL, no TOTP secret): delivery stops (when
        nothing waits, nothing stops: the next line tries again)."""
        lines = self.take(name)
        actions: List[DeliveryAction] = []
        for line in lines:
            self.outbox.not_sent(line)
        if lines:
            actions.append(Persist())
        if not self.outbox.count(name):
            return actions
        return [*actions, *self.stop_round(name, reason, now)]

    def cancelled(self, name: str) -> List[DeliveryAction]:
        """The request in flight was cancelled (/upgrade refuses to run with URL transfers), or
        the wait for its marker: lines in flight may have arrived, they wait for the user's word."""
        lines = self.take(name)
        if not lines:
            return []
        for line in lines:
            self.outbox.unknown(line)
        return [self.tell_unknown(name, lines, "cancelled before its answer came"), Persist()]

    def overdue(self, name: str) -> List[DeliveryAction]:
        """Lines have waited LINE_CONFIRM_SECONDS on a request with no answer: they are
        quiet no more (on disk, said if they have to wait)."""
        waiting = [line for line in self.outbox.of(name) if line.quiet]
        for line in waiting:
            line.quiet = False
        return [Persist()] if waiting else []

    def tell_unknown(self, name: str, lines: Tuple[QueuedLine, ...], detail: str) -> Tell:
        """No answer came for the lines of a request: said now, with the first one's id and text,
        how many they are and the lines they hold back (and not again as unconfirmed)."""
        current, line = self.round(name), lines[0]
        current.told |= {(TELL_UNCONFIRMED, each.ident) for each in lines}
        behind = self.outbox.of(name, line.buffer)
        for held in behind:
            held.quiet = False
        return Tell(
            name,
            TELL_UNKNOWN,
            len(behind) - len(lines),
            line.buffer,
            detail,
            line=self.outbox.line_id(line),
            text=line.text,
            lines=len(lines),
        )

    def stop_round(self, name: str, reason: str, now: float) -> List[DeliveryAction]:
        """Delivery stops until the next connection or the user's word; said once per reason."""
        current = self.round(name)
        current.stopped = reason
        for line in self.outbox.of(name):
            line.quiet = False  # said now: kept
        actions = self.round_over(name, now)
        if (TELL_STOPPED, reason) not in current.told:
            current.told.add((TELL_STOPPED, reason))
            actions.append(Tell(name, TELL_STOPPED, count=self.outbox.count(name), detail=reason))
        return actions

    def round_over(self, name: str, now: float) -> List[DeliveryAction]:
        """Nothing more goes now: say what was delivered and what waits, once."""
        current = self.round(name)
        settings = self.settings
        actions: List[DeliveryAction] = []
        if current.delivered:
            actions.append(Tell(name, TELL_DELIVERED, count=current.delivered))
            current.delivered = 0
        stuck = self.outbox.stuck(name, now, settings.outbox_max_age, settings.outbox_wait)
        if HELD_OLD in stuck and (TELL_OLD, "") not in current.told:
            current.told.add((TELL_OLD, ""))
            actions.append(Tell(name, TELL_OLD, count=len(stuck[HELD_OLD]), detail=duration(settings.outbox_max_age)))
        for buffer in sorted({line.buffer for line in stuck.get(HELD_NO_BUFFER, [])}):
            if (TELL_NO_BUFFER, buffer) not in current.told:
                current.told.add((TELL_NO_BUFFER, buffer))
                count = self.outbox.count(name, buffer)
                actions.append(Tell(name, TELL_NO_BUFFER, count, buffer, duration(settings.outbox_wait)))
        for line in stuck.get(HELD_UNKNOWN, []):
            if line.state == LINE_UNKNOWN and (TELL_UNCONFIRMED, line.ident) not in current.told:
                # kept from before a reload or a restart, or told before the user's last word
                current.told.add((TELL_UNCONFIRMED, line.ident))
                behind = self.outbox.count(name, line.buffer) - 1
                actions.append(Tell(name, TELL_UNCONFIRMED, behind, line.buffer, line=self.outbox.line_id(line)))
        if not self.outbox.count(name):
            current.told.clear()
        until = None if current.retry else self.outbox.missing_pending(name, now, settings.outbox_wait)
        if until is not None:
            current.retry = True
            actions.append(RetryAt(name, now + min(MISSING_RETRY_SECONDS, until - now)))
        return actions

    def retry_fired(self, name: str, now: float) -> List[DeliveryAction]:
        """Lines whose buffer was missing go again."""
        self.round(name).retry = False
        self.outbox.retry_missing(name)
        return self.deliver(name, now)

    def buffer_opened(self, name: str, buffer: str, now: float) -> List[DeliveryAction]:
        """A buffer appeared on a remote: its lines waiting for it go now."""
        return self.deliver(name, now) if self.outbox.retry_missing(name, buffer) else []

    # -- remotes come and go -----------------------------------------------------

    def rename(self, old: str, new: str) -> List[DeliveryAction]:
        self.outbox.rename(old, new)
        moved = self.rounds.pop(old, None)
        if moved is not None:
            self.rounds[new] = moved
        return [Persist()]

    def forget(self, name: str) -> List[DeliveryAction]:
        """A remote was deleted (/remote del): its lines go too."""
        self.rounds.pop(name, None)
        dropped = self.outbox.drop(name)
        return [Tell(name, TELL_DELETED, count=dropped), Persist()] if dropped else []

    # -- the user's word -----------------------------------------------------------

    def pick(self, name: str, buffer: str, typed: str, verb: str) -> Tuple[str, str]:
        """The ident of the line the user names by its id for "send" or "drop", or why not ("" if fine)."""
        line, problem = self.outbox.pick(name, buffer, typed)
        if line is None:
            return problem, ""
        if verb == "send" and line.state == LINE_SENDING:
            return f"line {self.outbox.line_id(line)} of remote[{name}] is being sent now (its answer has not come)", ""
        return "", line.ident

    def send(self, name: str, buffer: str, now: float, ident: str = "") -> List[DeliveryAction]:
        """The user says "send": lines go, whatever their age or state (at the reconnection if down);
        one line (ident) goes in its turn: after the lines before it in its buffer."""
        lines = self.outbox.of(name, buffer, ident)
        count = self.outbox.approve(name, buffer, ident)
        current = self.round(name)
        current.stopped = ""
        if ident:  # what was said of the other lines stands
            current.told -= {(TELL_UNCONFIRMED, ident), *((TELL_NO_BUFFER, line.buffer) for line in lines)}
        else:
            current.told.clear()
        if not current.ready:
            return [Tell(name, TELL_NOT_CONNECTED, count=count)] if count else []
        actions = self.deliver(name, now)
        return [*self.waits_behind(name, ident, now), *actions] if ident else actions

    def waits_behind(self, name: str, ident: str, now: float) -> List[DeliveryAction]:
        """Say so when the line the user sent waits behind lines of its buffer held for the user's word."""
        settings = self.settings
        lines = self.outbox.of(name, ident=ident)
        before = self.outbox.before(lines[0]) if lines else []
        if not before or not self.outbox.held(before[0], now, settings.outbox_max_age, settings.outbox_wait):
            return []
        return [Tell(name, TELL_BEHIND, len(before), lines[0].buffer, line=self.outbox.line_id(lines[0]))]

    def drop(self, name: str, buffer: str, now: float, ident: str = "") -> List[DeliveryAction]:
        """The user drops lines (of a buffer, one line, or every line of the remote);
        the lines they held back in their buffers go."""
        dropped = self.outbox.drop(name, buffer, ident)
        current = self.round(name)
        current.told = {told for told in current.told if not self.gone(name, told)}
        return [Tell(name, TELL_DROPPED, count=dropped), *self.deliver(name, now)]

    def gone(self, name: str, told: Tuple[str, str]) -> bool:
        """Whether what a notice was about has left the outbox (a new one may be told again)."""
        what, about = told
        if what == TELL_NO_BUFFER:
            return not self.outbox.count(name, about)
        return what == TELL_UNCONFIRMED and not self.outbox.of(name, ident=about)

    def move(self, name: str, buffer: str, target: str, now: float) -> List[DeliveryAction]:
        """The user sends the lines of a buffer to another buffer of the remote."""
        moved = self.outbox.move(name, buffer, target)
        return [Tell(name, TELL_MOVED, count=moved, buffer=buffer, detail=target), *self.send(name, target, now)]


# ===========================================================================
# === 8. Views (core): what /autoreconnect and the bar item show
# ===========================================================================

# the bar item: at most this many entries
BAR_ENTRIES = 8


def lag_shown(engine: Engine, remote: Remote) -> bool:
    """Whether the lag of a connected remote is worth showing (autoreconnect_lag_show, 0 = always)."""
    return remote.lag is not None and remote.lag >= engine.settings.lag_show


def describe(engine: Engine, remote: Remote, now: float) -> str:
    """One line of /autoreconnect list for a remote."""
    settings = engine.settings
    limit = f"/{settings.max_attempts}" if settings.max_attempts else ""
    parts = [remote.status]
    wait = remote.wait
    if remote.phase is Phase.CONNECTED and lag_shown(engine, remote):
        parts.append(f"lag {duration(remote.lag or 0.0)}")
    if wait is not None and remote.kind == FAILURE_OFFLINE:
        left = "" if wait.due is None else f" in {duration(max(0.0, wait.due - now))}"
        parts.append(f"waiting for network (attempt {remote.run.attempt + 1}{left})" if left else "waiting for network")
    elif wait is not None and wait.due is not None:
        parts.append(f"attempt {remote.run.attempt + 1}{limit} in {duration(max(0.0, wait.due - now))}")
        since = remote.outage.since if remote.outage else now
        interval = poll_interval(now - since, settings) if settings.poll else 0
        if engine.polled(remote) and wait.due - now > interval + POLL_MARGIN:
            parts.append(f"server polled every {duration(interval)}")
    elif remote.gave_up:
        parts.append(f"gave up after {remote.run.attempt} attempt(s)")
    elif remote.number and remote.status != STATUS_CONNECTED:
        parts.append(f"attempt {remote.number}{limit}")
    if remote.failure:
        detail = f" ({remote.failure.detail})" if remote.failure.detail else ""
        parts.append(f"last failure: {remote.failure.kind}{detail}")
    parts.append("managed" if engine.managed(remote) else "not managed")
    return f"{remote.name}: " + ", ".join(parts)


def bar_text(engine: Engine, now: float, outbox: Optional[Outbox] = None) -> str:
    """Content of the bar item: remotes waiting (countdown) or given up, lag, queued input.

    At most BAR_ENTRIES entries, then how many more (/autoreconnect lists all).
    """
    queued = outbox.counts() if outbox else {}
    waiting = {n for n, r in engine.remotes.items() if r.phase in (Phase.WAITING, Phase.GAVE_UP)}
    lagging = {n for n in engine.connected if lag_shown(engine, engine.remotes[n])}
    with_outbox = {n for n in queued if n in engine.remotes}
    total = len(waiting) + len(lagging) + len(with_outbox)
    items: List[str] = []
    for name in sorted(waiting | lagging | with_outbox):
        if len(items) >= BAR_ENTRIES:
            break
        remote = engine.remotes[name]
        wait = remote.wait
        if name in lagging:
            items.append(f"{name} lag {remote.lag:.1f}s")
        if wait is not None and remote.kind == FAILURE_OFFLINE:
            items.append(f"{name} waiting for network")
        elif wait is not None and wait.due is not None:
            left = max(0, int(wait.due - now + 0.999))
            items.append(f"{name} {left}s ({remote.kind})" if remote.kind else f"{name} {left}s")
        elif remote.gave_up:
            items.append(f"{name} gave up ({remote.kind or FAILURE_NETWORK})")
        if name in queued:
            items.append(f"{name} outbox {queued[name]}")
    items = items[:BAR_ENTRIES]
    if total > len(items):
        items.append(f"+{total - len(items)} more")
    return ", ".join(items)


def outbox_choices(outbox: Outbox, words: List[str]) -> List[str]:
    """What may come next after "/autoreconnect outbox" and these words (as the command
    reads them): the remotes with lines queued, the buffers of their lines, the ids of a
    buffer's lines (in the order typed)."""
    verb, given = (words[0], words[1:]) if words else ("", [])
    if verb not in ("send", "drop", "move") or len(given) > (1 if verb == "move" else 2):
        return []
    remotes = outbox.remotes()
    if not given:
        return remotes + ["-all"] if remotes and verb != "move" else remotes
    if given[0] == "-all":
        return outbox.buffers() if len(given) == 1 and verb != "move" else []  # a line id goes with its remote
    if given[0] not in remotes:
        return []
    if len(given) == 1:
        return outbox.buffers(given[0])
    ids = outbox.line_ids(given[0])
    return [ids[line.ident] for line in outbox.of(given[0], given[1])]


# ===========================================================================
# === 9. Parsers (core): the hand-over, network messages, route tables, files, answers
# ===========================================================================

# what the script reads that anyone may have written is at most this big (characters)
HANDOVER_LIMIT = 4 * 1024 * 1024  # the hand-over variable (10 000 remotes take about 0.6 MiB)
OUTBOX_LIMIT = 64 * 1024 * 1024  # the outbox file


def json_bounded(text: str, limit: int) -> Any:
    """json.loads of a text anyone may have written, bounded in size and in depth: a
    text too big, or nested deeper than Python's recursion limit, is refused
    (ValueError), never a traceback."""
    if len(text) > limit:
        raise ValueError(f"{len(text)} characters, more than {limit}")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deep") from None


SAVED_STATUSES = (STATUS_UNKNOWN, STATUS_DISCONNECTED, STATUS_CONNECTING, STATUS_WAITING_AUTH, STATUS_CONNECTED)
# attempts beyond this in a hand-over are not believed (autoreconnect_max is at most 1000000)
SAVED_ATTEMPTS_MAX = 1000000


def parse_handover(text: str, now: float, max_age: float) -> Tuple[Dict[str, Saved], str]:
    """The remotes a previous instance left (wall clock `now`), and why none are taken ("" if fine);
    a pending attempt's wait counts from `now`.

    The text comes from a variable anyone can set: every field is checked
    (type, range, finite); one bad field and nothing is taken.
    """
    try:
        state = json_bounded(text, HANDOVER_LIMIT)
    except ValueError as err:
        return {}, f"not JSON ({err})"
    if not isinstance(state, dict) or not isinstance(state.get("remotes"), dict):
        return {}, "no remotes"
    written = state.get("time")
    if not isinstance(written, (int, float)) or isinstance(written, bool) or not math.isfinite(written):
        return {}, f"time {written!r} is not a time"
    if abs(now - written) > max_age:
        return {}, ""  # too old: a fresh start, nothing to say
    saved: Dict[str, Saved] = {}
    for name, values in state["remotes"].items():
        if not isinstance(values, list) or len(values) != 4:
            return {}, f"remote {name!r}: {values!r} is not [status, wanted, attempt, due]"
        status, wanted, attempt, due_in = values
        if status not in SAVED_STATUSES:
            return {}, f"remote {name!r}: status {status!r} is not known"
        if wanted not in (True, False, None):
            return {}, f"remote {name!r}: wanted {wanted!r} is not true, false or null"
        if not isinstance(attempt, int) or isinstance(attempt, bool) or not 0 <= attempt <= SAVED_ATTEMPTS_MAX:
            return {}, f"remote {name!r}: attempt {attempt!r} is not a count"
        if due_in is not None and (
            not isinstance(due_in, (int, float)) or isinstance(due_in, bool) or not 0 <= due_in <= UNCAPPED_DELAY_LIMIT
        ):
            return {}, f"remote {name!r}: due {due_in!r} is not a wait in seconds"
        # the wait left now: the time since it was written (a reload takes a while) is gone too
        saved[name] = (status, wanted, attempt, None if due_in is None else max(0.0, due_in - max(0.0, now - written)))
    return saved, ""


# -- network changes: netlink (Linux), routing socket (BSD, macOS) ---------------

# netlink (linux/rtnetlink.h): message types, and the multicast groups watched
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
RTMGRP_LINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE = 0x1, 0x10, 0x40
RTMGRP_IPV6_IFADDR, RTMGRP_IPV6_ROUTE = 0x100, 0x400
NETLINK_GROUPS = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
# routing socket (net/route.h): message types
RTM_ADD, RTM_NEWADDR_BSD, RTM_IFINFO = 0x1, 0xC, 0xE
IFF_UP, IFF_RUNNING = 0x1, 0x40


def netlink_gains(data: bytes) -> bool:
    """Whether netlink route messages tell that a server may be within reach: a link
    up and running, an address or a route added. A message not well formed ends the read."""
    gained, offset = False, 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if length < 16 or offset + length > len(data):
            break
        if kind == RTM_NEWLINK and length >= 32:
            (flags,) = struct.unpack_from("=I", data, offset + 24)  # ifinfomsg.ifi_flags
            gained = gained or (flags & IFF_UP and flags & IFF_RUNNING) != 0
        elif kind in (RTM_NEWADDR, RTM_NEWROUTE):
            gained = True
        offset += (length + 3) & ~3
    return gained


def route_socket_gains(data: bytes) -> bool:
    """The same for the messages of a BSD or macOS routing socket."""
    gained, offset = False, 0
    while offset + 4 <= len(data):
        length, _version, kind = struct.unpack_from("=HBB", data, offset)
        if length < 4 or offset + length > len(data):
            break
        if kind == RTM_IFINFO and length >= 12:
            (flags,) = struct.unpack_from("=i", data, offset + 8)  # if_msghdr.ifm_flags
            gained = gained or (flags & IFF_UP and flags & IFF_RUNNING) != 0
        elif kind in (RTM_ADD, RTM_NEWADDR_BSD):
            gained = True
        offset += length
    return gained


# -- configuration files -------------------------------------------------------


def config_section(text: str, section: str) -> Dict[str, str]:
    """The "name = value" lines of one section of a WeeChat configuration file,
    read as WeeChat reads them (core-config-file.c): leading spaces skipped,
    "#" comments, one pair of quotes and trailing spaces taken off a value."""
    values: Dict[str, str] = {}
    current = None
    for raw in text.splitlines():
        line = raw.lstrip(" ")
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and "=" not in line:
            current = line[1 : line.index("]")] if "]" in line else None
            continue
        if current != section or " =" not in line:
            continue
        line = line[1:] if line.startswith("\\") else line
        name, _, value = line.partition(" =")
        value = value.lstrip(" ")
        if len(value) > 1:
            value = value.rstrip(" ") or value[:1]
            if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
        values[name.rstrip(" ")] = value
    return values


# -- answers of the relay API (POST /api/handshake, /api/input) ---------------------

# curl errors raised before a request is sent (libcurl error codes)
CURL_BEFORE_SENDING = frozenset((1, 2, 3, 4, 5, 6, 7, 35, 51, 53, 58, 59, 60, 66, 77, 83, 90, 91))
# hook_url errors raised before a request is sent: invalid URL, and no thread ("error_code_pthread"
# is set; error_code 5 up to WeeChat 4.7, 100 since 4.8, where 5 is a transfer the caller stopped,
# as removing the hook while it runs does: the request may have arrived)
HOOK_URL_BEFORE_SENDING = ("1",)
# curl's words for a failure before the connection to the server was made: nothing was
# sent (curl writes the request once connected, on a connection of its own that it
# closes, so nothing can arrive late). A timeout (error 28) says so only in words: curl
# 7.88 "Failed to connect to HOST port PORT after N ms: Timeout was reached", curl 8
# "Connection timed out after N milliseconds"; and WeeChat >= 4.8 gives no curl error
# code at all (its transfers end as "response code 0" with curl's words only)
CURL_TIMEOUT = "28"
CURL_SAID_BEFORE_SENDING = (
    "Failed to connect",
    "Connection timed out",
    "Resolving timed out",
    "Could not resolve",
    "Couldn't resolve",
    "Couldn't connect",
)

# every hash algorithm of the relay API, weakest first (the server picks the
# strongest it allows, as it does for WeeChat's own remote client)
PASSWORD_HASH_ALGOS = ("plain", "sha256", "sha512", "pbkdf2+sha256", "pbkdf2+sha512")


def api_error(output: Dict[str, str]) -> str:
    """The error message of an answer of the relay API ("" if none)."""
    try:
        body = json.loads(output.get("output") or "{}")
    except ValueError:
        return ""
    said = body.get("error") if isinstance(body, dict) else None
    return said if isinstance(said, str) else ""


# the relay API's 401 for credentials made too early (relay-http.h: RELAY_HTTP_ERROR_INVALID_*)
STALE_ANSWERS = {"Invalid TOTP": STALE_TOTP, "Invalid timestamp": STALE_SALT}


def delivery_outcome(output: Dict[str, str]) -> Tuple[str, str]:
    """What the answer to a POST /api/input says of its line: (outcome, detail)."""
    code = output.get("response_code", "")
    if code in ("200", "204"):
        return DELIVERED, ""
    if code and code != "0":
        said = api_error(output)
        if code in ("400", "404") and said.endswith("not found"):  # 400 up to WeeChat 4.9, 404 since 4.10
            return MISSING, said
        if code == "401" and said in STALE_ANSWERS:
            return STALE_ANSWERS[said], f"HTTP {code}: {said}"
        return REFUSED, f"HTTP {code}" + (f": {said}" if said else "")
    said = output.get("error", "") or "no answer"
    curl = output.get("error_code_curl", "")
    if (
        (curl.isdigit() and int(curl) in CURL_BEFORE_SENDING)
        or (curl in (CURL_TIMEOUT, "") and said.startswith(CURL_SAID_BEFORE_SENDING))
        or output.get("error_code") in HOOK_URL_BEFORE_SENDING
        or output.get("error_code_pthread")
    ):
        return NOT_SENT, said
    return UNKNOWN, said


def handshake_answer(output: Dict[str, str]) -> Optional[Auth]:
    """(hash algorithm, iterations, totp) from the answer to POST /api/handshake."""
    if output.get("response_code") != "200":
        return None
    try:
        body = json.loads(output.get("output") or "")
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    algo, iterations, totp = body.get("password_hash_algo"), body.get("password_hash_iterations"), body.get("totp")
    if algo not in PASSWORD_HASH_ALGOS or not isinstance(totp, bool):
        return None
    if not isinstance(iterations, int) or isinstance(iterations, bool) or not 0 <= iterations <= 1000000:
        return None
    return str(algo), iterations, totp


def authorization(algo: str, password: str, salt: str, iterations: int) -> str:
    """Value of the Authorization header of the relay API (as WeeChat's remote client makes it).

    The salt is the current time (seconds); the server accepts it within
    relay.network.time_window.
    """
    if algo == "plain":
        user_pass = f"plain:{password}"
    elif algo.startswith("pbkdf2+"):
        digest = hashlib.pbkdf2_hmac(algo[len("pbkdf2+") :], password.encode(), salt.encode(), iterations).hex()
        user_pass = f"hash:{algo}:{salt}:{iterations}:{digest}"
    else:
        digest = hashlib.new(algo, (salt + password).encode()).hexdigest()
        user_pass = f"hash:{algo}:{salt}:{digest}"
    return "Basic " + base64.b64encode(user_pass.encode()).decode()


# -- route tables (Linux /proc/net) ----------------------------------------------------

# flags of a route in /proc/net: usable (RTF_UP), and a route that only refuses (RTF_REJECT)
RTF_UP, RTF_REJECT = 0x0001, 0x0200


def default_route_in(ipv4: str, ipv6: str) -> bool:
    """Whether the route tables (text of /proc/net/route and /proc/net/ipv6_route)
    hold a usable default route; the kernel's "unreachable default" routes (IPv6
    has one on lo even with no network) do not count."""

    def usable(flags: str) -> bool:
        try:
            value = int(flags, 16)
        except ValueError:
            return False
        return bool(value & RTF_UP) and not value & RTF_REJECT

    routes4 = [line.split() for line in ipv4.splitlines()[1:]]  # Iface Destination Gateway Flags … Mask
    routes6 = [line.split() for line in ipv6.splitlines()]  # destination, its prefix length, … flags, device
    return any(len(r) > 7 and r[1] == "00000000" and r[7] == "00000000" and usable(r[3]) for r in routes4) or any(
        len(r) > 8 and r[0] == "0" * 32 and r[1] == "00" and usable(r[8]) for r in routes6
    )


# -- values as WeeChat reads them ------------------------------------------------

# what WeeChat reads as a boolean (core-config-file.c, exact and case-sensitive)
BOOLEAN_TRUE = ("on", "yes", "y", "true", "t", "1")
BOOLEAN_FALSE = ("off", "no", "n", "false", "f", "0")


def weechat_integer(text: str) -> Optional[int]:
    """The integer WeeChat reads from a text, or None: strtol in base 10 over the
    whole text (leading blanks and a sign allowed, ASCII digits, nothing after)."""
    position = len(text) - len(text.lstrip(" \t\n\v\f\r"))
    digits = text[position + 1 :] if text[position : position + 1] in ("+", "-") else text[position:]
    if not digits:
        return 0 if not text else None  # strtol reads "" as 0 (and nothing else without digits)
    if not all("0" <= char <= "9" for char in digits):
        return None
    return int(text[position:])


def weechat_value(spec: OptionSpec, text: str) -> Optional[str]:
    """A value as WeeChat would take it for an option ("on"/"off", a number in range), or None."""
    if spec.kind == "boolean":
        return "on" if text in BOOLEAN_TRUE else "off" if text in BOOLEAN_FALSE else None
    number = weechat_integer(text)
    return str(number) if number is not None and spec.minimum <= number <= spec.maximum else None


def stored_value(spec: OptionSpec, text: str, where: str) -> Tuple[str, str]:
    """The value to use for a stored text, and what to tell the user ("" if it is fine).

    A text WeeChat would refuse is never used as it is, since WeeChat would
    make it the minimum (heartbeat off, no cap, no limit): blanks around it and
    letter case are forgiven ("60 " is 60, "On" is on); anything else gives the
    default. An empty text is refused too (WeeChat would read it as 0).
    """
    value = weechat_value(spec, text) if text else None
    if value is not None:
        return value, ""
    forgiven = weechat_value(spec, text.strip().lower()) if text.strip() else None
    used = forgiven if forgiven is not None else spec.default
    how = "" if forgiven is not None else " (the default)"
    return used, f'{where}: invalid value "{text}", using {used}{how}'


def secure_problem(secret: str, what: str = "password") -> str:
    """Why a secret (a password, a TOTP secret) can not be moved intact with /secure set ("" if it can)."""
    if not secret:
        return f"no {what}"
    if "${" in secret:
        return f"the {what} is already an expression (secured data?)"
    if secret != secret.strip(" "):
        return f"the {what} starts or ends with a space, which /secure set can not keep"
    if any(char in secret for char in "\r\n"):
        return f"the {what} holds a line break, which /secure set can not keep"
    return ""


def native_line(text: str) -> re.Pattern:
    """A pattern for a line printed with a format (%s: the remote's name, %d: a number)."""
    pattern = re.escape(text).replace("%s", "(.+?)", 1).replace("%d", r"\d+").replace("%s", ".+?")
    return re.compile(f"^{pattern}$")


# ===========================================================================
# === 10. Shell: WeeChat's words (everything from here on calls WeeChat)
# ===========================================================================

MIN_WEECHAT_VERSION = 0x04030000
# relay remotes have the layout read through hdata "proxy" in these versions
LAYOUT_VERSIONS = (0x04030000, 0x05000000)
# WeeChat's own reconnection (relay.remote.NAME.autoreconnect_delay) exists since 4.4
NATIVE_VERSION = 0x04040000

COMMAND = "autoreconnect"
COMMAND_DESC = "automatic reconnection of remote relay servers"
COMMAND_ARGS = (
    "[list] || retry|cancel|reset <name>|-all || secure <name>|-all "
    "|| outbox [list] || outbox send|drop <name>|-all [<buffer> [<id>]] || outbox move <name> <buffer> <new_buffer>"
)
# "[fmt]": WeeChat aligns the lines "argument: description" as in its own /help
COMMAND_ARGS_DESC = "\n".join(
    (
        "[fmt]",
        "raw[list]: list remote relay servers with the state of their reconnection: status, attempt, "
        "time to the next attempt, last failure, managed or not (without argument, this list is displayed)",
        "raw[retry]: attempt now (also after the script gave up)",
        "raw[cancel]: cancel the pending attempt; no more attempts until the remote is connected again",
        "raw[reset]: start the growing delay over (a pending attempt becomes attempt 1)",
        "raw[secure]: move the password and the TOTP secret stored in plain text into secured data (/secure: "
        "relay_remote_name and relay_remote_name_totp) and set relay.remote.name.password and totp_secret to "
        "them; an old value that no option uses any more is replaced there, secured data that an option uses is "
        "never overwritten; the values are never displayed",
        "raw[outbox]: list, send now, drop, or move to another buffer the lines typed in the buffers of a "
        "remote while it was not connected; sent after the reconnection, they are kept meanwhile in "
        "relay_autoreconnect_outbox.json in WeeChat's data directory; send also sends the lines that wait "
        "for your word (too old, buffer not found, delivery not confirmed)",
        "name: name of remote relay server (see /remote list)",
        "raw[-all]: all remote relay servers",
        "buffer: full name of a buffer on the remote WeeChat, as /autoreconnect outbox shows it "
        "(for example irc.libera.#weechat); a name with spaces or quotes is given in quotes, "
        '\'like this\' or "like this" (in double quotes, \\" and \\\\ stand for " and \\)',
        "id: id of one queued line, as /autoreconnect outbox shows it: only this line is sent or dropped; "
        "it goes after the lines before it in its buffer, and the lines behind it go after it",
        "new_buffer: full name of the buffer on the remote WeeChat that gets the lines instead",
        "",
        "Options: /set relay.network.autoreconnect*",
        "Bar item: relay_autoreconnect (remotes waiting, with a countdown, or given up, and lines kept)",
        "",
        "Needs WeeChat >= 4.3 and Python >= 3.7; network changes are watched on Linux (netlink), BSD and "
        "macOS (routing socket).",
        "WeeChat's own reconnection (WeeChat >= 4.4): while the script is on, its attempts are cancelled for "
        'the remotes the script manages and its "reconnecting to remote relay" line is hidden; '
        "relay.remote.*.autoreconnect_delay is never changed.",
        "Network: for each connected remote, every autoreconnect_heartbeat seconds, a ping on the link and "
        "POST /api/handshake (no credentials) to its URL; the same request polls a waiting remote's server; "
        "kept lines are sent with POST /api/input, authenticated with the remote's own password and TOTP "
        "options (never displayed or stored); all of them through the remote's proxy "
        "(relay.remote.name.proxy) if it has one.",
        "Disk: kept lines are in relay_autoreconnect_outbox.json in WeeChat's data directory (mode 0600) "
        "until they are delivered.",
        "",
        "Examples:",
        "  /autoreconnect",
        "  /autoreconnect retry home",
        "  /autoreconnect cancel -all",
        "  /autoreconnect secure home",
        "  /autoreconnect outbox send home",
        "  /autoreconnect outbox drop home irc.libera.#weechat 3fa9",
        "  /autoreconnect outbox drop home 'python.my buffer'",
        "  /autoreconnect outbox move home irc.libera.#old irc.libera.#new",
    )
)
# the arguments after "outbox send|drop|move" (remotes, buffers, line ids): they may hold
# blanks, so one completion reads them all (OutboxCommand.complete)
OUTBOX_COMPLETION = "relay_autoreconnect_outbox"
COMMAND_COMPLETION = " || ".join(
    (
        "list",
        "retry %(relay_remotes)|-all",
        "cancel %(relay_remotes)|-all",
        "reset %(relay_remotes)|-all",
        "secure %(relay_remotes)|-all",
        f"outbox list|send|drop|move %({OUTBOX_COMPLETION})|%*",
    )
)
BAR_ITEM = "relay_autoreconnect"
# the bar item is rebuilt at most this often (s)
BAR_INTERVAL = 0.25

# commands that read or write relay.conf: our options leave its section
# while they run (see Options)
CONFIG_COMMANDS = ("save", "reload", "upgrade", "plugin")
# what WeeChat prints about a remote in the core buffer: "remote[NAME]: TEXT"
REMOTE_LINE = re.compile(r"^remote\[([^\]]+)\]: (.*)$")
# printed when the remote answered GET /api/version: the link is usable
VERSION_LINE = re.compile(r"^WeeChat: .*, API: ")
# after "connected", input waits this long (seconds) for the version line
READY_FALLBACK_SECONDS = 2.0
# the state handed to the next instance (core buffer local variable, in
# memory only) is taken if it is at most this old (seconds)
HANDOVER_VAR = "relay_autoreconnect_state"
HANDOVER_MAX_AGE = 60.0
# the in-band ping of the heartbeat (and of a status check: WeeChat takes it
# without a word only when the link is up)
PING = '{"request": "POST /api/ping"}'
# /remote list (WeeChat 4.4+): "  NAME: URL [STATUS]", STATUS translated
REMOTE_LIST_LINE = re.compile(r"^  (\S+): .* \[([^\]]+)\]$")
STATUS_TEXTS = (
    ("connecting", STATUS_CONNECTING),
    ("authenticating", STATUS_WAITING_AUTH),
    ("connected", STATUS_CONNECTED),
    ("authentication failed", STATUS_DISCONNECTED),
    ("disconnected", STATUS_DISCONNECTED),
)
# WeeChat's own limit on the handshake of an attempt (seconds)
HANDSHAKE_SECONDS = 5
# what WeeChat's own reconnection prints (msgids: translated through weechat.gettext)
NATIVE_LINES = (
    "remote[%s]: reconnecting to remote relay in %d %s, %d %s",
    "remote[%s]: reconnecting to remote relay in %d %s",
    "remote[%s]: auto-reconnection is cancelled",  # WeeChat < 4.9
    "remote[%s]: auto-reconnection is canceled",
)
# the options of a remote that hold a secret: (option, what it is called, suffix of its secured data)
SECRET_OPTIONS = (("password", "password", ""), ("totp_secret", "TOTP secret", "_totp"))
# commands and text typed by the person: seen before other scripts change them
INPUT_PRIORITY = 10000


# arguments that may hold blanks are read as WeeChat's string_split_shell reads them (/trigger,
# /item): blanks separate words; '...' keeps what it holds as it is, "..." too but for \" and
# \\ (a " and a \); elsewhere a backslash keeps the next character as it is
BLANKS = " \t\r\n"
QUOTED = BLANKS + "'\"\\"  # a word with one of these is written in quotes


class Word(NamedTuple):
    """An argument as string_split_shell reads it, and as it was typed."""

    value: str  # what the command gets
    typed: str  # the text of the word
    end: int  # where it ends in the text
    open: str  # at the end of the text: the quote still open, "\\" after a lone backslash, "" if none


def command_words(text: str) -> List[Word]:
    """Split arguments as WeeChat's string_split_shell does (a quote not closed ends the last word)."""
    words: List[Word] = []
    value, start, state = "", 0, " "
    for index, char in enumerate(text):
        if state == " " and char in BLANKS:
            continue
        if state == " ":
            value, start, state = "", index, "a"
        if state == "a" and char in BLANKS:
            words.append(Word(value, text[start:index], index, ""))
            state = " "
        else:
            value, state = word_step(value, state, char)
    if state != " ":
        words.append(Word(value, text[start:], len(text), "\\" if state[0] == "\\" else state.strip("a")))
    return words


def word_step(value: str, state: str, char: str) -> Tuple[str, str]:
    """One more character of a word: its value so far and where it is after it (state "a":
    out of quotes, "'" or '"': in quotes, a backslash then "a" or '"': after a backslash there)."""
    if state[0] == "\\":
        kept = "\\" if state == '\\"' and char not in '"\\' else ""
        return value + kept + char, state[1]
    if state in ("'", '"') and char == state:
        return value, "a"
    if state == "'":
        return value + char, state
    if char == "\\":
        return value, "\\" + state
    if state == "a" and char in ("'", '"'):
        return value, char
    return value + char, state


def quoted(value: str) -> str:
    """A value written as an argument that command_words reads back: as it is, or in
    single quotes (in double quotes if it has a single quote)."""
    if value and not any(char in QUOTED for char in value):
        return value
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def completed(value: str, word: Optional[Word]) -> str:
    """The word being typed (None: a new one) written on to read `value` ("" if it can not)."""
    if word is None:
        return quoted(value)
    if word.open == "\\" or not value.startswith(word.value):
        return ""
    rest = value[len(word.value) :]
    if word.open == "'":
        rest = rest.replace("'", "'\\''") + "'"
    elif word.open == '"':
        rest = rest.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        rest = "".join(f"\\{char}" if char in QUOTED else char for char in rest)
    return word.typed + rest


def message(text: str, buffer: str = "") -> None:
    """Print one line of the script (in the core buffer unless a buffer is given)."""
    weechat.prnt(buffer, f"{SCRIPT_NAME}: {text}")


def network(text: str, buffer: str = "") -> None:
    """Print one line about a link (an attempt, a drop, a delivery)."""
    weechat.prnt(buffer, f"{weechat.prefix('network')}{SCRIPT_NAME}: {text}")


def error(text: str, buffer: str = "") -> None:
    """Print one error line."""
    weechat.prnt(buffer, f"{weechat.prefix('error')}{SCRIPT_NAME}: {text}")


PRINTERS = {"": message, "network": network, "error": error}


def remote_names() -> List[str]:
    """Names of the relay remotes that exist now."""
    names = []
    infolist = weechat.infolist_get("option", "", "relay.remote.*.url")
    if infolist:
        while weechat.infolist_next(infolist):
            full_name = weechat.infolist_string(infolist, "full_name")
            names.append(full_name[len("relay.remote.") : -len(".url")])
        weechat.infolist_free(infolist)
    return names


def remote_name_from_pointer(pointer: str) -> Optional[str]:
    """Name of the remote behind a signal pointer, or None.

    struct t_relay_remote starts with the same two members as struct t_proxy
    (name, options); the name is accepted only if its url option is the one
    the struct points to.
    """
    hdata = weechat.hdata_get("proxy")
    if not hdata or not pointer:
        return None
    name = weechat.hdata_string(hdata, pointer, "name")
    if not name:
        return None
    url_option = weechat.config_get(f"relay.remote.{name}.url")
    if url_option and weechat.hdata_pointer(hdata, pointer, "0|options") == url_option:
        return name
    return None


def remote_option(name: str, option_name: str) -> str:
    """Pointer of the option relay.remote.NAME.OPTION ("" if none)."""
    return weechat.config_get(f"relay.remote.{name}.{option_name}")


def remote_url(name: str) -> str:
    """The URL of a remote's server, evaluated."""
    url = weechat.config_string(remote_option(name, "url"))
    return weechat.string_eval_expression(url, {}, {}, {}) if "${" in url else url


def remote_secret(name: str, option_name: str) -> str:
    """Value of relay.remote.NAME.password or totp_secret, evaluated (${sec.data...}).

    Never printed, logged or kept: computed for one request.
    """
    value = weechat.config_string(remote_option(name, option_name))
    return weechat.string_eval_expression(value, {}, {}, {}) if "${" in value else value


def plain_secret(name: str, option_name: str) -> bool:
    """Whether relay.remote.NAME.password (or totp_secret) holds a value in plain text."""
    value = weechat.config_string(remote_option(name, option_name))
    return bool(value) and "${" not in value


def secured_data(key: str) -> str:
    """The value of secured data (/secure), "" if there is none; never printed."""
    return weechat.string_eval_expression(f"${{sec.data.{key}}}", {}, {}, {})


def options_using(text: str) -> List[str]:
    """Full names of the options whose value holds a text (every configuration file)."""
    names = []
    infolist = weechat.infolist_get("option", "", "")
    if infolist:
        while weechat.infolist_next(infolist):
            if text in weechat.infolist_string(infolist, "value"):
                names.append(weechat.infolist_string(infolist, "full_name"))
        weechat.infolist_free(infolist)
    return names


def buffer_of_remote(buffer: str) -> Tuple[str, str]:
    """(remote name, full name of the buffer on the remote) of a remote's buffer, ("", "") if none.

    WeeChat names a remote's buffers relay.remote.NAME.FULL_NAME_ON_THE_REMOTE
    and gives them the local variable relay_remote (NAME).
    """
    name = weechat.buffer_get_string(buffer, "localvar_relay_remote")
    prefix = f"relay.remote.{name}."
    full_name = weechat.buffer_get_string(buffer, "full_name")
    if not name or not full_name.startswith(prefix):
        return "", ""
    return name, full_name[len(prefix) :]


def carry_remote_buffers(old: str, new: str) -> List[str]:
    """Give the buffers of a renamed remote its new name; return the full names of
    those left as they were (a buffer of the new name is there already).

    WeeChat's /remote rename renames the options only: the buffers keep
    relay.remote.OLD.* and relay_remote OLD, so WeeChat sends nothing typed
    there (it looks the remote up by that variable), feeds them no more and
    makes new buffers at the next connection. Carried, they are the renamed
    remote's, as if WeeChat had made them under the new name.
    """
    pointers = []
    infolist = weechat.infolist_get("buffer", "", f"relay.remote.{old}.*")
    if infolist:
        while weechat.infolist_next(infolist):
            pointers.append(weechat.infolist_pointer(infolist, "pointer"))
        weechat.infolist_free(infolist)
    left = []
    for buffer in pointers:
        name, target = buffer_of_remote(buffer)
        if name != old:
            continue
        if weechat.buffer_search("==", f"relay.remote.{new}.{target}"):
            left.append(weechat.buffer_get_string(buffer, "full_name"))
            continue
        weechat.buffer_set(buffer, "localvar_set_relay_remote", new)  # first: buffer_renamed sees it whole
        weechat.buffer_set(buffer, "name", f"remote.{new}.{target}")
    return left


def api_request(name: str, resource: str, body: str, headers: Tuple[str, ...] = ()) -> Tuple[str, Dict[str, str], str]:
    """URL and hook_url options of a POST to the relay API of a remote's server, and why
    it can not be made ("" if it can).

    Out of band, to the remote's URL, through the remote's proxy if it has one
    (relay.remote.NAME.proxy), as WeeChat's remote sends its websocket.
    """
    url = remote_url(name)
    if not url:
        return "", {}, "the remote has no URL"
    proxy, problem = proxy_options(name)
    if problem:
        return "", {}, problem
    header = "\n".join(("Accept: application/json", "Content-Type: application/json; charset=utf-8", *headers))
    options = {"post": "1", "postfields": body, "httpheader": header, **proxy}
    if not weechat.config_boolean(remote_option(name, "tls_verify")):
        options.update(ssl_verifypeer="0", ssl_verifyhost="0")
    return f"{url.rstrip('/')}/api/{resource}", options, ""


# WeeChat's proxy types (weechat.proxy.NAME.type) as curl's (hook_url option proxytype); socks5
# hands the server's name to the proxy, as WeeChat does
PROXY_TYPES = {"http": "http", "socks4": "socks4", "socks5": "socks5_hostname"}


def proxy_options(name: str) -> Tuple[Dict[str, str], str]:
    """hook_url options that send a request through a remote's proxy ({} if it has none), and
    why they can not be made ("" if they can).

    The proxy's options are weechat.proxy.PROXY.type, address, port, username
    and password (the last two evaluated, as WeeChat does: never printed). An
    HTTP proxy is asked for a tunnel (CONNECT), the way WeeChat's remote
    reaches the server through it.
    """
    proxy = weechat.config_string(remote_option(name, "proxy"))
    if not proxy:
        return {}, ""
    values = {
        option_name: weechat.config_get(f"weechat.proxy.{proxy}.{option_name}")
        for option_name in ("type", "address", "port", "username", "password")
    }
    kind = PROXY_TYPES.get(weechat.config_string(values["type"]))
    address = weechat.config_string(values["address"])
    if not values["type"] or not values["address"]:
        return {}, f'proxy "{proxy}" not found (relay.remote.{name}.proxy)'
    if not kind or not address or not values["port"]:
        return {}, f'missing proxy settings, check options for proxy "{proxy}"'
    options = {
        "proxy": f"[{address}]" if ":" in address and not address.startswith("[") else address,
        "proxyport": str(weechat.config_integer(values["port"])),
        "proxytype": kind,
    }
    if kind == "http":
        options["httpproxytunnel"] = "1"
    for option_name in ("username", "password"):
        value = weechat.config_string(values[option_name])
        if value:
            options[f"proxy{option_name}"] = weechat.string_eval_expression(value, {}, {}, {})
    return options, ""


def option_value(pointer: str, spec: OptionSpec) -> str:
    """Value of an option as a string, as /set shows it."""
    if spec.kind == "boolean":
        return "on" if weechat.config_boolean(pointer) else "off"
    return str(weechat.config_integer(pointer))


def config_command(command: str) -> str:
    """Which command that reads or writes relay.conf a command line runs ("" if none).

    With weechat.look.command_incomplete on, WeeChat also runs a command from
    the start of its name when only one command starts so ("/sav").
    """
    word = command.split(maxsplit=1)[0][1:].lower() if command.strip() else ""
    if word in CONFIG_COMMANDS or not word:
        return word if word in CONFIG_COMMANDS else ""
    targets = [name for name in CONFIG_COMMANDS if name.startswith(word)]
    if len(targets) != 1 or not weechat.config_boolean(weechat.config_get("weechat.look.command_incomplete")):
        return ""
    return targets[0] if command_names(word) == [targets[0]] else ""


def command_names(start: str) -> List[str]:
    """Names of the commands that start with `start` (all plugins and scripts)."""
    names = set()
    infolist = weechat.infolist_get("hook", "", "command")
    if infolist:
        while weechat.infolist_next(infolist):
            name = weechat.infolist_string(infolist, "command")
            if name.lower().startswith(start):
                names.add(name.lower())
        weechat.infolist_free(infolist)
    return sorted(names)


# ===========================================================================
# === 11. Shell: options, relay.conf and WeeChat's own reconnection
# ===========================================================================


class Options:
    """The relay.network.autoreconnect* options (one per field of Settings).

    relay.conf is read before scripts load, so a line for these options would
    be dropped with a warning. The values live in plugins.var (read before
    scripts load); the options are put into relay.conf's [network] section
    only while nothing reads or writes relay.conf: they leave it on quit,
    around /save, /reload, /upgrade and /plugin, and on unload.
    """

    def __init__(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change
        self.pointers: Dict[str, str] = {}
        self.told: Set[str] = set()  # stored values reported as not valid (once per load)
        self.described: Set[str] = set()  # values kept in plugins.var whose description we set

    def stored(self, spec: OptionSpec) -> str:
        """Value kept in plugins.var (read as WeeChat reads it), or the default."""
        if not weechat.config_is_set_plugin(spec.name):
            return spec.default
        text = weechat.config_get_plugin(spec.name)
        value, problem = stored_value(spec, text, f"plugins.var.python.{SCRIPT_NAME}.{spec.name}")
        if problem and spec.name not in self.told:
            self.told.add(spec.name)
            error(problem)
        return value

    @staticmethod
    def adopt(deployed: Dict[str, str], where: str) -> None:
        """Take values written by hand into relay.conf's [network] section (deployment
        by files): they move to plugins.var, and relay.conf loses them at its next write."""
        adopted = []
        for spec in OPTIONS:
            if spec.name in deployed:
                value, problem = stored_value(spec, deployed[spec.name], f"{where} {spec.name}")
                if problem:
                    error(problem)
                weechat.config_set_plugin(spec.name, value)
                adopted.append(f"{spec.name} = {value}")
        if adopted:
            message(
                f"adopted from {where}: {', '.join(adopted)}; these values now live in "
                f"plugins.var.python.{SCRIPT_NAME}.* (relay.conf drops them at its next save)"
            )

    def attach(self) -> str:
        """Create the options in relay.conf's [network] section; "" if done, else why not.

        An option of these names that the script did not make (WeeChat's own, or
        another script's) is never freed: the script stays out of the way. One it
        made and left behind (its description says so) is made again.
        """
        if self.pointers:
            return ""
        anchor = weechat.config_get("relay.network.password")
        if not anchor:
            return 'the relay plugin is not loaded; load it, then "/script reload relay_autoreconnect"'
        found = {spec.name: weechat.config_get(f"relay.network.{spec.name}") for spec in OPTIONS}
        foreign = [name for name, pointer in found.items() if pointer and not self.ours(pointer)]
        if foreign:
            return (
                f"relay.network.{foreign[0]} already exists and was not made by this script (WeeChat has it, "
                "or another script): the script stays out of the way"
            )
        config_file = weechat.config_option_get_pointer(anchor, "config_file")
        section = weechat.config_option_get_pointer(anchor, "section")
        for spec in OPTIONS:
            if found[spec.name]:
                weechat.config_option_free(found[spec.name])
            value = self.stored(spec)
            if weechat.config_is_set_plugin(spec.name):
                self.describe(spec.name)
            self.pointers[spec.name] = weechat.config_new_option(
                config_file, section, spec.name, spec.kind, spec.description, "",
                spec.minimum, spec.maximum, spec.default, value, 0,
                "", "", "option_change_cb", spec.name, "", "",
            )  # fmt: skip
        return ""

    @staticmethod
    def ours(pointer: str) -> bool:
        """Whether an option was made by this script (its description ends with the script's name)."""
        return weechat.config_option_get_string(pointer, "description").endswith(f"(script {SCRIPT_NAME})")

    def detach(self) -> None:
        """Take the options out of relay.conf (values stay in plugins.var)."""
        for pointer in self.pointers.values():
            if pointer:
                weechat.config_option_free(pointer)
        self.pointers = {}

    def changed(self, name: str) -> None:
        """An option was set: keep its value in plugins.var."""
        spec = next(s for s in OPTIONS if s.name == name)
        pointer = self.pointers.get(name)
        if pointer:
            weechat.config_set_plugin(name, option_value(pointer, spec))
            self.describe(name)
        self.on_change()

    def describe(self, name: str) -> None:
        """Say in plugins.desc what a value kept in plugins.var is."""
        if name not in self.described:
            self.described.add(name)
            text = f"copy of relay.network.{name}, kept here by {SCRIPT_NAME}: change that option"
            weechat.config_set_desc_plugin(name, text)

    def forget_descriptions(self) -> None:
        """At unload: plugins.conf keeps the values the user set, nothing else of the script's."""
        for name in sorted(self.described):
            weechat.command(weechat.buffer_search_main(), f"/mute /unset plugins.desc.python.{SCRIPT_NAME}.{name}")
        self.described.clear()

    def settings(self) -> Settings:
        """Current values as core Settings."""
        return settings_from(
            {
                spec.name: option_value(self.pointers[spec.name], spec)
                if self.pointers.get(spec.name)
                else self.stored(spec)
                for spec in OPTIONS
            }
        )


class ConfigGuard:
    """relay.conf as the user configured it, whatever reads or writes it.

    Our options step out of relay.conf's [network] section (see Options) while
    the file is read or written: around /save, /reload, /upgrade and /plugin
    in any spelling WeeChat runs (incomplete names, aliases, /mute, /eval,
    triggers and scripts run commands through the same hook), and at quit.
    WeeChat's native delays are never touched (see Native).
    """

    def __init__(
        self,
        options: Options,
        retaken: Callable[[], None],
        unloading: Callable[[], bool],
        quitting: Callable[[], None],
    ) -> None:
        self.options = options
        self.retaken = retaken  # the options are back in relay.conf
        self.unloading = unloading  # /upgrade or /plugin may unload the script or relay (True: transfers stopped)
        self.quitting = quitting
        self.running = False  # a config command runs with relay.conf released
        self.told: Set[str] = set()  # why the options could not be taken back, said once
        self.hooks: List[str] = []

    def start(self) -> str:
        """Create the options and watch what reads or writes relay.conf; "" if done, else why not."""
        self.adopt_deployed()
        problem = self.options.attach()
        if problem:
            return problem
        self.hooks = [
            weechat.hook_signal("quit", "quit_cb", ""),
            weechat.hook_command_run("/*", "config_command_cb", ""),
        ]
        return ""

    def stop(self) -> None:
        for hook in self.hooks:
            weechat.unhook(hook)
        self.hooks = []
        self.release()
        self.options.forget_descriptions()

    def release(self) -> None:
        """Leave relay.conf as the user configured it (before it is read or written)."""
        self.options.detach()

    def adopt_deployed(self) -> None:
        """Values written by hand into relay.conf's [network] section (dotfiles,
        Ansible): WeeChat dropped them at start-up, before scripts load; they are
        read from the file and adopted."""
        path = os.path.join(weechat.info_get("weechat_config_dir", ""), "relay.conf")
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                section = config_section(file.read(), "network")
        except OSError:
            return
        deployed = {name: value for name, value in section.items() if name in OPTION_NAMES}
        self.options.adopt(deployed, f"{path} [network]")

    def retake(self) -> None:
        """Undo release() once relay.conf was written or read."""
        problem = self.options.attach()
        if not problem:
            self.retaken()
        elif problem not in self.told:
            self.told.add(problem)
            error(problem)

    def command(self, buffer: str, command: str) -> int:
        """Run /save and /reload with relay.conf released, then retake it; release
        it before /upgrade and /plugin (they may unload the script or relay)."""
        if self.running:
            return weechat.WEECHAT_RC_OK
        name = config_command(command)
        if name in ("save", "reload"):
            self.release()
            self.running = True
            try:
                weechat.command(buffer, command)
            finally:
                self.running = False
            self.retake()
            return weechat.WEECHAT_RC_OK_EAT
        words = command.split()
        if name == "upgrade" or (name == "plugin" and len(words) > 1 and words[1] in ("unload", "reload")):
            # retaken later if still there
            self.release()
            if self.unloading() and name == "upgrade":
                # WeeChat removes a hook only once the callbacks running return (a command from
                # the fifo runs inside one): /upgrade would still see the URL transfers and refuse.
                # It runs again 1 ms later from WeeChat's own timer (never from a python
                # callback: /upgrade unloads python)
                weechat.command(buffer, f"/wait 1ms {command}")
                return weechat.WEECHAT_RC_OK_EAT
        return weechat.WEECHAT_RC_OK

    def quit(self) -> None:
        self.quitting()
        self.release()


class Native:
    """Keeps WeeChat's own reconnection (4.4+) from acting too, without touching
    relay.remote.NAME.autoreconnect_delay: a value never changed is never lost.

    When a link drops, WeeChat plans its own attempt (if the remote's native
    delay is not 0) and says "reconnecting to remote relay in N seconds". While
    the script is enabled, that line is not shown, and 1 ms later the planned
    attempt is cancelled with /remote disconnect (which cancels it and does
    nothing else to a link that is down), quietly.
    """

    def __init__(self, links: Links, engine: Engine, runner: Runner, version: int, defer: Callable[[], None]) -> None:
        self.links = links
        self.engine = engine
        self.runner = runner
        self.version = version
        self.defer = defer
        self.hook = ""  # weechat_print modifier, between a drop and the next flush
        self.lines: List[re.Pattern] = []

    def start(self) -> None:
        """WeeChat's lines as it prints them, in the user's language."""
        self.lines = [native_line(weechat.gettext(text)) for text in NATIVE_LINES]

    def stop(self) -> None:
        if self.hook:
            weechat.unhook(self.hook)
            self.hook = ""

    def hush(self, name: str) -> None:
        """A link drops (or we drop it): WeeChat's attempt is cancelled at the next flush."""
        link = self.links.get(name)
        if link is None or not self.engine.settings.enabled or self.version < NATIVE_VERSION:
            return
        link.hushed = True
        if not self.hook:
            self.hook = weechat.hook_modifier(f"{INPUT_PRIORITY}|weechat_print", "native_print_cb", "")
        self.defer()

    def line(self, line: str) -> str:
        """weechat_print modifier: drop WeeChat's lines about its own attempt of a hushed remote."""
        text = weechat.string_remove_color(line.rpartition("\t")[2], "")
        for pattern in self.lines:
            match = pattern.match(text)
            link = self.links.get(match.group(1)) if match else None
            if link is not None and link.hushed:
                return ""
        return line

    def flush(self) -> None:
        """Cancel the attempts WeeChat planned for the remotes that dropped."""
        for link in self.links:
            if link.hushed:
                remote = self.engine.remotes.get(link.name)
                if remote is not None and remote.status == STATUS_DISCONNECTED:
                    self.runner.quietly(f"/remote disconnect {link.name}")
                link.hushed = False
        self.stop()


# ===========================================================================
# === 12. Shell: records and hooks
# ===========================================================================


class Slot:
    """One hook of a remote's record: armed, then fired (a one-shot hook) or disarmed."""

    __slots__ = ("hook",)  # eleven per remote: small

    def __init__(self) -> None:
        self.hook = ""

    def __repr__(self) -> str:
        return f"Slot({self.hook!r})"

    def __bool__(self) -> bool:
        return bool(self.hook)

    def arm(self, hook: str) -> None:
        """Keep a new hook, removing the one it replaces."""
        self.disarm()
        self.hook = hook

    def disarm(self) -> None:
        hook, self.hook = self.hook, ""  # first: WeeChat >= 4.8 calls back a URL transfer removed
        if hook:
            weechat.unhook(hook)

    def fired(self) -> None:
        """A one-shot hook called back: WeeChat has removed it."""
        self.hook = ""


@dataclass
class Link:
    """Everything the shell holds for one remote: one slot per hook purpose.

    Its hooks are called back with `key`, which outlives renames: a rename
    changes `name` and nothing else.
    """

    name: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempt: Slot = field(default_factory=Slot)  # timer: the next attempt
    connect_timeout: Slot = field(default_factory=Slot)  # timer: the attempt in flight takes too long
    poll_timer: Slot = field(default_factory=Slot)  # timer: the next poll of a waiting remote's server
    poll: Slot = field(default_factory=Slot)  # hook_url: a poll in flight
    heartbeat: Slot = field(default_factory=Slot)  # hook_url: a heartbeat check in flight
    diagnosis: Slot = field(default_factory=Slot)  # hook_connect: why an attempt failed (WeeChat 4.10)
    ready_fallback: Slot = field(default_factory=Slot)  # timer: input flows even if the version line never comes
    ready_soon: Slot = field(default_factory=Slot)  # timer: the version line came (a mismatch drops within 1 ms)
    status_check: Slot = field(default_factory=Slot)  # timer: a status WeeChat 4.3 can not show is taken as down
    delivery: Slot = field(default_factory=Slot)  # hook_url: an outbox request in flight
    delivery_retry: Slot = field(default_factory=Slot)  # timer: lines whose buffer was missing go again
    confirm: Slot = field(default_factory=Slot)  # timer: the line in flight has had no answer for a while
    batch_marker: Slot = field(default_factory=Slot)  # timer: a batch answered 204 waits for its marker
    salted: Tuple[str, str] = ("", "")  # (salt, Authorization) of its last delivery request
    warned: bool = False  # told that its password is in plain text
    hushed: bool = False  # it dropped: WeeChat's own attempt is cancelled at the next flush
    saved: Optional[Saved] = None  # its state while the relay plugin is unloaded

    def link_slots(self) -> Tuple[Slot, ...]:
        """The hooks of the link itself, gone with the relay plugin."""
        return (
            self.attempt,
            self.connect_timeout,
            self.poll_timer,
            self.poll,
            self.heartbeat,
            self.diagnosis,
            self.ready_fallback,
            self.ready_soon,
            self.status_check,
        )

    def slots(self) -> Tuple[Slot, ...]:
        """Every hook of the record (the outbox's outlive the relay plugin)."""
        return (*self.link_slots(), self.delivery, self.delivery_retry, self.confirm, self.batch_marker)


class Links:
    """The records of every remote, by name and by key (hooks call back with the key)."""

    def __init__(self) -> None:
        self.by_name: Dict[str, Link] = {}
        self.by_key: Dict[str, Link] = {}

    def __iter__(self) -> Iterator[Link]:
        return iter(list(self.by_name.values()))

    def get(self, name: str) -> Optional[Link]:
        return self.by_name.get(name)

    def of(self, name: str) -> Link:
        """The record of a remote, made if it has none yet."""
        link = self.by_name.get(name)
        if link is None:
            link = self.by_name[name] = Link(name)
            self.by_key[link.key] = link
        return link

    def find(self, key: str) -> Optional[Link]:
        """The record a hook was armed for (None: released meanwhile)."""
        return self.by_key.get(key)

    def rename(self, old: str, new: str) -> None:
        link = self.by_name.pop(old, None)
        if link is not None:
            self.release(new)
            link.name = new
            self.by_name[new] = link

    def release(self, name: str) -> Optional[Link]:
        """Remove a remote's record and every hook it holds."""
        link = self.by_name.pop(name, None)
        if link is not None:
            for slot in link.slots():
                slot.disarm()
            del self.by_key[link.key]
        return link

    def release_all(self) -> None:
        for name in list(self.by_name):
            self.release(name)


def arm_timer(slot: Slot, seconds: float, callback: str, data: str) -> None:
    """Arm a one-shot timer in a slot, `seconds` from now (at least 1 ms)."""
    slot.arm(weechat.hook_timer(max(1, int(round(seconds * 1000))), 0, 1, callback, data))


class Runner:
    """Runs the script's own commands: never taken as the user's intent, quietly if asked."""

    def __init__(self) -> None:
        self.busy = False  # one of our commands runs
        self.caught: Optional[List[str]] = None  # lines of a command run quietly

    def own(self, command: str, buffer: str = "") -> int:
        """Run a command of the script (in the core buffer unless a buffer is given)."""
        self.busy = True
        try:
            return weechat.command(buffer or weechat.buffer_search_main(), command)
        finally:
            self.busy = False

    def quietly(self, command: str) -> Tuple[int, List[str]]:
        """Run one of our commands with what it prints caught, not shown: (rc, lines)."""
        self.caught = []
        hook = weechat.hook_modifier(f"{INPUT_PRIORITY}|weechat_print", "quiet_print_cb", "")
        try:
            rc = self.own(command)
        finally:
            weechat.unhook(hook)
        lines, self.caught = self.caught, None
        return rc, lines

    def catch(self, line: str) -> str:
        """weechat_print modifier while a command runs quietly: the line is kept, not shown."""
        if self.caught is None:
            return line
        self.caught.append(line)
        return ""


# ===========================================================================
# === 13. Shell: the network (routes, network changes, heartbeats, polls)
# ===========================================================================


def url_address(url: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    """The IP address a URL gives as its host (None for a name)."""
    try:
        return ipaddress.ip_address(urllib.parse.urlsplit(url).hostname or "")
    except ValueError:
        return None


def kernel_route(address: Union[ipaddress.IPv4Address, ipaddress.IPv6Address]) -> Optional[bool]:
    """Whether the kernel has a route to an address: its answer to a UDP connect,
    which sends no packet (None: it said something else)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        try:
            udp.connect((str(address), 9))
        except OSError as err:
            return False if err.errno == errno.ENETUNREACH else None
    return True


def default_route() -> Optional[bool]:
    """Whether the machine has a default route (IPv4 or IPv6), from /proc/net (Linux; None elsewhere)."""
    try:
        with open("/proc/net/route", encoding="ascii") as ipv4, open("/proc/net/ipv6_route", encoding="ascii") as ipv6:
            return default_route_in(ipv4.read(), ipv6.read())
    except OSError:
        return None


def route_of(name: str) -> Route:
    """What this machine knows of the way to a remote's server (names are not resolved: it could block)."""
    url = remote_url(name)
    address = url_address(url)
    https = url.startswith("https")
    proxied = bool(weechat.config_string(remote_option(name, "proxy")))
    if address is None:
        return Route(address=False, default_route=default_route(), https=https, proxied=proxied)
    return Route(address=True, reachable=kernel_route(address), https=https, proxied=proxied)


# a change of the network is acted on this long (ms) after the last message of a burst
NETWORK_SETTLE_MS = 300


class NetWatch:
    """The system's network changes: a netlink socket (Linux) or a routing socket (BSD,
    macOS) watched with hook_fd, no thread and no blocking call; elsewhere nothing."""

    def __init__(self, changed: Callable[[], None]) -> None:
        self.changed = changed  # a change that may bring a server within reach settled
        self.sock: Optional[socket.socket] = None
        self.hook = ""  # hook_fd on the socket
        self.settle = ""  # timer: a burst of messages is over
        self.told = False

    def sync(self, settings: Settings) -> None:
        """Watch while autoreconnect_network_events is on (and the script enabled)."""
        wanted = settings.enabled and settings.network_events
        if wanted and not self.hook:
            self.start()
        elif not wanted and self.hook:
            self.stop()

    def start(self) -> None:
        try:
            if hasattr(socket, "AF_NETLINK"):
                sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)  # type: ignore[attr-defined]
                sock.bind((0, NETLINK_GROUPS))
            elif hasattr(socket, "AF_ROUTE"):
                sock = socket.socket(socket.AF_ROUTE, socket.SOCK_RAW, 0)  # type: ignore[attr-defined]
            else:
                return  # no way to watch here: polls and attempts go on as they are
            sock.setblocking(False)
        except OSError as err:
            if not self.told:
                self.told = True
                error(f"network changes are not watched ({err}); relay.network.autoreconnect_network_events")
            return
        self.sock = sock
        self.hook = weechat.hook_fd(sock.fileno(), 1, 0, 0, "network_fd_cb", "")

    def stop(self) -> None:
        for hook in (self.hook, self.settle):
            if hook:
                weechat.unhook(hook)
        self.hook = self.settle = ""
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    @property
    def watching(self) -> bool:
        """Whether the changes are watched now (else remotes waiting for the network get safety attempts)."""
        return bool(self.hook)

    def readable(self) -> None:
        """Read every message waiting; a change that may bring a server within reach is acted on soon."""
        gains = netlink_gains if hasattr(socket, "AF_NETLINK") else route_socket_gains
        gained = False
        while self.sock is not None:
            try:
                data = self.sock.recv(65536)
            except OSError as err:  # no more messages (EAGAIN), or an overrun: it ends this read
                # an overrun lost messages: one of them may have been the network coming back
                gained = gained or err.errno == errno.ENOBUFS
                break
            if not data:
                break
            gained = gains(data) or gained
        if gained and not self.settle:
            self.settle = weechat.hook_timer(NETWORK_SETTLE_MS, 0, 1, "network_settle_cb", "")

    def settled(self) -> None:
        self.settle = ""
        self.changed()


class Prober:
    """Checks links and servers: the heartbeat, connect timeouts, polls of the
    server of a waiting remote, diagnoses, and clock jumps (suspend and resume)."""

    def __init__(
        self,
        *,
        engine: Engine,
        links: Links,
        runner: Runner,
        run: Callable[[List[Action]], None],
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        quitting: Callable[[], bool],
    ) -> None:
        self.engine = engine
        self.links = links
        self.runner = runner
        self.run = run
        self.clock = clock
        self.wall_clock = wall_clock
        self.quitting = quitting
        self.ticker = ""  # the one heartbeat timer, while a remote is connected
        self.interval = 0
        self.last_wake = (clock(), wall_clock())

    def stop(self) -> None:
        if self.ticker:
            weechat.unhook(self.ticker)
            self.ticker = ""

    def check_clock(self) -> None:
        """On each wake-up: a wall clock far ahead of the monotonic one is a resume."""
        now, wall = self.clock(), self.wall_clock()
        jump = (wall - self.last_wake[1]) - (now - self.last_wake[0])
        self.last_wake = (now, wall)
        if abs(jump) > CLOCK_JUMP_SECONDS:
            network(f"clock jumped by {duration(abs(jump))} (suspend/resume?): checking remotes now")
            self.run(self.engine.clock_jumped(now))

    def sync(self) -> None:
        """Keep one heartbeat timer while a remote is connected, none otherwise."""
        settings = self.engine.settings
        if self.ticker and self.interval != settings.heartbeat:
            self.stop()
        needed = self.engine.heartbeat_needed() and not self.quitting()
        if needed and not self.ticker:
            self.interval = settings.heartbeat
            self.ticker = weechat.hook_timer(self.interval * 1000, 0, 1, "heartbeat_cb", "")
        elif not needed:
            self.stop()

    def tick(self) -> None:
        self.ticker = ""  # fired: it is gone
        self.check_clock()
        self.run(self.engine.heartbeat(self.clock()))
        self.sync()

    # -- requests to the server ------------------------------------------------------

    def request(self, name: str, timeout: int, slot: Callable[[Link], Slot], callback: str) -> bool:
        """POST /api/handshake (no credentials) to a remote's server (through its proxy if it
        has one); False if it can not be made (no URL, a proxy not found) or WeeChat did not start it."""
        url, options, problem = api_request(name, "handshake", "{}")
        if problem:
            return False
        link = self.links.of(name)
        slot(link).arm(weechat.hook_url(url, options, timeout * 1000, callback, link.key))
        return bool(slot(link))  # WeeChat may refuse to start it

    def heartbeat(self, action: Heartbeat) -> None:
        """In-band ping on the live socket, out-of-band HTTP request to the server.

        The in-band ping makes a half-open socket fail (the peer's kernel
        resets it); the HTTP request shows whether the server answers at all
        (frozen, unreachable).
        """
        self.runner.own(f"/remote send {action.name} {PING}")
        if not self.request(action.name, action.timeout, lambda link: link.heartbeat, "heartbeat_url_cb"):
            # no request can be made: the in-band ping is the check
            self.run(self.engine.probe_answered(action.name, True, None))

    def poll(self, action: Poll) -> None:
        """Is the server of a waiting remote back? (a request that can not be made: not polled)"""
        settings = self.engine.settings
        timeout = min(settings.heartbeat_timeout, max(1, settings.poll))
        if not self.request(action.name, timeout, lambda link: link.poll, "poll_url_cb"):
            self.run(self.engine.poll_answered(action.name, None, self.clock()))

    @staticmethod
    def answered(output: Dict[str, str]) -> bool:
        """Any HTTP answer proves the server answers."""
        return not output.get("error") and output.get("response_code", "0") not in ("", "0")

    def heartbeat_done(self, key: str, output: Dict[str, str]) -> None:
        name = self.ended(key, lambda link: link.heartbeat)
        if name is not None:
            self.run(self.engine.probe_answered(name, self.answered(output), self.clock()))

    def poll_done(self, key: str, output: Dict[str, str]) -> None:
        name = self.ended(key, lambda link: link.poll)
        if name is not None:
            self.run(self.engine.poll_answered(name, self.answered(output), self.clock()))

    def diagnose(self, action: Diagnose) -> None:
        """WeeChat 4.10 does not say why a handshake failed (its URL transfers report
        "response code: 0" for any failure): a TCP connection tells (hook_connect: no
        blocking, names resolved by WeeChat)."""
        parts = urllib.parse.urlsplit(remote_url(action.name))
        if parts.hostname:
            link = self.links.of(action.name)
            port = parts.port or 443
            link.diagnosis.arm(weechat.hook_connect("", parts.hostname, port, 1, 0, "", "diagnose_cb", link.key))

    def diagnosed(self, key: str, status: int, sock: int) -> None:
        if sock >= 0:
            os.close(sock)  # only the answer was wanted
        name = self.ended(key, lambda link: link.diagnosis)
        if name is None:
            return
        found = {
            weechat.WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND: FOUND_UNRESOLVED,
            weechat.WEECHAT_HOOK_CONNECT_IP_ADDRESS_NOT_FOUND: FOUND_UNRESOLVED,
            weechat.WEECHAT_HOOK_CONNECT_OK: FOUND_TAKEN,
        }.get(status, FOUND_REACHED)
        self.run(self.engine.diagnosed(name, found))

    def cancel(self) -> None:
        """Stop requests in flight (no verdict: the next heartbeat checks again)."""
        for link in self.links:
            link.diagnosis.disarm()
            if link.heartbeat:
                link.heartbeat.disarm()
                self.run(self.engine.probe_answered(link.name, True, None))
            if link.poll:
                link.poll.disarm()
                self.run(self.engine.poll_answered(link.name, None, self.clock()))

    # -- timers of a remote ------------------------------------------------------------

    def timer(self, slot: Callable[[Link], Slot], name: str, due: float, callback: str) -> None:
        """Arm a one-shot timer of a remote's record for a clock time."""
        link = self.links.of(name)
        arm_timer(slot(link), due - self.clock(), callback, link.key)

    def watch(self, action: Watch) -> None:
        self.timer(lambda link: link.connect_timeout, action.name, action.due, "watch_timer_cb")

    def unwatch(self, action: Unwatch) -> None:
        link = self.links.get(action.name)
        if link is not None:
            link.connect_timeout.disarm()

    def poll_at(self, action: PollAt) -> None:
        self.timer(lambda link: link.poll_timer, action.name, action.due, "poll_timer_cb")

    def ended(self, key: str, slot: Callable[[Link], Slot]) -> Optional[str]:
        """A one-shot hook of a record called back: the remote's name now (None if released,
        or if the hook is one the script removed: WeeChat >= 4.8 calls back a URL transfer removed)."""
        link = self.links.find(key)
        if link is None or not slot(link):
            return None
        slot(link).fired()
        return link.name

    def fired(self, key: str, slot: Callable[[Link], Slot]) -> Optional[str]:
        """A timer of a record fired (a wake-up: the clock is checked too)."""
        name = self.ended(key, slot)
        if name is not None:
            self.check_clock()
        return name

    def poll_fired(self, key: str) -> None:
        name = self.fired(key, lambda link: link.poll_timer)
        if name is not None:
            self.run(self.engine.poll_fired(name, self.clock()))

    def watch_fired(self, key: str) -> None:
        name = self.fired(key, lambda link: link.connect_timeout)
        if name is not None:
            self.run(self.engine.watch_fired(name, self.clock()))

    def attempt_fired(self, key: str) -> None:
        name = self.fired(key, lambda link: link.attempt)
        if name is not None:
            self.run(self.engine.timer_fired(name, self.clock()))


# ===========================================================================
# === 14. Shell: the outbox (its file, delivery requests, input typed in remote buffers)
# ===========================================================================

OUTBOX_FILE = "relay_autoreconnect_outbox.json"
# a delivery request without an answer after this time (ms) may have arrived
DELIVERY_TIMEOUT_MS = 10000
# a request's connection to the server takes at most this long (ms): a request that
# never connected sent nothing, and its line goes again by itself (delivery_outcome)
DELIVERY_CONNECT_TIMEOUT_MS = 5000
# a TOTP's time step (s): WeeChat's weecrypto_totp_generate
TOTP_STEP_SECONDS = 30
# the outbox is written once per burst of changes: a timer looks this often (s) and writes
# when no change came since it last looked...
OUTBOX_WRITE_DELAY = 0.001
# ...or this long (s) after the first change not written (a stream of changes does not hold
# it back); and at once before a request for a line leaves, before a notice and at unload
OUTBOX_WRITE_MAX = 0.5
# while the file can not be written (or read), writing it is tried again this often (s)
OUTBOX_RETRY_SECONDS = 10


class OutboxFile:
    """The outbox on disk, in WeeChat's data directory.

    Mode 0600 (lines may be private); rewritten whole through a temporary
    file and a rename, so a crash leaves the old or the new file, never half
    of one; removed when the outbox is empty. A file that can not be read is
    never overwritten: it is set aside (or left alone) and said so, and read
    again before each write; once it can be, its lines join the outbox.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.unread = ""  # why the file could not be read: it is not written until it can
        self.holds: Set[str] = set()  # the lines it holds, as far as the script knows (read or written)

    def load(self, first: bool = True) -> Tuple[List[QueuedLine], List[str]]:
        """Lines kept in the file not read before, and error lines for the user
        (first: at start, when the outbox is empty)."""
        self.unread = ""
        try:
            with open(self.path, encoding="utf-8") as file:
                text = file.read(OUTBOX_LIMIT + 1)  # one more: a bigger file is refused, not read whole
        except FileNotFoundError:
            return [], []
        except (OSError, UnicodeDecodeError) as err:
            self.unread = f"outbox file {self.path} can not be read ({err})"
            kept = "queued lines are kept in memory only until it can be read"
            return [], [f"{self.unread}: it is left as it is; {kept}"]
        try:
            lines, bad = outbox_from_json(text)
        except ValueError as err:
            aside = self.set_aside(text, move=True)
            empty = "; the outbox starts empty" if first and not self.unread else ""
            return [], [f"outbox file {self.path} is not valid ({err}): {aside}{empty}"]
        held, self.holds = self.holds, self.holds | {line.ident for line in lines}
        lines = [line for line in lines if line.ident not in held]  # a line is never taken twice
        if bad:
            aside = self.set_aside(text, move=False)
            return lines, [f"outbox file {self.path}: {bad} line(s) not valid, {len(lines)} kept: {aside}"]
        return lines, []

    def set_aside(self, text: str, move: bool) -> str:
        """Keep a copy of a file that was not read whole; say where it is."""
        target = f"{self.path}.bad"
        if os.path.exists(target):
            target = f"{self.path}.bad.{int(time.time())}"
        try:
            if move:
                os.replace(self.path, target)
            else:
                self.write(target, text)
        except OSError as err:
            self.unread = f"outbox file {self.path} could not be set aside ({err})"
            return f"{self.unread}; it is left as it is and queued lines are kept in memory only"
        return f"kept as {target}"

    @staticmethod
    def write(path: str, text: str) -> None:
        temporary = f"{path}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(fd, 0o600)
            file.write(text)
            file.flush()
            os.fsync(fd)
        os.replace(temporary, path)

    def save(self, outbox: Outbox) -> str:
        """Write the outbox; return why it could not be written ("" if it was)."""
        if self.unread:
            return self.unread
        try:
            if outbox.kept():
                self.write(self.path, outbox_to_json(outbox))
            elif os.path.exists(self.path):
                os.remove(self.path)
        except OSError as err:
            return f"outbox file {self.path} can not be written ({err})"
        self.holds = {line.ident for line in outbox.kept()}
        return ""


class Courier:
    """Carries out what Delivery decides: the outbox file, POST /api/handshake and
    /api/input out of band (hook_url, with the remote's own credentials), timers
    and what the user is told."""

    # how each notice of Delivery is said: (prefix, text); fields: {name} {count} {buffer} {detail}
    # {line} {command}, {more} (the lines sent with that line), and {name_arg} {buffer_arg}: the
    # name and the buffer as command arguments
    NOTICES = {
        TELL_DELIVERED: ("network", "remote[{name}]: {count} queued line(s) delivered"),
        TELL_STOPPED: (
            "error",
            "remote[{name}]: queued lines not delivered ({detail}): {count} line(s) kept, tried again at the next "
            'connection; "/{command} outbox send {name_arg}" tries now',
        ),
        TELL_UNKNOWN: (
            "error",
            "remote[{name}]: line {line} sent to {buffer} not confirmed ({detail}): it may have arrived, is not "
            "sent again by itself and holds back the {count} line(s) behind it; "
            '"/{command} outbox send {name_arg} {buffer_arg} {line}" sends it again, '
            '"/{command} outbox drop {name_arg} {buffer_arg} {line}" drops it: {text}',
        ),
        # TELL_UNKNOWN for a batch: {more} lines went with the first one, their fate is that one's
        TELL_UNKNOWN + " batch": (
            "error",
            "remote[{name}]: line {line} and the {more} line(s) sent with it to {buffer} not confirmed ({detail}): "
            "they may have arrived, are not sent again by themselves and hold back the {count} line(s) behind "
            'them; "/{command} outbox send {name_arg} {buffer_arg}" sends them again (one a request) with the '
            'lines behind, "/{command} outbox drop {name_arg} {buffer_arg} {line}" drops the first '
            '("/{command} outbox" lists them): {text}',
        ),
        TELL_HELD: (
            "network",
            "remote[{name}]: the link dropped: {count} line(s) typed before kept, sent after the reconnection "
            "(/{command} outbox)",
        ),
        TELL_UNCONFIRMED: (
            "error",
            "remote[{name}]: the delivery of a queued line to {buffer} was not confirmed: it may have arrived, is "
            "not sent again by itself and holds back the {count} line(s) behind it; "
            '"/{command} outbox send {name_arg} {buffer_arg} {line}" sends it again, '
            '"/{command} outbox drop {name_arg} {buffer_arg} {line}" drops it',
        ),
        TELL_BEHIND: (
            "",
            "remote[{name}]: line {line} goes after the {count} line(s) before it in {buffer}, which wait for "
            'your word ("/{command} outbox" lists them)',
        ),
        TELL_OLD: (
            "",
            'remote[{name}]: {count} queued line(s) older than {detail} not sent; "/{command} outbox send '
            '{name_arg}" sends them, "/{command} outbox drop {name_arg}" drops them',
        ),
        TELL_NO_BUFFER: (
            "error",
            'remote[{name}]: buffer "{buffer}" not found on the remote after {detail}: {count} queued line(s) kept; '
            '"/{command} outbox move {name_arg} {buffer_arg} <buffer>" sends them to another buffer, '
            '"/{command} outbox drop {name_arg} {buffer_arg}" drops them',
        ),
        TELL_NOT_CONNECTED: ("", "outbox: remote[{name}] is not connected: {count} line(s) go after the reconnection"),
        TELL_DROPPED: ("", "remote[{name}]: {count} queued line(s) dropped"),
        TELL_MOVED: ("", "remote[{name}]: {count} queued line(s) moved from {buffer} to {detail}"),
        TELL_DELETED: ("", "remote[{name}] deleted: {count} queued line(s) dropped"),
    }

    def __init__(
        self,
        delivery: Delivery,
        links: Links,
        wall_clock: Callable[[], float],
        changed: Callable[[], None],
        *,
        unconfirmed: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.delivery = delivery
        self.links = links
        self.wall_clock = wall_clock
        self.changed = changed  # the outbox changed (the bar item shows it)
        self.unconfirmed = unconfirmed  # a line of this remote has had no answer for a while
        self.clock = clock  # monotonic: when a burst of changes is over
        self.file = OutboxFile("")
        self.problem = ""  # why the outbox is not on disk ("" if it is)
        self.dirty = False  # the outbox changed since it was last written
        self.writer = Slot()  # timer: the next write (a burst of changes is over, or try again)
        self.first_change: Optional[float] = None  # the first change not written yet (None: no burst waits)
        self.last_change = 0.0
        self.looked = 0.0  # when the writer last looked whether changes still come
        self.kept: List[Tuple[str, bool, List[QueuedLine]]] = []  # (buffer, connected, lines) said once written
        self.hooks: List[str] = []

    # -- life cycle ----------------------------------------------------------

    def start(self) -> None:
        """Read the outbox file (lines kept by a previous session), watch buffers appear."""
        self.file = OutboxFile(os.path.join(weechat.info_get("weechat_data_dir", ""), OUTBOX_FILE))
        lines, problems = self.file.load()
        for problem in problems:
            error(problem)
        self.problem = self.file.unread
        outbox = self.delivery.outbox
        outbox.lines = lines
        if lines:
            unknown = sum(1 for line in lines if line.state == LINE_UNKNOWN)
            message(
                f"outbox: {len(lines)} line(s) kept from before for remote(s) {', '.join(outbox.remotes())}"
                + (f" ({unknown} whose delivery was not confirmed)" if unknown else "")
                + f"; /{COMMAND} outbox lists them"
            )
        self.hooks = [
            weechat.hook_signal("buffer_opened", "buffer_opened_cb", ""),
            *(
                weechat.hook_signal(f"buffer_localvar_{what}", "buffer_localvar_cb", "")
                for what in ("added", "changed")
            ),
        ]

    def stop(self) -> None:
        """Remove its own hooks (the records' hooks go with them); the file keeps the lines."""
        for hook in self.hooks:
            weechat.unhook(hook)
        self.hooks = []
        self.keep_all()
        self.write(closing=True)
        self.writer.disarm()
        self.tell_left()

    def keep_all(self) -> None:
        """Every line on its way goes on disk (the script stops, or WeeChat upgrades)."""
        for name in self.delivery.outbox.remotes():
            self.run(self.delivery.overdue(name))

    def tell_left(self) -> None:
        """Say where the queued lines are at unload (which are lost, and why, if the file
        could not be written)."""
        lines = self.delivery.outbox.lines
        if not self.dirty:
            if lines:
                message(f"outbox: {len(lines)} queued line(s) kept in {self.file.path} for the next load")
            return
        lost = sum(1 for line in lines if line.ident not in self.file.holds)
        if not lost and not self.file.holds:
            return  # nothing queued, nothing on disk
        text = f"{lost} queued line(s) dropped" if lost else "queued lines not written"
        held = f"; the file keeps {len(self.file.holds)} line(s) as they were at its last write"
        error(f"outbox: {text} ({self.problem})" + (held if self.file.holds else ""))

    # -- the file ----------------------------------------------------------------

    def persist(self) -> None:
        """The outbox changed: it is written once this burst of changes is over."""
        now = self.clock()
        self.dirty = True
        self.last_change = now
        if self.first_change is None or not self.writer:
            self.first_change = self.looked = now
            arm_timer(self.writer, OUTBOX_WRITE_DELAY, "outbox_write_cb", "")
        self.changed()

    def write_fired(self) -> None:
        """The writer's timer: write, unless changes came since it last looked (WeeChat
        reads a fifo 4 KiB at a time and fires timers in between)."""
        self.writer.fired()
        now = self.clock()
        first = self.first_change
        if first is not None and self.last_change > self.looked and now - first < OUTBOX_WRITE_MAX:
            self.looked = now
            arm_timer(self.writer, OUTBOX_WRITE_DELAY, "outbox_write_cb", "")
            return
        self.write()

    def write(self, closing: bool = False) -> None:
        """Write the outbox now if it changed, then show the lines kept; if it can not be
        written, it is tried again (closing: the script unloads, nothing more is tried)."""
        self.writer.disarm()
        self.first_change = None
        actions = self.save(closing) if self.dirty else []
        self.tell_kept()
        self.run(actions)

    def save(self, closing: bool) -> List[DeliveryAction]:
        """Write the file, with the lines of a file that can be read again; what Delivery
        does with those lines."""
        self.dirty = False
        found = self.reread() if self.file.unread else []
        actions: List[DeliveryAction] = []
        if found and closing:
            self.delivery.outbox.merge(found)
        elif found:
            actions = self.delivery.found(found, self.wall_clock())
        problem = self.file.save(self.delivery.outbox)
        if not closing:
            self.tell_saved(problem, len(found))
        self.problem = problem
        if problem:
            self.dirty = True
            if not closing:
                arm_timer(self.writer, OUTBOX_RETRY_SECONDS, "outbox_write_cb", "")
        return actions

    def reread(self) -> List[QueuedLine]:
        """Read again a file that could not be read: the lines it holds ([] if it still can not be read)."""
        lines, problems = self.file.load(first=False)
        if self.file.unread:
            return []
        for problem in problems:
            error(problem)
        return lines

    def tell_saved(self, problem: str, found: int) -> None:
        """Say once that the outbox is not on disk any more (or why not, if that changed), or again."""
        count = self.delivery.outbox.count()
        if problem and problem != self.problem:
            kept = f"{count} queued line(s) kept in memory only; " if count else ""
            error(f"{problem}: {kept}tried again every {duration(OUTBOX_RETRY_SECONDS)} and at each change")
        elif self.problem and not problem:
            taken = f", {found} of them read from it" if found else ""
            message(f"outbox file {self.file.path} is written again: {count} queued line(s) on disk{taken}")

    def tell_kept(self) -> None:
        """Show each line kept since the last write in its buffer, after how many lines of
        its remote it goes (and why it is in memory only if it is)."""
        kept, self.kept = self.kept, []
        if not kept:
            return
        place: Dict[str, int] = {}  # ident: how many lines of its remote go until it goes
        counts: Dict[str, int] = {}
        for line in self.delivery.outbox.lines:
            counts[line.remote] = place[line.ident] = counts.get(line.remote, 0) + 1
        for buffer, connected, lines in kept:
            for line in lines:
                waiting = place.get(line.ident)
                if waiting is None:
                    continue  # dropped meanwhile
                if connected:
                    text = f"remote[{line.remote}]: kept behind {waiting - 1} earlier line(s), sent in order"
                else:
                    text = f"remote[{line.remote}] is not connected: kept, sent after the reconnection ({waiting} "
                    text += f"waiting; /{COMMAND} outbox)"
                network(f"{text}: {line.text}", buffer)
            if self.problem:
                error(f"{self.problem}: kept in memory only", buffer)

    # -- what Delivery decides -------------------------------------------------------

    def run(self, actions: List[DeliveryAction]) -> None:
        for action in actions:
            if isinstance(action, Persist):
                self.persist()
            elif isinstance(action, Handshake):
                self.links.of(action.name).salted = ("", "")  # the server's answer (and the password) may change
                body = json.dumps({"password_hash_algo": list(PASSWORD_HASH_ALGOS)})
                self.request(action.name, "handshake", body, (), "handshake_url_cb")
            elif isinstance(action, Send):
                self.write()  # the file says "sending" before the request leaves: never sent twice
                self.send(action)
            elif isinstance(action, MarkerWait):
                link = self.links.of(action.name)
                arm_timer(link.batch_marker, action.seconds, "delivery_marker_cb", link.key)
            elif isinstance(action, RetryAt):
                link = self.links.of(action.name)
                arm_timer(link.delivery_retry, action.due - self.wall_clock(), "delivery_retry_cb", link.key)
            else:
                self.write()  # what the user is told is on disk first
                self.tell(action)

    def tell(self, notice: Tell) -> None:
        prefix, text = self.NOTICES[notice.what + (" batch" if notice.lines > 1 else "")]
        fields_ = {"name": notice.name, "count": notice.count, "buffer": notice.buffer, "detail": notice.detail}
        arguments = {"name_arg": quoted(notice.name), "buffer_arg": quoted(notice.buffer), "line": notice.line}
        arguments["more"] = str(notice.lines - 1)
        where = ""
        if notice.what == TELL_UNKNOWN:  # in the buffer where the line was typed
            where = weechat.buffer_search("==", f"relay.remote.{notice.name}.{notice.buffer}")
        PRINTERS[prefix](text.format(command=COMMAND, text=notice.text, **fields_, **arguments), where)

    def request(self, name: str, resource: str, body: str, headers: Tuple[str, ...], callback: str) -> None:
        url, options, problem = api_request(name, resource, body, headers)
        if problem:
            self.run(self.delivery.unsendable(name, problem, self.wall_clock()))
            return
        link = self.links.of(name)
        options["connecttimeout_ms"] = str(DELIVERY_CONNECT_TIMEOUT_MS)
        link.delivery.arm(weechat.hook_url(url, options, DELIVERY_TIMEOUT_MS, callback, link.key))
        if not link.delivery:
            self.run(self.delivery.unsendable(name, "WeeChat could not start the request", self.wall_clock()))
        else:
            self.watch_confirm(link)

    def watch_confirm(self, link: Link) -> None:
        """Lines wait on a request in flight: its link is checked if no answer comes soon."""
        if link.delivery and not link.confirm and self.delivery.outbox.count(link.name):
            arm_timer(link.confirm, LINE_CONFIRM_SECONDS, "delivery_confirm_cb", link.key)

    def send(self, action: Send) -> None:
        headers, problem = self.credentials(action)
        if problem:
            self.run(self.delivery.unsendable(action.name, problem, self.wall_clock()))
            return
        texts = [line.text for line in action.lines]
        command = batch_command(texts, action.marker) if action.marker else texts[0]
        body = json.dumps({"buffer_name": action.lines[0].buffer, "command": command})
        self.request(action.name, "input", body, headers, "delivery_url_cb")

    def credentials(self, action: Send) -> Tuple[Tuple[str, ...], str]:
        """Headers that authenticate a request as the remote's own client does, made as the
        Send says (how old a hash may serve, which TOTP step), and why not ("" if fine)."""
        name, (algo, iterations, totp) = action.name, action.auth
        link = self.links.of(name)
        now = int(self.wall_clock())
        salt = link.salted[0]
        if not salt.isdigit() or not 0 <= now - int(salt) < action.hash_span:
            salt = str(now)  # a pbkdf2 hash costs tens of ms of the main loop: one serves a few seconds
            link.salted = (salt, authorization(algo, remote_secret(name, "password"), salt, iterations))
        headers: Tuple[str, ...] = (f"Authorization: {link.salted[1]}",)
        if totp:
            secret = remote_secret(name, "totp_secret")
            when = now + TOTP_STEP_SECONDS * action.totp_step
            code = weechat.info_get("totp_generate", f"{secret},{when}") if secret and when > 0 else ""
            if not code:
                return (), f"the remote asks for a TOTP and relay.remote.{name}.totp_secret gives none"
            headers += (f"x-weechat-totp: {code}",)
        return headers, ""

    # -- events ------------------------------------------------------------------------

    def answered_handshake(self, key: str, output: Dict[str, str]) -> None:
        link = self.links.find(key)
        if link is not None and link.delivery:  # not armed: a transfer removed here (WeeChat >= 4.8)
            link.delivery.fired()
            link.confirm.disarm()
            detail = output.get("error") or f"HTTP {output.get('response_code', '?')}"
            self.run(self.delivery.handshake_answered(link.name, handshake_answer(output), detail, self.wall_clock()))

    def answered(self, key: str, output: Dict[str, str]) -> None:
        link = self.links.find(key)
        if link is not None and link.delivery:  # not armed: a transfer removed here (WeeChat >= 4.8)
            link.delivery.fired()
            link.confirm.disarm()
            outcome, detail = delivery_outcome(output)
            self.run(self.delivery.answered(link.name, outcome, detail, self.wall_clock()))

    def retry_fired(self, key: str) -> None:
        link = self.links.find(key)
        if link is not None:
            link.delivery_retry.fired()
            self.run(self.delivery.retry_fired(link.name, self.wall_clock()))

    def confirm_fired(self, key: str) -> None:
        """The line in flight has had no answer for LINE_CONFIRM_SECONDS: its link is checked."""
        link = self.links.find(key)
        if link is not None and link.confirm:
            link.confirm.fired()
            self.run(self.delivery.overdue(link.name))
            self.unconfirmed(link.name)

    def marker_seen(self, buffer: str) -> None:
        """A local variable of a buffer was set: the marker of a batch, back in the mirror of its buffer?"""
        name, _target = buffer_of_remote(buffer)
        marker = weechat.buffer_get_string(buffer, f"localvar_{BATCH_VARIABLE}") if name else ""
        link = self.links.get(name) if marker else None
        if link is not None:
            actions = self.delivery.marker_seen(name, marker, self.wall_clock())
            if not self.delivery.round(name).awaiting:
                link.batch_marker.disarm()
            self.run(actions)

    def marker_overdue(self, key: str) -> None:
        """A batch answered 204 has had no marker for BATCH_MARKER_SECONDS."""
        link = self.links.find(key)
        if link is not None and link.batch_marker:
            link.batch_marker.fired()
            self.run(self.delivery.marker_overdue(link.name, self.wall_clock()))

    def buffer_opened(self, buffer: str) -> None:
        """A buffer appeared: lines waiting for it on its remote go now."""
        name, target = buffer_of_remote(buffer)
        if name:
            self.run(self.delivery.buffer_opened(name, target, self.wall_clock()))

    def keep(self, name: str, target: str, texts: List[str], buffer: str) -> None:
        """Queue lines for a buffer of a remote (target: its name on the remote); they are
        shown in the buffer once written."""
        now = self.wall_clock()
        actions = self.delivery.keep(name, target, texts, now)
        lines = self.delivery.outbox.lines
        said = [line for line in lines[len(lines) - len(texts) :] if not line.quiet]  # added last
        if said and self.delivery.worth_saying(name, target, now):
            self.kept.append((buffer, self.delivery.ready(name), said))
        self.run(actions)
        self.watch_confirm(self.links.of(name))

    def link_ready(self, name: str) -> None:
        self.run(self.delivery.link_ready(name, self.wall_clock()))

    def link_down(self, name: str) -> None:
        self.run(self.delivery.link_down(name))

    def rename(self, old: str, new: str) -> None:
        self.run(self.delivery.rename(old, new))

    def forget(self, name: str) -> None:
        self.run(self.delivery.forget(name))

    def cancel_requests(self) -> None:
        """Stop requests in flight (/upgrade refuses to run with URL transfers going on)."""
        self.keep_all()
        for link in self.links:
            if link.delivery or link.batch_marker:
                link.delivery.disarm()
                link.confirm.disarm()
                link.batch_marker.disarm()
                self.run(self.delivery.cancelled(link.name))
        self.write()


class InputGate:
    """Tells what the person submits from commands that run here, and keeps input for down remotes.

    WeeChat sends a line the person submits (Enter) through the modifier
    history_add, then clears the input, then gives the same text to
    input_data with user_data 1, the only call that may send a command to
    the remote. Key bindings, the fifo and other scripts call input_data with
    user_data 0: their commands run here. So a line is "submitted" when the
    input_text_for_buffer call that follows history_add carries the same
    buffer and text while the input is empty.
    """

    def __init__(self, engine: Engine, delivery: Delivery, courier: Courier, wall_clock: Callable[[], float]) -> None:
        self.engine = engine
        self.delivery = delivery
        self.courier = courier
        self.wall_clock = wall_clock
        self.submitted: Tuple[str, str] = ("", "")
        self.hooks: List[str] = []

    def start(self) -> None:
        self.hooks = [
            weechat.hook_modifier(f"{INPUT_PRIORITY}|history_add", "history_add_cb", ""),
            weechat.hook_modifier(f"{INPUT_PRIORITY}|input_text_for_buffer", "input_modifier_cb", ""),
        ]

    def stop(self) -> None:
        for hook in self.hooks:
            weechat.unhook(hook)
        self.hooks = []

    def history_add(self, buffer: str, text: str) -> str:
        self.submitted = (buffer, text)
        return text

    def input_for(self, buffer: str, text: str) -> str:
        """Modifier input_text_for_buffer: keep what would be lost on a down link."""
        submitted = self.submitted == (buffer, text) and not weechat.buffer_get_string(buffer, "input")
        self.submitted = ("", "")
        name, target = buffer_of_remote(buffer)
        if not name or not self.delivery.holds(self.engine.remotes.get(name), target, self.wall_clock()):
            return text
        connected = self.delivery.ready(name)
        lines = [text] if weechat.buffer_get_integer(buffer, "input_multiline") else text.split("\n")
        routes = route_input(
            [(line, not weechat.string_input_for_buffer(line)) for line in lines if line],
            submitted,
            bool(weechat.buffer_get_integer(buffer, "input_get_any_user_data")),
            self.delivery.settings.outbox_commands or connected,
            COMMAND,
        )
        if all(route == ROUTE_LOCAL for _, route in routes):
            return text
        kept = [line for line, route in routes if route == ROUTE_KEEP]
        if kept:
            self.courier.keep(name, target, kept, buffer)
        if any(route == ROUTE_REFUSE for _, route in routes):
            error(
                f"remote[{name}] is not connected: command not run "
                "(relay.network.autoreconnect_outbox_commands keeps commands)",
                buffer,
            )
        for line, route in routes:
            if route in (ROUTE_LOCAL, ROUTE_HERE):
                weechat.command(buffer, line)
        return ""


# ===========================================================================
# === 15. Shell: the user (/autoreconnect, the bar item) and the status check
# ===========================================================================


class OutboxCommand:
    """/autoreconnect outbox: queued lines listed, sent, dropped or moved at the user's word,
    a buffer's lines or one line by its id; arguments read and completed as WeeChat reads
    quoted ones (command_words)."""

    USAGE = (
        '"list", "send"/"drop" with a remote name or -all (then a buffer, then a line id), '
        'or "move" with a remote and two buffers'
    )

    def __init__(self, delivery: Delivery, courier: Courier, wall_clock: Callable[[], float]) -> None:
        self.delivery = delivery
        self.courier = courier
        self.wall_clock = wall_clock

    def command(self, args: str) -> int:
        """/autoreconnect outbox [list] | send|drop <remote>|-all [<buffer> [<id>]] | move <remote> <buffer> <to>."""
        words = command_words(args)
        problem = self.unreadable(words)
        if problem:
            error(f"outbox: {problem} (see /help {COMMAND})")
            return weechat.WEECHAT_RC_ERROR
        values = [word.value for word in words]
        verb = values[0] if values else "list"
        if verb == "list" and len(values) <= 1:
            self.print_list()
            return weechat.WEECHAT_RC_OK
        if verb == "move" and len(values) == 4:
            return self.move(*values[1:])
        if verb not in ("send", "drop") or len(values) not in (2, 3, 4):
            error(f"outbox: {self.USAGE} (see /help {COMMAND})")
            return weechat.WEECHAT_RC_ERROR
        if len(values) == 4:
            return self.one(verb, *values[1:])
        return self.lines(verb, values[1], values[2] if len(values) == 3 else "")

    @staticmethod
    def unreadable(words: List[Word]) -> str:
        """Why the arguments can not be read ("" if they can)."""
        if words and words[-1].open == "\\":
            return "the arguments end with a lone backslash"
        if words and words[-1].open:
            return f"a quote ({words[-1].open}) is not closed"
        if any(not word.value for word in words):
            return "an argument is empty"
        return ""

    def lines(self, verb: str, target: str, buffer: str) -> int:
        """send or drop the lines of a remote (-all: of every remote), or of one of its buffers."""
        outbox = self.delivery.outbox
        names = outbox.remotes() if target == "-all" else [target]
        if not any(outbox.count(name, buffer) for name in names):
            if target == "-all":
                message("outbox: nothing queued")  # nothing to do: said, not an error
                return weechat.WEECHAT_RC_OK
            return self.nothing(target, buffer)
        now = self.wall_clock()
        for name in names:
            delivery = self.delivery
            self.courier.run(delivery.drop(name, buffer, now) if verb == "drop" else delivery.send(name, buffer, now))
        self.courier.persist()
        return weechat.WEECHAT_RC_OK

    def one(self, verb: str, name: str, buffer: str, typed: str) -> int:
        """send or drop one line, named by its id."""
        if name == "-all":
            error(f"outbox: a line id goes with the name of its remote, not -all (see /{COMMAND} outbox)")
            return weechat.WEECHAT_RC_ERROR
        if not self.delivery.outbox.count(name, buffer):
            return self.nothing(name, buffer)
        problem, ident = self.delivery.pick(name, buffer, typed, verb)
        if problem:
            error(f"outbox: {problem} (see /{COMMAND} outbox)")
            return weechat.WEECHAT_RC_ERROR
        now = self.wall_clock()
        if verb == "send":
            self.courier.run(self.delivery.send(name, buffer, now, ident))
        else:
            self.courier.run(self.delivery.drop(name, buffer, now, ident))
        self.courier.persist()
        return weechat.WEECHAT_RC_OK

    def move(self, name: str, buffer: str, target: str) -> int:
        if not self.delivery.outbox.count(name, buffer):
            return self.nothing(name, buffer)
        self.courier.run(self.delivery.move(name, buffer, target, self.wall_clock()))
        self.courier.persist()
        return weechat.WEECHAT_RC_OK

    @staticmethod
    def nothing(name: str, buffer: str) -> int:
        error(f"outbox: nothing queued for remote[{name}]" + (f" in {quoted(buffer)}" if buffer else ""))
        return weechat.WEECHAT_RC_ERROR

    def print_list(self) -> None:
        outbox = self.delivery.outbox
        if not outbox.lines:
            message("outbox: nothing queued")
            return
        settings = self.delivery.settings
        now = self.wall_clock()
        ids = {name: outbox.line_ids(name) for name in outbox.remotes()}
        message(f"outbox: {outbox.count()} queued line(s) (remote, buffer, line id):")
        for line in outbox.lines:
            held = outbox.held(line, now, settings.outbox_max_age, settings.outbox_wait)
            state = f"waits for your word: {held}" if held else line.state
            age = duration(max(0.0, now - line.queued_at))
            where = f"remote[{line.remote}] {quoted(line.buffer)} {ids[line.remote][line.ident]}"
            weechat.prnt("", f"  {where} (queued {age} ago, {state}): {line.text}")

    def complete(self, args: str, base_word: str) -> List[str]:
        """Tab after "/autoreconnect outbox": what replaces WeeChat's base word (the end of the
        word being typed, after its last blank) for each remote, buffer or line id that may come."""
        words = command_words(args)
        current = words.pop() if words and words[-1].end == len(args) else None
        typed = current.typed if current else ""
        if not words or words[0].value != "outbox" or not typed.endswith(base_word):
            return []
        items = []
        for value in outbox_choices(self.delivery.outbox, [word.value for word in words[1:]]):
            word = completed(value, current)
            if word:
                items.append(word[len(typed) - len(base_word) :])
        return items


class Console:
    """What the user types and sees: /autoreconnect, the bar item, password notices."""

    def __init__(
        self,
        *,
        engine: Engine,
        delivery: Delivery,
        outbox: OutboxCommand,
        links: Links,
        run: Callable[[List[Action]], None],
        clock: Callable[[], float],
        defer: Callable[[], None],
    ) -> None:
        self.engine = engine
        self.delivery = delivery
        self.outbox = outbox
        self.links = links
        self.run = run
        self.clock = clock
        self.defer = defer
        self.hooks: List[str] = []
        self.item = ""  # the bar item
        self.countdown = ""  # timer: the bar item counts down while an attempt is pending
        self.soon = ""  # timer: the bar item is rebuilt at most every BAR_INTERVAL s
        self.last = ""  # its text, as last built
        self.dirty = False
        self.built = float("-inf")

    def start(self) -> None:
        self.hooks = [
            weechat.hook_command(
                COMMAND, COMMAND_DESC, COMMAND_ARGS, COMMAND_ARGS_DESC, COMMAND_COMPLETION, "command_cb", ""
            ),
            weechat.hook_completion(
                OUTBOX_COMPLETION, "remotes, buffers and line ids of the outbox", "outbox_completion_cb", ""
            ),
        ]
        self.item = weechat.bar_item_new(BAR_ITEM, "bar_item_cb", "")

    def stop(self) -> None:
        for hook in [*self.hooks, self.countdown, self.soon]:
            if hook:
                weechat.unhook(hook)
        if self.item:
            weechat.bar_item_remove(self.item)
        self.hooks, self.item, self.countdown, self.soon = [], "", "", ""

    # -- /autoreconnect ----------------------------------------------------------

    def command(self, args: str) -> int:
        """/autoreconnect [list] | retry|cancel|reset <remote>|-all | secure <remote> | outbox ..."""
        engine = self.engine
        words = args.split()
        verb = words[0] if words else "list"
        if verb == "outbox":
            return self.outbox.command(args.split(maxsplit=1)[1] if len(words) > 1 else "")
        if verb == "list":
            if len(words) > 1:
                error(f'"list" takes no argument (see /help {COMMAND})')
                return weechat.WEECHAT_RC_ERROR
            self.print_list()
            return weechat.WEECHAT_RC_OK
        steer = {"retry": engine.retry, "cancel": engine.cancel, "reset": engine.reset, "secure": self.secure}
        if verb not in steer:
            error(f'unknown argument "{verb}" (see /help {COMMAND})')
            return weechat.WEECHAT_RC_ERROR
        if len(words) != 2:
            error(f'"{verb}" takes one remote name or -all (see /help {COMMAND})')
            return weechat.WEECHAT_RC_ERROR
        target = words[1]
        if target != "-all" and target not in engine.remotes:
            error(f'remote "{target}" not found (see /remote list)')
            return weechat.WEECHAT_RC_ERROR
        return self.steer(verb, steer[verb], target)

    def steer(self, verb: str, act: Callable[[str, float], Tuple[str, List[Action]]], target: str) -> int:
        """retry, cancel, reset or secure one remote (an error line if it can not) or all
        (one line: how many could, of how many; the reason for each other is in /autoreconnect)."""
        names = sorted(self.engine.remotes) if target == "-all" else [target]
        done = 0
        for name in names:
            problem, actions = act(name, self.clock())
            if problem and target != "-all":
                error(problem)
                return weechat.WEECHAT_RC_ERROR
            done += 0 if problem else 1
            self.run(actions)
        if target == "-all" or verb == "reset":
            message(f"{verb}: {done} of {len(names)} remote(s)")
        return weechat.WEECHAT_RC_OK

    def print_list(self) -> None:
        engine = self.engine
        now = self.clock()
        state = "on" if engine.settings.enabled else "off"
        if not engine.remotes:
            message(f"no relay remote (autoreconnect {state})")
            return
        message(f"{len(engine.remotes)} relay remote(s) (autoreconnect {state}):")
        for name in sorted(engine.remotes):
            weechat.prnt("", f"  {describe(engine, engine.remotes[name], now)}")

    def complete(self, completion: str) -> None:
        """Tab in the arguments of /autoreconnect outbox."""
        args = weechat.completion_get_string(completion, "args")
        base_word = weechat.completion_get_string(completion, "base_word")
        for item in self.outbox.complete(args, base_word):
            weechat.completion_list_add(completion, item, 0, weechat.WEECHAT_LIST_POS_END)

    # -- the bar item --------------------------------------------------------------

    def text(self) -> str:
        return bar_text(self.engine, self.clock(), self.delivery.outbox)

    def refresh(self) -> None:
        """The bar item may have changed: update it after this burst of events.

        The shell's flush updates it once for every event until then, and at
        most every BAR_INTERVAL s: a storm on many remotes does not rebuild
        the text at each event.
        """
        self.dirty = True
        self.defer()

    def flush(self) -> None:
        if self.dirty and not self.soon:
            wait = self.built + BAR_INTERVAL - self.clock()
            if wait > 0:
                self.soon = weechat.hook_timer(max(1, int(round(wait * 1000))), 0, 1, "bar_soon_cb", "")
            else:
                self.update()

    def soon_fired(self) -> None:
        self.soon = ""  # fired: it is gone
        self.update()

    def update(self) -> None:
        """Update the bar item if its text changed; count down while waiting."""
        self.dirty = False
        if self.soon:
            weechat.unhook(self.soon)
            self.soon = ""
        self.built = self.clock()
        text = self.text()
        if text != self.last:
            self.last = text
            weechat.bar_item_update(BAR_ITEM)
        waiting = bool(self.engine.pending())
        if waiting and not self.countdown:
            self.countdown = weechat.hook_timer(1000, 1, 0, "bar_timer_cb", "")
        elif not waiting and self.countdown:
            weechat.unhook(self.countdown)
            self.countdown = ""

    # -- passwords -------------------------------------------------------------------

    def warn_plain_passwords(self) -> None:
        """Say once per remote that its password or TOTP secret is in plain text in relay.conf."""
        for link in sorted(self.links, key=lambda link: link.name):
            plain = [what for option_name, what, _ in SECRET_OPTIONS if plain_secret(link.name, option_name)]
            if plain and not link.warned:
                link.warned = True
                one = len(plain) == 1
                message(
                    f"remote[{link.name}]: the {' and the '.join(plain)} {'is' if one else 'are'} stored in plain "
                    f"text in relay.conf; move {'it' if one else 'them'} to secured data with "
                    f'"/{COMMAND} secure {link.name}"'
                )

    def secure(self, name: str, _now: float) -> Tuple[str, List[Action]]:
        """Move the plain password and TOTP secret of a remote into /secure; the values are never shown.

        Each is moved intact (a value /secure set keeps as it is) or not at all
        (and no copy is left in secured data). Returns (why not, no actions).
        """
        plain = [secret for secret in SECRET_OPTIONS if plain_secret(name, secret[0])]
        if not plain:
            value = weechat.config_string(remote_option(name, "password"))
            return f"remote[{name}]: {secure_problem(value)}: nothing changed", []
        moved, problems = 0, []
        for option_name, what, suffix in plain:
            value = weechat.config_string(remote_option(name, option_name))
            problem = secure_problem(value, what) or self.move_secret(name, option_name, what, suffix, value)
            if problem:
                problems.append(problem)
            else:
                moved += 1
        if moved:
            self.links.of(name).warned = False
        if problems:
            return f"remote[{name}]: {'; '.join(problems)}: {'left in plain text' if moved else 'nothing changed'}", []
        return "", []

    def move_secret(self, name: str, option_name: str, what: str, suffix: str, value: str) -> str:
        """Put a secret of a remote into secured data and point its option there; why not ("" if done).

        The script's own name for it is relay_remote_NAME (relay_remote_NAME_totp
        for the TOTP secret). A value an earlier secure left there, that no option
        uses any more (the option was set again in plain text), is replaced; a
        value some option uses is the user's: the next free name is taken.
        """
        option_ = remote_option(name, option_name)
        base = f"relay_remote_{name}{suffix}"
        key = base if not options_using(f"${{sec.data.{base}}}") else self.free_key(base)
        old = secured_data(key)
        core = weechat.buffer_search_main()
        weechat.command(core, f"/mute /secure set {key} {value}")
        if secured_data(key) != value:
            problem = f'the {what} could not be stored in secured data "{key}"'
        elif weechat.config_option_set(option_, f"${{sec.data.{key}}}", 1) == weechat.WEECHAT_CONFIG_OPTION_SET_ERROR:
            problem = f"relay.remote.{name}.{option_name} could not be set"
        else:
            replaced = " (the value it held is replaced)" if old and old != value else ""
            message(
                f'remote[{name}]: {what} moved to secured data "{key}"{replaced}; relay.remote.{name}.{option_name} '
                f"is now ${{sec.data.{key}}} (/save to keep it; /secure passphrase encrypts sec.conf)"
            )
            return ""
        weechat.command(core, f"/mute /secure set {key} {old}" if old else f"/mute /secure del {key}")
        return problem

    @staticmethod
    def free_key(base: str) -> str:
        """A name of secured data after `base` (base_2, base_3...) not used yet: the user's own
        data is never overwritten."""
        number = 2
        while secured_data(f"{base}_{number}") or options_using(f"${{sec.data.{base}_{number}}}"):
            number += 1
        return f"{base}_{number}"


class StatusCheck:
    """Learns each remote's real status when its signals may have been missed
    (after a reload, the relay plugin's return), from what WeeChat shows."""

    def __init__(
        self,
        *,
        engine: Engine,
        links: Links,
        runner: Runner,
        courier: Courier,
        run: Callable[[List[Action]], None],
        clock: Callable[[], float],
    ) -> None:
        self.engine = engine
        self.links = links
        self.runner = runner
        self.courier = courier
        self.run = run
        self.clock = clock

    def read_statuses(self) -> Dict[str, str]:
        """Each remote's status as /remote list shows it (WeeChat 4.4+), read quietly."""
        texts = {weechat.gettext(text): status for text, status in STATUS_TEXTS}
        found = {}
        for line in self.runner.quietly("/remote list")[1]:
            match = REMOTE_LIST_LINE.match(weechat.string_remove_color(line.rpartition("\t")[2], ""))
            if match and match.group(2) in texts:
                found[match.group(1)] = texts[match.group(2)]
        return found

    def connected_now(self, name: str) -> bool:
        """Whether WeeChat has the link of a remote up (a ping it takes without a word)."""
        rc, lines = self.runner.quietly(f"/remote send {name} {PING}")
        return rc == weechat.WEECHAT_RC_OK and not lines

    def check(self) -> None:
        """Read every remote's status and act on what changed."""
        found = self.read_statuses()
        now = self.clock()
        for name, remote in list(self.engine.remotes.items()):
            status = found.get(name) or (STATUS_CONNECTED if self.connected_now(name) else "")
            if not status:
                # WeeChat 4.3 shows no status: not connected, maybe in flight
                if remote.status in STATUSES_IN_FLIGHT:
                    self.check_later(name)
                    continue
                status = STATUS_DISCONNECTED if remote.status != STATUS_UNKNOWN else STATUS_UNKNOWN
            if status == STATUS_DISCONNECTED and remote.wanted and remote.status != STATUS_DISCONNECTED:
                # cancel a native attempt WeeChat planned while we could not see
                self.runner.quietly(f"/remote disconnect {name}")
            self.run(self.engine.status_checked(name, status, now))
            link = self.links.of(name)
            link.ready_fallback.disarm()
            link.ready_soon.disarm()
            if status == STATUS_CONNECTED:
                self.courier.link_ready(name)
            else:
                self.courier.link_down(name)
        # decide on drops found now (settle only schedules: no /remote command)
        self.run(self.engine.settle())

    def check_later(self, name: str) -> None:
        """An attempt WeeChat 4.3 may have in flight ends within its connection
        timeout: if no signal came by then, the remote is down."""
        timeout = weechat.config_integer(weechat.config_get("weechat.network.connection_timeout"))
        link = self.links.of(name)
        arm_timer(link.status_check, timeout + HANDSHAKE_SECONDS + 1, "status_check_cb", link.key)

    def fired(self, key: str) -> None:
        link = self.links.find(key)
        if link is not None:
            link.status_check.fired()
            remote = self.engine.remotes.get(link.name)
            if remote is not None and remote.status in STATUSES_IN_FLIGHT:
                self.run(self.engine.status_checked(link.name, STATUS_DISCONNECTED, self.clock()))
                self.run(self.engine.settle())


# ===========================================================================
# === 16. Shell: wiring (WeeChat's events to the core, the core's actions to WeeChat)
# ===========================================================================


class Shell:
    """Wires WeeChat's events to the engine and the delivery, and their actions to WeeChat.

    One record (Link) per remote holds every hook of that remote; each part
    gets what it uses at construction and owns its own hooks: ConfigGuard
    (relay.conf), Native (WeeChat's own reconnection), Prober (heartbeat,
    polls, timeouts), NetWatch (network changes), Courier and InputGate
    (outbox), Console (command, bar item), StatusCheck.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.version = int(weechat.info_get("version_number", "") or 0)
        self.engine = Engine(Settings(), route=route_of)
        self.delivery = Delivery(Settings())
        self.links = Links()
        self.runner = Runner()
        self.hooks: List[str] = []
        self.deferred = ""
        self.reconcile_needed = False
        self.quitting = False
        self.relay_gone = False  # the relay plugin is unloaded: remotes wait for it
        self.options = Options(self.options_changed)
        self.config = ConfigGuard(self.options, self.options_retaken, self.unloading, self.quit)
        self.native = Native(self.links, self.engine, self.runner, self.version, self.defer)
        self.prober = Prober(
            engine=self.engine,
            links=self.links,
            runner=self.runner,
            run=self.run,
            clock=clock,
            wall_clock=wall_clock,
            quitting=lambda: self.quitting,
        )
        self.netwatch = NetWatch(self.network_changed)
        self.courier = Courier(
            self.delivery, self.links, wall_clock, self.outbox_changed, unconfirmed=self.line_unconfirmed, clock=clock
        )
        self.gate = InputGate(self.engine, self.delivery, self.courier, wall_clock)
        self.console = Console(
            engine=self.engine,
            delivery=self.delivery,
            outbox=OutboxCommand(self.delivery, self.courier, wall_clock),
            links=self.links,
            run=self.run,
            clock=clock,
            defer=self.defer,
        )
        self.status = StatusCheck(
            engine=self.engine, links=self.links, runner=self.runner, courier=self.courier, run=self.run, clock=clock
        )
        self.handlers: Dict[type, Callable[[Any], None]] = {
            Schedule: self.do_schedule,
            Cancel: self.do_cancel,
            Connect: self.do_connect,
            Disconnect: self.do_disconnect,
            GiveUp: self.do_giveup,
            Watch: self.prober.watch,
            Unwatch: self.prober.unwatch,
            Heartbeat: self.prober.heartbeat,
            Poll: self.prober.poll,
            PollAt: self.prober.poll_at,
            Diagnose: self.prober.diagnose,
            DropLink: self.do_droplink,
            ServerBack: self.do_serverback,
            NetworkBack: self.do_networkback,
            NoRoute: self.do_noroute,
            Notice: self.do_notice,
        }

    # -- life cycle ----------------------------------------------------------

    def start(self) -> bool:
        """Check WeeChat, create options, learn the remotes, hook signals; False if unusable."""
        if self.version < MIN_WEECHAT_VERSION:
            error("WeeChat >= 4.3.0 is required (relay remotes)")
            return False
        if not LAYOUT_VERSIONS[0] <= self.version < LAYOUT_VERSIONS[1]:
            error("this WeeChat version is not supported yet (remote names can not be read from signals)")
            return False
        problem = self.config.start()
        if problem:
            error(problem)
            return False
        self.engine.settings = self.delivery.settings = self.options.settings()
        self.native.start()
        for name in remote_names():
            self.adopt(name, STATUS_UNKNOWN)
        self.take_over()
        self.courier.start()  # the lines kept from before, read before a link found up sends them
        self.check_statuses()
        self.gate.start()
        self.console.start()
        self.hooks = [
            weechat.hook_signal("relay_remote_*", "remote_signal_cb", ""),
            weechat.hook_command_run("/remote", "remote_command_cb", ""),
            weechat.hook_signal("upgrade", "upgrade_cb", ""),
            weechat.hook_signal("plugin_loaded", "plugin_cb", ""),
            weechat.hook_signal("plugin_unloaded", "plugin_cb", ""),
            weechat.hook_print(weechat.buffer_search_main(), "", "remote[", 1, "core_print_cb", ""),
        ]
        self.console.warn_plain_passwords()
        self.watch_network()
        return True

    def stop(self) -> None:
        """Remove every hook and timer, give back the options."""
        self.gate.stop()
        self.courier.stop()
        self.console.stop()
        self.prober.stop()
        self.netwatch.stop()
        self.native.stop()
        for hook in [*self.hooks, self.deferred]:
            if hook:
                weechat.unhook(hook)
        self.hooks, self.deferred = [], ""
        self.config.stop()
        self.links.release_all()

    def quit(self) -> None:
        self.quitting = True

    def hand_over(self) -> None:
        """Leave the engine's state for a next instance (reload, /upgrade)."""
        state = {"time": self.wall_clock(), "remotes": self.engine.snapshot(self.clock())}
        weechat.buffer_set(weechat.buffer_search_main(), f"localvar_set_{HANDOVER_VAR}", json.dumps(state))

    def take_over(self) -> None:
        """Carry on from the state a previous instance left (if recent and valid)."""
        core = weechat.buffer_search_main()
        text = weechat.buffer_get_string(core, f"localvar_{HANDOVER_VAR}")
        if not text:
            return
        weechat.buffer_set(core, f"localvar_del_{HANDOVER_VAR}", "")
        saved, problem = parse_handover(text, self.wall_clock(), HANDOVER_MAX_AGE)
        if problem:
            error(f"ignoring saved state: {problem}")
        upgraded = weechat.info_get("weechat_upgrading", "") == "1"
        for name, values in saved.items():
            if name in self.engine.remotes:
                self.run(self.engine.restore(name, values, self.clock(), upgraded))

    def check_statuses(self) -> None:
        """Read each remote's real status (after a load, the relay plugin's return)."""
        self.status.check()
        self.prober.sync()

    # -- remotes come, go, are renamed ----------------------------------------------

    def adopt(self, name: str, status: str = STATUS_DISCONNECTED) -> None:
        """Track a remote (known at load, or just made)."""
        self.engine.remote_add(name, status)
        self.links.of(name)

    def forget(self, name: str, deleted: bool) -> None:
        """A remote is gone: its record and hooks go; its queued lines too if it was deleted."""
        if deleted:
            self.courier.forget(name)
        self.links.release(name)
        self.run(self.engine.remote_remove(name))

    def follow_rename(self, old: str, new: str) -> None:
        """A remote was renamed: its record, its queued lines and its buffers follow."""
        for full_name in carry_remote_buffers(old, new):
            error(
                f"remote[{new}]: buffer {full_name} not renamed (a buffer of the new name exists): input there is lost"
            )
        self.links.rename(old, new)
        self.courier.rename(old, new)
        self.run(self.engine.remote_rename(old, new))

    def follow(self, buffer: str, command: str, args: List[str]) -> int:
        """Run a /remote command that adds, deletes or renames remotes, and follow what it did.

        Seen from the command itself, each command of a burst (a paste, the
        fifo, a script) is followed in its order.
        """
        before = set(remote_names())
        self.runner.own(command, buffer)
        after = set(remote_names())
        if args[1] == "rename" and len(args) > 3 and args[2] in before - after and args[3] in after - before:
            self.follow_rename(args[2], args[3])
        for name in before - after:
            if self.links.get(name) is not None:
                self.forget(name, deleted=True)
        for name in after - before:
            self.adopt(name)
        self.console.warn_plain_passwords()
        return weechat.WEECHAT_RC_OK_EAT

    def reconcile(self) -> None:
        """Read the list of remotes again (relay.conf read, /set of a remote's url...)."""
        if self.relay_gone:
            return
        names = set(remote_names())
        for name in list(self.engine.remotes):
            if name not in names:
                self.forget(name, deleted=False)  # its queued lines wait for it
        for name in names:
            self.adopt(name)
        self.console.warn_plain_passwords()

    def plugin_event(self, signal: str, plugin: str) -> None:
        """The relay plugin is unloaded or loaded (/plugin, /upgrade)."""
        if os.path.basename(plugin).split(".")[0] != "relay":
            return
        if signal == "plugin_unloaded" and not self.relay_gone:
            self.relay_unloaded()
        elif signal == "plugin_loaded" and self.relay_gone:
            self.relay_loaded()

    def relay_unloaded(self) -> None:
        """Remotes are gone with relay: keep what the user wanted and the pending attempts."""
        self.relay_gone = True
        snapshot = self.engine.snapshot(self.clock())
        for link in self.links:
            for slot in link.link_slots():
                slot.disarm()
            if link.name in snapshot:
                status, wanted, attempt, due_in = snapshot[link.name]
                link.saved = (status, wanted, attempt, due_in)
            self.courier.link_down(link.name)

    def relay_loaded(self) -> None:
        """Remotes are back: those that were up or waiting get an attempt in 1 s."""
        self.relay_gone = False
        self.config.retake()
        self.reconcile()
        for link in self.links:
            saved, link.saved = link.saved, None
            if saved is not None:
                self.run(self.engine.restore(link.name, saved, self.clock(), True))
        self.check_statuses()

    # -- signals and commands ------------------------------------------------

    def remote_signal(self, signal: str, pointer: str) -> None:
        status = signal[len("relay_remote_") :]
        if status not in (STATUS_DISCONNECTED, STATUS_CONNECTING, STATUS_WAITING_AUTH, STATUS_CONNECTED):
            return
        name = remote_name_from_pointer(pointer)
        if name is None or self.relay_gone:
            return  # while relay loads, its remotes are learned after (check_statuses)
        known = name in self.engine.remotes
        self.links.of(name)
        if status == STATUS_DISCONNECTED:
            self.native.hush(name)  # WeeChat plans its own attempt right after this signal
        self.run(self.engine.status_changed(name, status, self.clock()))
        self.prober.sync()
        self.track_ready(name, status)
        self.console.refresh()  # which also settles a drop, out of signal context
        if not known:
            self.defer(reconcile=True)

    def remote_command(self, buffer: str, command: str) -> int:
        """A /remote command is about to run: take the user's intent from it."""
        if self.runner.busy:
            return weechat.WEECHAT_RC_OK
        args = command.split()
        verb = args[1] if len(args) > 1 else ""
        name = args[2] if len(args) > 2 else ""
        if verb in ("connect", "reconnect") and name:
            allowed, actions = self.engine.user_connect(name)
            self.run(actions)
            if not allowed:
                error(f"remote[{name}]: a connection attempt is already in progress")
                return weechat.WEECHAT_RC_OK_EAT
        elif verb == "disconnect" and name:
            self.run(self.engine.user_disconnect(name))
        elif verb in ("add", "addreplace", "del", "rename"):
            return self.follow(buffer, command, args)
        return weechat.WEECHAT_RC_OK

    def core_line(self, line: str) -> None:
        """A line printed in the core buffer about a remote: WeeChat may say why its link
        drops, or that the remote answered (its version)."""
        match = REMOTE_LINE.match(line)
        if match is None:
            return
        name, text = match.groups()
        self.engine.said(name, text)
        link = self.links.get(name)
        if link is not None and link.ready_fallback and VERSION_LINE.match(text):
            # a version mismatch is printed next and drops the link: look in 1 ms
            link.ready_fallback.disarm()
            arm_timer(link.ready_soon, 0.001, "ready_soon_cb", link.key)

    def network_changed(self) -> None:
        self.run(self.engine.network_changed(self.clock()))

    def watch_network(self) -> None:
        """Watch the network changes as the options say; the engine learns whether they are."""
        self.netwatch.sync(self.engine.settings)
        self.run(self.engine.network_watched(self.netwatch.watching, self.clock()))

    # -- deferred work (out of signal and command context) -------------------

    def defer(self, reconcile: bool = False) -> None:
        """Run flush() once, 1 ms from now; reconcile: read the list of remotes again."""
        self.reconcile_needed = self.reconcile_needed or reconcile
        if not self.deferred:
            self.deferred = weechat.hook_timer(1, 0, 1, "deferred_cb", "")

    def flush(self) -> None:
        """Decide on drops and update the bar item, once per burst of events.

        The list of remotes is read again only when it may have changed
        (a /remote command, relay.conf read, an unknown remote): events
        then cost the same with 10 or 10 000 remotes.
        """
        self.deferred = ""
        reconcile, self.reconcile_needed = self.reconcile_needed, False
        if self.quitting or self.relay_gone:
            return
        self.native.flush()
        if not self.options.pointers:
            self.config.retake()
            reconcile = True
        if reconcile:
            self.reconcile()
        self.run(self.engine.settle())
        self.console.flush()

    # -- options ---------------------------------------------------------------

    def options_changed(self) -> None:
        """Options were set or retaken: tell the core."""
        settings = self.options.settings()
        self.delivery.settings = settings
        self.run(self.engine.settings_changed(settings, self.clock()))
        self.prober.sync()
        self.watch_network()

    def options_retaken(self) -> None:
        """The options are back in relay.conf (after /save, /reload...)."""
        self.options_changed()
        self.defer(reconcile=True)

    def unloading(self) -> bool:
        """/upgrade or /plugin may unload the script or relay: no request may be in flight
        (/upgrade refuses to run with URL transfers going on); whether any was stopped."""
        stopped = any(link.heartbeat or link.poll or link.diagnosis or link.delivery for link in self.links)
        self.prober.cancel()
        self.courier.cancel_requests()
        self.defer(reconcile=True)
        return stopped

    def outbox_changed(self) -> None:
        self.console.refresh()

    def line_unconfirmed(self, name: str) -> None:
        """A line sent to a remote has had no answer for a while: its link is checked now."""
        self.run(self.engine.line_unconfirmed(name, self.clock()))

    # -- the outbox: input flows once the link answers --------------------------

    def track_ready(self, name: str, status: str) -> None:
        """Input flows to a remote once it answered after connecting (or 2 s passed)."""
        link = self.links.of(name)
        self.courier.link_down(name)
        link.ready_soon.disarm()
        if status == STATUS_CONNECTED:
            arm_timer(link.ready_fallback, READY_FALLBACK_SECONDS, "ready_fallback_cb", link.key)
        else:
            link.ready_fallback.disarm()

    def became_ready(self, key: str, slot: Callable[[Link], Slot]) -> None:
        link = self.links.find(key)
        if link is None:
            return
        slot(link).fired()
        remote = self.engine.remotes.get(link.name)
        if remote is not None and remote.status == STATUS_CONNECTED:
            self.courier.link_ready(link.name)

    # -- actions -------------------------------------------------------------

    def run(self, actions: List[Action]) -> None:
        for action in actions:
            self.handlers[type(action)](action)
        if actions:
            self.prober.sync()
            self.console.refresh()

    def do_schedule(self, action: Schedule) -> None:
        self.prober.timer(lambda link: link.attempt, action.name, action.due, "attempt_timer_cb")
        if not action.quiet:
            attempt = f"{action.attempt}/{action.max_attempts}" if action.max_attempts else f"{action.attempt}"
            network(f"remote[{action.name}]: reconnecting in {duration(action.wait)} (attempt {attempt})")

    def do_cancel(self, action: Cancel) -> None:
        link = self.links.get(action.name)
        if link is None:
            return
        link.poll_timer.disarm()
        link.attempt.disarm()
        if action.announce:  # a pending attempt, with its timer or waiting for the network
            network(f"remote[{action.name}]: auto-reconnection cancelled")

    def do_connect(self, action: Connect) -> None:
        if not remote_option(action.name, "url"):
            self.forget(action.name, deleted=False)
            return
        link = self.links.get(action.name)
        if link is not None:
            link.poll_timer.disarm()
        self.runner.own(f"/remote connect {action.name}")
        self.run(self.engine.connect_issued(action.name, self.clock()))
        self.defer()

    def do_disconnect(self, action: Disconnect) -> None:
        self.runner.own(f"/remote disconnect {action.name}")

    def do_droplink(self, action: DropLink) -> None:
        network(f"remote[{action.name}]: {action.reason}: disconnecting")
        self.runner.own(f"/remote disconnect {action.name}")

    def do_serverback(self, action: ServerBack) -> None:
        network(f"remote[{action.name}]: the server answers again: reconnecting now")

    def do_networkback(self, action: NetworkBack) -> None:
        what = "the network is back" if action.offline else "the network changed"
        network(f"remote[{action.name}]: {what}: reconnecting now")

    def do_noroute(self, action: NoRoute) -> None:
        safety = ""
        if action.check is not None:
            safety = f" (network changes are not watched: next try in {duration(action.check)}, then further apart)"
        network(f"remote[{action.name}]: no route to the server: waiting for the network{safety}")

    def do_notice(self, action: Notice) -> None:
        network(f"remote[{action.name}]: {action.text}")

    def do_giveup(self, action: GiveUp) -> None:
        name = action.name
        retry = f'"/remote connect {name}"'
        if action.why == GIVEUP_ATTEMPTS:
            network(
                f"remote[{name}]: giving up after {action.count} failed attempts "
                f"(relay.network.autoreconnect_max); retry with {retry}"
            )
            return
        url = remote_url(name)
        host = urllib.parse.urlsplit(url).hostname or url
        said = FAILURE_CLASSES[action.why].giveup.format(
            name=name, count=action.count, detail=action.detail, host=host, retry=retry
        )
        error(f"remote[{name}]: {said}")


SHELL: Optional[Shell] = None


# ===========================================================================
# === 17. WeeChat callbacks (one line each, into the shell) and main
# ===========================================================================


def remote_signal_cb(_data: str, signal: str, signal_data: str) -> int:
    if SHELL:
        SHELL.remote_signal(signal, signal_data)
    return weechat.WEECHAT_RC_OK


def remote_command_cb(_data: str, buffer: str, command: str) -> int:
    return SHELL.remote_command(buffer, command) if SHELL else weechat.WEECHAT_RC_OK


def config_command_cb(_data: str, buffer: str, command: str) -> int:
    return SHELL.config.command(buffer, command) if SHELL else weechat.WEECHAT_RC_OK


def option_change_cb(data: str, _option: str) -> None:
    if SHELL:
        SHELL.options.changed(data)


def quit_cb(_data: str, _signal: str, _signal_data: str) -> int:
    if SHELL:
        SHELL.config.quit()
    return weechat.WEECHAT_RC_OK


def upgrade_cb(_data: str, _signal: str, _signal_data: str) -> int:
    # sent before the session is saved: the core buffer keeps the state
    if SHELL:
        SHELL.hand_over()
    return weechat.WEECHAT_RC_OK


def plugin_cb(_data: str, signal: str, signal_data: str) -> int:
    if SHELL:
        SHELL.plugin_event(signal, signal_data)
    return weechat.WEECHAT_RC_OK


def deferred_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.flush()
    return weechat.WEECHAT_RC_OK


def attempt_timer_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.prober.attempt_fired(data)
    return weechat.WEECHAT_RC_OK


def watch_timer_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.prober.watch_fired(data)
    return weechat.WEECHAT_RC_OK


def poll_timer_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.prober.poll_fired(data)
    return weechat.WEECHAT_RC_OK


def status_check_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.status.fired(data)
    return weechat.WEECHAT_RC_OK


def ready_fallback_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.became_ready(data, lambda link: link.ready_fallback)
    return weechat.WEECHAT_RC_OK


def ready_soon_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.became_ready(data, lambda link: link.ready_soon)
    return weechat.WEECHAT_RC_OK


def heartbeat_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.prober.tick()
    return weechat.WEECHAT_RC_OK


def heartbeat_url_cb(data: str, _url: str, _options: Dict[str, str], output: Dict[str, str]) -> int:
    if SHELL:
        SHELL.prober.heartbeat_done(data, output)
    return weechat.WEECHAT_RC_OK


def poll_url_cb(data: str, _url: str, _options: Dict[str, str], output: Dict[str, str]) -> int:
    if SHELL:
        SHELL.prober.poll_done(data, output)
    return weechat.WEECHAT_RC_OK


def diagnose_cb(data: str, status: int, _gnutls_rc: int, sock: int, _ip_address: str, _error: str) -> int:
    if SHELL:
        SHELL.prober.diagnosed(data, status, sock)
    return weechat.WEECHAT_RC_OK


def core_print_cb(
    _data: str, _buffer: str, _date: str, _tags: str, _displayed: int, _highlight: int, _prefix: str, line: str
) -> int:
    if SHELL:
        SHELL.core_line(line)
    return weechat.WEECHAT_RC_OK


def native_print_cb(_data: str, _modifier: str, _modifier_data: str, line: str) -> str:
    return SHELL.native.line(line) if SHELL else line


def quiet_print_cb(_data: str, _modifier: str, _modifier_data: str, line: str) -> str:
    return SHELL.runner.catch(line) if SHELL else line


def input_modifier_cb(_data: str, _modifier: str, buffer: str, text: str) -> str:
    return SHELL.gate.input_for(buffer, text) if SHELL else text


def history_add_cb(_data: str, _modifier: str, buffer: str, text: str) -> str:
    return SHELL.gate.history_add(buffer, text) if SHELL else text


def handshake_url_cb(data: str, _url: str, _options: Dict[str, str], output: Dict[str, str]) -> int:
    if SHELL:
        SHELL.courier.answered_handshake(data, output)
    return weechat.WEECHAT_RC_OK


def delivery_url_cb(data: str, _url: str, _options: Dict[str, str], output: Dict[str, str]) -> int:
    if SHELL:
        SHELL.courier.answered(data, output)
    return weechat.WEECHAT_RC_OK


def delivery_retry_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.courier.retry_fired(data)
    return weechat.WEECHAT_RC_OK


def delivery_confirm_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.courier.confirm_fired(data)
    return weechat.WEECHAT_RC_OK


def outbox_write_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.courier.write_fired()
    return weechat.WEECHAT_RC_OK


def delivery_marker_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.courier.marker_overdue(data)
    return weechat.WEECHAT_RC_OK


def buffer_localvar_cb(_data: str, _signal: str, signal_data: str) -> int:
    if SHELL:
        SHELL.courier.marker_seen(signal_data)
    return weechat.WEECHAT_RC_OK


def buffer_opened_cb(_data: str, _signal: str, signal_data: str) -> int:
    if SHELL:
        SHELL.courier.buffer_opened(signal_data)
    return weechat.WEECHAT_RC_OK


def command_cb(_data: str, _buffer: str, args: str) -> int:
    return SHELL.console.command(args) if SHELL else weechat.WEECHAT_RC_OK


def outbox_completion_cb(_data: str, _item: str, _buffer: str, completion: str) -> int:
    if SHELL:
        SHELL.console.complete(completion)
    return weechat.WEECHAT_RC_OK


def bar_item_cb(_data: str, _item: str, _window: str) -> str:
    return SHELL.console.text() if SHELL else ""


def bar_soon_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.console.soon_fired()
    return weechat.WEECHAT_RC_OK


def bar_timer_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.console.update()
    return weechat.WEECHAT_RC_OK


def network_fd_cb(_data: str, _fd: int) -> int:
    if SHELL:
        SHELL.netwatch.readable()
    return weechat.WEECHAT_RC_OK


def network_settle_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.netwatch.settled()
    return weechat.WEECHAT_RC_OK


def shutdown_cb() -> int:
    global SHELL  # pylint: disable=global-statement
    if SHELL:
        if not SHELL.quitting:
            SHELL.hand_over()
        SHELL.stop()
        SHELL = None
    return weechat.WEECHAT_RC_OK


def main(clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time) -> Optional[Shell]:
    """Register the script and start the shell."""
    global SHELL  # pylint: disable=global-statement
    if not weechat.register(SCRIPT_NAME, SCRIPT_AUTHOR, SCRIPT_VERSION, SCRIPT_LICENSE, SCRIPT_DESC, "shutdown_cb", ""):
        return None
    SHELL = Shell(clock, wall_clock)  # set first: start() runs commands whose hooks call back
    if not SHELL.start():
        SHELL.stop()
        SHELL = None
    return SHELL


if __name__ == "__main__" and IMPORT_OK:
    main()
