# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""One record per remote: long random sequences of /remote commands against the fake module.

After every step: each remote that exists has exactly one record (in the
shell and in the engine), no record is left without a remote, every hook the
script holds for a remote belongs to that remote's record, a pending attempt
has its timer (and a timer its attempt), and WeeChat never got a connect
while an attempt was in flight.
"""

from __future__ import annotations

import random

import pytest

import relay_autoreconnect as ra

NAMES = ("a", "b", "c", "d")
# callbacks of the hooks a remote's record holds, and the record's slot for each
PER_REMOTE = {
    "attempt_timer_cb": lambda link: link.attempt,
    "watch_timer_cb": lambda link: link.connect_timeout,
    "poll_timer_cb": lambda link: link.poll_timer,
    "poll_url_cb": lambda link: link.poll,
    "heartbeat_url_cb": lambda link: link.heartbeat,
    "diagnose_cb": lambda link: link.diagnosis,
    "ready_fallback_cb": lambda link: link.ready_fallback,
    "ready_soon_cb": lambda link: link.ready_soon,
    "status_check_cb": lambda link: link.status_check,
    "handshake_url_cb": lambda link: link.delivery,
    "delivery_url_cb": lambda link: link.delivery,
    "delivery_retry_cb": lambda link: link.delivery_retry,
}


def check_records(sim):
    shell = ra.SHELL
    names = {remote.name for remote in sim.state.remotes.values()}
    assert set(shell.links.by_name) == names
    assert set(shell.engine.remotes) == names
    assert {link.key: link for link in shell.links.by_name.values()} == shell.links.by_key
    for name, link in shell.links.by_name.items():
        assert link.name == name
        for slot in link.slots():
            assert not slot or slot.hook in sim.state.hooks, f"{name}: {slot} holds a hook that is gone"
        assert bool(link.attempt) == (shell.engine.remotes[name].due is not None), name
        check_phase(shell.engine.remotes[name])
    for hook in sim.hooks():
        slot_of = PER_REMOTE.get(hook.callback)
        if slot_of:
            link = shell.links.find(hook.data)
            assert link is not None, f"{hook.callback} hook without a record"
            assert slot_of(link).hook == hook.pointer, f"{hook.callback} hook not in its record"
    assert sim.state.overlaps == 0


def check_phase(remote):
    """A remote's data is the data of its phase, and its status the phase's."""
    assert type(remote.data) is ra.PHASE_DATA.get(remote.phase, type(None)), (remote.phase, remote.data)
    assert (remote.status == "disconnected") == (remote.phase in (*ra.PHASES_DOWN, ra.Phase.LAUNCHED))


def step(sim, rng):
    names = [remote.name for remote in sim.state.remotes.values()]
    some = rng.choice(names) if names else rng.choice(NAMES)
    op = rng.choices(
        ("add", "del", "rename", "connect", "disconnect", "accept", "drop", "advance", "burst", "probes", "relay"),
        weights=(6, 4, 8, 8, 3, 8, 8, 10, 4, 3, 1),
    )[0]
    if op == "add":
        sim.user(f"/remote add {rng.choice(NAMES)} http://127.0.0.1:{rng.randint(1000, 2000)}")
    elif op == "del":
        sim.user(f"/remote del {some}")
    elif op == "rename":
        sim.user(f"/remote rename {some} {rng.choice(NAMES)}")
    elif op in ("connect", "disconnect"):
        sim.user(f"/remote {op} {some}")
    elif op == "accept" and some in names and sim.remote(some).status == "connecting":
        sim.accept(some)
    elif op == "drop" and some in names:
        sim.drop(some)
    elif op == "advance":
        sim.advance(rng.choice((0.002, 0.5, 3.0, 20.0, 100.0)))
    elif op == "burst":  # a paste or the fifo: several commands before anything else runs
        for _ in range(rng.randint(2, 5)):
            verb = rng.choice(("rename", "add", "del", "connect", "disconnect"))
            first, second = rng.choice(NAMES), rng.choice(NAMES)
            args = {"rename": f"{first} {second}", "add": f"{first} http://127.0.0.1:1"}.get(verb, first)
            sim.user(f"/remote {verb} {args}")
    elif op == "probes":
        sim.answer_probes(rng.random() < 0.7)
    elif op == "relay":
        relay_reload(sim, rng)
    sim.settle()


def relay_reload(sim, rng):
    """/plugin unload relay, time passes, /plugin load relay: what the user wanted stays."""
    engine = ra.SHELL.engine
    up = {
        name
        for name, remote in engine.remotes.items()
        if engine.managed(remote) and (remote.status != "disconnected" or remote.due is not None)
    }
    sim.relay_reload(between=lambda: sim.advance(rng.choice((0.5, 5.0, 60.0))))
    sim.settle()
    for name in up:
        remote = engine.remotes[name]
        assert remote.wanted and remote.due is not None, f"{name} was up or waiting: it gets an attempt"


@pytest.mark.parametrize("seed", range(100))
def test_random_remote_commands_keep_one_record_per_remote(sim, load, seed):
    rng = random.Random(seed)
    for name in NAMES[1:3]:
        sim.add_remote(name)
    load(
        autoreconnect_jitter=rng.choice((0, 30)),
        autoreconnect_delay=rng.choice((1, 5)),
        autoreconnect_heartbeat=rng.choice((0, 10)),
        autoreconnect_poll=rng.choice((0, 2)),
    )
    check_records(sim)
    for number in range(200):
        try:
            step(sim, rng)
            check_records(sim)
        except AssertionError as err:
            raise AssertionError(f"seed {seed}, step {number}: {err}") from err
