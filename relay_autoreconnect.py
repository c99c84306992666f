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

When the link of a relay remote drops, the script schedules the next attempt
with an IRC-style growing delay, caps the number of consecutive attempts and
keeps WeeChat's native reconnect engine (4.4+) out of the way, so that there
is never more than one attempt in flight for a remote.

The file has two layers:

- the core (Settings, Remote, Engine, backoff_delay): pure Python, no WeeChat
  call, driven by a clock passed in; it decides;
- the shell (Shell and the *_cb functions): translates WeeChat signals,
  commands, options and timers into core calls and the core's decisions into
  WeeChat calls.
"""

from __future__ import annotations

import base64
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
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple, Union

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

# ---------------------------------------------------------------------------
# core: pure policy, no WeeChat call
# ---------------------------------------------------------------------------

STATUS_UNKNOWN = "unknown"
STATUS_DISCONNECTED = "disconnected"
STATUS_CONNECTING = "connecting"
STATUS_WAITING_AUTH = "waiting_auth"
STATUS_CONNECTED = "connected"
STATUSES_IN_FLIGHT = (STATUS_CONNECTING, STATUS_WAITING_AUTH)

# failure classes
FAILURE_NETWORK = "network"  # refused, DNS, TLS, timeout, link lost: back off
FAILURE_AUTH = "auth"  # wrong password or TOTP: stop after auth_max in a row
FAILURE_VERSION = "version"  # relay API versions differ: stop at once
FAILURE_OFFLINE = "offline"  # no route to the server: waits for the network, not counted
FAILURE_TLS = "tls"  # the server's certificate fails verification: stop after TLS_MAX in a row

# TLS failures in a row before giving up (retrying does not fix a certificate)
TLS_MAX = 2
# polls of a waiting remote's server: this often (s) in the first POLL_FAST_SECONDS
# of an outage, then twice as far apart each minute, up to autoreconnect_poll
POLL_FIRST = 2.0
POLL_FAST_SECONDS = 60.0

# a link must stay up this long (seconds) for a drop to reset the backoff
STABLE_SECONDS = 30.0
# with no cap (autoreconnect_delay_max = 0), a wait never exceeds this (seconds)
UNCAPPED_DELAY_LIMIT = 604800
# a timer that fires this early (seconds) still counts as on time
TIMER_TOLERANCE = 0.05
# the wall clock moving this much (seconds) more than the monotonic clock
# between two wake-ups means the machine was suspended (or the clock set)
CLOCK_JUMP_SECONDS = 10.0


@dataclass(frozen=True)
class Settings:
    """Values of the relay.network.autoreconnect* options."""

    enabled: bool = True
    delay: int = 10
    growing: int = 2
    delay_max: int = 600
    max_attempts: int = 0
    heartbeat: int = 60
    heartbeat_timeout: int = 20
    connect_timeout: int = 30
    poll: int = 15
    jitter: int = 30
    auth_max: int = 2
    outbox: bool = True
    outbox_commands: bool = False
    outbox_max_age: int = 600
    outbox_wait: int = 60
    network_events: bool = True
    lag_show: int = 1
    lag_max: int = 0


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


def poll_interval(outage: float, settings: Settings) -> float:
    """Seconds between two polls of a waiting remote's server, `outage` seconds into the outage.

    Often at the start (the server is most likely back soon: a restart, a
    blip), then twice as far apart each minute, up to autoreconnect_poll.
    """
    first = min(POLL_FIRST, float(settings.poll))
    if outage < POLL_FAST_SECONDS:
        return first
    return min(float(settings.poll), first * 2 ** ((outage - POLL_FAST_SECONDS) / 60.0))


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


@dataclass
class Remote:
    """Everything the engine knows about one remote."""

    name: str
    status: str = STATUS_UNKNOWN
    # does the user want it connected? None: not known yet (loaded while up)
    wanted: Optional[bool] = None
    # attempts made since the last stable link or user action
    attempt: int = 0
    # clock time of the next attempt, None if none is scheduled
    due: Optional[float] = None
    connected_at: Optional[float] = None
    dropped_at: Optional[float] = None
    drop_pending: bool = False
    drop_stable: bool = False
    gave_up: bool = False
    # the user asked for a disconnect while an attempt was in flight
    abort: bool = False
    # clock time the current attempt started (connecting), None if none
    in_flight_since: Optional[float] = None
    # a connect timeout runs for the attempt in flight
    watched: bool = False
    # what WeeChat said about the coming drop: (class, detail), None if nothing
    hint: Optional[Tuple[str, str]] = None
    # class and detail of the last failure ("" if none)
    failure: str = ""
    failure_detail: str = ""
    auth_failures: int = 0
    # clock time the pending heartbeat probe was sent, None if none
    probe_sent: Optional[float] = None
    # the server was polled while waiting (poll_answered) and needs no more
    # polls until the link is up again: it answered (an attempt was brought
    # forward) or it cannot be polled
    poll_spent: bool = False
    # clock time the link was last lost (the outage's start), None while connected
    down_since: Optional[float] = None
    tls_failures: int = 0
    # round trip of the last heartbeat check (seconds), and how many checks in a row were above lag_max
    lag: Optional[float] = None
    lag_high: int = 0


# what the hand-over keeps of a remote: status, wanted, attempt, seconds to the next attempt
Saved = Tuple[str, Optional[bool], int, Optional[float]]
SAVED_STATUSES = (STATUS_UNKNOWN, STATUS_DISCONNECTED, STATUS_CONNECTING, STATUS_WAITING_AUTH, STATUS_CONNECTED)
# attempts beyond this in a hand-over are not believed (autoreconnect_max is at most 1000000)
SAVED_ATTEMPTS_MAX = 1000000


def parse_handover(text: str, now: float, max_age: float) -> Tuple[Dict[str, Saved], str]:
    """The remotes a previous instance left (wall clock `now`), and why none are taken ("" if fine).

    The text comes from a variable anyone can set: every field is checked
    (type, range, finite); one bad field and nothing is taken.
    """
    try:
        state = json.loads(text)
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
        saved[name] = (status, wanted, attempt, None if due_in is None else float(due_in))
    return saved, ""


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
    """Remove the timer of a pending attempt."""

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
    """Stop trying: the attempt cap is reached, or retrying can not help."""

    name: str
    attempts: int
    failure: str = FAILURE_NETWORK
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
class PollAt:
    """While an attempt waits, check at this clock time whether the server answers."""

    name: str
    due: float


@dataclass(frozen=True)
class ServerBack:
    """The server of a waiting remote answers again: its attempt comes now."""

    name: str


@dataclass(frozen=True)
class NetworkBack:
    """The network changed: a remote that waited for it attempts now."""

    name: str


@dataclass(frozen=True)
class Probe:
    """Check that the link and the server answer (heartbeat)."""

    name: str


@dataclass(frozen=True)
class DropLink:
    """Close a link found dead (or stuck); the drop then follows the backoff."""

    name: str
    reason: str


Action = Union[
    Schedule, Cancel, Connect, Disconnect, GiveUp, Watch, Unwatch, Probe, DropLink, PollAt, ServerBack, NetworkBack
]


class Engine:
    """Per-remote state machine: signals and user intent in, actions out."""

    def __init__(self, settings: Settings, draw: Callable[[], float] = random.random) -> None:
        self.settings = settings
        self.draw = draw
        self.remotes: Dict[str, Remote] = {}
        # kept so that each event costs the same with 10 or 10 000 remotes
        self.connected: Set[str] = set()  # names of the remotes connected
        self.drops: Dict[str, None] = {}  # names of the drops settle() decides, in order

    # -- remotes come and go -------------------------------------------------

    def remote_add(self, name: str, status: str = STATUS_UNKNOWN) -> Remote:
        """Start tracking a remote (known at load, or just created)."""
        remote = self.remotes.get(name)
        if remote is None:
            remote = Remote(name=name)
            if status == STATUS_DISCONNECTED:
                remote.wanted = False
            self.remotes[name] = remote
            self._set_status(remote, status)
        return remote

    def _set_status(self, remote: Remote, status: str) -> None:
        remote.status = status
        if status == STATUS_CONNECTED:
            self.connected.add(remote.name)
        else:
            self.connected.discard(remote.name)

    def _drop_pending(self, remote: Remote) -> None:
        """The drop of this remote waits for settle()."""
        remote.drop_pending = True
        self.drops[remote.name] = None

    def remote_remove(self, name: str) -> List[Action]:
        """Forget a deleted remote, cancelling its pending attempt."""
        remote = self.remotes.pop(name, None)
        self.connected.discard(name)
        self.drops.pop(name, None)
        if remote is None or remote.due is None:
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
        self._set_status(remote, remote.status)
        if remote.drop_pending:
            self.drops[new] = None
        return actions

    def _rearm(self, remote: Remote) -> Schedule:
        """A new timer for the pending attempt at its current time, not announced."""
        attempt = remote.attempt + 1
        wait = backoff_delay(attempt, self.settings)
        return Schedule(remote.name, remote.due, wait, attempt, self.settings.max_attempts, True)

    # -- signals -------------------------------------------------------------

    def status_changed(self, name: str, status: str, now: float) -> List[Action]:
        """Take a relay_remote_<status> signal; return actions to run now."""
        remote = self.remotes.get(name)
        if remote is None:
            # a remote unseen so far whose first news is "disconnected" was
            # just created (/remote add); anything else means a live attempt
            self.remote_add(name, status)
            if status == STATUS_DISCONNECTED:
                return []
            remote = self.remotes[name]
        previous = remote.status
        self._set_status(remote, status)
        if status == STATUS_DISCONNECTED:
            return self._link_down(remote, previous, now)
        return self._link_up(remote, status, now)

    def _link_up(self, remote: Remote, status: str, now: float) -> List[Action]:
        """An attempt started or progressed: nothing else may be scheduled."""
        remote.drop_pending = False
        if not remote.abort:
            remote.wanted = True
        actions: List[Action] = []
        if remote.due is not None:
            remote.due = None
            actions.append(Cancel(remote.name))
        if status in STATUSES_IN_FLIGHT and remote.in_flight_since is None:
            remote.in_flight_since = now
            if self.settings.connect_timeout:
                remote.watched = True
                actions.append(Watch(remote.name, now + self.settings.connect_timeout))
        if status == STATUS_CONNECTED:
            actions.extend(self._unwatch(remote))
            remote.connected_at = now
            remote.gave_up = False
            remote.auth_failures = 0
            remote.tls_failures = 0
            remote.poll_spent = False
            remote.down_since = None
            remote.lag, remote.lag_high = None, 0
            if remote.abort:
                actions.append(Disconnect(remote.name))
        return actions

    @staticmethod
    def _unwatch(remote: Remote) -> List[Action]:
        """The attempt in flight is over (connected or failed)."""
        remote.probe_sent = None
        remote.in_flight_since = None
        if not remote.watched:
            return []
        remote.watched = False
        return [Unwatch(remote.name)]

    def _link_down(self, remote: Remote, previous: str, now: float) -> List[Action]:
        """Record a drop; the decision waits for settle()."""
        remote.abort = False
        unwatch = self._unwatch(remote)
        if previous == STATUS_DISCONNECTED:
            return unwatch
        if previous == STATUS_UNKNOWN and remote.wanted is None:
            # loaded while the remote was up: this is its first drop
            remote.wanted = True
        remote.drop_stable = (
            previous == STATUS_CONNECTED
            and remote.connected_at is not None
            and now - remote.connected_at >= STABLE_SECONDS
        ) or previous == STATUS_UNKNOWN
        remote.failure, remote.failure_detail = remote.hint or (
            (FAILURE_AUTH, "") if previous == STATUS_WAITING_AUTH else (FAILURE_NETWORK, "")
        )
        remote.hint = None
        # "in a row": consecutive attempts; any other outcome ends the run
        remote.auth_failures = remote.auth_failures + 1 if remote.failure == FAILURE_AUTH else 0
        if remote.failure == FAILURE_TLS:
            remote.tls_failures += 1
        elif not remote.failure_detail.startswith(UNSAID):  # an unsaid reason may be TLS: see tls_found
            remote.tls_failures = 0
        remote.connected_at = None
        remote.dropped_at = now
        if remote.down_since is None:
            remote.down_since = now
        self._drop_pending(remote)
        return unwatch

    def settle(self) -> List[Action]:
        """Decide on drops seen since the last call (run out of signal context)."""
        actions: List[Action] = []
        drops, self.drops = self.drops, {}
        for name in drops:
            remote = self.remotes.get(name)
            if remote is not None and remote.drop_pending:
                remote.drop_pending = False
                if remote.drop_stable:
                    remote.attempt = 0
                if remote.failure == FAILURE_OFFLINE:
                    # no route: the attempt is not counted and the delay does not grow
                    remote.attempt = max(0, remote.attempt - 1)
                actions.extend(self._plan(remote, remote.dropped_at or 0.0))
        return actions

    def _plan(self, remote: Remote, since: float) -> List[Action]:
        """Schedule the next attempt of a down remote, or give up."""
        if (
            not self.settings.enabled
            or not remote.wanted
            or remote.gave_up
            or remote.due is not None
            or remote.status != STATUS_DISCONNECTED
        ):
            return []
        limit = self.settings.max_attempts
        stop = (
            remote.failure == FAILURE_VERSION
            or (
                remote.failure == FAILURE_AUTH
                and self.settings.auth_max
                and remote.auth_failures >= self.settings.auth_max
            )
            or (remote.failure == FAILURE_TLS and remote.tls_failures >= TLS_MAX)
            or (limit and remote.attempt >= limit and remote.failure != FAILURE_OFFLINE)
        )
        if stop:
            remote.gave_up = True
            return [GiveUp(remote.name, remote.attempt, remote.failure, remote.failure_detail)]
        attempt = remote.attempt + 1
        wait = jittered(backoff_delay(attempt, self.settings), self.settings, self.draw())
        remote.due = since + wait
        return [Schedule(remote.name, remote.due, wait, attempt, limit), *self._poll_at(remote, since)]

    # -- timers --------------------------------------------------------------

    def timer_fired(self, name: str, now: float) -> List[Action]:
        """The timer of a pending attempt fired: attempt now if still due."""
        remote = self.remotes.get(name)
        if remote is None or remote.due is None:
            return []
        if now < remote.due - TIMER_TOLERANCE:
            return [self._rearm(remote)]
        remote.due = None
        if not self.settings.enabled or not remote.wanted or remote.status != STATUS_DISCONNECTED:
            return []
        limit = self.settings.max_attempts
        if limit and remote.attempt >= limit:
            # the cap was lowered while this attempt was pending
            remote.gave_up = True
            return [GiveUp(name, remote.attempt)]
        remote.attempt += 1
        return [Connect(name)]

    def connect_issued(self, name: str, now: float) -> List[Action]:
        """After an attempt was sent: if no attempt started, count a failure."""
        remote = self.remotes.get(name)
        if remote is None or remote.status != STATUS_DISCONNECTED:
            return []
        remote.dropped_at = now
        remote.drop_stable = False
        self._drop_pending(remote)
        remote.failure, remote.failure_detail = FAILURE_NETWORK, ""
        remote.auth_failures = 0
        return []

    def failure_said(self, name: str, failure: str, detail: str) -> None:
        """WeeChat printed why the link of a remote is about to drop."""
        remote = self.remotes.get(name)
        if remote is not None and remote.status != STATUS_DISCONNECTED:
            remote.hint = (failure, detail)

    def tls_found(self, name: str, detail: str) -> List[Action]:
        """The reason WeeChat did not say, looked for after the drop: the server's certificate."""
        remote = self.remotes.get(name)
        if remote is None or remote.status != STATUS_DISCONNECTED or not remote.failure_detail.startswith(UNSAID):
            return []
        remote.failure, remote.failure_detail = FAILURE_TLS, detail
        remote.tls_failures += 1
        if remote.tls_failures < TLS_MAX or remote.gave_up:
            return []
        remote.gave_up = True
        return [*self._cancel(remote, announce=False), GiveUp(name, remote.attempt, FAILURE_TLS, detail)]

    def offline(self, name: str) -> None:
        """The drop waiting for settle() came from having no route to the server."""
        remote = self.remotes.get(name)
        if remote is not None and remote.drop_pending and remote.failure == FAILURE_NETWORK:
            remote.failure = FAILURE_OFFLINE

    def online_found(self, name: str) -> List[Action]:
        """A drop taken for offline (WeeChat did not say why, see offline) reached the
        server's address after all: the attempt counts, and may be the last one."""
        remote = self.remotes.get(name)
        if remote is None or remote.status != STATUS_DISCONNECTED or remote.failure != FAILURE_OFFLINE:
            return []
        remote.failure = FAILURE_NETWORK
        remote.attempt += 1
        limit = self.settings.max_attempts
        if not limit or remote.attempt < limit or remote.gave_up:
            return []
        remote.gave_up = True
        return [*self._cancel(remote, announce=False), GiveUp(name, remote.attempt)]

    def network_changed(self, now: float) -> List[Action]:
        """A link, address or route came up: what waits for the network goes now.

        A remote without a route attempts at once; one waiting after a network
        failure polls its server at once (and attempts as soon as it answers);
        one that gave up on TLS starts over (a captive portal is gone, say).
        """
        actions: List[Action] = []
        for remote in self.remotes.values():
            if not self.settings.enabled or not remote.wanted or remote.status != STATUS_DISCONNECTED:
                continue
            if remote.gave_up and remote.failure == FAILURE_TLS:
                remote.gave_up, remote.tls_failures, remote.attempt = False, 0, 0
                actions += [NetworkBack(remote.name), *self._plan_in(remote, now, 0.0)]
            elif remote.due is not None and remote.failure == FAILURE_OFFLINE:
                remote.due = now
                actions += [NetworkBack(remote.name), self._rearm(remote)]
            elif remote.due is not None and remote.failure in ("", FAILURE_NETWORK):
                remote.poll_spent = False  # one check now, even with polls off: the network is new
                if remote.probe_sent is None and remote.due - now >= 1.0:
                    actions.append(PollAt(remote.name, now))
        return actions

    # -- dead links ------------------------------------------------------------

    def watch_fired(self, name: str, now: float) -> List[Action]:
        """The connect timeout of an attempt fired: drop it if still in flight."""
        remote = self.remotes.get(name)
        timeout = self.settings.connect_timeout
        if remote is None or remote.in_flight_since is None or remote.status not in STATUSES_IN_FLIGHT or not timeout:
            return []
        if now < remote.in_flight_since + timeout - TIMER_TOLERANCE:
            return [Watch(name, remote.in_flight_since + timeout)]
        if remote.status == STATUS_CONNECTING:
            # no socket to close yet (WeeChat bounds this step itself: 5-s
            # handshake, weechat.network.connection_timeout): look again soon
            return [Watch(name, now + 1.0)]
        reason = f"no answer within {duration(timeout)} while authenticating"
        remote.hint = (FAILURE_NETWORK, reason)
        return [DropLink(name, reason)]

    def heartbeat_needed(self) -> bool:
        """Whether a heartbeat tick has any work: a remote is connected."""
        return bool(self.settings.heartbeat) and bool(self.connected)

    def heartbeat(self, now: float) -> List[Action]:
        """Heartbeat tick: probe every connected remote not being probed."""
        actions: List[Action] = []
        for remote in self.remotes.values():
            if remote.status == STATUS_CONNECTED and remote.probe_sent is None:
                remote.probe_sent = now
                actions.append(Probe(remote.name))
        return actions

    def probe_answered(self, name: str, answered: bool, now: Optional[float] = None) -> List[Action]:
        """The probe of a remote got an answer (or none within its timeout); `now`
        measures its round trip: the lag of the link (like IRC's lag)."""
        remote = self.remotes.get(name)
        if remote is None or remote.probe_sent is None:
            return []  # the link changed meanwhile: the result is stale
        sent, remote.probe_sent = remote.probe_sent, None
        if remote.status != STATUS_CONNECTED:
            return []
        if answered:
            return self._lag(remote, None if now is None else now - sent)
        reason = f"no answer from the server within {duration(self.settings.heartbeat_timeout)} (heartbeat)"
        remote.hint = (FAILURE_NETWORK, reason)
        return [DropLink(name, reason)]

    def _lag(self, remote: Remote, lag: Optional[float]) -> List[Action]:
        """Record the lag; above autoreconnect_lag_max for two checks in a row drops the link."""
        if lag is None:
            return []
        remote.lag = lag
        limit = self.settings.lag_max
        remote.lag_high = remote.lag_high + 1 if limit and lag > limit else 0
        if remote.lag_high < 2:
            return []
        remote.lag_high = 0
        reason = f"lag {duration(lag)} above {duration(limit)} for 2 checks (autoreconnect_lag_max)"
        remote.hint = (FAILURE_NETWORK, reason)
        return [DropLink(remote.name, reason)]

    def clock_jumped(self, now: float) -> List[Action]:
        """After a suspend: probe every link now, make pending attempts now."""
        actions = self.heartbeat(now)
        for remote in self.remotes.values():
            if remote.due is not None and remote.due > now:
                remote.due = now
                actions.append(self._rearm(remote))
        return actions

    def status_checked(self, name: str, status: str, now: float) -> List[Action]:
        """The real status of a remote, read when its signals may have been missed
        (after a reload, the relay plugin's return): a change is taken as signalled."""
        remote = self.remotes.get(name)
        if remote is None or status == remote.status:
            return []
        if remote.status == STATUS_UNKNOWN and status == STATUS_DISCONNECTED:
            # loaded with nothing known: down is how it is, not a drop
            self._set_status(remote, status)
            if remote.wanted is None:
                remote.wanted = False
            return []
        return self.status_changed(name, status, now)

    # -- the server of a waiting remote comes back -----------------------------

    def polled(self, remote: Remote) -> bool:
        """Whether the server of this waiting remote is polled.

        Only after a network failure: a server that refused the password or
        speaks another API version answers polls and must not get attempts
        sooner.
        """
        return (
            bool(self.settings.poll)
            and remote.due is not None
            and not remote.poll_spent
            and remote.failure in ("", FAILURE_NETWORK)
        )

    def _poll_at(self, remote: Remote, now: float) -> List[Action]:
        """The next poll of a waiting remote's server, if one fits before its attempt."""
        if not self.polled(remote) or remote.due is None:
            return []
        interval = poll_interval(now - (remote.down_since if remote.down_since is not None else now), self.settings)
        due = now + jittered(interval, self.settings, self.draw())
        return [PollAt(remote.name, due)] if due < remote.due - 1.0 else []

    def poll_fired(self, name: str, now: float) -> List[Action]:
        """Poll time: check the server if the attempt still waits long enough."""
        remote = self.remotes.get(name)
        if (
            remote is None
            or remote.due is None
            or remote.status != STATUS_DISCONNECTED
            or remote.poll_spent
            or remote.probe_sent is not None
            or remote.due - now < 1.0
        ):
            return []
        remote.probe_sent = now
        return [Probe(name)]

    def poll_answered(self, name: str, answered: Optional[bool], now: float) -> List[Action]:
        """A poll ended: True the server answers, False not, None no verdict or no way to poll.

        A server that answers gets the attempt now, once per outage: if that
        attempt fails anyway, the backoff goes on without polls until the
        link is up again (a server that answers but refuses links is not
        hammered at the poll interval).
        """
        remote = self.remotes.get(name)
        if remote is None or remote.probe_sent is None:
            return []
        remote.probe_sent = None
        if remote.status != STATUS_DISCONNECTED or remote.due is None:
            return []
        if answered is None:
            remote.poll_spent = True
            return []
        if not answered:
            return self._poll_at(remote, now)
        remote.poll_spent = True
        remote.due = now
        return [ServerBack(name), self._rearm(remote)]

    # -- user intent ---------------------------------------------------------

    def user_connect(self, name: str) -> Tuple[bool, List[Action]]:
        """/remote connect|reconnect by the user: reset the backoff.

        Returns (allowed, actions); not allowed when an attempt is already in
        flight, since WeeChat would start a second, overlapping one.
        """
        remote = self.remotes.get(name)
        if remote is None:
            return True, []
        remote.wanted = True
        remote.abort = False
        if remote.status in STATUSES_IN_FLIGHT:
            return False, []
        remote.attempt = 0
        remote.auth_failures = 0
        remote.gave_up = False
        remote.poll_spent = False
        return True, self._cancel(remote, announce=False)

    def user_disconnect(self, name: str) -> List[Action]:
        """/remote disconnect by the user: no more attempts for this remote."""
        remote = self.remotes.get(name)
        if remote is None:
            return []
        remote.wanted = False
        remote.attempt = 0
        remote.gave_up = False
        remote.drop_pending = False
        remote.abort = remote.status in STATUSES_IN_FLIGHT
        return self._cancel(remote, announce=True)

    def _cancel(self, remote: Remote, announce: bool) -> List[Action]:
        if remote.due is None:
            return []
        remote.due = None
        return [Cancel(remote.name, announce)]

    # -- options -------------------------------------------------------------

    def settings_changed(self, settings: Settings, now: float) -> List[Action]:
        """New option values: off cancels everything, on resumes."""
        was_enabled = self.settings.enabled
        self.settings = settings
        actions: List[Action] = []
        if not settings.enabled:
            for remote in self.remotes.values():
                actions.extend(self._cancel(remote, announce=False))
        elif not was_enabled:
            # turning it on again is a fresh start; drops not settled yet are
            # planned by settle()
            for remote in self.remotes.values():
                remote.gave_up = False
                remote.attempt = 0
                remote.auth_failures = 0
                if not remote.drop_pending:
                    actions.extend(self._plan(remote, now))
        return actions

    def pending(self) -> List[Remote]:
        """Remotes with an attempt scheduled."""
        return [r for r in self.remotes.values() if r.due is not None]

    def managed(self, remote: Remote) -> bool:
        """Whether the engine brings this remote back when its link drops."""
        return self.settings.enabled and remote.wanted is not False and not remote.gave_up

    # -- hand-over across a script reload or /upgrade ------------------------

    def snapshot(self, now: float) -> Dict[str, list]:
        """What a next instance of the script needs to carry on (see restore)."""
        return {
            name: [r.status, r.wanted, r.attempt, None if r.due is None else max(0.0, r.due - now)]
            for name, r in self.remotes.items()
        }

    def restore(self, name: str, saved: Saved, now: float, upgraded: bool) -> List[Action]:
        """Take over a remote from the previous instance (snapshot, read by parse_handover).

        After /upgrade every remote is disconnected and WeeChat does not
        reconnect them: those that were up or waiting get an attempt in 1 s.
        After a script reload the state is as it was (the shell then checks
        it); a pending attempt keeps its time.
        """
        status, wanted, attempt, due_in = saved
        remote = self.remote_add(name)
        remote.wanted, remote.attempt = wanted, attempt
        if upgraded:
            self._set_status(remote, STATUS_DISCONNECTED)
            if wanted and (status != STATUS_DISCONNECTED or due_in is not None):
                remote.attempt = 0
                return self._plan_in(remote, now, 1.0)
            return []
        self._set_status(remote, status)
        if due_in is not None and status == STATUS_DISCONNECTED and wanted:
            return self._plan_in(remote, now, due_in)
        return []

    def _plan_in(self, remote: Remote, now: float, wait: float) -> List[Action]:
        if not self.settings.enabled:
            return []
        remote.due = now + wait
        return [
            Schedule(remote.name, remote.due, wait, remote.attempt + 1, self.settings.max_attempts),
            *self._poll_at(remote, now),
        ]

    # -- the user steers (command) ------------------------------------------

    def retry(self, name: str, _now: float) -> Tuple[str, List[Action]]:
        """Attempt now. Returns (error, actions): error "" if done."""
        remote = self.remotes[name]
        if remote.status != STATUS_DISCONNECTED:
            what = "is connected" if remote.status == STATUS_CONNECTED else "has an attempt in flight"
            if remote.status == STATUS_UNKNOWN:
                what = "has a status not known yet (use /remote connect)"
            return f"remote[{name}] {what}", []
        remote.wanted = True
        remote.gave_up = False
        remote.auth_failures = 0
        actions = self._cancel(remote, announce=False)
        remote.attempt += 1
        return "", actions + [Connect(name)]

    def cancel(self, name: str, _now: float) -> Tuple[str, List[Action]]:
        """Cancel the pending attempt; no more until the user connects."""
        remote = self.remotes[name]
        if remote.due is None:
            return f"remote[{name}] has no attempt pending", []
        remote.wanted = False
        return "", self._cancel(remote, announce=True)

    def reset(self, name: str, now: float) -> Tuple[str, List[Action]]:
        """Start the backoff over (a pending attempt is rescheduled as attempt 1)."""
        remote = self.remotes[name]
        remote.attempt = 0
        remote.auth_failures = 0
        remote.gave_up = False
        remote.poll_spent = False
        remote.failure = remote.failure_detail = ""
        actions = self._cancel(remote, announce=False)
        if remote.status == STATUS_DISCONNECTED and remote.wanted:
            actions += self._plan(remote, now)
        return "", actions


