# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""A person at the keyboard: the curses weechat in a terminal, keys pressed, the screen read.

The server is a real weechat-headless; the client is the curses weechat in
tmux (tests/e2e/terminal.py). Everything the person does goes through key
presses: typing, Enter, Backspace, Tab, Alt+1, Alt+arrows, Ctrl+P/N, PgUp,
Alt+Ctrl+L (/remote togglecmd), and commands typed in the core buffer.

Set RELAY_AUTORECONNECT_SCREENS=DIR to keep the screens of the outage test
(the README shows them).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from harness import PASSWORD
from helpers import (
    CHAN,
    MIRROR,
    SPACED,
    SPACED_CHAN,
    SPACED_MIRROR,
    connect_with_mirror,
    connected_with_mirror,
    fast,
    heartbeat,
    inputs,
    server_killed,
)
from terminal import plain

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)

# the script's bar item at the end of the status bar, as the README says to add it
STATUS = ['/set weechat.bar.status.items "${weechat.bar.status.items},relay_autoreconnect"']
SETTINGS = [*fast(3, 3), *STATUS]


def kill(server, term):
    since = server_killed(server, term)
    term.wait_text("[<disconnected>]")  # WeeChat's input prompt says so (4.5+)
    return since


def chat(screen):
    """The text of the chat area as the person reads it: wrapped lines joined again."""
    lines = plain(screen).split("\n")
    return " ".join(line.split("│", 2)[2].strip() for line in lines if line.count("│") >= 2)


def switch(term, keys, expected_name):
    since = time.monotonic()
    term.keys(*keys)
    term.wait_switch(expected_name, since)


def test_keys_work_in_a_down_remote_buffer_and_typed_lines_arrive_once_in_order(lab):
    server, term = connected_with_mirror(lab, SETTINGS, terminal=True)
    since = kill(server, term)
    # edit the input line: type, Backspace, Left and insert, Tab
    term.type("helo")
    term.keys("Left")
    term.type("l")
    term.wait_screen(lambda s: plain(s).endswith("hello"), 5, "edited input")
    term.type("wx")
    term.keys("BSpace", "BSpace", "Tab")
    term.wait_screen(lambda s: plain(s).endswith("hello"), 5, "Backspace twice")
    term.keys("Enter")
    term.wait_text("remote[srv] is not connected: kept, sent after the reconnection (1 waiting")
    assert not plain(term.screen()).endswith("hello")  # the input line is empty again
    term.submit("how are you?")
    term.wait_text("(2 waiting")
    term.keys("PPage", "NPage")  # scroll: /window page_up, page_down
    # leave and come back, every way a person does
    previous = "relay.remote.srv.core.weechat"
    switch(term, ["C-p"], previous)
    switch(term, ["C-n"], MIRROR)
    switch(term, ["M-Left"], previous)
    switch(term, ["M-Right"], MIRROR)
    switch(term, ["M-1"], "core.weechat")
    assert not term.lines("command not run", since)
    assert not term.lines("Traceback")
    server = lab.server(extra=CHAN)
    term.wait_text("remote[srv]: 2 queued line(s) delivered", 20)
    assert inputs(server) == ["hello", "how are you?"]
    # back in the buffer with the link up: what is typed goes straight to the server
    switch(term, ["M-3"], MIRROR)
    term.submit("live again")
    server.wait_for(lambda: len(inputs(server)) == 3, 5, "the live line")
    assert inputs(server) == ["hello", "how are you?", "live again"]


