#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Facts for sending several lines in one POST /api/input: what a real WeeChat does with them.

A real weechat-headless server on 127.0.0.1 (its buffer python.chan records each line its
input gets, with the monotonic clock), requests made with curl. Printed for each request:
the command sent, the answer, the lines the buffer got (and how many ms after curl returned),
the lines printed elsewhere. Looked at: `/command -s` with `/input send` lines (order, `;`
escaped, spaces, backslashes, `/` and `//`, newlines, sizes), `relay.network.commands` and
the commands nested in `/command -s`, and how a client may learn that a request's command ran:
GET /api/buffers/NAME, and (with a client connected, no script) the local variable coming to
the client's mirror of the buffer by the websocket; and what one request costs the server
by the hash of its Authorization.

Run: python3 tools/batch_facts.py
(on WeeChat 4.10: RELAY_AUTORECONNECT_ROOT=/var/cache/relay-autoreconnect/sid, with /proc,
/dev and /tmp mounted in that root, as tests/e2e/conftest.py does)
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))

from harness import PASSWORD, PROBE, WeeChat, client_commands, free_port, server_commands  # noqa: E402
from helpers import CHAN, MIRROR  # noqa: E402

# on the client: records each change of a buffer's local variable "rab_done"
WATCH = """\
import json, os, time
import weechat

weechat.register("localvar_watch", "tools", "0.1", "GPL3", "records local variable signals", "", "")
OUT = open(os.environ["WEECHAT_PROBE_FILE"], "a", buffering=1, encoding="utf-8")


def localvar_cb(_data, signal, buffer):
    name = weechat.buffer_get_string(buffer, "full_name")
    value = weechat.buffer_get_string(buffer, "localvar_rab_done")
    OUT.write(json.dumps({"t": time.monotonic(), "kind": "localvar", "signal": signal, "buffer": name, "value": value}))
    OUT.write("\\n")
    return weechat.WEECHAT_RC_OK


for signal in ("buffer_localvar_added", "buffer_localvar_changed"):
    weechat.hook_signal(signal, "localvar_cb", "")
"""

CASES: List[Tuple[str, str]] = [
    ("one line", "hello"),
    ("a batch of 3", "/command -s /input send l1;/input send l2;/input send l3"),
    ("-buffer B -s", "/command -buffer python.chan -s * /input send x1;/input send x2"),
    ("-buffer B * (one command)", "/command -buffer python.chan * /input send y1;/input send y2"),
    ("; escaped", r"/command -s /input send a\;b;/input send c"),
    ("a line with \\; in it, written \\\\;", r"/command -s /input send a\\;b;/input send c"),
    ("; in /input send alone", "/input send p;q"),
    ("leading spaces", "/command -s /input send   lead;/input send x"),
    ("leading spaces, alone", "   lead alone"),
    ("trailing spaces, not last", "/command -s /input send trail  ;/input send x"),
    ("trailing spaces, last", "/command -s /input send x;/input send trail  "),
    ("trailing spaces, alone", "trail alone  "),
    ("inner spaces", "/command -s /input send a  b;/input send c"),
    ("only spaces", "/command -s /input send    ;/input send c"),
    ("trailing backslash, not last", "/command -s /input send back\\;/input send x"),
    ("trailing backslash, last", "/command -s /input send x;/input send back\\"),
    ("backslashes inside", r"/command -s /input send a\b;/input send a\\b"),
    ("a line beginning with /", "/command -s /input send /print -core ran-on-the-server;/input send x"),
    ("a line beginning with //", "/command -s /input send //slash;/input send x"),
    ("a line beginning with //, alone", "//slash alone"),
    ("empty parts", "/command -s /input send a;;/input send b; ;/input send c"),
    ("a newline in the batch", "/command -s /input send n1;/input send n2\n/input send n3"),
]
RULES = ("*,!input", "*,!command")
RULE_CASES = [
    ("a batch", "/command -s /input send r1;/input send r2"),
    ("one line", "plain"),
    ("/input send alone", "/input send r3"),
]


class Server:
    """The server, and requests to its relay API with curl (password "plain")."""

    def __init__(self, tmp: Path, port: int) -> None:
        self.tmp, self.port = tmp, port
        self.weechat = WeeChat(tmp / "server", [PROBE], server_commands(port) + CHAN)

    def curl(self, method: str, path: str, body: Optional[Dict] = None) -> Tuple[str, str]:
        """(HTTP code, body of the answer)."""
        command = ["curl", "-s", "-o", str(self.tmp / "answer"), "-w", "%{http_code}", "-u", f"plain:{PASSWORD}"]
        if body is not None:
            (self.tmp / "request").write_text(json.dumps(body))
            command += ["-H", "Content-Type: application/json", "--data-binary", f"@{self.tmp / 'request'}"]
        command += ["-X", method, f"http://127.0.0.1:{self.port}{path}"]
        code = subprocess.run(command, capture_output=True, text=True, check=False).stdout
        return code, (self.tmp / "answer").read_text()

    def post(self, command: str, settle: float = 1.0) -> Dict:
        """POST /api/input to python.chan; what happened within `settle` s."""
        since = time.monotonic()
        code, answer = self.curl("POST", "/api/input", {"buffer_name": "python.chan", "command": command})
        done = time.monotonic()
        time.sleep(settle)
        got = [(e["text"], round((e["t"] - done) * 1000, 1)) for e in self.weechat.find(kind="input", since=since)]
        lines = [e["message"] for e in self.weechat.find(kind="line", since=since) if e["buffer"] != "python.chan"]
        return {"code": code, "answer": answer, "got": got, "lines": lines}

    def show(self, title: str, command: str) -> None:
        result = self.post(command)
        print(f"\n## {title}\ncommand: {json.dumps(command)}\n-> HTTP {result['code']} {result['answer']!r}")
        print(f"   input of python.chan (text, ms after curl returned): {result['got']}")
        if result["lines"]:
            print(f"   lines elsewhere: {result['lines']}")