# -- outbox: what is typed in a remote buffer while its link is down ---------

# where a line given to a remote buffer goes while the script holds its input
ROUTE_KEEP = "keep"  # for the remote: into the outbox
ROUTE_REFUSE = "refuse"  # a command for the remote, not kept (outbox_commands off)
ROUTE_LOCAL = "local"  # runs on this WeeChat, as it would with the link up


def route_input(
    lines: List[Tuple[str, bool]], submitted: bool, to_remote: bool, keep_commands: bool
) -> List[Tuple[str, str]]:
    """Where each line given to the buffer of a remote whose input is held goes.

    lines: (text, is_command). Text always goes to the remote: WeeChat gives
    it to the buffer whoever sends it. A command goes to the remote only when
    the person submitted it (Enter on the input line) in a buffer that sends
    commands to the remote (/remote togglecmd); every other command (key
    bindings, the fifo, other scripts) runs here, as with the link up.
    """
    routes = []
    for line, is_command in lines:
        if not is_command:
            route = ROUTE_KEEP
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

# why the lines of a buffer wait for the user's word
HELD_OLD = "older than autoreconnect_outbox_max_age"
HELD_NO_BUFFER = "buffer not found on the remote"
HELD_UNKNOWN = "delivery not confirmed"


@dataclass
class QueuedLine:
    """A line typed in a remote buffer while its link was down."""

    ident: str
    remote: str
    buffer: str  # full name of the buffer on the remote WeeChat
    text: str
    queued_at: float  # wall clock: the outbox outlives restarts
    state: str = LINE_QUEUED
    missing_since: Optional[float] = None  # wall clock of the first "buffer not found"
    approved: bool = False  # the user said "send": age and waits hold it no more


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

    def of(self, remote: str = "", buffer: str = "") -> List[QueuedLine]:
        """Lines of a remote ("" every remote), of one of its buffers ("" every buffer)."""
        return [
            line
            for line in self.lines
            if (not remote or line.remote == remote) and (not buffer or line.buffer == buffer)
        ]

    def count(self, remote: str = "", buffer: str = "") -> int:
        return len(self.of(remote, buffer))

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

    def approve(self, remote: str, buffer: str = "") -> int:
        """The user says "send": these lines go, whatever their age or state."""
        lines = [line for line in self.of(remote, buffer) if line.state != LINE_SENDING]
        for line in lines:
            line.approved = True
            line.missing_since = None
            line.state = LINE_QUEUED
        return len(lines)

    def drop(self, remote: str = "", buffer: str = "") -> int:
        """Forget lines (of every remote if remote is ""); return how many."""
        dropped = self.of(remote, buffer)
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
        for line in outbox.lines
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
    data = json.loads(text)
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


