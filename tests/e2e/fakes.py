# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Misbehaving servers on 127.0.0.1 for end-to-end tests (run in the test process)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import select
import socket
import struct
import threading
from typing import List, Optional, Tuple

HANDSHAKE = json.dumps({"password_hash_algo": "plain", "password_hash_iterations": 100000, "totp": False})


def listening_socket(port: int) -> socket.socket:
    """A TCP socket listening on 127.0.0.1:port."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    return sock


def read_request(conn: socket.socket) -> Tuple[str, bytes]:
    """Read one HTTP request, body included; return its request line and its head."""
    conn.settimeout(2)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
            0,
        )
        while len(body) < length:
            chunk = conn.recv(4096)
            if not chunk:
                break
            body += chunk
    except OSError:
        pass
    return data.split(b"\r\n", 1)[0].decode(errors="replace"), data.partition(b"\r\n\r\n")[0]


def answer_handshake(conn: socket.socket) -> None:
    """Answer POST /api/handshake as a relay does, then close."""
    body = HANDSHAKE.encode()
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    conn.close()


class Closing:
    """A fake server that is closed at the end of a `with` block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SilentListener(Closing):
    """Accepts TCP connections (kernel backlog) and never answers."""

    def __init__(self, port: int) -> None:
        self.sock = listening_socket(port)

    def close(self) -> None:
        self.sock.close()


class StallingRelay(Closing):
    """Answers POST /api/handshake like a relay, then never answers the websocket upgrade."""

    def __init__(self, port: int) -> None:
        self.sock = listening_socket(port)
        self.sock.settimeout(0.2)
        self.held: List[socket.socket] = []
        self.requests: List[str] = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        if self.upgrade_request(conn) is not None:
            self.held.append(conn)  # the websocket upgrade: no answer, ever

    def upgrade_request(self, conn: socket.socket) -> Optional[bytes]:
        """Read one request: answer POST /api/handshake (None), or return the head of the websocket upgrade."""
        request, head = read_request(conn)
        self.requests.append(request)
        if request.startswith("POST /api/handshake"):
            answer_handshake(conn)
            return None
        return head

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def websocket_accept(request: bytes) -> bytes:
    """101 answer to a websocket upgrade request (no extension)."""
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID.encode()).digest())
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def read_frame(conn: socket.socket) -> bytes:
    """Payload of one (masked, client-to-server) websocket frame."""

    def exactly(size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    second = exactly(2)[1]
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exactly(8))[0]
    mask = exactly(4) if second & 0x80 else b"\0\0\0\0"
    return bytes(b ^ mask[i % 4] for i, b in enumerate(exactly(length)))


def text_frame(payload: bytes) -> bytes:
    """An unmasked server-to-client text frame."""
    if len(payload) < 126:
        return bytes([0x81, len(payload)]) + payload
    return bytes([0x81, 126]) + struct.pack("!H", len(payload)) + payload


class OtherVersionRelay(StallingRelay):
    """A relay that accepts the websocket, then answers GET /api/version with another API version."""

    VERSION = {
        "weechat_version": "9.9.9",
        "weechat_version_git": "",
        "weechat_version_number": 151587072,
        "relay_api_version": "0.0.1",
        "relay_api_version_number": 1,
    }

    def _handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        head = self.upgrade_request(conn)
        if head is None:
            return
        conn.settimeout(5)
        try:
            conn.sendall(websocket_accept(head))
            self.held.append(conn)
            while self.running:
                if b"/api/version" in read_frame(conn):
                    answer = {
                        "code": 200,
                        "message": "OK",
                        "request": "GET /api/version",
                        "request_body": None,
                        "request_id": None,
                        "body_type": "version",
                        "body": self.VERSION,
                    }
                    conn.sendall(text_frame(json.dumps(answer).encode()))
        except (OSError, ConnectionError, StopIteration):
            pass


class FlappingRelay(StallingRelay):
    """A relay that answers POST /api/handshake (so polls find it up), accepts the websocket
    upgrade, then closes the link at once: a server (or a proxy) that takes links and drops them."""

    def _handle(self, conn: socket.socket) -> None:
        head = self.upgrade_request(conn)
        if head is not None:
            with contextlib.suppress(OSError):
                conn.sendall(websocket_accept(head))
            conn.close()


def pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy what comes from `source` to `target` until one side closes, then close both."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # the other pipe's recv returns
        sock.close()


def join(one: socket.socket, other: socket.socket) -> None:
    """Copy both ways between two connected sockets (blocking, in two threads)."""
    for sock in (one, other):
        sock.settimeout(None)
    threading.Thread(target=pipe, args=(one, other), daemon=True).start()
    threading.Thread(target=pipe, args=(other, one), daemon=True).start()


