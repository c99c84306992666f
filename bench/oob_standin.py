# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for the script, for bench/input_latency.py only: text submitted in a mirror of
the remote "srv" goes out of band (POST /api/input through hook_url, authenticated as the
server's handshake asks, one hash a second as the script does), not through the websocket.

Run: python3 bench/input_latency.py 50 200 --script bench/oob_standin.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Dict, List, Optional, Tuple

import weechat

weechat.register("relay_autoreconnect", "bench", "0.1", "GPL3", "stand-in: input out of band", "", "")
MIRRORS = "relay.remote.srv."
ALGOS = ["plain", "sha256", "sha512", "pbkdf2+sha256", "pbkdf2+sha512"]
auth: Optional[Tuple[str, int]] = None  # the server's answer to the handshake
salted = ("", "")  # (salt, Authorization) of the current second
waiting: List[Tuple[str, str]] = []  # (buffer, text) before the handshake's answer


def option(name: str) -> str:
    return weechat.string_eval_expression(weechat.config_string(weechat.config_get(name)), {}, {}, {})


def authorization() -> str:
    global salted  # noqa: PLW0603
    algo, iterations = auth or ("sha256", 0)
    salt = str(int(time.time()))
    if salted[0] != salt:
        password = option("relay.remote.srv.password").encode()
        if algo.startswith("pbkdf2+"):
            digest = hashlib.pbkdf2_hmac(algo[len("pbkdf2+") :], password, salt.encode(), iterations).hex()
            user = f"hash:{algo}:{salt}:{iterations}:{digest}"
        else:
            user = f"hash:{algo}:{salt}:{hashlib.new(algo, salt.encode() + password).hexdigest()}"
        salted = (salt, "Basic " + base64.b64encode(user.encode()).decode())
    return salted[1]


def send(buffer: str, text: str) -> None:
    options = {
        "post": "1",
        "postfields": json.dumps({"buffer_name": buffer, "command": text}),
        "httpheader": f"Authorization: {authorization()}\nContent-Type: application/json",
    }
    weechat.hook_url(option("relay.remote.srv.url") + "/api/input", options, 10000, "sent_cb", "")


def sent_cb(_data: str, _url: str, _options: Dict[str, str], _output: Dict[str, str]) -> int:
    return weechat.WEECHAT_RC_OK


def handshake_cb(_data: str, _url: str, _options: Dict[str, str], output: Dict[str, str]) -> int:
    global auth  # noqa: PLW0603
    answer = json.loads(output.get("output") or "{}")
    auth = (answer.get("password_hash_algo") or "sha256", answer.get("password_hash_iterations") or 0)
    for buffer, text in waiting:
        send(buffer, text)
    waiting.clear()
    return weechat.WEECHAT_RC_OK


def input_cb(_data: str, _modifier: str, buffer: str, text: str) -> str:
    """Text (not a command) for a mirror of "srv": sent out of band, and not to the buffer."""
    name = weechat.buffer_get_string(buffer, "full_name")
    if not name.startswith(MIRRORS) or not text or text.startswith("/"):
        return text
    if auth is None:
        waiting.append((name[len(MIRRORS) :], text))
        if len(waiting) == 1:
            options = {"post": "1", "postfields": json.dumps({"password_hash_algo": ALGOS})}
            weechat.hook_url(option("relay.remote.srv.url") + "/api/handshake", options, 10000, "handshake_cb", "")
    else:
        send(name[len(MIRRORS) :], text)
    return ""


weechat.hook_modifier("input_text_for_buffer", "input_cb", "")