# -- delivery: POST /api/input to the remote, out of band --------------------

DELIVERED = "delivered"  # the remote took the line
MISSING = "missing"  # the remote has no such buffer
REFUSED = "refused"  # the remote answered with an error: the line was not run
NOT_SENT = "not sent"  # the request never left (no route, refused connection, TLS)
UNKNOWN = "unknown"  # no answer: the line may have arrived

# curl errors raised before a request is sent (libcurl error codes)
CURL_BEFORE_SENDING = frozenset((1, 2, 3, 4, 5, 6, 7, 35, 51, 53, 58, 59, 60, 66, 77, 83, 90, 91))
# hook_url errors raised before a request is sent: invalid URL, no thread
HOOK_URL_BEFORE_SENDING = ("1", "5")

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


def delivery_outcome(output: Dict[str, str]) -> Tuple[str, str]:
    """What the answer to a POST /api/input says of its line: (outcome, detail)."""
    code = output.get("response_code", "")
    if code in ("200", "204"):
        return DELIVERED, ""
    if code and code != "0":
        said = api_error(output)
        if code in ("400", "404") and said.endswith("not found"):  # 400 up to WeeChat 4.9, 404 since 4.10
            return MISSING, said
        return REFUSED, f"HTTP {code}" + (f": {said}" if said else "")
    said = output.get("error", "") or "no answer"
    curl = output.get("error_code_curl", "")
    if (curl.isdigit() and int(curl) in CURL_BEFORE_SENDING) or output.get("error_code") in HOOK_URL_BEFORE_SENDING:
        return NOT_SENT, said
    return UNKNOWN, said


def handshake_answer(output: Dict[str, str]) -> Optional[Tuple[str, int, bool]]:
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


# ---------------------------------------------------------------------------
# shell: WeeChat glue
# ---------------------------------------------------------------------------

MIN_WEECHAT_VERSION = 0x04030000
# relay remotes have the layout read through hdata "proxy" in these versions
LAYOUT_VERSIONS = (0x04030000, 0x05000000)


@dataclass(frozen=True)
class OptionSpec:
    """One relay.network.autoreconnect* option."""

    name: str
    kind: str
    description: str
    default: str
    minimum: int = 0
    maximum: int = 0


# descriptions in WeeChat's words (relay-config.c, irc-config.c): what the option
# does, units and special values in parentheses; /set and /fset show the default
OPTIONS = (
    OptionSpec(
        "autoreconnect",
        "boolean",
        "automatically reconnect to remote relay servers when disconnected (script relay_autoreconnect)",
        "on",
    ),
    OptionSpec(
        "autoreconnect_delay",
        "integer",
        "delay before trying again to reconnect to a remote relay server (in seconds) (script relay_autoreconnect)",
        "10",
        1,
        65535,
    ),
    OptionSpec(
        "autoreconnect_delay_growing",
        "integer",
        "growing factor for autoreconnect delay to remote relay (1 = always same delay, "
        "2 = delay*2 for each retry, etc.) (script relay_autoreconnect)",
        "2",
        1,
        100,
    ),
    OptionSpec(
        "autoreconnect_delay_max",
        "integer",
        "maximum autoreconnect delay to remote relay (in seconds, 0 = no maximum) (script relay_autoreconnect)",
        "600",
        0,
        604800,
    ),
    OptionSpec(
        "autoreconnect_max",
        "integer",
        "number of failed attempts in a row before giving up (0 = unlimited) (script relay_autoreconnect)",
        "0",
        0,
        1000000,
    ),
    OptionSpec(
        "autoreconnect_jitter",
        "integer",
        "shorten each delay by a random part up to this, so that clients cut off together do not "
        "come back in the same second (in percent, 0 = no jitter) (script relay_autoreconnect)",
        "30",
        0,
        100,
    ),
    OptionSpec(
        "autoreconnect_auth_max",
        "integer",
        "number of authentication failures in a row (wrong password or TOTP) before giving up "
        "(0 = never give up for that) (script relay_autoreconnect)",
        "2",
        0,
        100,
    ),
    OptionSpec(
        "autoreconnect_outbox",
        "boolean",
        "keep text typed in the buffers of a remote relay server that is not connected and send it "
        "after the reconnection (script relay_autoreconnect)",
        "on",
    ),
    OptionSpec(
        "autoreconnect_outbox_commands",
        "boolean",
        "also keep commands for the remote typed while it is not connected (off = refuse them) "
        "(script relay_autoreconnect)",
        "off",
    ),
    OptionSpec(
        "autoreconnect_outbox_max_age",
        "integer",
        "text kept longer than this is not sent by itself: you are asked to send or drop it "
        "(in seconds, 0 = no limit) (script relay_autoreconnect)",
        "600",
        0,
        604800,
    ),
    OptionSpec(
        "autoreconnect_outbox_wait",
        "integer",
        "text kept for a buffer the remote does not have (yet, like a channel joined again after a "
        "restart) is tried again for this long, then waits for you to send, move or drop it "
        "(in seconds) (script relay_autoreconnect)",
        "60",
        1,
        86400,
    ),
    OptionSpec(
        "autoreconnect_network_events",
        "boolean",
        "watch the system's network changes (links, addresses, routes; Linux netlink, BSD and macOS "
        "routing socket): when one may bring a server within reach, remotes waiting for the network "
        "reconnect and remotes waiting after a network failure check their server at once "
        "(script relay_autoreconnect)",
        "on",
    ),
    OptionSpec(
        "autoreconnect_lag_show",
        "integer",
        "show the lag of a connected remote (the round trip of its heartbeat check) in the bar item "
        "and /autoreconnect when it is at least this (in seconds, 0 = always) (script relay_autoreconnect)",
        "1",
        0,
        3600,
    ),
    OptionSpec(
        "autoreconnect_lag_max",
        "integer",
        "drop and reconnect a link whose lag stays above this for two heartbeat checks in a row "
        "(in seconds, 0 = never) (script relay_autoreconnect)",
        "0",
        0,
        3600,
    ),
    OptionSpec(
        "autoreconnect_heartbeat",
        "integer",
        "interval between two checks that the link and the server of a connected remote answer "
        "(in seconds, 0 = disable) (script relay_autoreconnect)",
        "60",
        0,
        86400,
    ),
    OptionSpec(
        "autoreconnect_heartbeat_timeout",
        "integer",
        "a check without answer within this delay drops the link and reconnects "
        "(in seconds) (script relay_autoreconnect)",
        "20",
        1,
        3600,
    ),
    OptionSpec(
        "autoreconnect_poll",
        "integer",
        "while an attempt waits after a network failure, check at this interval whether the server "
        "answers (one HTTP request, no login) and reconnect as soon as it does "
        "(in seconds, 0 = disable) (script relay_autoreconnect)",
        "15",
        0,
        86400,
    ),
    OptionSpec(
        "autoreconnect_connect_timeout",
        "integer",
        "drop a connection attempt still connecting or authenticating after this delay "
        "(in seconds, 0 = disable) (script relay_autoreconnect)",
        "30",
        0,
        3600,
    ),
)

OPTION_NAMES = frozenset(spec.name for spec in OPTIONS)

COMMAND = "autoreconnect"
COMMAND_DESC = "automatic reconnection of remote relay servers"
COMMAND_ARGS = (
    "[list] || retry|cancel|reset <name>|-all || secure <name>|-all "
    "|| outbox [list] || outbox send|drop <name>|-all [<buffer>] || outbox move <name> <buffer> <new_buffer>"
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
        "raw[secure]: move a password stored in plain text into secured data (/secure) and set "
        "relay.remote.name.password to it; the password is never displayed",
        "raw[outbox]: list, send now, drop, or move to another buffer the lines typed in the buffers of a "
        "remote while it was not connected; sent after the reconnection, they are kept meanwhile in "
        "relay_autoreconnect_outbox.json in WeeChat's data directory; send also sends the lines that wait "
        "for your word (too old, buffer not found, delivery not confirmed)",
        "name: name of remote relay server (see /remote list)",
        "raw[-all]: all remote relay servers",
        "buffer: full name of a buffer on the remote WeeChat, as /autoreconnect outbox shows it "
        "(for example irc.libera.#weechat)",
        "new_buffer: full name of the buffer on the remote WeeChat that gets the lines instead",
        "",
        "Options: /set relay.network.autoreconnect*",
        "Bar item: relay_autoreconnect (remotes waiting, with a countdown, or given up, and lines kept)",
        "",
        "Examples:",
        "  /autoreconnect",
        "  /autoreconnect retry home",
        "  /autoreconnect cancel -all",
        "  /autoreconnect secure home",
        "  /autoreconnect outbox send home",
        "  /autoreconnect outbox move home irc.libera.#old irc.libera.#new",
    )
)
COMMAND_COMPLETION = " || ".join(
    (
        "list",
        "retry %(relay_remotes)|-all",
        "cancel %(relay_remotes)|-all",
        "reset %(relay_remotes)|-all",
        "secure %(relay_remotes)|-all",
        "outbox list|send|drop|move %(relay_remotes)|-all",
    )
)
BAR_ITEM = "relay_autoreconnect"

