# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-side control of the fake weechat module: clock, relay, user input."""

from __future__ import annotations

import heapq
import shutil
import tempfile
import weakref
from typing import List, Optional

import weechat


class Sim:
    """A fresh simulated WeeChat, with helpers to play user and network."""

    def __init__(self, version: int = 0x04060300) -> None:
        weechat._STATE = weechat._State()  # pylint: disable=protected-access
        self.state = weechat._STATE  # pylint: disable=protected-access
        self.state.version = version
        self.state.data_dir = tempfile.mkdtemp(prefix="relay-autoreconnect-sim-")
        weakref.finalize(self, shutil.rmtree, self.state.data_dir, True)
        self.module = None

    # -- script --------------------------------------------------------------

    def load(self, module, plugin_vars: Optional[dict] = None):
        """Load the script (as /script load would) with the virtual clock."""
        self.module = module
        self.state.script = module
        self.state.plugin_vars.update(plugin_vars or {})
        return module.main(clock=self.clock, wall_clock=self.wall_clock)

    def unload(self) -> None:
        """Unload the script: its shutdown callback, then WeeChat's own cleanup."""
        if self.module is not None and self.state.shutdown_cb:
            getattr(self.module, self.state.shutdown_cb)()
        self.module = None

    def clock(self) -> float:
        return self.state.now

    def wall_clock(self) -> float:
        return self.state.now + self.state.wall_offset

    # -- user and network ----------------------------------------------------

    def user(self, command: str) -> None:
        """A command typed by the user."""
        weechat.command("", command)

    def add_remote(self, name: str, url: str = "http://127.0.0.1:9000"):
        """A remote that exists before the script loads (no hook sees it)."""
        return weechat._remote_add(name, url)  # pylint: disable=protected-access

    def add_proxy(
        self, name: str, kind: str, address: str, port: int, *, username: str = "", password: str = ""
    ) -> None:
        """A proxy as /proxy add makes it: weechat.proxy.NAME.type (an enum: its value is its name),
        ipv6, address, port, username, password."""
        values = {"type": kind, "ipv6": "auto", "address": address, "username": username, "password": password}
        for option, value in values.items():
            self.state.add_option(f"weechat.proxy.{name}.{option}", "enum" if option in ("type", "ipv6") else "string",
                                  0, 0, value, value)  # fmt: skip
        self.state.add_option(f"weechat.proxy.{name}.port", "integer", 0, 65535, str(port), str(port))

    def remote(self, name: str):
        remote = self.state.find_remote(name)
        if remote is None:
            raise KeyError(name)
        return remote

    def relay_reload(self, between=None) -> None:
        """/plugin reload relay: every remote freed (no signal), then made again from
        relay.conf, disconnected, with new pointers; `between` runs while relay is gone."""
        saved = [(r.name, self.option(f"relay.remote.{r.name}.url")) for r in self.state.remotes.values()]
        for remote in list(self.state.remotes.values()):
            for option in [
                o for o in self.state.options.values() if o.full_name.startswith(f"relay.remote.{remote.name}.")
            ]:
                self.state.remove_option(option.pointer)
            del self.state.remotes[remote.pointer]
        self.state.relay_loaded = False
        anchors = [self.state.option(f"relay.network.{n}") for n in ("password", "bind_address")]
        for option in anchors:
            self.state.remove_option(option.pointer)
        weechat._signal_send("plugin_unloaded", "relay")  # pylint: disable=protected-access
        if between:
            between()
        for option in anchors:
            self.state.options[option.pointer] = option
            self.state.by_name[option.full_name] = option
        self.state.relay_loaded = True
        for name, url in saved:
            weechat._remote_add(name, url)  # pylint: disable=protected-access
        weechat._signal_send("plugin_loaded", "/usr/lib/weechat/plugins/relay.so")  # pylint: disable=protected-access

    def status(self, name: str, status: str) -> None:
        """The relay moves a remote to a status (signal sent if it changed)."""
        weechat._remote_set_status(self.remote(name), status)  # pylint: disable=protected-access

    def accept(self, name: str) -> None:
        self.status(name, "waiting_auth")
        self.status(name, "connected")

    def drop(self, name: str) -> None:
        self.status(name, "disconnected")

    def advance(self, seconds: float) -> None:
        """Move the virtual clock, firing timers in order."""
        end = self.state.now + seconds
        heap = self.state.timer_heap
        while heap and heap[0][0] <= end:
            weechat._native_attempts(heap[0][0])  # pylint: disable=protected-access
            due, _, pointer = heapq.heappop(heap)
            hook = self.state.hooks.get(pointer)
            if hook is None or hook.due != due:
                continue  # unhooked, or moved (suspend): a stale entry
            self.state.now = max(self.state.now, hook.due)
            hook.remaining -= 1
            if hook.remaining == 0:
                self.state.remove_hook(hook.pointer)
            else:
                hook.due += hook.interval / 1000.0
                self.state.push_timer(hook)
            self.state.callback(hook.callback)(hook.data, max(hook.remaining, 0))
        weechat._native_attempts(end)  # pylint: disable=protected-access
        self.state.now = end

    def suspend(self, seconds: float) -> None:
        """The machine sleeps: the wall clock moves, the monotonic one does not.

        WeeChat's timers follow the wall clock, so every timer comes
        `seconds` closer to firing.
        """
        self.state.wall_offset += seconds
        for hook in self.timers():
            hook.due = max(self.state.now, hook.due - seconds)
            self.state.push_timer(hook)
        self.advance(0)

    def probes(self, name: str = "") -> List:
        """Out-of-band checks in flight (hook_url): heartbeats and polls (of remote `name`)."""
        return [
            h
            for h in self.state.of_kind("url")
            if h.callback in ("heartbeat_url_cb", "poll_url_cb") and (not name or self.remote_of(h) == name)
        ]

    def remote_of(self, hook) -> Optional[str]:
        """Name of the remote a hook of the script was armed for (its data is the remote's key)."""
        link = self.module.SHELL.links.find(hook.data) if self.module and self.module.SHELL else None
        return link.name if link else None

    def deliveries(self) -> List:
        """Out-of-band requests of the outbox in flight (handshake, input)."""
        return [h for h in self.state.of_kind("url") if h.callback in ("handshake_url_cb", "delivery_url_cb")]

    def serve(self, rounds: int = 1000) -> int:
        """The remotes' servers answer the outbox's requests until none is left; return how many."""
        answered = 0
        while answered < rounds:
            hooks = self.deliveries()
            if not hooks:
                break
            hook = hooks[0]
            self.state.remove_hook(hook.pointer)
            remote = next(r for r in self.state.remotes.values() if hook.pattern.startswith(self.url_of(r.name)))
            output = weechat._api_answer(remote, hook.pattern.rsplit("/", 1)[1], hook.options)  # pylint: disable=protected-access
            self.state.callback(hook.callback)(hook.data, hook.pattern, hook.options, output)
            answered += 1
        return answered

    def sync(self, name: str) -> None:
        """Local variables the remote's server set (server_sync "later") reach its mirrors now."""
        weechat._server_sync(self.remote(name))  # pylint: disable=protected-access

    def url_of(self, name: str) -> str:
        return self.option(f"relay.remote.{name}.url") or ""

    def answer_probes(self, answered: bool = True) -> None:
        """Every probe in flight ends: answered (HTTP 200) or not (timeout)."""
        for hook in self.probes():
            self.state.remove_hook(hook.pointer)
            output = {"response_code": "200", "error": ""} if answered else {"error": "transfer timeout reached"}
            self.state.callback(hook.callback)(hook.data, hook.pattern, hook.options, output)

    def answer_connect(self, hook, status: int, ip_address: str = "", error: str = "") -> None:
        """A hook_connect ends as WeeChat ends it (no socket is handed over)."""
        weechat._connect_answer(hook.pointer, status, ip_address=ip_address, error=error)  # pylint: disable=protected-access

    def settle(self) -> None:
        """Let deferred (1 ms) work run."""
        self.advance(0.002)

    # -- observations --------------------------------------------------------

    def open_buffer(self, remote: str, server_name: str, on_server: bool = True) -> str:
        """A remote buffer as WeeChat makes it when it syncs (relay.remote.REMOTE.SERVER_NAME).

        on_server: the remote's server has the buffer too.
        """
        if on_server:
            self.remote(remote).server_buffers.add(server_name)
        pointer = self.state.new_pointer()
        full_name = f"relay.remote.{remote}.{server_name}"
        self.state.buffers[pointer] = weechat._Buffer(  # pylint: disable=protected-access
            pointer, full_name, {"relay_remote": remote}
        )
        weechat._signal_send("buffer_opened", pointer)  # pylint: disable=protected-access
        return pointer

    def type(self, buffer: str, text: str) -> None:
        """The person types a line in a buffer and presses Enter."""
        self.state.buffers[buffer].input = text
        weechat._submit(buffer, text)  # pylint: disable=protected-access

    def key(self, buffer: str, command: str) -> None:
        """A key bound to a command, pressed in a buffer (gui-key.c: input_data, user_data 0)."""
        weechat._input(buffer, command, split_newline=False, user_data=False)  # pylint: disable=protected-access

    def tab_words(self, text: str) -> List[str]:
        """The words Tab offers at the end of an input line (what replaces its last word, after its last space)."""
        return weechat._tab_words(text)  # pylint: disable=protected-access

    def tab(self, text: str) -> str:
        """The input line after Tab at its end: the first word offered, then a space (gui_input_complete)."""
        words = self.tab_words(text)
        if not words:
            return text
        base = max(text.rfind(" "), text.rfind("\n")) + 1
        return f"{text[:base]}{words[0]} "

    def bar_item(self, name: str = "relay_autoreconnect") -> str:
        """What the bar item shows now."""
        callback, data = self.state.bar_items[name]
        return self.state.callback(callback)(data, name, "")

    def lines(self, text: str = "") -> List[str]:
        return [m for _, m in self.state.printed if text in m]

    def connects(self, name: str) -> List[str]:
        return [c for c in self.state.commands if c == f"/remote connect {name}"]

    def timers(self, callback: str = "") -> List:
        """Timers, or only those calling `callback`."""
        return [h for h in self.state.of_kind("timer") if not callback or h.callback == callback]

    def hooks(self) -> List:
        return list(self.state.hooks.values())

    def option(self, full_name: str) -> Optional[str]:
        option = self.state.option(full_name)
        return option.value if option else None

    def set_option(self, full_name: str, value: str) -> int:
        """/set by the user."""
        return weechat.config_option_set(weechat.config_get(full_name), value, 1)