def test_the_status_bar_shows_the_outage_and_autoreconnect_lists_it(lab):
    server, term = connected_with_mirror(lab, SETTINGS, terminal=True)
    screens = {}
    kill(server, term)
    term.submit("are you there?")
    screens["outage, in the remote's buffer"] = term.wait_screen(
        lambda s: "srv outbox 1" in plain(s).split("\n")[-2] and "(network)" in plain(s).split("\n")[-2],
        5,
        "the bar item in the status bar",
    )
    switch(term, ["M-1"], "core.weechat")
    term.submit("/autoreconnect")
    screens["/autoreconnect in the core buffer"] = term.wait_text("srv: disconnected, attempt ")
    assert "last failure: network, managed" in term.screen()
    server = lab.server(extra=CHAN)
    term.wait_text("remote[srv]: 1 queued line(s) delivered", 20)
    screens["back"] = term.wait_screen(
        lambda s: "srv " not in plain(s).split("\n")[-2], 5, "the bar item gone from the status bar"
    )
    assert inputs(server) == ["are you there?"]
    keep = os.environ.get("RELAY_AUTORECONNECT_SCREENS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for n, (title, screen) in enumerate(screens.items()):
            (Path(keep) / f"{n}.txt").write_text(f"{title}\n{plain(screen)}\n")


def test_offline_the_status_bar_says_waiting_for_network_and_each_change_is_said_once(lab, net):
    """The person's network goes while the remote is connected: one line in the core buffer
    says it waits for the network, the status bar says so, no attempt is made meanwhile;
    the network back, one line says so and the bar item goes."""
    lab.server(net=net)
    term = lab.terminal([*fast(2, 2), *heartbeat(1, 1), *STATUS], net=net)
    since = time.monotonic()
    term.submit("/remote connect srv")
    term.wait_line("remote[srv]: WeeChat: ", since, 10)
    cut = time.monotonic()
    net.link(False)
    screen = term.wait_screen(lambda s: "srv waiting for network" in plain(s).split("\n")[-2], 10, "the bar item")
    assert "remote[srv]: no route to the server: waiting for the network" in plain(screen)
    term.submit("/autoreconnect")
    term.wait_text("srv: disconnected, waiting for network, last failure: offline")
    term.assert_no_signal("connecting", cut, 3.0)  # the script before attempted every 2 s
    net.link(True)
    term.wait_text("remote[srv]: the network is back: reconnecting now")
    term.wait_screen(lambda s: "srv " not in plain(s).split("\n")[-2], 10, "the bar item gone from the status bar")
    assert plain(term.screen()).count("waiting for the network") == 1


def test_a_typed_command_is_refused_or_kept_and_alt_ctrl_l_runs_commands_here(lab):
    server, term = connected_with_mirror(lab, SETTINGS, terminal=True)
    since = kill(server, term)
    term.submit("/print refused-for-the-remote")
    term.wait_text("remote[srv] is not connected: command not run (relay.network.autoreconnect_outbox_commands")
    term.keys("C-M-l")  # /remote togglecmd: commands typed here run on this WeeChat
    term.submit("/print ran-on-the-client")
    line = term.wait_line("ran-on-the-client", since, 5)
    assert line["buffer"] == MIRROR
    term.submit("/set relay.network.autoreconnect_outbox_commands on")  # still running here
    term.wait_line("Option changed: relay.network.autoreconnect_outbox_commands", since, 5)
    term.keys("C-M-l")  # commands go to the remote again
    term.submit("/print kept-for-the-remote")
    term.wait_text("(1 waiting")
    server = lab.server(extra=CHAN)
    term.wait_line("remote[srv]: 1 queued line(s) delivered", since, 20)
    server.wait_line("kept-for-the-remote", since, 5)
    assert not server.lines("refused-for-the-remote") and not server.lines("ran-on-the-client")


def test_lines_pasted_while_down_arrive_in_order_and_a_pasted_command_is_refused(lab):
    server, term = connected_with_mirror(lab, SETTINGS, terminal=True)
    since = kill(server, term)
    term.paste('pasted one\n/print pasted-command\npasted two ${sec.data.x} "quoted" ünïcode')
    term.wait_screen(lambda s: "ünïcode" in plain(s).split("\n")[-1], 5, "the paste in the input line")
    term.keys("Enter")
    term.wait_text("(2 waiting")
    term.wait_text("command not run")
    server = lab.server(extra=CHAN)
    term.wait_line("remote[srv]: 2 queued line(s) delivered", since, 20)
    assert inputs(server) == ["pasted one", 'pasted two ${sec.data.x} "quoted" ünïcode']
    assert not server.lines("pasted-command") and not term.lines("pasted-command")


def test_a_rename_while_down_keeps_the_person_in_the_buffer_under_the_new_name(lab):
    server, term = connected_with_mirror(lab, SETTINGS, terminal=True)
    kill(server, term)
    term.submit("typed before")
    term.wait_text("(1 waiting")
    switch(term, ["M-1"], "core.weechat")
    term.submit("/remote rename srv srv2")
    term.wait_text('remote relay "srv" has been renamed to "srv2"')
    renamed = "relay.remote.srv2.python.chan"
    switch(term, ["M-3"], renamed)  # the same buffer, under the remote's new name
    term.wait_screen(
        lambda s: "remote.srv2.python.chan" in plain(s).split("\n")[-2], 5, "the new name in the status bar"
    )
    term.submit("typed after")
    term.wait_text("remote[srv2] is not connected: kept, sent after the reconnection (2 waiting")
    server = lab.server(extra=CHAN)
    term.wait_text("remote[srv2]: 2 queued line(s) delivered", 20)
    assert inputs(server) == ["typed before", "typed after"]


@pytest.mark.one_version
def test_secure_typed_in_the_core_buffer_moves_both_secrets_and_shows_neither(lab):
    totp = "JBSWY3DPEHPK3PXP"
    term = lab.terminal([f"/set relay.remote.srv.totp_secret {totp}"])
    term.submit("/buffer clear")  # WeeChat itself showed the values it was given ("Option changed")
    term.submit("/autoreconnect secure srv")
    screen = term.wait_text('TOTP secret moved to secured data "relay_remote_srv_totp"')
    assert 'password moved to secured data "relay_remote_srv"' in screen
    assert PASSWORD not in screen and totp not in screen
    term.submit("/set relay.remote.srv.password second-pw")  # the person changes it, in plain text
    term.submit("/buffer clear")
    term.submit("/autoreconnect secure srv")
    screen = term.wait_text("(the value it held is replaced)")
    assert 'password moved to secured data "relay_remote_srv" (the value' in screen
    assert "second-pw" not in screen and "relay_remote_srv_2" not in screen


@pytest.mark.one_version
def test_tab_completes_a_quoted_buffer_name_then_a_line_id_and_enter_drops_that_line(lab):
    server = lab.server(extra=[*CHAN, *SPACED_CHAN])
    term = lab.terminal(SETTINGS)
    since = connect_with_mirror(term, typed=True)
    term.wait_for(lambda: term.find(kind="buffer", name=SPACED_MIRROR, since=since), 10, "the mirror of my chan")
    since = server_killed(server, term)
    for text in ("hello", "world"):
        term.send(f'/probe command "{SPACED_MIRROR}" {text}')  # as a script would, into the mirror
    term.wait_line("(2 waiting; /autoreconnect outbox)", since, 5)
    first = json.loads((term.home / "relay_autoreconnect_outbox.json").read_text())["lines"][0]["id"][:4]
    assert term.shown() in (None, "core.weechat")  # the person is in the core buffer
    term.type("/autoreconnect outbox drop srv ")
    term.keys("Tab")
    typed = "/autoreconnect outbox drop srv 'python.my chan'"
    term.wait_screen(lambda s: plain(s).split("\n")[-1].endswith(typed), 5, "the buffer name completed, quoted")
    term.keys("Tab")
    term.wait_screen(lambda s: plain(s).split("\n")[-1].endswith(f"{typed} {first}"), 5, "the first line's id")
    term.keys("Enter")
    term.wait_text("remote[srv]: 1 queued line(s) dropped")
    server = lab.server(extra=[*CHAN, *SPACED_CHAN])
    term.wait_text("remote[srv]: 1 queued line(s) delivered", 20)
    assert inputs(server, since, SPACED) == ["world"]
    assert not term.lines("Traceback")


@pytest.mark.one_version
def test_an_outbox_file_that_can_not_be_written_is_said_where_the_person_types_and_when_it_works_again(lab):
    server, term = connected_with_mirror(lab, SETTINGS, terminal=True)
    kill(server, term)
    path = term.home / "relay_autoreconnect_outbox.json"
    temporary = term.home / "relay_autoreconnect_outbox.json.tmp"
    temporary.mkdir()  # where the new file is made: writing it fails (for root too)
    reason = f"outbox file {path} can not be written ([Errno 21] Is a directory: '{temporary}')"
    term.submit("first")
    term.wait_screen(
        lambda s: chat(s).endswith(
            f"(1 waiting; /autoreconnect outbox): first relay_autoreconnect: {reason}: kept in memory only"
        ),
        5,
        "the line kept, in memory only",
    )
    temporary.rmdir()  # the person fixed it
    term.submit("second")
    term.wait_screen(lambda s: chat(s).endswith("(2 waiting; /autoreconnect outbox): second"), 5, "the line kept")
    switch(term, ["M-1"], "core.weechat")
    said = (
        f"{reason}: 1 queued line(s) kept in memory only; tried again every 10 seconds and at each change",
        f"outbox file {path} is written again: 2 queued line(s) on disk",
    )
    term.wait_screen(lambda s: all(text in chat(s) for text in said), 5, "what was said in the core buffer")
    server = lab.server(extra=CHAN)
    term.wait_text("remote[srv]: 2 queued line(s) delivered", 20)
    assert inputs(server) == ["first", "second"]