# commands that read or write relay.conf: our options leave its section
# while they run (see Options)
CONFIG_COMMANDS = ("save", "reload", "upgrade", "plugin")


# WeeChat's own lines that tell why a link drops (English; other languages
# fall back on the signal sequence)
FAILURE_LINES = (
    (re.compile(r"^remote\[([^\]]+)\]: error: (authentication failed.*)$"), FAILURE_AUTH),
    (re.compile(r"^remote\[([^\]]+)\]: API version mismatch: (.*)$"), FAILURE_VERSION),
    # WeeChat's handshake (curl): the reason of a network or TLS failure
    (re.compile(r"^remote\[([^\]]+)\]: handshake failed with URL \S+, error: (.*)$"), FAILURE_NETWORK),
    # WeeChat 4.10 says only "response code: 0" when curl failed: the reason is looked for (diagnose)
    (re.compile(r"^remote\[([^\]]+)\]: handshake failed with URL \S+, (response code: .*)$"), FAILURE_NETWORK),
)
# a network failure whose reason WeeChat did not say (see Shell.diagnose)
UNSAID = "response code: "
# curl's words for a certificate or TLS failure (retrying does not fix them)
TLS_WORDS = re.compile(r"SSL|TLS|certificate", re.IGNORECASE)
# printed when the remote answered GET /api/version: the link is usable
VERSION_LINE = re.compile(r"^remote\[([^\]]+)\]: WeeChat: .*, API: ")
# after "connected", input waits this long (seconds) for the version line
READY_FALLBACK_SECONDS = 2.0
# the bar item: at most this many entries, rebuilt at most this often (s)
BAR_ENTRIES = 8
BAR_INTERVAL = 0.25
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
# WeeChat's own reconnection (relay.remote.NAME.autoreconnect_delay) exists since 4.4
NATIVE_VERSION = 0x04040000
# what WeeChat's own reconnection prints (msgids: translated through weechat.gettext)
NATIVE_LINES = (
    "remote[%s]: reconnecting to remote relay in %d %s, %d %s",
    "remote[%s]: reconnecting to remote relay in %d %s",
    "remote[%s]: auto-reconnection is cancelled",  # WeeChat < 4.9
    "remote[%s]: auto-reconnection is canceled",
)


def secure_problem(password: str) -> str:
    """Why a password can not be moved intact with /secure set ("" if it can)."""
    if not password:
        return "no password"
    if "${" in password:
        return "the password is already an expression (secured data?)"
    if password != password.strip(" "):
        return "the password starts or ends with a space, which /secure set can not keep"
    if any(char in password for char in "\r\n"):
        return "the password holds a line break, which /secure set can not keep"
    return ""


def native_line(text: str) -> re.Pattern:
    """A pattern for a line printed with a format (%s: the remote's name, %d: a number)."""
    pattern = re.escape(text).replace("%s", "(.+?)", 1).replace("%d", r"\d+").replace("%s", ".+?")
    return re.compile(f"^{pattern}$")


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


def failure_from_line(line: str) -> Optional[Tuple[str, str, str]]:
    """(remote name, failure class, detail) if a core line tells why a link drops."""
    for pattern, failure in FAILURE_LINES:
        match = pattern.match(line)
        if match:
            tls = failure == FAILURE_NETWORK and TLS_WORDS.search(match.group(2))
            return match.group(1), FAILURE_TLS if tls else failure, match.group(2)
    return None


def describe(engine: Engine, remote: Remote, now: float) -> str:
    """One line of /autoreconnect list for a remote."""
    limit = f"/{engine.settings.max_attempts}" if engine.settings.max_attempts else ""
    parts = [remote.status]
    if remote.status == STATUS_CONNECTED and lag_shown(engine, remote):
        parts.append(f"lag {duration(remote.lag or 0.0)}")
    if remote.due is not None and remote.failure == FAILURE_OFFLINE:
        parts.append(f"waiting for network (attempt {remote.attempt + 1} in {duration(max(0.0, remote.due - now))})")
    elif remote.due is not None:
        parts.append(f"attempt {remote.attempt + 1}{limit} in {duration(max(0.0, remote.due - now))}")
        interval = poll_interval(now - (remote.down_since or now), engine.settings) if engine.settings.poll else 0
        if engine.polled(remote) and remote.due - now > interval + 1.0:
            parts.append(f"server polled every {duration(interval)}")
    elif remote.gave_up:
        parts.append(f"gave up after {remote.attempt} attempt(s)")
    elif remote.attempt and remote.status != STATUS_CONNECTED:
        parts.append(f"attempt {remote.attempt}{limit}")
    if remote.failure:
        detail = f" ({remote.failure_detail})" if remote.failure_detail else ""
        parts.append(f"last failure: {remote.failure}{detail}")
    parts.append("managed" if engine.managed(remote) else "not managed")
    return f"{remote.name}: " + ", ".join(parts)


def lag_shown(engine: Engine, remote: Remote) -> bool:
    """Whether the lag of a connected remote is worth showing (autoreconnect_lag_show, 0 = always)."""
    return remote.lag is not None and remote.lag >= engine.settings.lag_show


def bar_text(engine: Engine, now: float, outbox: Optional[Outbox] = None) -> str:
    """Content of the bar item: remotes waiting (countdown) or given up, lag, queued input.

    At most BAR_ENTRIES entries, then how many more (/autoreconnect lists all).
    """
    queued = outbox.counts() if outbox else {}
    waiting = {n for n, r in engine.remotes.items() if r.due is not None or r.gave_up}
    lagging = {n for n in engine.connected if lag_shown(engine, engine.remotes[n])}
    with_outbox = {n for n in queued if n in engine.remotes}
    total = len(waiting) + len(lagging) + len(with_outbox)
    items: List[str] = []
    for name in sorted(waiting | lagging | with_outbox):
        if len(items) >= BAR_ENTRIES:
            break
        remote = engine.remotes[name]
        if name in lagging:
            items.append(f"{name} lag {remote.lag:.1f}s")
        if remote.due is not None and remote.failure == FAILURE_OFFLINE:
            items.append(f"{name} waiting for network")
        elif remote.due is not None:
            left = max(0, int(remote.due - now + 0.999))
            items.append(f"{name} {left}s ({remote.failure})" if remote.failure else f"{name} {left}s")
        elif remote.gave_up:
            items.append(f"{name} gave up ({remote.failure or FAILURE_NETWORK})")
        if name in queued:
            items.append(f"{name} outbox {queued[name]}")
    items = items[:BAR_ENTRIES]
    if total > len(items):
        items.append(f"+{total - len(items)} more")
    return ", ".join(items)


def message(text: str) -> None:
    """Print one line of the script in the core buffer."""
    weechat.prnt("", f"{SCRIPT_NAME}: {text}")


def network(text: str) -> None:
    """Print one line about a link (an attempt, a drop, a delivery) in the core buffer."""
    weechat.prnt("", f"{weechat.prefix('network')}{SCRIPT_NAME}: {text}")


def error(text: str) -> None:
    """Print one error line in the core buffer."""
    weechat.prnt("", f"{weechat.prefix('error')}{SCRIPT_NAME}: {text}")


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


def option_value(pointer: str, spec: OptionSpec) -> str:
    """Value of an option as a string, as /set shows it."""
    if spec.kind == "boolean":
        return "on" if weechat.config_boolean(pointer) else "off"
    return str(weechat.config_integer(pointer))


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


class Options:
    """The relay.network.autoreconnect* options.

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

    def adopt(self, deployed: Dict[str, str], where: str) -> None:
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

    def attach(self) -> bool:
        """Create the options in relay.conf's [network] section."""
        if self.pointers:
            return True
        anchor = weechat.config_get("relay.network.password")
        if not anchor:
            return False
        config_file = weechat.config_option_get_pointer(anchor, "config_file")
        section = weechat.config_option_get_pointer(anchor, "section")
        for spec in OPTIONS:
            stale = weechat.config_get(f"relay.network.{spec.name}")
            if stale:
                weechat.config_option_free(stale)
            value = self.stored(spec)
            if not weechat.config_is_set_plugin(spec.name):
                weechat.config_set_plugin(spec.name, value)
            weechat.config_set_desc_plugin(
                spec.name, f"copy of relay.network.{spec.name}, kept here by {SCRIPT_NAME}: change that option"
            )
            self.pointers[spec.name] = weechat.config_new_option(
                config_file, section, spec.name, spec.kind, spec.description, "",
                spec.minimum, spec.maximum, spec.default, value, 0,
                "", "", "option_change_cb", spec.name, "", "",
            )  # fmt: skip
        return True

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
        self.on_change()

    def settings(self) -> Settings:
        """Current values as core Settings."""
        values = {}
        for spec in OPTIONS:
            pointer = self.pointers.get(spec.name)
            values[spec.name] = option_value(pointer, spec) if pointer else self.stored(spec)
        return Settings(
            enabled=values["autoreconnect"] == "on",
            delay=int(values["autoreconnect_delay"]),
            growing=int(values["autoreconnect_delay_growing"]),
            delay_max=int(values["autoreconnect_delay_max"]),
            max_attempts=int(values["autoreconnect_max"]),
            heartbeat=int(values["autoreconnect_heartbeat"]),
            heartbeat_timeout=int(values["autoreconnect_heartbeat_timeout"]),
            connect_timeout=int(values["autoreconnect_connect_timeout"]),
            poll=int(values["autoreconnect_poll"]),
            jitter=int(values["autoreconnect_jitter"]),
            auth_max=int(values["autoreconnect_auth_max"]),
            outbox=values["autoreconnect_outbox"] == "on",
            outbox_commands=values["autoreconnect_outbox_commands"] == "on",
            outbox_max_age=int(values["autoreconnect_outbox_max_age"]),
            outbox_wait=int(values["autoreconnect_outbox_wait"]),
            network_events=values["autoreconnect_network_events"] == "on",
            lag_show=int(values["autoreconnect_lag_show"]),
            lag_max=int(values["autoreconnect_lag_max"]),
        )


def remote_option(name: str, option: str) -> str:
    """Pointer of the option relay.remote.NAME.OPTION ("" if none)."""
    return weechat.config_get(f"relay.remote.{name}.{option}")


def remote_secret(name: str, option: str) -> str:
    """Value of relay.remote.NAME.password or totp_secret, evaluated (${sec.data...}).

    Never printed, logged or kept: computed for one request.
    """
    value = weechat.config_string(remote_option(name, option))
    return weechat.string_eval_expression(value, {}, {}, {}) if "${" in value else value


def api_request(name: str, resource: str, body: str, headers: Tuple[str, ...] = ()) -> Optional[Tuple[str, dict]]:
    """URL and hook_url options of a POST to the relay API of a remote's server.

    Out of band, straight to the remote's URL, as WeeChat's own remote
    client makes its handshake (also for a remote behind a proxy); None if the
    remote has no URL.
    """
    url = weechat.config_string(remote_option(name, "url"))
    if "${" in url:
        url = weechat.string_eval_expression(url, {}, {}, {})
    if not url:
        return None
    header = "\n".join(("Accept: application/json", "Content-Type: application/json; charset=utf-8", *headers))
    options = {"post": "1", "postfields": body, "httpheader": header}
    if not weechat.config_boolean(remote_option(name, "tls_verify")):
        options.update(ssl_verifypeer="0", ssl_verifyhost="0")
    return f"{url.rstrip('/')}/api/{resource}", options


OUTBOX_FILE = "relay_autoreconnect_outbox.json"


class OutboxFile:
    """The outbox on disk, in WeeChat's data directory.

    Mode 0600 (lines may be private); rewritten whole at each change through
    a temporary file and a rename, so a crash leaves the old or the new file,
    never half of one; removed when the outbox is empty. A file that can not be
    read is never overwritten: it is set aside (or left alone) and said so.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.broken = ""  # why the file is not written (a file we could not read)

    def load(self) -> Tuple[List[QueuedLine], List[str]]:
        """Lines kept in the file, and error lines for the user."""
        try:
            with open(self.path, encoding="utf-8") as file:
                text = file.read()
        except FileNotFoundError:
            return [], []
        except (OSError, UnicodeDecodeError) as err:
            self.broken = f"outbox file {self.path} can not be read ({err})"
            return [], [f"{self.broken}: it is left as it is; queued lines are kept in memory only"]
        try:
            lines, bad = outbox_from_json(text)
        except ValueError as err:
            return [], [f"outbox file {self.path} is not valid ({err}): {self.set_aside(text, move=True)}"]
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
            self.broken = f"outbox file {self.path} could not be set aside ({err})"
            return f"{self.broken}; it is left as it is and queued lines are kept in memory only"
        return f"kept as {target}" + ("; the outbox starts empty" if move else "")

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
        if self.broken:
            return self.broken
        try:
            if outbox.lines:
                self.write(self.path, outbox_to_json(outbox))
            elif os.path.exists(self.path):
                os.remove(self.path)
        except OSError as err:
            return f"outbox file {self.path} can not be written ({err})"
        return ""


# a line whose buffer the remote does not have is tried again this often (s),
# and at once when the buffer appears
MISSING_RETRY_SECONDS = 5.0
# a delivery request without an answer after this time (ms) may have arrived
DELIVERY_TIMEOUT_MS = 10000


@dataclass
class Delivery:
    """Where the delivery of one remote's outbox stands (its hooks are in its Link)."""

    line: Optional[QueuedLine] = None  # the line of the request in flight (None: the handshake)
    auth: Optional[Tuple[str, int, bool]] = None  # the server's answer to the handshake
    salted: Tuple[str, str] = ("", "")  # (salt, Authorization) computed last
    delivered: int = 0  # lines the remote took in this round
    stopped: str = ""  # delivery waits for the next connection or the user's word
    told: Set[str] = field(default_factory=set)  # notices given since the outbox was empty


