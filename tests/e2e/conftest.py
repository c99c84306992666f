# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures: real WeeChat server and client, always stopped after the test."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import List, Optional

import pytest
from harness import NEWEST_ROOT, PASSWORD, PROBE, SCRIPT, NetPair, WeeChat, client_commands, free_port, server_commands
from terminal import Terminal, curses_available

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    """Mark the tests of this folder (the hook sees every collected test)."""
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def weechat_installed():
    if NEWEST_ROOT:
        yield from newest_root_mounted()
        return
    if not shutil.which("weechat-headless"):
        pytest.fail("weechat-headless is not installed: run 'make test' (it installs it)")
    yield


def newest_root_mounted():
    """/proc, /dev and /tmp in the root of the newest WeeChat for the session, then unmounted."""
    mounted = []
    for source, target, options in (("proc", "proc", ["-t", "proc"]), ("/dev", "dev", ["--bind"]),
                                    ("/tmp", "tmp", ["--bind"])):  # fmt: skip
        path = os.path.join(NEWEST_ROOT, target)
        if not os.path.ismount(path):
            subprocess.run(["mount", *options, source, path], check=True, capture_output=True, timeout=10)
            mounted.append(path)
    try:
        print(f"WeeChat in {NEWEST_ROOT}: {WeeChat.version()}")
        yield
    finally:
        for path in reversed(mounted):
            subprocess.run(["umount", "-l", path], check=False, capture_output=True, timeout=10)


class Lab:
    """A server and a client on 127.0.0.1, created on demand."""

    def __init__(self, tmp_path) -> None:
        self.tmp = tmp_path
        self.port = free_port()
        self.instances: List[WeeChat] = []
        self.server_home = tmp_path / "server"

    def server(self, net: Optional[NetPair] = None, extra=(), tls_pem: Optional[Path] = None) -> WeeChat:
        """(Re)start the server on the same port and directory (TLS with this certificate and key)."""
        address, netns = (net.SERVER_ADDRESS, net.server_ns) if net else ("127.0.0.1", "")
        commands = server_commands(self.port, address) + list(extra)
        if tls_pem:
            commands = [f"/set relay.network.tls_cert_key {tls_pem}"] + [
                command.replace("/relay add api", "/relay add tls.api") for command in commands
            ]
        server = WeeChat(self.server_home, [PROBE], commands, netns)
        self.instances.append(server)
        server.start()
        since = time.monotonic() - 30
        server.wait_line(f"port {self.port}", since, 10)
        return server

    def client(  # noqa: PLR0917
        self,
        extra=(),
        script: bool = True,
        home: str = "client",
        net: Optional[NetPair] = None,
        password: str = PASSWORD,
        scheme: str = "http",
        address: str = "",
        netlink: bool = True,
    ) -> WeeChat:
        scripts = [PROBE, SCRIPT] if script else [PROBE]
        # exact schedules: no jitter unless the test asks for it
        extra = (["/set relay.network.autoreconnect_jitter 0"] if script else []) + list(extra)
        extra = ["/set logger.file.flush_delay 0", *extra]  # logs on disk at once, to be searched
        default_address, netns = (net.SERVER_ADDRESS, net.client_ns) if net else ("127.0.0.1", "")
        commands = client_commands(self.port, extra, address or default_address, password, scheme)
        client = WeeChat(self.tmp / home, scripts, commands, netns, netlink)
        self.instances.append(client)
        return client.start()

    def terminal(self, extra=(), home: str = "terminal", net: Optional[NetPair] = None) -> Terminal:
        """The client as a person uses it: the curses weechat in a terminal, with the script."""
        reason = curses_available()
        if reason:
            pytest.fail(reason)
        extra = ["/set relay.network.autoreconnect_jitter 0", "/set logger.file.flush_delay 0", *extra]
        address, netns = (net.SERVER_ADDRESS, net.client_ns) if net else ("127.0.0.1", "")
        terminal = Terminal(self.tmp / home, [PROBE, SCRIPT], client_commands(self.port, extra, address), netns)
        self.instances.append(terminal)
        return terminal.start()

    def stop(self) -> None:
        for instance in reversed(self.instances):
            instance.stop()


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path)
    yield lab
    lab.stop()


@pytest.fixture
def tls_pem(tmp_path):
    """A self-signed certificate and its key, in one PEM file (as relay.network.tls_cert_key wants)."""
    pem = tmp_path / "relay.pem"
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=relay-autoreconnect-test"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    pem.write_bytes(key.read_bytes() + cert.read_bytes())
    return pem


@pytest.fixture
def net(lab):
    """Server and client hosts in two network namespaces made for the test."""
    reason = NetPair.available()
    if reason:
        pytest.skip(reason)
    pair = NetPair().create()
    yield pair
    lab.stop()
    pair.delete()
