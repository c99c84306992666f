# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The curses weechat in a terminal (tmux), driven by key presses as a person drives it.

Keys go in with `tmux send-keys`, the screen comes out with `tmux capture-pane`;
the probe script records what happens inside (signals, lines, buffer
switches) as for weechat-headless. Each terminal has its own tmux server
(socket), removed when the test ends.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable, List, Optional

from harness import NEWEST_ROOT, WeeChat, weechat_command

# the curses WeeChat (Debian package weechat-curses)
CURSES = "weechat"


def curses_available() -> str:
    """Why the terminal tests can not run here ("" if they can)."""
    for tool in (CURSES, "tmux"):
        if not shutil.which(tool) and not (tool == CURSES and NEWEST_ROOT):
            return f"'{tool}' is not installed: run 'make test' (it installs it)"
    return ""


class Terminal(WeeChat):
    """The curses weechat running in a tmux session of WIDTH x HEIGHT."""

    WIDTH, HEIGHT = 150, 30

    def __init__(self, home: Path, scripts: List[Path], commands: List[str], netns: str = "") -> None:
        super().__init__(home, scripts, commands, netns)
        self.socket = f"relay-autoreconnect-{os.getpid()}-{id(self):x}"

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check, timeout=10
        )

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", "weechat", check=False).returncode == 0

    def start(self, timeout: float = 20.0) -> Terminal:
        self.install_scripts()
        ready_before = len(self.find(kind="ready"))
        self.tmux(
            "new-session", "-d", "-s", "weechat", "-x", str(self.WIDTH), "-y", str(self.HEIGHT),
            "-e", f"WEECHAT_PROBE_FILE={self.probe_file}",
            *(["ip", "netns", "exec", self.netns] if self.netns else []),
            *weechat_command(CURSES), "--dir", str(self.home), "-r", ";".join(self.startup_commands()),
        )  # fmt: skip
        self.wait_for(lambda: len(self.find(kind="ready")) > ready_before, timeout, "start-up commands")
        return self

    # -- a person at the keyboard ------------------------------------------------

    def keys(self, *keys: str) -> None:
        """Press keys by tmux name: "Enter", "BSpace", "Tab", "M-1", "M-Left", "C-p", "PPage"..."""
        self.tmux("send-keys", "-t", "weechat", *keys)

    def type(self, text: str) -> None:
        """Type text (literally, no key names)."""
        self.tmux("send-keys", "-t", "weechat", "-l", text)

    def paste(self, text: str) -> None:
        """Paste text (bracketed paste, as a terminal does when the person pastes)."""
        self.tmux("set-buffer", "-b", "paste", text)
        self.tmux("paste-buffer", "-p", "-d", "-b", "paste", "-t", "weechat")

    def submit(self, text: str) -> None:
        """Type a line and press Enter."""
        self.type(text)
        self.keys("Enter")

    # -- what the person sees ------------------------------------------------------

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "weechat").stdout

    def input_line(self) -> str:
        """The last line of the screen: the input bar."""
        return self.screen().rstrip("\n").split("\n")[-1]

    def status_bar(self) -> str:
        """The line above the input bar."""
        return self.screen().rstrip("\n").split("\n")[-2]

    def wait_screen(self, check: Callable[[str], object], timeout: float, what: str) -> str:
        """Wait until check(screen) is true; return the screen."""
        found: List[str] = []

        def seen() -> bool:
            screen = self.screen()
            if check(screen):
                found.append(screen)
                return True
            return False

        try:
            self.wait_for(seen, timeout, what)
        except AssertionError as err:
            raise AssertionError(f"{err}\n--- screen ---\n{self.screen()}") from None
        return found[0]

    def wait_text(self, text: str, timeout: float = 5.0) -> str:
        return self.wait_screen(lambda screen: text in screen, timeout, f"{text!r} on the screen")

    def wait_switch(self, name: str, since: float, timeout: float = 5.0) -> dict:
        """Wait until the buffer shown is `name` (full name), after `since`."""
        return self.wait_for(
            lambda: [e for e in self.find(kind="switch", since=since) if e["name"] == name][-1:],
            timeout,
            f"switch to {name}",
        )[0]

    def shown(self) -> Optional[str]:
        """Full name of the buffer shown now (last switch seen)."""
        switches = self.find(kind="switch")
        return switches[-1]["name"] if switches else None

    # -- process -------------------------------------------------------------------

    def kill(self, sig: int = 9) -> None:
        self.tmux("kill-server", check=False)

    def quit(self, timeout: float = 10.0) -> None:
        if self.alive():
            self.keys("C-u")
            self.submit("/quit")
            deadline = time.monotonic() + timeout
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
        self.kill()

    def stop(self) -> None:
        """/quit through the fifo, in the core buffer: typed in a remote's buffer, /quit goes to the remote
        (or to its outbox), and the teardown waited 5 s for a WeeChat that never quit."""
        try:
            if self.alive():
                self.send("/quit", buffer="core.weechat")
                deadline = time.monotonic() + 5
                while self.alive() and time.monotonic() < deadline:
                    time.sleep(0.02)
        except OSError:
            pass
        finally:
            self.kill()


COLOR = re.compile(r"\x1b\[[0-9;]*m")


def plain(screen: str) -> str:
    """A screen without trailing blanks (for the README and error messages)."""
    return "\n".join(line.rstrip() for line in COLOR.sub("", screen).rstrip("\n").split("\n"))