# the hooks a Link holds (its attributes), each armed and disarmed through Links
LINK_HOOKS = ("attempt", "watch", "poll", "probe", "ready_timer", "check", "request", "retry")


@dataclass
class Link:
    """Everything the shell holds for one remote.

    Its hooks are called back with `key`, which outlives renames: a rename
    changes `name` and nothing else.
    """

    name: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempt: str = ""  # timer: the next attempt
    watch: str = ""  # timer: the connect timeout of the attempt in flight
    poll: str = ""  # timer: the next poll of a waiting remote's server
    probe: str = ""  # hook_url: a heartbeat or a poll in flight
    ready_timer: str = ""  # timer: input flows even if the remote's version line never comes
    check: str = ""  # timer: a status WeeChat 4.3 can not show is taken as down
    request: str = ""  # hook_url: an outbox request in flight
    retry: str = ""  # timer: outbox lines whose buffer was missing go again
    ready: bool = False  # the remote answered after connecting: typed input flows
    warned: bool = False  # told that its password is in plain text
    hushed: bool = False  # it dropped: WeeChat's own attempt is cancelled at the next flush
    saved: Optional[Saved] = None  # its state while the relay plugin is unloaded
    delivery: Delivery = field(default_factory=Delivery)


class Links:
    """The records of every remote, by name and by key (hooks call back with the key).

    One arm, one disarm and one release path for their hooks.
    """

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

    def arm(self, link: Link, hook_name: str, hook: str) -> None:
        """Keep a new hook in a record, removing the one it replaces."""
        self.disarm(link, hook_name)
        setattr(link, hook_name, hook)

    @staticmethod
    def disarm(link: Link, hook_name: str) -> None:
        hook = getattr(link, hook_name)
        if hook:
            weechat.unhook(hook)
            setattr(link, hook_name, "")

    @staticmethod
    def fired(link: Link, hook_name: str) -> None:
        """A one-shot hook called back: WeeChat has removed it."""
        setattr(link, hook_name, "")

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
            for hook_name in LINK_HOOKS:
                self.disarm(link, hook_name)
            del self.by_key[link.key]
        return link

    def release_all(self) -> None:
        for name in list(self.by_name):
            self.release(name)


class ConfigGuard:
    """relay.conf as the user configured it, whatever reads or writes it.

    Our options step out of relay.conf's [network] section (see Options) while
    the file is read or written: around /save, /reload, /upgrade and /plugin
    in any spelling WeeChat runs (incomplete names, aliases, /mute, /eval,
    triggers and scripts run commands through the same hook), and at quit.
    WeeChat's native delays are never touched (see Native).
    """

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.options = Options(shell.options_changed)
        self.running = False  # a config command runs with relay.conf released
        self.hooks: List[str] = []

    def start(self) -> bool:
        """Create the options and watch what reads or writes relay.conf; False without relay."""
        self.adopt_deployed()
        if not self.options.attach():
            return False
        self.hooks = [
            weechat.hook_signal("quit", "quit_cb", ""),
            weechat.hook_command_run("/*", "config_command_cb", ""),
        ]
        return True

    def stop(self) -> None:
        for hook in self.hooks:
            weechat.unhook(hook)
        self.hooks = []
        self.release()

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
        if self.options.attach():
            self.shell.options_changed()
            self.shell.defer(reconcile=True)

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
            # retaken later if still there; /upgrade refuses to run with URL hooks
            self.release()
            self.shell.prober.cancel()
            self.shell.courier.cancel_requests()
            self.shell.defer(reconcile=True)
        return weechat.WEECHAT_RC_OK

    def quit(self) -> None:
        self.shell.quitting = True
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

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
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
        link = self.shell.links.get(name)
        if link is None or not self.shell.engine.settings.enabled or self.shell.version < NATIVE_VERSION:
            return
        link.hushed = True
        if not self.hook:
            self.hook = weechat.hook_modifier(f"{INPUT_PRIORITY}|weechat_print", "native_print_cb", "")
        self.shell.defer()

    def line(self, line: str) -> str:
        """weechat_print modifier: drop WeeChat's lines about its own attempt of a hushed remote."""
        text = weechat.string_remove_color(line.rpartition("\t")[2], "")
        for pattern in self.lines:
            match = pattern.match(text)
            link = self.shell.links.get(match.group(1)) if match else None
            if link is not None and link.hushed:
                return ""
        return line

    def flush(self) -> None:
        """Cancel the attempts WeeChat planned for the remotes that dropped."""
        for link in self.shell.links:
            if link.hushed:
                remote = self.shell.engine.remotes.get(link.name)
                if remote is not None and remote.status == STATUS_DISCONNECTED:
                    self.shell.status.quietly(f"/remote disconnect {link.name}")
                link.hushed = False
        self.stop()


