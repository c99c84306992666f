# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""What /autoreconnect and the bar item say of each phase (core)."""

from __future__ import annotations

from engines import CONNECTING, DISC, after_failures, cfg, connected_engine, fail_attempt

import relay_autoreconnect as ra
from relay_autoreconnect import Engine, Phase, Settings


def test_bar_text_counts_every_entry_it_leaves_out():
    engine = Engine(Settings())
    outbox = ra.Outbox()
    for n in range(6):
        remote = engine.remote_add(f"r{n}", DISC)
        engine.enter(remote, Phase.WAITING, ra.Wait(due=10.0))
        remote.failure = ra.Failure(ra.FAILURE_NETWORK)
        outbox.add(f"id{n}", f"r{n}", "core.weechat", "hello", 0.0)
    engine.remote_add("quiet", DISC)
    text = ra.bar_text(engine, 0.0, outbox)
    assert text.split(", ") == [
        *(f"r{n} {kind}" for n in range(4) for kind in ("10s (network)", "outbox 1")),
        "+4 more",
    ]


def test_each_phase_is_described():
    e, now = after_failures(2, cfg(delay=10, growing=2, max_attempts=5))
    remote = e.remotes["r"]
    assert ra.describe(e, remote, now - 40.0) == (
        "r: disconnected, attempt 3/5 in 40 seconds, last failure: network, managed"
    )
    assert ra.bar_text(e, now - 39.5) == "r 40s (network)"
    e.timer_fired("r", now)
    e.status_changed("r", CONNECTING, now)
    assert ra.describe(e, remote, now) == "r: connecting, attempt 3/5, last failure: network, managed"
    for _ in range(3):
        (action,) = fail_attempt(e, "r", now)
        now = getattr(action, "due", now)
        e.timer_fired("r", now)
    assert remote.phase is Phase.GAVE_UP
    assert (
        ra.describe(e, remote, now) == "r: disconnected, gave up after 5 attempt(s), last failure: network, not managed"
    )
    assert ra.bar_text(e, now) == "r gave up (network)"
    e.user_connect("r")
    assert ra.describe(e, remote, now) == "r: disconnected, last failure: network, managed"


def test_a_remote_waiting_for_the_network_says_so():
    e = connected_engine(delay=10)
    e.route = lambda _name: ra.Route(address=True, reachable=False)
    e.status_changed("r", DISC, 100.0)
    e.settle()
    remote = e.remotes["r"]
    assert ra.describe(e, remote, 101.0) == (
        "r: disconnected, waiting for network (attempt 1 in 9 seconds), last failure: offline, managed"
    )
    assert ra.bar_text(e, 101.0) == "r waiting for network"


def test_the_header_and_help_say_what_the_script_needs_does_sends_and_keeps():
    """weechat/scripts ships only the .py: the file must say it on its own."""
    header = " ".join(ra.__doc__.split())
    for said in ("WeeChat >= 4.3", "Python >= 3.7", "netlink", "routing socket", "cancels WeeChat's own",
                 "hides WeeChat's", "never changes relay.remote.*.autoreconnect_delay", "heartbeat",
                 "POST /api/handshake (no credentials)", "POST /api/input", "own password", "(mode 0600)",
                 "never printed, logged or stored"):  # fmt: skip
        assert said in header, said
    help_text = " ".join(ra.COMMAND_ARGS_DESC.split())
    for said in ("Needs WeeChat >= 4.3", "its attempts are cancelled", "POST /api/input", "(mode 0600)"):
        assert said in help_text, said


def test_outbox_choices_are_the_remotes_buffers_and_ids_of_what_is_queued():
    outbox = ra.Outbox()
    for ident, remote, buffer in (("aaaa1", "home", "python.my chan"), ("bbbb2", "home", "irc.x.#y"),
                                  ("cccc3", "home", "python.my chan"), ("dddd4", "work", "core.weechat")):  # fmt: skip
        outbox.add(ident, remote, buffer, "text", 0.0)
    assert ra.outbox_choices(outbox, ["drop"]) == ["home", "work", "-all"]
    assert ra.outbox_choices(outbox, ["move"]) == ["home", "work"]
    assert ra.outbox_choices(outbox, ["send", "home"]) == ["python.my chan", "irc.x.#y"]
    assert ra.outbox_choices(outbox, ["send", "-all"]) == ["python.my chan", "irc.x.#y", "core.weechat"]
    assert ra.outbox_choices(outbox, ["drop", "home", "python.my chan"]) == ["aaaa", "cccc"]
    for words in (["list"], ["drop", "nowhere"], ["drop", "-all", "core.weechat"], ["move", "home", "irc.x.#y"],
                  ["drop", "home", "irc.x.#y", "bbbb"], ["move", "-all"], []):  # fmt: skip
        assert ra.outbox_choices(outbox, words) == [], words
    assert ra.outbox_choices(ra.Outbox(), ["drop"]) == []  # nothing queued: nothing to name
