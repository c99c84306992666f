# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start and drive real weechat-headless processes for end-to-end tests.

Each instance runs in its own --dir, in its own session (setsid), with the
probe script (probe.py) autoloaded; the tests read what the probe records and
send commands through the fifo plugin. Waits are on events, with deadlines.
"""

from __future__ import annotations

import errno
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCRIPT = ROOT / "relay_autoreconnect.py"
PROBE = HERE / "probe.py"
NO_NETLINK = HERE / "no_netlink.py"
PASSWORD = "e2e-Secret-pw"
# RELAY_AUTORECONNECT_ROOT: a root with another WeeChat (tools/install-weechat-newest.sh),
# run with chroot; the tests' files are under /tmp, which the session binds into it
NEWEST_ROOT = os.environ.get("RELAY_AUTORECONNECT_ROOT", "")


def weechat_command(program: str) -> List[str]:
    """The command line that runs a WeeChat program (in the root of the newest WeeChat if set)."""
    return ["chroot", NEWEST_ROOT, f"/usr/bin/{program}"] if NEWEST_ROOT else [program]


def secret_in_files(home: Path, secret: str) -> List[str]:
    """WeeChat's files under its home (logs, weechat.log, ...) that hold `secret`.

    Left out: the configuration (relay.conf holds it: the user put it there)
    and the probe's record (its lines are checked one by one by the tests).
    """
    found = []
    for path in home.rglob("*"):
        skip = path.name.endswith(".conf") or path.name == "probe.jsonl"
        if path.is_file() and not skip and secret.encode() in path.read_bytes():
            found.append(str(path.relative_to(home)))
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WeeChat:
    """One weechat-headless process."""

    def __init__(
        self, home: Path, scripts: List[Path], commands: List[str], netns: str = "", netlink: bool = True
    ) -> None:
        self.home = home
        self.netns = netns
        self.netlink = netlink  # False: the kernel refuses it netlink sockets, as a sandbox does
        self.scripts = scripts
        self.commands = commands
        self.proc: Optional[subprocess.Popen] = None
        self.probe_file = home / "probe.jsonl"
        self.fifo = home / "fifo"
        self._offset = 0
        self.events: List[Dict] = []

    def install_scripts(self) -> None:
        """Copy the scripts into the home's python/ folder, autoloaded."""
        autoload = self.home / "python" / "autoload"
        autoload.mkdir(parents=True, exist_ok=True)
        for script in self.scripts:
            target = self.home / "python" / script.name
            shutil.copy(script, target)
            link = autoload / script.name
            if not link.exists():
                link.symlink_to(target)

    def startup_commands(self) -> List[str]:
        """The fifo, the test's commands, then the probe's "ready" event."""
        return [f"/set fifo.file.path {self.fifo}", "/set fifo.file.enabled on", *self.commands, "/probe ready"]

    def start(self, timeout: float = 15.0) -> WeeChat:
        self.install_scripts()
        ready_before = len(self.find(kind="ready"))
        env = dict(os.environ, WEECHAT_PROBE_FILE=str(self.probe_file))
        with open(self.home / "stdout.txt", "ab") as stdout:
            self.proc = subprocess.Popen(
                (["ip", "netns", "exec", self.netns] if self.netns else [])
                + ([] if self.netlink else [sys.executable, str(NO_NETLINK)])
                + weechat_command("weechat-headless")
                + ["--dir", str(self.home), "-r", ";".join(self.startup_commands())],
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        # every start-up command has run (the fifo exists after the first one)
        self.wait_for(lambda: len(self.find(kind="ready")) > ready_before, timeout, "start-up commands")
        return self

    @staticmethod
    def version() -> str:
        return subprocess.run(
            [*weechat_command("weechat-headless"), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()

    # -- commands ------------------------------------------------------------

    def send(self, command: str, timeout: float = 5.0, buffer: str = "") -> None:
        """Run a command (or send text) in a buffer (full name; core by default) through the fifo."""
        self.send_all([command], timeout, buffer)

    def send_all(self, commands: List[str], timeout: float = 5.0, buffer: str = "") -> None:
        """Run commands (or send texts) in a buffer through the fifo, in one burst (one write)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as err:
                if err.errno not in (errno.ENXIO, errno.ENOENT) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        data = "".join(f"{buffer + ' ' if buffer else ''}*{command}\n" for command in commands).encode()
        try:
            while data:  # a line longer than the pipe holds goes in parts, as WeeChat reads them
                try:
                    data = data[os.write(fd, data) :]
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise
                    select.select([], [fd], [], 0.05)
        finally:
            os.close(fd)

    # -- events --------------------------------------------------------------

    def poll(self) -> List[Dict]:
        """Read new probe events; return all events so far."""
        if self.probe_file.exists():
            with open(self.probe_file, encoding="utf-8") as f:
                f.seek(self._offset)
                chunk = f.read()
            complete = chunk[: chunk.rfind("\n") + 1]
            self._offset += len(complete.encode())
            self.events += [json.loads(line) for line in complete.splitlines() if line]
        return self.events

    def find(self, **match) -> List[Dict]:
        """Events whose fields equal the given values ("text" = substring of message)."""
        text = match.pop("text", None)
        since = match.pop("since", None)
        result = []
        for event in self.poll():
            if since is not None and event["t"] < since:
                continue
            if all(event.get(k) == v for k, v in match.items()) and (text is None or text in event.get("message", "")):
                result.append(event)
        return result

    def signals(self, since: Optional[float] = None) -> List[Dict]:
        return self.find(kind="signal", since=since)

    def lines(self, text: str = "", since: Optional[float] = None) -> List[Dict]:
        return self.find(kind="line", text=text, since=since)

    def wait_for(self, predicate: Callable[[], object], timeout: float, what: str):
        """Wait until predicate() is true; fail with context after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"weechat exited ({self.proc.returncode}) while waiting for {what}")
            if time.monotonic() > deadline:
                tail = [(e.get("status") or e.get("message")) for e in self.poll()[-15:]]
                raise AssertionError(f"timeout ({timeout} s) waiting for {what}; last events: {tail}")
            time.sleep(0.01)

    def nth(self, kind: str, status: str, since: float, *, n: int = 0, timeout: float = 15.0) -> Dict:
        """The n-th (0-based) event of a kind ("signal", "client_signal") with a status, since `since`."""
        found = self.wait_for(
            lambda: [e for e in self.find(kind=kind, since=since) if e["status"] == status][n : n + 1],
            timeout,
            f"{status} #{n + 1}",
        )
        return found[0]

    def connect_remote(self, name: str = "srv") -> Dict:
        """/remote connect; return the connected signal once WeeChat printed the remote's version."""
        since = time.monotonic()
        self.send(f"/remote connect {name}")
        connected = self.nth("signal", "connected", since)
        self.wait_line(f"remote[{name}]: WeeChat: ", since, 5)
        return connected

    def wait_signal(self, status: str, since: float, timeout: float) -> Dict:
        found = self.wait_for(
            lambda: [e for e in self.signals(since) if e["status"] == status], timeout, f"signal {status}"
        )
        return found[0]

    def wait_line(self, text: str, since: float, timeout: float) -> Dict:
        return self.wait_for(lambda: self.lines(text, since), timeout, f"line {text!r}")[0]

    def option(self, name: str, timeout: float = 5.0) -> Optional[str]:
        """Value of an option as WeeChat evaluates it (None: no such option)."""
        since = time.monotonic()
        self.send(f"/probe option {name}")
        found = self.wait_for(lambda: self.find(kind="option", name=name, since=since), timeout, f"option {name}")
        return found[0]["value"]

    def buffers(self, timeout: float = 5.0) -> List[str]:
        """Full names of the buffers open now."""
        since = time.monotonic()
        self.send("/probe buffers")
        return self.wait_for(lambda: self.find(kind="buffers", since=since), timeout, "buffer names")[0]["names"]

    def hooks(self, script: str = "relay_autoreconnect", timeout: float = 5.0) -> Dict[str, int]:
        """Hooks the script holds now, by type."""
        since = time.monotonic()
        self.send(f"/probe hooks {script}")
        return self.wait_for(lambda: self.find(kind="hooks", since=since), timeout, "hook counts")[0]["counts"]

    def assert_no_signal(self, status: str, since: float, seconds: float) -> None:
        """Fail at once if `status` is signalled within `seconds` from now."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            seen = [e for e in self.signals(since) if e["status"] == status]
            assert not seen, f"unexpected {status} at +{seen[0]['t'] - since:.3f} s"
            time.sleep(0.02)

    # -- process -------------------------------------------------------------

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self.proc.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP the process (the kernel still accepts its TCP connections)."""
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def quit(self, timeout: float = 10.0) -> None:
        """/quit, as a user would; kill if it does not end in time."""
        if self.proc and self.proc.poll() is None:
            self.send("/quit")
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGCONT)
                self.quit(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()


def server_commands(port: int, address: str = "127.0.0.1") -> List[str]:
    return [
        "/set relay.network.ipv6 off",
        f"/set relay.network.bind_address {address}",
        f"/set relay.network.password {PASSWORD}",
        f"/relay add api {port}",
    ]


def client_commands(
    port: int, extra: List[str] = (), address: str = "127.0.0.1", password: str = PASSWORD, scheme: str = "http"
) -> List[str]:
    return [f"/remote add srv {scheme}://{address}:{port} -password={password}"] + list(extra)


class NetPair:
    """Two network namespaces joined by a veth pair: a server host and a client host.

    Addresses are private to these namespaces, which the test creates and
    removes. Traffic is dropped silently with a blackhole qdisc on both ends.
    """

    SERVER_ADDRESS = "10.231.0.1"
    CLIENT_ADDRESS = "10.231.0.2"

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}"
        self.server_ns, self.client_ns = f"ra-srv-{tag}", f"ra-cli-{tag}"
        self.server_if, self.client_if = f"ra-s{tag}", f"ra-c{tag}"

    @staticmethod
    def available() -> str:
        """Why namespaces can not be made here, or "" if they can."""
        if os.geteuid() != 0:
            return "network namespaces need root"
        for tool in ("ip", "tc"):
            if not shutil.which(tool):
                return f"'{tool}' (iproute2) is not installed"
        return ""

    @staticmethod
    def _run(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=10)

    def create(self) -> NetPair:
        self.delete()
        self._run("ip", "netns", "add", self.server_ns)
        self._run("ip", "netns", "add", self.client_ns)
        self._link()
        return self

    def replace_server_host(self) -> None:
        """A new server host with the same address: every socket of the old one is
        gone without a packet sent (the veth pair goes with it and is made again)."""
        self._run("ip", "-n", self.client_ns, "link", "del", self.client_if)  # both ends, at once
        self._run("ip", "netns", "del", self.server_ns)
        self._run("ip", "netns", "add", self.server_ns)
        self._link()

    def _link(self) -> None:
        self._run("ip", "link", "add", self.server_if, "type", "veth", "peer", "name", self.client_if)
        for ns, iface, address in (
            (self.server_ns, self.server_if, self.SERVER_ADDRESS),
            (self.client_ns, self.client_if, self.CLIENT_ADDRESS),
        ):
            self._run("ip", "link", "set", iface, "netns", ns)
            self._run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", iface)
            self._run("ip", "-n", ns, "link", "set", iface, "up")
            self._run("ip", "-n", ns, "link", "set", "lo", "up")

    def link(self, up: bool) -> None:
        """The client host's network link goes down (no route to the server) or up again."""
        self._run("ip", "-n", self.client_ns, "link", "set", self.client_if, "up" if up else "down")

    def add_address(self, address: str = "10.231.0.3/24") -> None:
        """A new address on the client host (as when a VPN or a Wi-Fi network comes up)."""
        self._run("ip", "-n", self.client_ns, "addr", "add", address, "dev", self.client_if)

    def default_route(self) -> None:
        """A way out for the client host: a default route through the server's address."""
        self._run("ip", "-n", self.client_ns, "route", "add", "default", "via", self.SERVER_ADDRESS)

    def blackhole(self, on: bool) -> None:
        """Drop (or let through again) every packet on both ends."""
        for ns, iface in ((self.server_ns, self.server_if), (self.client_ns, self.client_if)):
            verb = ("add", "dev", iface, "root", "blackhole") if on else ("del", "dev", iface, "root")
            self._run("ip", "netns", "exec", ns, "tc", "qdisc", *verb)

    def delete(self) -> None:
        for ns in (self.server_ns, self.client_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10, check=False)