def url_address(url: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    """The IP address a URL gives as its host (None for a name)."""
    try:
        return ipaddress.ip_address(urllib.parse.urlsplit(url).hostname or "")
    except ValueError:
        return None


def route_to(url: str, detail: str) -> Optional[bool]:
    """Whether this machine has a route to a URL's host: True, False (offline), None (not known).

    For an address: the kernel's answer to a UDP connect, which sends no
    packet. For a name (resolving it could block): offline only when WeeChat
    could not resolve it (or did not say why it failed: WeeChat 4.10, then
    the shell asks, see Prober.diagnose) and the machine has no default route.
    """
    address = url_address(url)
    if address is None:
        unresolved = "resolve" in detail or detail.startswith(UNSAID)
        return False if unresolved and default_route() is False else None
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        try:
            udp.connect((str(address), 9))
        except OSError as err:
            return False if err.errno == errno.ENETUNREACH else None
    return True


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


def default_route() -> Optional[bool]:
    """Whether the machine has a default route (IPv4 or IPv6), from /proc/net (Linux; None elsewhere)."""
    try:
        with open("/proc/net/route", encoding="ascii") as ipv4, open("/proc/net/ipv6_route", encoding="ascii") as ipv6:
            return default_route_in(ipv4.read(), ipv6.read())
    except OSError:
        return None


# a change of the network is acted on this long (ms) after the last message of a burst
NETWORK_SETTLE_MS = 300


class NetWatch:
    """The system's network changes: a netlink socket (Linux) or a routing socket (BSD,
    macOS) watched with hook_fd, no thread and no blocking call; elsewhere nothing."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.sock: Optional[socket.socket] = None
        self.hook = ""  # hook_fd on the socket
        self.settle = ""  # timer: a burst of messages is over
        self.told = False

    def sync(self) -> None:
        """Watch while autoreconnect_network_events is on (and the script enabled)."""
        settings = self.shell.engine.settings
        if settings.enabled and settings.network_events and not self.hook:
            self.start()
        elif not (settings.enabled and settings.network_events) and self.hook:
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

    def readable(self) -> None:
        """Read every message waiting; a change that may bring a server within reach is acted on soon."""
        gains = netlink_gains if hasattr(socket, "AF_NETLINK") else route_socket_gains
        gained = False
        while self.sock is not None:
            try:
                data = self.sock.recv(65536)
            except OSError:  # no more messages (EAGAIN), or an overrun: it ends this read
                break
            if not data:
                break
            gained = gains(data) or gained
        if gained and not self.settle:
            self.settle = weechat.hook_timer(NETWORK_SETTLE_MS, 0, 1, "network_settle_cb", "")

    def settled(self) -> None:
        self.settle = ""
        self.shell.run(self.shell.engine.network_changed(self.shell.clock()))


class Prober:
    """Checks links and servers: the heartbeat, connect timeouts, polls of the
    server of a waiting remote, and clock jumps (suspend and resume)."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.heartbeat = ""  # the one heartbeat timer, while a remote is connected
        self.interval = 0
        self.last_wake = (shell.clock(), shell.wall_clock())

    def stop(self) -> None:
        if self.heartbeat:
            weechat.unhook(self.heartbeat)
            self.heartbeat = ""

    def check_clock(self) -> None:
        """On each wake-up: a wall clock far ahead of the monotonic one is a resume."""
        now, wall = self.shell.clock(), self.shell.wall_clock()
        jump = (wall - self.last_wake[1]) - (now - self.last_wake[0])
        self.last_wake = (now, wall)
        if abs(jump) > CLOCK_JUMP_SECONDS:
            network(f"clock jumped by {duration(abs(jump))} (suspend/resume?): checking remotes now")
            self.shell.run(self.shell.engine.clock_jumped(now))

    def sync(self) -> None:
        """Keep one heartbeat timer while a remote is connected, none otherwise."""
        engine = self.shell.engine
        if self.heartbeat and self.interval != engine.settings.heartbeat:
            self.stop()
        needed = engine.heartbeat_needed() and not self.shell.quitting
        if needed and not self.heartbeat:
            self.interval = engine.settings.heartbeat
            self.heartbeat = weechat.hook_timer(self.interval * 1000, 0, 1, "heartbeat_cb", "")
        elif not needed:
            self.stop()

    def tick(self) -> None:
        self.heartbeat = ""  # fired: it is gone
        self.check_clock()
        self.shell.run(self.shell.engine.heartbeat(self.shell.clock()))
        self.sync()

    def probe(self, action: Probe) -> None:
        """In-band ping on the live socket, out-of-band HTTP request to the server.

        The in-band ping makes a half-open socket fail (the peer's kernel
        resets it); the HTTP request shows whether the server answers at all
        (frozen, unreachable). POST /api/handshake needs no credentials.
        """
        name = action.name
        remote = self.shell.engine.remotes.get(name)
        linked = remote is not None and remote.status == STATUS_CONNECTED
        if linked:
            self.shell.own(f"/remote send {name} {PING}")
        request = api_request(name, "handshake", "{}")
        if request is None or weechat.config_string(remote_option(name, "proxy")):
            # no direct route to probe: the in-band ping is the check (linked),
            # and a waiting remote is not polled
            self.result(name, None)
            return
        url, options = request
        settings = self.shell.engine.settings
        timeout = settings.heartbeat_timeout if linked else min(settings.heartbeat_timeout, max(1, settings.poll))
        link = self.shell.links.of(name)
        self.shell.links.arm(link, "probe", weechat.hook_url(url, options, timeout * 1000, "probe_cb", link.key))

    def probe_done(self, key: str, output: Dict[str, str]) -> None:
        """The out-of-band probe ended: any HTTP answer proves the server answers."""
        link = self.shell.links.find(key)
        if link is not None:
            self.shell.links.fired(link, "probe")
            answered = not output.get("error") and output.get("response_code", "0") not in ("", "0")
            self.result(link.name, answered)

    def result(self, name: str, answered: Optional[bool]) -> None:
        """A heartbeat (connected remote) or poll (waiting remote) ended; None: no verdict."""
        engine = self.shell.engine
        remote = engine.remotes.get(name)
        if remote is not None and remote.status == STATUS_DISCONNECTED:
            self.shell.run(engine.poll_answered(name, answered, self.shell.clock()))
        else:
            self.shell.run(engine.probe_answered(name, answered is not False, self.shell.clock()))

    def diagnose(self, name: str) -> None:
        """WeeChat 4.10 does not say why a handshake failed (its URL transfers report
        "response code: 0" for any failure), so the script asks with a TCP connection
        (hook_connect: no blocking, names resolved by WeeChat). A name not resolved
        confirms a drop taken for offline; any other answer means the server's
        address was reached (Engine.online_found); an https server that takes the
        connection failed after it, in TLS (Engine.tls_found)."""
        link = self.shell.links.of(name)
        parts = urllib.parse.urlsplit(weechat.config_string(remote_option(name, "url")))
        if parts.hostname and not link.probe:
            port = parts.port or 443
            hook = weechat.hook_connect("", parts.hostname, port, 1, 0, "", "diagnose_cb", link.key)
            self.shell.links.arm(link, "probe", hook)

    def diagnosed(self, key: str, status: int, sock: int) -> None:
        if sock >= 0:
            os.close(sock)  # only the answer was wanted
        link = self.shell.links.find(key)
        if link is not None:
            self.shell.links.fired(link, "probe")
            engine = self.shell.engine
            if status not in (
                weechat.WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND,
                weechat.WEECHAT_HOOK_CONNECT_IP_ADDRESS_NOT_FOUND,
            ):
                self.shell.run(engine.online_found(link.name))
            if status == weechat.WEECHAT_HOOK_CONNECT_OK:
                reason = "TLS handshake failed (the server takes TCP connections; WeeChat 4.10 says no more)"
                self.shell.run(engine.tls_found(link.name, reason))

    def cancel(self) -> None:
        """Stop probes in flight (no verdict: the next heartbeat probes again)."""
        for link in self.shell.links:
            if link.probe:
                self.shell.links.disarm(link, "probe")
                self.result(link.name, None)

    def timer(self, name: str, hook_name: str, due: float, callback: str) -> None:
        """Arm a one-shot timer of a remote's record for a clock time."""
        link = self.shell.links.of(name)
        wait_ms = max(1, int(round((due - self.shell.clock()) * 1000)))
        self.shell.links.arm(link, hook_name, weechat.hook_timer(wait_ms, 0, 1, callback, link.key))

    def watch(self, action: Watch) -> None:
        self.timer(action.name, "watch", action.due, "watch_timer_cb")

    def unwatch(self, action: Unwatch) -> None:
        link = self.shell.links.get(action.name)
        if link is not None:
            self.shell.links.disarm(link, "watch")

    def poll_at(self, action: PollAt) -> None:
        self.timer(action.name, "poll", action.due, "poll_timer_cb")

    def fired(self, key: str, hook_name: str) -> Optional[str]:
        """A timer of a record fired: the remote's name now (None if released)."""
        link = self.shell.links.find(key)
        if link is None:
            return None
        self.shell.links.fired(link, hook_name)
        self.check_clock()
        return link.name

    def poll_fired(self, key: str) -> None:
        name = self.fired(key, "poll")
        if name is not None:
            self.shell.run(self.shell.engine.poll_fired(name, self.shell.clock()))

    def watch_fired(self, key: str) -> None:
        name = self.fired(key, "watch")
        if name is not None:
            self.shell.run(self.shell.engine.watch_fired(name, self.shell.clock()))


class Courier:
    """Keeps the outbox (memory and file) and delivers it, in order, each line at most once.

    A line leaves the outbox only when the remote's server took it: POST
    /api/input goes out of band (hook_url) with the remote's own credentials,
    and its HTTP answer says whether the buffer exists and the line was run
    (WeeChat's /remote send shows no answer).
    """

    def __init__(
        self,
        links: Links,
        settings: Callable[[], Settings],
        ready: Callable[[str], bool],
        wall_clock: Callable[[], float],
    ) -> None:
        self.links = links
        self.settings = settings
        self.ready = ready
        self.wall_clock = wall_clock
        self.outbox = Outbox()
        self.file = OutboxFile("")
        self.hooks: List[str] = []
        self.on_change: Callable[[], None] = lambda: None

    # -- life cycle ----------------------------------------------------------

    def start(self) -> None:
        """Read the outbox file (lines kept by a previous session), watch buffers appear."""
        self.file = OutboxFile(os.path.join(weechat.info_get("weechat_data_dir", ""), OUTBOX_FILE))
        lines, problems = self.file.load()
        for problem in problems:
            error(problem)
        self.outbox = Outbox(lines)
        if lines:
            unknown = sum(1 for line in lines if line.state == LINE_UNKNOWN)
            message(
                f"outbox: {len(lines)} line(s) kept from before for remote(s) {', '.join(self.outbox.remotes())}"
                + (f" ({unknown} whose delivery was not confirmed)" if unknown else "")
                + f"; /{COMMAND} outbox lists them"
            )
        self.hooks = [weechat.hook_signal("buffer_opened", "buffer_opened_cb", "")]

    def stop(self) -> None:
        """Remove its own hook (the records' hooks go with them); the file keeps the lines."""
        for hook in self.hooks:
            weechat.unhook(hook)
        self.hooks = []
        self.save()
        if self.outbox.lines and not self.file.broken:
            message(f"outbox: {self.outbox.count()} queued line(s) kept in {self.file.path} for the next load")
        elif self.outbox.lines:
            message(f"outbox: {self.outbox.count()} queued line(s) dropped ({self.file.broken})")

    def save(self) -> str:
        problem = self.file.save(self.outbox)
        self.on_change()
        return problem

    # -- lines come in ---------------------------------------------------------

    def keep(self, name: str, buffer: str, lines: List[str]) -> Tuple[int, str]:
        """Queue lines for a buffer of a remote, on disk before anything is said.

        Returns how many lines wait for that remote and why they are in memory
        only ("" if they are in the file).
        """
        now = self.wall_clock()
        for text in lines:
            self.outbox.add(uuid.uuid4().hex, name, buffer, text, now)
        problem = self.save()
        self.deliver(name)
        return self.outbox.count(name), problem

    # -- the link --------------------------------------------------------------

    def link_ready(self, name: str) -> None:
        """The remote answers on its link: deliver what it has queued."""
        self.links.of(name).delivery.stopped = ""
        self.deliver(name)

    def link_down(self, name: str) -> None:
        """The link dropped: the server may change (ask for its password hash again)."""
        link = self.links.get(name)
        if link is not None:
            link.delivery.auth = None

    def rename(self, old: str, new: str) -> None:
        self.outbox.rename(old, new)
        self.save()

    def forget(self, name: str) -> None:
        """A remote was deleted (/remote del): drop its lines, say how many."""
        dropped = self.outbox.drop(name)
        if dropped:
            message(f"remote[{name}] deleted: {dropped} queued line(s) dropped")
            self.save()

    def cancel_requests(self) -> None:
        """Stop requests in flight (/upgrade refuses to run with URL transfers going on).

        A line in flight may have arrived: it waits for the user's word.
        """
        for link in self.links:
            if link.request:
                self.links.disarm(link, "request")
                line, link.delivery.line = link.delivery.line, None
                if line is not None and line in self.outbox.lines:
                    self.outbox.unknown(line)
                    self.tell_unknown(link.name, line, "cancelled before its answer came")
        self.save()

    # -- delivery ----------------------------------------------------------------

    def deliver(self, name: str) -> None:
        """Send the next line of a remote whose link is up (one request at a time)."""
        link = self.links.of(name)
        record = link.delivery
        if link.request or record.stopped or not self.ready(name):
            return
        settings = self.settings()
        line = self.outbox.next_line(name, self.wall_clock(), settings.outbox_max_age, settings.outbox_wait)
        if line is None:
            self.round_over(link)
            return
        if record.auth is None:
            record.line = None
            body = json.dumps({"password_hash_algo": list(PASSWORD_HASH_ALGOS)})
            self.request(link, "handshake", body, ())
            return
        headers = self.credentials(link)
        if headers is None:
            return
        self.outbox.sending(line)
        record.line = line
        self.save()
        body = json.dumps({"buffer_name": line.buffer, "command": line.text})
        if not self.request(link, "input", body, headers):
            self.outbox.not_sent(line)
            record.line = None
            self.save()

    def request(self, link: Link, resource: str, body: str, headers: Tuple[str, ...]) -> bool:
        request = api_request(link.name, resource, body, headers)
        if request is None:
            self.stop_round(link, "the remote has no URL")
            return False
        url, options = request
        hook = weechat.hook_url(url, options, DELIVERY_TIMEOUT_MS, "delivery_url_cb", link.key)
        self.links.arm(link, "request", hook)
        return bool(link.request)

    def credentials(self, link: Link) -> Optional[Tuple[str, ...]]:
        """Headers that authenticate a request as the remote's own client does."""
        name, record = link.name, link.delivery
        algo, iterations, totp = record.auth or ("", 0, False)
        salt = str(int(self.wall_clock()))
        if record.salted[0] != salt:
            # a pbkdf2 hash costs tens of ms: one per second at most
            record.salted = (salt, authorization(algo, remote_secret(name, "password"), salt, iterations))
        headers: Tuple[str, ...] = (f"Authorization: {record.salted[1]}",)
        if totp:
            secret = remote_secret(name, "totp_secret")
            code = weechat.info_get("totp_generate", secret) if secret else ""
            if not code:
                self.stop_round(link, f"the remote asks for a TOTP and relay.remote.{name}.totp_secret gives none")
                return None
            headers += (f"x-weechat-totp: {code}",)
        return headers

    def answered(self, key: str, output: Dict[str, str]) -> None:
        """A delivery request ended: act on the remote's answer."""
        link = self.links.find(key)
        if link is None:
            return
        self.links.fired(link, "request")
        name, record = link.name, link.delivery
        line, record.line = record.line, None
        if line is None:
            record.auth = handshake_answer(output)
            if record.auth is None:
                detail = output.get("error") or f"HTTP {output.get('response_code', '?')}"
                self.stop_round(link, f"handshake failed: {detail}")
                return
            self.deliver(name)
            return
        if line not in self.outbox.lines:
            self.deliver(name)  # dropped by the user meanwhile
            return
        outcome, detail = delivery_outcome(output)
        if outcome == DELIVERED:
            self.outbox.delivered(line)
            record.delivered += 1
        elif outcome == MISSING:
            self.outbox.missing(line, self.wall_clock())
        elif outcome == UNKNOWN:
            self.outbox.unknown(line)
            self.tell_unknown(name, line, detail)
        else:
            self.outbox.not_sent(line)
            if outcome == REFUSED:
                record.auth = None
            self.stop_round(link, f"{'refused by the remote' if outcome == REFUSED else 'not sent'}: {detail}")
        self.save()
        self.deliver(name)

    def stop_round(self, link: Link, reason: str) -> None:
        """Delivery stops until the next connection or the user's word."""
        name, record = link.name, link.delivery
        record.stopped = reason
        self.round_over(link)
        if f"stop:{reason}" not in record.told:
            record.told.add(f"stop:{reason}")
            error(
                f"remote[{name}]: queued lines not delivered ({reason}): {self.outbox.count(name)} line(s) kept, "
                f'tried again at the next connection; "/{COMMAND} outbox send {name}" tries now'
            )

    def tell_unknown(self, name: str, line: QueuedLine, detail: str) -> None:
        error(
            f"remote[{name}]: no answer for a queued line sent to {line.buffer} ({detail}): it may have arrived "
            f'and is not sent again by itself; "/{COMMAND} outbox send {name} {line.buffer}" sends it again, '
            f'"/{COMMAND} outbox drop {name} {line.buffer}" drops it'
        )
        self.links.of(name).delivery.told.add(f"{HELD_UNKNOWN}:{line.buffer}")

    def round_over(self, link: Link) -> None:
        """Nothing more goes now: say what was delivered and what waits, once."""
        name, record = link.name, link.delivery
        if record.delivered:
            network(f"remote[{name}]: {record.delivered} queued line(s) delivered")
            record.delivered = 0
        settings = self.settings()
        now = self.wall_clock()
        for reason, lines in self.outbox.stuck(name, now, settings.outbox_max_age, settings.outbox_wait).items():
            self.tell_stuck(name, record, reason, lines, settings)
        if not self.outbox.count(name):
            record.told.clear()
        self.arm_retry(link, now)

    def tell_stuck(self, name: str, record: Delivery, reason: str, lines: List[QueuedLine], settings: Settings) -> None:
        if reason == HELD_OLD and reason not in record.told:
            record.told.add(reason)
            message(
                f"remote[{name}]: {len(lines)} queued line(s) older than {duration(settings.outbox_max_age)} not sent; "
                f'"/{COMMAND} outbox send {name}" sends them, "/{COMMAND} outbox drop {name}" drops them'
            )
        if reason == HELD_NO_BUFFER:
            for buffer in sorted({line.buffer for line in lines}):
                if f"{reason}:{buffer}" not in record.told:
                    record.told.add(f"{reason}:{buffer}")
                    error(
                        f'remote[{name}]: buffer "{buffer}" not found on the remote after '
                        f"{duration(settings.outbox_wait)}: {self.outbox.count(name, buffer)} queued line(s) kept; "
                        f'"/{COMMAND} outbox move {name} {buffer} <buffer>" sends them to another buffer, '
                        f'"/{COMMAND} outbox drop {name} {buffer}" drops them'
                    )

    def arm_retry(self, link: Link, now: float) -> None:
        """While a missing buffer may still appear, try its lines again soon."""
        if link.retry:
            return
        until = self.outbox.missing_pending(link.name, now, self.settings().outbox_wait)
        if until is not None:
            wait_ms = max(1, int(round(min(MISSING_RETRY_SECONDS, until - now) * 1000)))
            self.links.arm(link, "retry", weechat.hook_timer(wait_ms, 0, 1, "delivery_retry_cb", link.key))

    def retry_fired(self, key: str) -> None:
        link = self.links.find(key)
        if link is not None:
            self.links.fired(link, "retry")
            self.outbox.retry_missing(link.name)
            self.deliver(link.name)

    def buffer_opened(self, buffer: str) -> None:
        """A buffer appeared: lines waiting for it on its remote go now."""
        name = weechat.buffer_get_string(buffer, "localvar_relay_remote")
        prefix = f"relay.remote.{name}."
        full_name = weechat.buffer_get_string(buffer, "full_name")
        if name and full_name.startswith(prefix) and self.outbox.retry_missing(name, full_name[len(prefix) :]):
            self.deliver(name)

    # -- the user's word -------------------------------------------------------

    def command(self, words: List[str]) -> int:
        """/autoreconnect outbox [list] | send|drop <remote>|-all [<buffer>] | move <remote> <buffer> <buffer>."""
        verb = words[0] if words else "list"
        if verb == "list" and len(words) <= 1:
            self.print_list()
            return weechat.WEECHAT_RC_OK
        if verb == "move" and len(words) == 4:
            return self.move(*words[1:])
        if verb not in ("send", "drop") or len(words) not in (2, 3):
            error(
                f'outbox: "list", "send"/"drop" with a remote name or -all (and a buffer), or '
                f'"move" with a remote and two buffers (see /help {COMMAND})'
            )
            return weechat.WEECHAT_RC_ERROR
        target, buffer = words[1], (words[2] if len(words) == 3 else "")
        names = self.outbox.remotes() if target == "-all" else [target]
        if not any(self.outbox.count(name, buffer) for name in names):
            if target == "-all":
                message("outbox: nothing queued")  # nothing to do: said, not an error
                return weechat.WEECHAT_RC_OK
            error(f"outbox: nothing queued for remote[{target}]" + (f" in {buffer}" if buffer else ""))
            return weechat.WEECHAT_RC_ERROR
        for name in names:
            if verb == "drop":
                dropped = self.outbox.drop(name, buffer)
                self.links.of(name).delivery.told.clear()
                message(f"remote[{name}]: {dropped} queued line(s) dropped")
            else:
                self.send_now(name, buffer)
        self.save()
        return weechat.WEECHAT_RC_OK

    def send_now(self, name: str, buffer: str) -> None:
        count = self.outbox.approve(name, buffer)
        record = self.links.of(name).delivery
        record.stopped = ""
        record.told.clear()
        if self.ready(name):
            self.deliver(name)
        elif count:
            message(f"outbox: remote[{name}] is not connected: {count} line(s) go after the reconnection")

    def move(self, name: str, buffer: str, target: str) -> int:
        if not self.outbox.count(name, buffer):
            error(f"outbox: nothing queued for remote[{name}] in {buffer}")
            return weechat.WEECHAT_RC_ERROR
        moved = self.outbox.move(name, buffer, target)
        message(f"remote[{name}]: {moved} queued line(s) moved from {buffer} to {target}")
        self.send_now(name, target)
        self.save()
        return weechat.WEECHAT_RC_OK

    def print_list(self) -> None:
        if not self.outbox.lines:
            message("outbox: nothing queued")
            return
        settings = self.settings()
        now = self.wall_clock()
        message(f"outbox: {self.outbox.count()} queued line(s):")
        for line in self.outbox.lines:
            held = self.outbox.held(line, now, settings.outbox_max_age, settings.outbox_wait)
            state = f"waits for your word: {held}" if held else line.state
            age = duration(max(0.0, now - line.queued_at))
            weechat.prnt("", f"  remote[{line.remote}] {line.buffer} (queued {age} ago, {state}): {line.text}")


# commands and text typed by the person: seen before other scripts change them
INPUT_PRIORITY = 10000


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

    def __init__(self, holds: Callable[[str, str], bool], courier: Courier, settings: Callable[[], Settings]) -> None:
        self.holds = holds
        self.courier = courier
        self.settings = settings
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
        name = weechat.buffer_get_string(buffer, "localvar_relay_remote")
        full_name = weechat.buffer_get_string(buffer, "full_name")
        prefix = f"relay.remote.{name}."
        if not name or not full_name.startswith(prefix) or not self.holds(name, full_name[len(prefix) :]):
            return text
        target = full_name[len(prefix) :]
        connected = self.courier.ready(name)
        lines = [text] if weechat.buffer_get_integer(buffer, "input_multiline") else text.split("\n")
        routes = route_input(
            [(line, not weechat.string_input_for_buffer(line)) for line in lines if line],
            submitted,
            bool(weechat.buffer_get_integer(buffer, "input_get_any_user_data")),
            self.settings().outbox_commands or connected,
        )
        if all(route == ROUTE_LOCAL for _, route in routes):
            return text
        kept = [line for line, route in routes if route == ROUTE_KEEP]
        if kept:
            waiting, problem = self.courier.keep(name, target, kept)
            self.tell_kept(buffer, name, kept, waiting - len(kept), connected=connected, problem=problem)
        if any(route == ROUTE_REFUSE for _, route in routes):
            weechat.prnt(
                buffer,
                f"{weechat.prefix('error')}{SCRIPT_NAME}: remote[{name}] is not connected: command not run "
                "(relay.network.autoreconnect_outbox_commands keeps commands)",
            )
        for line, route in routes:
            if route == ROUTE_LOCAL:
                weechat.command(buffer, line)
        return ""

    @staticmethod
    def tell_kept(buffer: str, name: str, kept: List[str], before: int, *, connected: bool, problem: str) -> None:
        """Show each kept line in its buffer, after how many lines of its remote it goes."""
        for waiting, line in enumerate(kept, before + 1):
            if connected:
                text = f"remote[{name}]: kept behind {waiting - 1} earlier line(s), sent in order"
            else:
                text = f"remote[{name}] is not connected: kept, sent after the reconnection ({waiting} waiting"
                text += f"; /{COMMAND} outbox)"
            weechat.prnt(buffer, f"{weechat.prefix('network')}{SCRIPT_NAME}: {text}: {line}")
        if problem:
            weechat.prnt(buffer, f"{weechat.prefix('error')}{SCRIPT_NAME}: {problem}: kept in memory only")


class Console:
    """What the user types and sees: /autoreconnect, the bar item, password notices."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
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
            )
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
        engine = self.shell.engine
        words = args.split()
        verb = words[0] if words else "list"
        if verb == "outbox":
            return self.shell.courier.command(words[1:])
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
        names = sorted(self.shell.engine.remotes) if target == "-all" else [target]
        done = 0
        for name in names:
            problem, actions = act(name, self.shell.clock())
            if problem and target != "-all":
                error(problem)
                return weechat.WEECHAT_RC_ERROR
            done += 0 if problem else 1
            self.shell.run(actions)
        if target == "-all" or verb == "reset":
            message(f"{verb}: {done} of {len(names)} remote(s)")
        return weechat.WEECHAT_RC_OK

    def print_list(self) -> None:
        engine = self.shell.engine
        now = self.shell.clock()
        state = "on" if engine.settings.enabled else "off"
        if not engine.remotes:
            message(f"no relay remote (autoreconnect {state})")
            return
        message(f"{len(engine.remotes)} relay remote(s) (autoreconnect {state}):")
        for name in sorted(engine.remotes):
            weechat.prnt("", f"  {describe(engine, engine.remotes[name], now)}")

    # -- the bar item --------------------------------------------------------------

    def text(self) -> str:
        return bar_text(self.shell.engine, self.shell.clock(), self.shell.courier.outbox)

    def refresh(self) -> None:
        """The bar item may have changed: update it after this burst of events.

        The shell's flush updates it once for every event until then, and at
        most every BAR_INTERVAL s: a storm on many remotes does not rebuild
        the text at each event.
        """
        self.dirty = True
        self.shell.defer()

    def flush(self) -> None:
        if self.dirty and not self.soon:
            wait = self.built + BAR_INTERVAL - self.shell.clock()
            if wait > 0:
                self.soon = weechat.hook_timer(max(1, int(round(wait * 1000))), 0, 1, "bar_soon_cb", "")
            else:
                self.update()

    def update(self) -> None:
        """Update the bar item if its text changed; count down while waiting."""
        self.dirty = False
        if self.soon:
            weechat.unhook(self.soon)
            self.soon = ""
        self.built = self.shell.clock()
        text = self.text()
        if text != self.last:
            self.last = text
            weechat.bar_item_update(BAR_ITEM)
        waiting = bool(self.shell.engine.pending())
        if waiting and not self.countdown:
            self.countdown = weechat.hook_timer(1000, 1, 0, "bar_timer_cb", "")
        elif not waiting and self.countdown:
            weechat.unhook(self.countdown)
            self.countdown = ""

    # -- passwords -------------------------------------------------------------------

    def warn_plain_passwords(self) -> None:
        """Say once per remote that its password is in plain text in relay.conf."""
        for link in sorted(self.shell.links, key=lambda link: link.name):
            value = weechat.config_string(remote_option(link.name, "password"))
            if value and "${" not in value and not link.warned:
                link.warned = True
                message(
                    f"remote[{link.name}]: the password is stored in plain text in relay.conf; "
                    f'move it to secured data with "/{COMMAND} secure {link.name}"'
                )

    def secure(self, name: str, _now: float) -> Tuple[str, List[Action]]:
        """Move the plain password of a remote into /secure; the value is never shown.

        Any password /secure set keeps intact is moved; otherwise nothing changes
        (and no copy is left in secured data). Returns (why not, no actions).
        """
        option = remote_option(name, "password")
        value = weechat.config_string(option)
        problem = secure_problem(value)
        if problem:
            return f"remote[{name}]: {problem}: nothing changed", []
        key = self.free_key(f"relay_remote_{name}")
        core = weechat.buffer_search_main()
        weechat.command(core, f"/mute /secure set {key} {value}")
        if weechat.string_eval_expression(f"${{sec.data.{key}}}", {}, {}, {}) != value:
            weechat.command(core, f"/mute /secure del {key}")
            return f'remote[{name}]: the password could not be stored in secured data "{key}": nothing changed', []
        if weechat.config_option_set(option, f"${{sec.data.{key}}}", 1) == weechat.WEECHAT_CONFIG_OPTION_SET_ERROR:
            weechat.command(core, f"/mute /secure del {key}")
            return f"remote[{name}]: relay.remote.{name}.password could not be set: nothing changed", []
        self.shell.links.of(name).warned = False
        message(
            f'remote[{name}]: password moved to secured data "{key}"; relay.remote.{name}.password '
            f"is now ${{sec.data.{key}}} (/save to keep it; /secure passphrase encrypts sec.conf)"
        )
        return "", []

    @staticmethod
    def free_key(base: str) -> str:
        """A name of secured data not used yet (the user's own data is never overwritten)."""
        key, number = base, 1
        while weechat.string_eval_expression(f"${{sec.data.{key}}}", {}, {}, {}):
            number += 1
            key = f"{base}_{number}"
        return key


class StatusCheck:
    """Learns each remote's real status when its signals may have been missed
    (after a reload, the relay plugin's return), from what WeeChat shows."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.caught: Optional[List[str]] = None  # lines of a command run quietly

    def quietly(self, command: str) -> Tuple[int, List[str]]:
        """Run one of our commands with what it prints caught, not shown: (rc, lines)."""
        self.caught = []
        hook = weechat.hook_modifier(f"{INPUT_PRIORITY}|weechat_print", "quiet_print_cb", "")
        try:
            rc = self.shell.own(command)
        finally:
            weechat.unhook(hook)
        lines, self.caught = self.caught, None
        return rc, lines

    def read_statuses(self) -> Dict[str, str]:
        """Each remote's status as /remote list shows it (WeeChat 4.4+), read quietly."""
        texts = {weechat.gettext(text): status for text, status in STATUS_TEXTS}
        found = {}
        for line in self.quietly("/remote list")[1]:
            match = REMOTE_LIST_LINE.match(weechat.string_remove_color(line.rpartition("\t")[2], ""))
            if match and match.group(2) in texts:
                found[match.group(1)] = texts[match.group(2)]
        return found

    def connected_now(self, name: str) -> bool:
        """Whether WeeChat has the link of a remote up (a ping it takes without a word)."""
        rc, lines = self.quietly(f"/remote send {name} {PING}")
        return rc == weechat.WEECHAT_RC_OK and not lines

    def run(self) -> None:
        """Read every remote's status and act on what changed."""
        shell = self.shell
        found = self.read_statuses()
        now = shell.clock()
        for name, remote in list(shell.engine.remotes.items()):
            status = found.get(name) or (STATUS_CONNECTED if self.connected_now(name) else "")
            if not status:
                # WeeChat 4.3 shows no status: not connected, maybe in flight
                if remote.status in STATUSES_IN_FLIGHT:
                    self.check_later(name)
                    continue
                status = STATUS_DISCONNECTED if remote.status != STATUS_UNKNOWN else STATUS_UNKNOWN
            if status == STATUS_DISCONNECTED and remote.wanted and remote.status != STATUS_DISCONNECTED:
                # cancel a native attempt WeeChat planned while we could not see
                self.quietly(f"/remote disconnect {name}")
            shell.run(shell.engine.status_checked(name, status, now))
            link = shell.links.of(name)
            link.ready = status == STATUS_CONNECTED
            shell.links.disarm(link, "ready_timer")
        # decide on drops found now (settle only schedules: no /remote command)
        shell.run(shell.engine.settle())
        shell.prober.sync()

    def check_later(self, name: str) -> None:
        """An attempt WeeChat 4.3 may have in flight ends within its connection
        timeout: if no signal came by then, the remote is down."""
        timeout = weechat.config_integer(weechat.config_get("weechat.network.connection_timeout"))
        link = self.shell.links.of(name)
        hook = weechat.hook_timer((timeout + HANDSHAKE_SECONDS + 1) * 1000, 0, 1, "status_check_cb", link.key)
        self.shell.links.arm(link, "check", hook)

    def fired(self, key: str) -> None:
        shell = self.shell
        link = shell.links.find(key)
        if link is not None:
            shell.links.fired(link, "check")
            remote = shell.engine.remotes.get(link.name)
            if remote is not None and remote.status in STATUSES_IN_FLIGHT:
                shell.run(shell.engine.status_checked(link.name, STATUS_DISCONNECTED, shell.clock()))
                shell.run(shell.engine.settle())


class Shell:
    """Wires WeeChat's events to the engine and the engine's actions to WeeChat.

    One record (Link) per remote holds every hook and notice of that remote;
    the sibling classes own their own hooks: ConfigGuard (relay.conf and
    native delays), Prober (heartbeat, polls, timeouts), Console (command, bar
    item), Courier and InputGate (outbox).
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.clock = clock
        self.wall_clock = wall_clock
        self.engine = Engine(Settings())
        self.links = Links()
        self.version = int(weechat.info_get("version_number", "") or 0)
        self.config = ConfigGuard(self)
        self.native = Native(self)
        self.prober = Prober(self)
        self.netwatch = NetWatch(self)
        self.console = Console(self)
        self.courier = Courier(self.links, lambda: self.engine.settings, self.is_ready, wall_clock)
        self.courier.on_change = self.console.refresh
        self.gate = InputGate(self.holds_input, self.courier, lambda: self.engine.settings)
        self.handlers: Dict[type, Callable[[Any], None]] = {
            Schedule: self.do_schedule,
            Cancel: self.do_cancel,
            Connect: self.do_connect,
            Disconnect: self.do_disconnect,
            GiveUp: self.do_giveup,
            Watch: self.prober.watch,
            Unwatch: self.prober.unwatch,
            Probe: self.prober.probe,
            DropLink: self.do_droplink,
            PollAt: self.prober.poll_at,
            ServerBack: self.do_serverback,
            NetworkBack: self.do_networkback,
        }
        self.hooks: List[str] = []
        self.deferred = ""
        self.reconcile_needed = False
        self.own_command = False
        self.quitting = False
        self.status = StatusCheck(self)
        self.relay_gone = False  # the relay plugin is unloaded: remotes wait for it

    # -- life cycle ----------------------------------------------------------

    def start(self) -> bool:
        """Check WeeChat, create options, learn the remotes, hook signals; False if unusable."""
        if self.version < MIN_WEECHAT_VERSION:
            error("WeeChat >= 4.3.0 is required (relay remotes)")
            return False
        if not LAYOUT_VERSIONS[0] <= self.version < LAYOUT_VERSIONS[1]:
            error("this WeeChat version is not supported yet (remote names can not be read from signals)")
            return False
        if not self.config.start():
            error('the relay plugin is not loaded; load it, then "/script reload relay_autoreconnect"')
            return False
        self.engine.settings = self.config.options.settings()
        self.native.start()
        for name in remote_names():
            self.adopt(name, STATUS_UNKNOWN)
        self.take_over()
        self.status.run()
        self.courier.start()
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
        self.netwatch.sync()
        return True

    def stop(self) -> None:
        """Remove every hook and timer, give back options and native delays."""
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
        self.links.rename(old, new)
        self.courier.rename(old, new)
        self.run(self.engine.remote_rename(old, new))

    def follow(self, buffer: str, command: str, args: List[str]) -> int:
        """Run a /remote command that adds, deletes or renames remotes, and follow what it did.

        Seen from the command itself, each command of a burst (a paste, the
        fifo, a script) is followed in its order.
        """
        before = set(remote_names())
        self.own_command = True
        try:
            weechat.command(buffer, command)
        finally:
            self.own_command = False
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
            for hook_name in ("attempt", "watch", "poll", "probe", "ready_timer", "check"):
                self.links.disarm(link, hook_name)
            if link.name in snapshot:
                status, wanted, attempt, due_in = snapshot[link.name]
                link.saved = (status, wanted, attempt, due_in)
            link.ready = False

    def relay_loaded(self) -> None:
        """Remotes are back: those that were up or waiting get an attempt in 1 s."""
        self.relay_gone = False
        self.config.retake()
        self.reconcile()
        for link in self.links:
            saved, link.saved = link.saved, None
            if saved is not None:
                self.run(self.engine.restore(link.name, saved, self.clock(), True))
        self.status.run()

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
        if self.own_command:
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
        if not self.config.options.pointers:
            self.config.retake()
            reconcile = True
        if reconcile:
            self.reconcile()
        self.find_offline()
        self.run(self.engine.settle())
        self.console.flush()

    def find_offline(self) -> None:
        """A drop after a network failure while this machine has no route to the server
        is "offline": not counted, and it waits for the network. When WeeChat did not
        say why an attempt failed (4.10), the reason is asked for: a server name not
        resolved (offline, as taken), or TLS (https)."""
        for name in list(self.engine.drops):
            remote = self.engine.remotes.get(name)
            if remote is not None and remote.failure == FAILURE_NETWORK:
                url = weechat.config_string(remote_option(name, "url"))
                offline = route_to(url, remote.failure_detail) is False
                if offline:
                    self.engine.offline(name)
                if offline and url_address(url) is not None:
                    continue  # the kernel said so: nothing to ask
                if remote.failure_detail.startswith(UNSAID) and (offline or url.startswith("https")):
                    self.prober.diagnose(name)

    def attempt_fired(self, key: str) -> None:
        name = self.prober.fired(key, "attempt")
        if name is not None:
            self.run(self.engine.timer_fired(name, self.clock()))

    # -- options ---------------------------------------------------------------

    def options_changed(self) -> None:
        """Options were set or retaken: tell the engine."""
        self.run(self.engine.settings_changed(self.config.options.settings(), self.clock()))
        self.prober.sync()
        self.netwatch.sync()

    # -- outbox: input typed while a link is down ------------------------------

    def is_ready(self, name: str) -> bool:
        link = self.links.get(name)
        return link is not None and link.ready

    def track_ready(self, name: str, status: str) -> None:
        """Input flows to a remote once it answered after connecting (or 2 s passed)."""
        link = self.links.of(name)
        link.ready = False
        if status == STATUS_CONNECTED:
            hook = weechat.hook_timer(int(READY_FALLBACK_SECONDS * 1000), 0, 1, "ready_timer_cb", link.key)
            self.links.arm(link, "ready_timer", hook)
        else:
            self.links.disarm(link, "ready_timer")
            self.courier.link_down(name)

    def became_ready(self, key: str) -> None:
        link = self.links.find(key)
        if link is None:
            return
        self.links.fired(link, "ready_timer")
        remote = self.engine.remotes.get(link.name)
        if remote is not None and remote.status == STATUS_CONNECTED:
            link.ready = True
            self.courier.link_ready(link.name)

    def holds_input(self, name: str, buffer: str) -> bool:
        """Whether input for a buffer of a remote is kept: the link is not usable
        for a remote we manage, or earlier lines for that buffer still go first."""
        remote = self.engine.remotes.get(name)
        settings = self.engine.settings
        if remote is None or not settings.outbox:
            return False
        if remote.status == STATUS_CONNECTED and self.is_ready(name):
            return self.courier.outbox.blocks(
                name, buffer, self.wall_clock(), settings.outbox_max_age, settings.outbox_wait
            )
        return settings.enabled and bool(remote.wanted) and remote.status != STATUS_UNKNOWN

    def core_line(self, line: str) -> None:
        """A line printed in the core buffer: WeeChat may say why a link drops."""
        found = failure_from_line(line)
        if found:
            self.engine.failure_said(*found)
            return
        match = VERSION_LINE.match(line)
        link = self.links.get(match.group(1)) if match else None
        if link is not None and link.ready_timer:
            # a version mismatch is printed next and drops the link: look in 1 ms
            self.links.arm(link, "ready_timer", weechat.hook_timer(1, 0, 1, "ready_timer_cb", link.key))

    # -- actions -------------------------------------------------------------

    def run(self, actions: List[Action]) -> None:
        for action in actions:
            self.handlers[type(action)](action)
        if actions:
            self.prober.sync()
            self.console.refresh()

    def own(self, command: str) -> int:
        """Run a /remote command of the script (not taken as the user's intent)."""
        self.own_command = True
        try:
            return weechat.command(weechat.buffer_search_main(), command)
        finally:
            self.own_command = False

    def do_schedule(self, action: Schedule) -> None:
        self.prober.timer(action.name, "attempt", action.due, "attempt_timer_cb")
        if not action.quiet:
            attempt = f"{action.attempt}/{action.max_attempts}" if action.max_attempts else f"{action.attempt}"
            network(f"remote[{action.name}]: reconnecting in {duration(action.wait)} (attempt {attempt})")

    def do_cancel(self, action: Cancel) -> None:
        link = self.links.get(action.name)
        if link is None:
            return
        self.links.disarm(link, "poll")
        if link.attempt:
            self.links.disarm(link, "attempt")
            if action.announce:
                network(f"remote[{action.name}]: auto-reconnection cancelled")

    def do_connect(self, action: Connect) -> None:
        if not remote_option(action.name, "url"):
            self.forget(action.name, deleted=False)
            return
        link = self.links.get(action.name)
        if link is not None:
            self.links.disarm(link, "poll")
        self.own(f"/remote connect {action.name}")
        self.run(self.engine.connect_issued(action.name, self.clock()))
        self.defer()

    def do_serverback(self, action: ServerBack) -> None:
        network(f"remote[{action.name}]: the server answers again: reconnecting now")

    def do_networkback(self, action: NetworkBack) -> None:
        network(f"remote[{action.name}]: the network changed: reconnecting now")

    def do_disconnect(self, action: Disconnect) -> None:
        self.own(f"/remote disconnect {action.name}")

    def do_droplink(self, action: DropLink) -> None:
        network(f"remote[{action.name}]: {action.reason}: disconnecting")
        self.own(f"/remote disconnect {action.name}")

    def do_giveup(self, action: GiveUp) -> None:
        name = action.name
        retry = f'"/remote connect {name}"'
        if action.failure == FAILURE_VERSION:
            error(
                f"remote[{name}]: API version mismatch ({action.detail}): giving up; "
                f"update WeeChat on one side, then {retry}"
            )
        elif action.failure == FAILURE_TLS:
            url = weechat.config_string(remote_option(name, "url"))
            host = urllib.parse.urlsplit(url).hostname or url
            error(
                f"remote[{name}]: TLS failed {TLS_MAX} times in a row with {host} ({action.detail}): giving up; "
                f"check the server's certificate (or, if you trust this server, /set relay.remote.{name}.tls_verify "
                f"off), then {retry}; a change of network tries again"
            )
        elif action.failure == FAILURE_AUTH:
            failures = self.engine.settings.auth_max
            error(
                f"remote[{name}]: authentication failed {failures} times in a row (wrong password "
                f"or TOTP?): giving up; fix relay.remote.{name}.password (or totp_secret), then {retry}"
            )
        else:
            network(
                f"remote[{name}]: giving up after {action.attempts} failed attempts "
                f"(relay.network.autoreconnect_max); retry with {retry}"
            )


SHELL: Optional[Shell] = None


# ---------------------------------------------------------------------------
# WeeChat callbacks: one line each, into the shell
# ---------------------------------------------------------------------------


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
        SHELL.config.options.changed(data)


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
        SHELL.attempt_fired(data)
    return weechat.WEECHAT_RC_OK


def status_check_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.status.fired(data)
    return weechat.WEECHAT_RC_OK


def core_print_cb(
    _data: str, _buffer: str, _date: int, _tags: List[str], _displayed: int, _highlight: int, _prefix: str, line: str
) -> int:
    if SHELL:
        SHELL.core_line(line)
    return weechat.WEECHAT_RC_OK


def native_print_cb(_data: str, _modifier: str, _modifier_data: str, line: str) -> str:
    return SHELL.native.line(line) if SHELL else line


def quiet_print_cb(_data: str, _modifier: str, _modifier_data: str, line: str) -> str:
    if SHELL and SHELL.status.caught is not None:
        SHELL.status.caught.append(line)
        return ""
    return line


def input_modifier_cb(_data: str, _modifier: str, buffer: str, text: str) -> str:
    return SHELL.gate.input_for(buffer, text) if SHELL else text


def history_add_cb(_data: str, _modifier: str, buffer: str, text: str) -> str:
    return SHELL.gate.history_add(buffer, text) if SHELL else text


def delivery_url_cb(data: str, _url: str, _options: Dict[str, str], output: Dict[str, str]) -> int:
    if SHELL:
        SHELL.courier.answered(data, output)
    return weechat.WEECHAT_RC_OK


def delivery_retry_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.courier.retry_fired(data)
    return weechat.WEECHAT_RC_OK


def buffer_opened_cb(_data: str, _signal: str, signal_data: str) -> int:
    if SHELL:
        SHELL.courier.buffer_opened(signal_data)
    return weechat.WEECHAT_RC_OK


def ready_timer_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.became_ready(data)
    return weechat.WEECHAT_RC_OK


def command_cb(_data: str, _buffer: str, args: str) -> int:
    return SHELL.console.command(args) if SHELL else weechat.WEECHAT_RC_OK


def bar_item_cb(_data: str, _item: str, _window: str) -> str:
    return SHELL.console.text() if SHELL else ""


def bar_soon_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.console.soon = ""  # fired: it is gone
        SHELL.console.update()
    return weechat.WEECHAT_RC_OK


def bar_timer_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.console.update()
    return weechat.WEECHAT_RC_OK


def heartbeat_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.prober.tick()
    return weechat.WEECHAT_RC_OK


def poll_timer_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.prober.poll_fired(data)
    return weechat.WEECHAT_RC_OK


def watch_timer_cb(data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.prober.watch_fired(data)
    return weechat.WEECHAT_RC_OK


def diagnose_cb(data: str, status: int, _gnutls_rc: int, sock: int, _ip_address: str, _error: str) -> int:
    if SHELL:
        SHELL.prober.diagnosed(data, status, sock)
    return weechat.WEECHAT_RC_OK


def network_fd_cb(_data: str, _fd: int) -> int:
    if SHELL:
        SHELL.netwatch.readable()
    return weechat.WEECHAT_RC_OK


def network_settle_cb(_data: str, _remaining_calls: int) -> int:
    if SHELL:
        SHELL.netwatch.settled()
    return weechat.WEECHAT_RC_OK


def probe_cb(data: str, _url: str, _options: Dict[str, str], output: Dict[str, str]) -> int:
    if SHELL:
        SHELL.prober.probe_done(data, output)
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