def sizes(server: Server) -> None:
    for count, settle in ((100, 1.0), (2000, 2.0), (5000, 8.0)):
        command = "/command -s " + ";".join(f"/input send big {n:05d}" for n in range(count))
        result = server.post(command, settle)
        texts = [text for text, _ in result["got"]]
        last = result["got"][-1][1] if result["got"] else None
        print(
            f"## a batch of {count} ({len(command)} bytes): HTTP {result['code']}, {len(texts)} lines, in order: "
            f"{texts == [f'big {n:05d}' for n in range(count)]}, the last {last} ms after curl returned"
        )


def commands_option(server: Server) -> None:
    for rule in RULES:
        server.weechat.send(f"/set relay.network.commands {rule}")
        time.sleep(0.5)
        for title, command in RULE_CASES:
            server.show(f"relay.network.commands {rule}: {title}", command)
    server.weechat.send("/debug set core 1")
    server.weechat.send(f"/set relay.network.commands {RULES[0]}")
    time.sleep(0.5)
    server.show(f"/debug set core 1, relay.network.commands {RULES[0]}: a batch", RULE_CASES[0][1])
    server.weechat.send("/debug set core 0")
    server.weechat.send("/set relay.network.commands *,!quit")
    time.sleep(0.5)


def feedback(server: Server, client: WeeChat) -> None:
    """A batch that ends with /buffer setvar: GET /api/buffers/NAME, and the client's mirror."""
    code, answer = server.curl("GET", "/api/buffers/python.chan")
    print(f"\n## GET /api/buffers/python.chan -> HTTP {code} {answer[:300]}...")
    for n in range(3):
        marker = f"m{n}"
        command = f"/command -s /input send f{n}a;/input send f{n}b;/buffer setvar rab_done {marker}"
        since = time.monotonic()
        code, _ = server.curl("POST", "/api/input", {"buffer_name": "python.chan", "command": command})
        answered = time.monotonic()
        _, answer = server.curl("GET", "/api/buffers/python.chan")
        got = json.loads(answer).get("local_variables", {}).get("rab_done")
        seen = client.wait_for(
            lambda: [e for e in client.find(kind="localvar", since=since) if e["value"] == marker],  # noqa: B023
            5,
            "the local variable on the client",
        )[0]
        ran = server.weechat.find(kind="input", since=since)
        print(
            f"   POST {code}; lines {[e['text'] for e in ran]} ran {(ran[-1]['t'] - answered) * 1000:+.1f} ms after "
            f"curl returned; the GET right after: rab_done={got!r}; the client's {seen['buffer']}: "
            f"{seen['signal']} rab_done={seen['value']!r} {(seen['t'] - ran[-1]['t']) * 1000:.1f} ms after the lines"
        )


def authorization(algo: str) -> str:
    """An Authorization header for the password, salted with the current second."""
    salt = str(int(time.time()))
    if algo == "plain":
        user = f"plain:{PASSWORD}"
    elif algo.startswith("pbkdf2+"):
        digest = hashlib.pbkdf2_hmac(algo[len("pbkdf2+") :], PASSWORD.encode(), salt.encode(), 100000).hex()
        user = f"hash:{algo}:{salt}:100000:{digest}"
    else:
        user = f"hash:{algo}:{salt}:{hashlib.new(algo, (salt + PASSWORD).encode()).hexdigest()}"
    return "Authorization: Basic " + base64.b64encode(user.encode()).decode()


def auth_cost(server: Server) -> None:
    """How long the server takes to answer a POST /api/input, by the hash of its Authorization (10 each)."""
    start = time.perf_counter()
    authorization("pbkdf2+sha512")
    print(f"\n## pbkdf2+sha512, 100 000 iterations, in Python's hashlib: {(time.perf_counter() - start) * 1000:.1f} ms")
    for algo in ("plain", "sha256", "pbkdf2+sha512"):
        times = []
        for n in range(10):
            body = json.dumps({"buffer_name": "python.chan", "command": f"{algo} {n}"})
            command = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-H", authorization(algo)]
            command += ["-X", "POST", "-d", body, f"http://127.0.0.1:{server.port}/api/input"]
            code, total = subprocess.run(command, capture_output=True, text=True, check=False).stdout.split()
            times.append(float(total) * 1000)
        print(f"   {algo}: HTTP {code}, time_total median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="relay-autoreconnect-facts-"))
    port = free_port()
    watch = tmp / "localvar_watch.py"
    watch.write_text(WATCH)
    server = Server(tmp, port)
    client = WeeChat(tmp / "client", [PROBE, watch], client_commands(port))
    try:
        server.weechat.start()
        server.weechat.wait_line(f"port {port}", time.monotonic() - 30, 10)
        print(f"WeeChat {WeeChat.version()}, server on 127.0.0.1:{port}")
        for title, command in CASES:
            server.show(title, command)
        sizes(server)
        auth_cost(server)
        commands_option(server)
        client.start()
        since = time.monotonic()
        client.send("/remote connect srv")
        client.wait_for(lambda: client.find(kind="buffer", name=MIRROR, since=since), 10, "the mirror")
        client.wait_line("remote[srv]: WeeChat: ", since, 5)
        feedback(server, client)
    finally:
        client.stop()
        server.weechat.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"command: python3 tools/batch_facts.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