def read_until(conn: socket.socket, marker: bytes) -> bytes:
    """What a connection sends until `marker` (or until it closes, fails or is silent 5 s)."""
    conn.settimeout(5)
    data = b""
    with contextlib.suppress(OSError):
        while marker not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


class Listener(Closing):
    """Accepts connections on 127.0.0.1:port, each handled in its own thread."""

    def __init__(self, port: int) -> None:
        self.sock = listening_socket(port)
        self.sock.settimeout(0.2)
        self.running = True
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, peer = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self.handle, args=(conn, peer[0]), daemon=True).start()

    def handle(self, conn: socket.socket, peer: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.running = False
        self.thread.join(timeout=5)
        self.sock.close()


class CountingFront(Listener):
    """In front of a server on 127.0.0.1: forwards every connection to it and records, for each,
    the address it came from and the first line it sent (an HTTP request line)."""

    def __init__(self, port: int, server_port: int) -> None:
        self.server_port = server_port
        self.seen: List[Tuple[str, str]] = []  # (peer address, request line)
        super().__init__(port)

    def handle(self, conn: socket.socket, peer: str) -> None:
        data = read_until(conn, b"\r\n")
        with self.lock:
            self.seen.append((peer, data.split(b"\r\n", 1)[0].decode(errors="replace")))
        try:
            upstream = socket.create_connection(("127.0.0.1", self.server_port), timeout=2)
            upstream.sendall(data)
        except OSError:
            conn.close()  # the server is down
            return
        join(conn, upstream)

    def requests(self, peer: str, start: str = "") -> List[str]:
        """Request lines that came from `peer` (and start with `start`)."""
        with self.lock:
            return [line for address, line in self.seen if address == peer and line.startswith(start)]


class TunnelProxy(Listener):
    """An HTTP proxy that makes tunnels (CONNECT) for the user `credentials` (Basic), connecting
    to their target from `source` (another loopback address: a server sees what came through it)."""

    def __init__(self, port: int, credentials: Tuple[str, str], source: str = "127.0.0.2") -> None:
        self.expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        self.source = source
        self.tunnels: List[Tuple[str, bool]] = []  # (target, the credentials were right)
        super().__init__(port)

    def handle(self, conn: socket.socket, peer: str) -> None:
        data = read_until(conn, b"\r\n\r\n")
        lines = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        words = lines[0].split()
        authorization = next(
            (line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("proxy-authorization:")),
            "",
        )
        authorized = authorization == self.expected
        with self.lock:
            self.tunnels.append((words[1] if len(words) > 1 else lines[0], authorized))
        if len(words) < 3 or words[0] != "CONNECT":
            answer = b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"
        elif not authorized:
            answer = b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n\r\n'
        else:
            host, _, port = words[1].rpartition(":")
            try:
                upstream = socket.create_connection((host, int(port)), timeout=2, source_address=(self.source, 0))
            except OSError:
                answer = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
            else:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                join(conn, upstream)
                return
        with contextlib.suppress(OSError):
            conn.sendall(answer)
        conn.close()


class HoldingProxy(Listener):
    """Forwards each TCP connection on 127.0.0.1:port to a relay on 127.0.0.1:target; while
    `hold` is set, a request POST /api/input is held instead: never forwarded, never answered
    (as a link that dies in the middle of a delivery), until the proxy is closed."""

    def __init__(self, port: int, target: int) -> None:
        self.target = target
        self.hold = False
        self.held: List[socket.socket] = []
        self.open: List[socket.socket] = []
        super().__init__(port)

    def handle(self, conn: socket.socket, peer: str) -> None:
        conn.settimeout(5)
        try:
            first = conn.recv(65536)  # the request line is in the first segment
        except OSError:
            first = b""
        if self.hold and first.startswith(b"POST /api/input"):
            self.held.append(conn)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
        except OSError:
            conn.close()  # the relay is down
            return
        self.open += [conn, upstream]
        with contextlib.suppress(OSError):
            upstream.sendall(first)
            self._pump({conn: upstream, upstream: conn})
        conn.close()
        upstream.close()

    def _pump(self, pairs) -> None:
        """Copy each side to the other until one closes (or the proxy does)."""
        while self.running:
            readable, _, _ = select.select(list(pairs), [], [], 0.2)
            for side in readable:
                data = side.recv(65536)
                if not data:
                    return
                pairs[side].sendall(data)

    def close(self) -> None:
        super().close()
        for conn in self.held + self.open:
            conn.close()
