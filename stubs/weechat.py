# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake `weechat` module for tests outside WeeChat.

Every public name here exists in the real module with the same meaning, and
every constant has the real value (tests/e2e/test_e2e_stub_names.py checks both
inside real WeeChat). Private names (leading underscore) hold the simulated
state: options, hooks, timers on a virtual clock, a relay with remotes that
sends relay_remote_* signals like WeeChat 4.4+ does. Tests drive that state
through stubs/weechat_sim.py.
"""

import base64 as _base64
import fnmatch as _fnmatch
import hashlib as _hashlib
import heapq as _heapq
import itertools as _itertools
import json as _json

WEECHAT_RC_OK = 0
WEECHAT_RC_OK_EAT = 1
WEECHAT_RC_ERROR = -1

WEECHAT_CONFIG_OPTION_SET_OK_CHANGED = 2
WEECHAT_CONFIG_OPTION_SET_OK_SAME_VALUE = 1
WEECHAT_CONFIG_OPTION_SET_ERROR = 0
WEECHAT_CONFIG_OPTION_SET_OPTION_NOT_FOUND = -1

WEECHAT_HOOK_CONNECT_OK = 0
WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND = 1
WEECHAT_HOOK_CONNECT_IP_ADDRESS_NOT_FOUND = 2
WEECHAT_HOOK_CONNECT_CONNECTION_REFUSED = 3

WEECHAT_HOOK_SIGNAL_STRING = "string"
WEECHAT_HOOK_SIGNAL_INT = "int"
WEECHAT_HOOK_SIGNAL_POINTER = "pointer"

_CORE_BUFFER = "0xcorebuffer"
_REMOTE_OPTIONS = ("url", "autoconnect", "autoreconnect_delay", "proxy", "tls_verify", "password", "totp_secret")
_REMOTE_DEFAULTS = {"autoconnect": "off", "autoreconnect_delay": "10", "tls_verify": "on"}


class _Option:
    def __init__(self, pointer, full_name, kind, minimum, maximum, default, value, change_cb, change_data):
        self.pointer = pointer
        self.full_name = full_name
        self.kind = kind
        self.minimum = minimum
        self.maximum = maximum
        self.default = default
        self.value = value
        self.change_cb = change_cb
        self.change_data = change_data

    def parse(self, value):
        """Normalised value, or None if WeeChat would refuse it."""
        if self.kind == "boolean":
            return {"on": "on", "off": "off", "toggle": "off" if self.value == "on" else "on"}.get(value)
        if self.kind == "integer":
            try:
                number = int(value)
            except ValueError:
                return None
            return str(number) if self.minimum <= number <= self.maximum else None
        return value


class _Hook:
    def __init__(self, pointer, kind, pattern, callback, data, **extra):
        self.pointer = pointer
        self.kind = kind
        self.pattern = pattern
        self.callback = callback
        self.data = data
        self.running = False
        self.__dict__.update(extra)


class _Remote:
    def __init__(self, pointer, name):
        self.pointer = pointer
        self.name = name
        self.status = "disconnected"
        self.in_flight = 0
        self.sent = []
        self.send_budget = None
        self.native_due = None  # clock time of WeeChat's own planned attempt (4.4+)
        # the remote's server, as its HTTP API answers (see weechat_sim.Sim.serve)
        self.server_buffers = {"core.weechat"}
        self.server_inputs = []  # (buffer, text) run by the server
        self.server_http = "up"  # "up", "down" (connection refused), "silent" (no answer)
        self.server_algos = ("plain", "sha256", "sha512", "pbkdf2+sha256", "pbkdf2+sha512")
        self.server_iterations = 1000
        self.server_totp = False
        self.server_password = None  # None: the one the remote's options give


class _Buffer:
    def __init__(self, pointer, full_name, localvars):
        self.pointer = pointer
        self.full_name = full_name
        self.localvars = localvars
        self.input_get_any_user_data = 1
        self.input_multiline = 0
        self.input = ""  # the input line
        self.received = []  # what the buffer's input callback got (sent to the remote)
        self.ran = []  # commands run on this WeeChat in this buffer


class _State:
    def __init__(self):
        self.ids = _itertools.count(0x1000)
        self.now = 1000.0
        self.wall_offset = 1_800_000_000.0
        self.version = 0x04060300
        self.script = None
        self.shutdown_cb = ""
        self.options = {}
        self.by_name = {}
        self.timer_heap = []
        self.kinds = {}
        self.files = {"relay": self.new_pointer(), "weechat": self.new_pointer()}
        self.sections = {}
        self.plugin_vars = {}
        self.plugin_descs = {}
        self.hooks = {}
        self.printed = []
        self.commands = []
        self.remotes = {}
        self.remote_index = {}  # name -> remote, checked on use (see find_remote)
        self.saved = {}
        self.native_schedules = []  # (remote, delay) each time WeeChat's own engine planned an attempt
        self.native_fired = []  # remotes WeeChat's own engine attempted
        self.overlaps = 0
        self.relay_loaded = True
        self.infolists = {}
        self.bar_items = {}
        self.bar_updates = []
        self.secured = {}
        self.buffers = {_CORE_BUFFER: _Buffer(_CORE_BUFFER, "core.weechat", {})}
        self.upgrading = False
        self.data_dir = ""
        self.current_buffer = _CORE_BUFFER
        for name in ("password", "bind_address"):
            self.add_option(f"relay.network.{name}", "string", 0, 0, "", "")
        self.add_option("relay.api.remote_autoreconnect_delay_growing", "integer", 1, 100, "2", "2")
        self.add_option("weechat.look.command_incomplete", "boolean", 0, 0, "off", "off")

    def new_pointer(self):
        return hex(next(self.ids) * 16)

    def find_remote(self, name):
        """The remote with this name, or None (constant time with many remotes)."""
        remote = self.remote_index.get(name)
        if remote is None or remote.name != name or remote.pointer not in self.remotes:
            remote = next((r for r in self.remotes.values() if r.name == name), None)
            if remote is not None:
                self.remote_index[name] = remote
        return remote

    def add_option(self, full_name, kind, minimum, maximum, default, value, change_cb="", change_data=""):
        option = _Option(self.new_pointer(), full_name, kind, minimum, maximum, default, value, change_cb, change_data)
        self.options[option.pointer] = option
        self.by_name[full_name] = option
        return option

    def option(self, full_name):
        option = self.by_name.get(full_name)
        return option if option is not None and option.pointer in self.options else None

    def remove_option(self, pointer):
        option = self.options.pop(pointer, None)
        if option is not None and self.by_name.get(option.full_name) is option:
            del self.by_name[option.full_name]

    def rename_option(self, option, full_name):
        self.by_name.pop(option.full_name, None)
        option.full_name = full_name
        self.by_name[full_name] = option

    def of_kind(self, kind):
        """The hooks of one type (a copy: callbacks may hook and unhook)."""
        return list(self.kinds.get(kind, {}).values())

    def remove_hook(self, pointer):
        hook = self.hooks.pop(pointer, None)
        if hook is not None:
            self.kinds[hook.kind].pop(pointer, None)
        return hook

    def push_timer(self, hook):
        _heapq.heappush(self.timer_heap, (hook.due, next(self.ids), hook.pointer))

    def callback(self, name):
        return getattr(self.script, name)


_STATE = _State()


# -- script ------------------------------------------------------------------


def register(name, author, version, license, description, shutdown_function, charset):  # pylint: disable=redefined-builtin
    _STATE.shutdown_cb = shutdown_function
    return 1


def prefix(prefix):  # pylint: disable=redefined-outer-name
    return {"error": "=!=\t", "network": "--\t", "join": "-->\t", "quit": "<--\t", "action": " *\t"}.get(prefix, "")


def prnt(buffer, message):
    if _modifier("weechat_print", f"{buffer or _CORE_BUFFER};", message) == "":
        return  # dropped by a modifier: not shown, no print hook sees it
    _STATE.printed.append((buffer, message))
    for hook in _STATE.of_kind("print"):
        if (
            hook.kind == "print"
            and hook.buffer in ("", buffer or _CORE_BUFFER)
            and hook.pattern.lower() in message.lower()
        ):
            _STATE.callback(hook.callback)(hook.data, buffer or _CORE_BUFFER, 0, [], 1, 0, "", message)


def buffer_search_main():
    return _CORE_BUFFER


def buffer_get_string(buffer, property):  # pylint: disable=redefined-builtin
    target = _STATE.buffers.get(buffer)
    if target is None:
        return ""
    if property == "full_name":
        return target.full_name
    if property == "input":
        return target.input
    if property.startswith("localvar_"):
        return target.localvars.get(property[len("localvar_") :], "")
    return ""


def buffer_set(buffer, property, value):  # pylint: disable=redefined-builtin
    target = _STATE.buffers.get(buffer)
    if target is None:
        return
    if property.startswith("localvar_set_"):
        target.localvars[property[len("localvar_set_") :]] = value
    elif property.startswith("localvar_del_"):
        target.localvars.pop(property[len("localvar_del_") :], None)


def buffer_get_integer(buffer, property):  # pylint: disable=redefined-builtin
    target = _STATE.buffers.get(buffer)
    if target is None or property not in ("input_get_any_user_data", "input_multiline"):
        return 0
    return getattr(target, property)


def gettext(string):
    return string  # English


def string_remove_color(string, replacement):
    return string  # the fake module prints no colour codes


def string_input_for_buffer(string):
    if string.startswith("//"):
        return string[1:]
    return "" if string.startswith("/") else string


def _modifier(name, modifier_data, string):
    """hook_modifier_exec: by priority; a hook running is skipped; "" drops the string."""
    for hook in sorted(_STATE.of_kind("modifier"), key=lambda h: -h.priority):
        if hook.pattern == name and not hook.running and hook.pointer in _STATE.hooks:
            hook.running = True
            try:
                new = _STATE.callback(hook.callback)(hook.data, name, modifier_data, string)
            finally:
                hook.running = False
            if new == "":
                return ""
            if new is not None:
                string = new
    return string


def _input(buffer, data, split_newline=True, user_data=False):
    """WeeChat's input_data: the modifier, then text to the buffer's callback; a
    command to the callback if the person submitted it (user_data) and the
    buffer takes commands (remote buffers), else run here."""
    data = _modifier("input_text_for_buffer", buffer, data)
    if data == "":
        return WEECHAT_RC_OK
    target = _STATE.buffers[buffer]
    if target.input_multiline:
        lines = [data]
    elif split_newline:
        lines = data.split("\n")
    else:
        lines = data.split("\n")[:1]
    rc = WEECHAT_RC_OK
    for line in lines:
        if string_input_for_buffer(line) or (user_data and target.input_get_any_user_data):
            target.received.append(line)  # to the remote: lost if the link is down
        else:
            rc = _run_command(buffer, line)
    return rc


def _submit(buffer, text):
    """The person presses Enter (gui_input_return): history, input cleared, input_data(user_data=1)."""
    _modifier("history_add", buffer, text)
    _STATE.buffers[buffer].input = ""
    return _input(buffer, text, split_newline=True, user_data=True)


def info_get(info_name, arguments):
    if info_name == "version_number":
        return str(_STATE.version)
    if info_name == "weechat_upgrading":
        return "1" if _STATE.upgrading else "0"
    if info_name in ("weechat_data_dir", "weechat_config_dir"):
        return _STATE.data_dir
    if info_name == "totp_generate":
        return str(int(_hashlib.sha256(arguments.encode()).hexdigest(), 16) % 1000000).zfill(6) if arguments else ""
    return ""


# -- commands ----------------------------------------------------------------


def _command_matches(pattern, command):
    if _fnmatch.fnmatchcase(command.lower(), pattern.lower()):
        return True
    return " " not in pattern and (
        command.lower() == pattern.lower() or command.lower().startswith(pattern.lower() + " ")
    )


def command(buffer, command):  # pylint: disable=redefined-outer-name
    """A script's command: input_data on the buffer (current one if ""), user_data 0, first line only."""
    return _input(buffer or _STATE.current_buffer, command, split_newline=False, user_data=False)


def _run_command(buffer, command):  # pylint: disable=redefined-outer-name
    _STATE.commands.append(command)
    if buffer in _STATE.buffers:
        _STATE.buffers[buffer].ran.append(command)
    for hook in _STATE.of_kind("command_run"):
        if hook.kind == "command_run" and not hook.running and _command_matches(hook.pattern, command):
            hook.running = True
            try:
                rc = _STATE.callback(hook.callback)(hook.data, buffer, command)
            finally:
                hook.running = False
            if rc == WEECHAT_RC_OK_EAT:
                return WEECHAT_RC_OK
    command = _complete(command)
    for hook in _STATE.of_kind("command"):
        if hook.kind == "command" and command.split()[0] == "/" + hook.pattern:
            return _STATE.callback(hook.callback)(hook.data, buffer, command.partition(" ")[2].strip())
    return _run_builtin(command)


# WeeChat's commands (core and the plugins of a default install), for incomplete names
_COMMANDS = [
    "alias",
    "allbuf",
    "away",
    "bar",
    "buffer",
    "color",
    "command",
    "cursor",
    "debug",
    "eval",
    "exec",
    "fifo",
    "filter",
    "fset",
    "help",
    "history",
    "hotlist",
    "input",
    "item",
    "key",
    "layout",
    "logger",
    "mouse",
    "mute",
    "plugin",
    "print",
    "proxy",
    "python",
    "quit",
    "relay",
    "reload",
    "remote",
    "repeat",
    "reset",
    "save",
    "say",
    "script",
    "secure",
    "server",
    "set",
    "spell",
    "toggle",
    "trigger",
    "unset",
    "upgrade",
    "uptime",
    "version",
    "wait",
    "window",
    "xfer",
]


def _commands():
    return sorted(set(_COMMANDS) | {h.pattern for h in _STATE.of_kind("command")})


def _complete(command):
    """weechat.look.command_incomplete: a command run from the start of its name if only one starts so."""
    word, _, rest = command[1:].partition(" ")
    option = _STATE.option("weechat.look.command_incomplete")
    if word.lower() in _commands() or not option or option.value != "on":
        return command
    found = [name for name in _commands() if name.startswith(word.lower())]
    return f"/{found[0]}{' ' + rest if rest else ''}" if len(found) == 1 else command


def _run_builtin(command):  # pylint: disable=redefined-outer-name,too-many-return-statements
    args = command.split()
    if args[0] == "/mute":
        args = args[1:]
    if args[:2] == ["/secure", "set"] and len(args) > 3:
        # WeeChat splits a command with its right end stripped; the value is the rest of the line
        line = command.rstrip(" ").removeprefix("/mute ").lstrip(" ")
        _STATE.secured[args[2]] = line.split(" ", 3)[3].lstrip(" ")
        return WEECHAT_RC_OK
    if args[:2] == ["/secure", "del"] and len(args) > 2:
        _STATE.secured.pop(args[2], None)
        return WEECHAT_RC_OK
    if args[:2] == ["/remote", "list"] and _STATE.relay_loaded:
        return _remote_list()
    if args[0] == "/remote" and len(args) > 2 and _STATE.relay_loaded:
        return _remote_command(args[1], args[2:])
    if args[0] == "/save":
        _STATE.saved["relay"] = {
            o.full_name: o.value for o in _STATE.options.values() if o.full_name.startswith("relay.")
        }
        return WEECHAT_RC_OK
    return WEECHAT_RC_OK


def _remote_list():
    """/remote list: one line a remote, with its status since WeeChat 4.4."""
    for remote in _STATE.remotes.values():
        url = config_string(config_get(f"relay.remote.{remote.name}.url"))
        status = {"waiting_auth": "authenticating"}.get(remote.status, remote.status)
        prnt("", f"  {remote.name}: {url} [{status}]" if _STATE.version >= 0x04040000 else f"  {remote.name}: {url}")
    return WEECHAT_RC_OK


def _remote_command(verb, args):
    remote = _STATE.find_remote(args[0])
    if verb in ("add", "addreplace"):
        if remote is None:
            _remote_add(args[0], args[1] if len(args) > 1 else "http://127.0.0.1:9000")
        return WEECHAT_RC_OK
    if remote is None:
        prnt("", f'{prefix("error")}relay: remote relay "{args[0]}" not found for "remote {verb}" command')
        return WEECHAT_RC_ERROR
    if verb == "connect":
        _remote_connect(remote)
    elif verb == "reconnect":
        _remote_disconnect(remote)
        _remote_connect(remote)
    elif verb == "disconnect":
        _remote_disconnect_command(remote)
    elif verb == "send":
        return _remote_send(remote, " ".join(args[1:]))
    elif verb == "del" and remote.status == "disconnected":
        for name in _remote_options():
            _STATE.remove_option(_STATE.option(f"relay.remote.{remote.name}.{name}").pointer)
        del _STATE.remotes[remote.pointer]
    elif verb == "rename" and len(args) > 1:
        if _STATE.find_remote(args[1]) is not None:
            prnt("", f'{prefix("error")}relay: remote relay "{args[1]}" already exists for "remote rename" command')
            return WEECHAT_RC_ERROR
        for name in _remote_options():
            _STATE.rename_option(_STATE.option(f"relay.remote.{remote.name}.{name}"), f"relay.remote.{args[1]}.{name}")
        remote.name = args[1]
    return WEECHAT_RC_OK


def _remote_send(remote, json_text):
    if remote.send_budget == 0:
        _remote_disconnect(remote)  # the link drops while sending
    if remote.status != "connected":
        prnt("", f'{prefix("error")}relay: no connection to remote relay "{remote.name}"')
        return WEECHAT_RC_ERROR if _STATE.version >= 0x04040000 else WEECHAT_RC_OK
    remote.sent.append(json_text)
    if remote.send_budget is not None:
        remote.send_budget -= 1
    return WEECHAT_RC_OK


def _remote_options():
    """Options of a remote; autoreconnect_delay exists since WeeChat 4.4."""
    if _STATE.version >= 0x04040000:
        return _REMOTE_OPTIONS
    return tuple(o for o in _REMOTE_OPTIONS if o != "autoreconnect_delay")


def _remote_add(name, url):
    remote = _Remote(_STATE.new_pointer(), name)
    for option in _remote_options():
        value = url if option == "url" else _REMOTE_DEFAULTS.get(option, "")
        kind = "integer" if option == "autoreconnect_delay" else "string"
        _STATE.add_option(f"relay.remote.{name}.{option}", kind, 0, 65535, value, value)
    _STATE.remotes[remote.pointer] = remote
    _send_remote_signal(remote)
    return remote


def _remote_connect(remote):
    if remote.status in ("waiting_auth", "connected"):
        prnt("", f'{prefix("error")}relay: already connected to remote relay "{remote.name}"!')
        return
    if remote.status == "connecting":
        _STATE.overlaps += 1
    remote.in_flight += 1
    _remote_set_status(remote, "connecting")


def _remote_disconnect_command(remote):
    """/remote disconnect: close the link, then cancel WeeChat's own planned attempt."""
    _remote_disconnect(remote)
    if remote.native_due is not None:
        remote.native_due = None
        prnt("", f"remote[{remote.name}]: auto-reconnection is cancelled")


def _remote_disconnect(remote):
    if remote.status in ("waiting_auth", "connected"):
        remote.in_flight = 0
        _remote_set_status(remote, "disconnected")


def _remote_set_status(remote, status):
    if remote.status == status:
        return
    previous = remote.status
    remote.status = status
    _send_remote_signal(remote)
    if status != "disconnected":
        remote.native_due = None
    native = _STATE.option(f"relay.remote.{remote.name}.autoreconnect_delay")
    if status == "disconnected" and previous != "disconnected" and native and int(native.value) > 0:
        # WeeChat 4.4+ plans its own attempt right after the signal, and says so
        _STATE.native_schedules.append((remote.name, int(native.value)))
        remote.native_due = _STATE.now + int(native.value)
        prnt("", f"remote[{remote.name}]: reconnecting to remote relay in {native.value} seconds")


def _native_attempts(until):
    """WeeChat's own engine attempts the remotes whose planned time came."""
    for remote in list(_STATE.remotes.values()):
        if remote.native_due is not None and remote.native_due <= until and remote.status == "disconnected":
            remote.native_due = None
            _STATE.native_fired.append(remote.name)
            _remote_connect(remote)


def _send_remote_signal(remote):
    _signal_send(f"relay_remote_{remote.status}", remote.pointer)


def _signal_send(signal, signal_data):
    for hook in _STATE.of_kind("signal"):
        if hook.kind == "signal" and _fnmatch.fnmatchcase(signal, hook.pattern):
            _STATE.callback(hook.callback)(hook.data, signal, signal_data)


def _api_authorized(remote, header):
    """Whether an Authorization header holds the remote's password (as relay-http.c checks it)."""
    password = remote.server_password
    if password is None:
        password = string_eval_expression(config_string(config_get(f"relay.remote.{remote.name}.password")), {}, {}, {})
    try:
        user_pass = _base64.b64decode(header[len("Basic ") :]).decode()
    except ValueError:
        return False
    parts = user_pass.split(":")
    if parts[0] == "plain":
        return "plain" in remote.server_algos and ":".join(parts[1:]) == password
    if parts[0] != "hash" or len(parts) < 4 or parts[1] not in remote.server_algos:
        return False
    algo, salt = parts[1], parts[2]
    if algo.startswith("pbkdf2+") and len(parts) == 5:
        digest = _hashlib.pbkdf2_hmac(algo[7:], password.encode(), salt.encode(), int(parts[3])).hex()
    elif len(parts) == 4:
        digest = _hashlib.new(algo, (salt + password).encode()).hexdigest()
    else:
        return False
    now = int(_STATE.now + _STATE.wall_offset)
    return parts[-1] == digest and salt.isdigit() and abs(int(salt) - now) <= 5


def _api_answer(remote, resource, options):
    """The answer of a remote's server to POST /api/RESOURCE (hook_url output)."""
    if remote.server_http == "down":
        return {"error": "Couldn't connect to server", "error_code": "2", "error_code_curl": "7"}
    if remote.server_http == "silent":
        return {"error": "transfer timeout reached (10.000s)", "error_code": "6"}
    body = _json.loads(options.get("postfields") or "{}")
    if resource == "handshake":
        offered = [a for a in body.get("password_hash_algo", []) if a in remote.server_algos]
        algo = max(offered, key=remote.server_algos.index) if offered else None
        answer = {"password_hash_algo": algo, "password_hash_iterations": remote.server_iterations}
        answer["totp"] = remote.server_totp
        return {"response_code": "200", "output": _json.dumps(answer)}
    headers = dict(line.split(": ", 1) for line in options.get("httpheader", "").split("\n") if ": " in line)
    if not _api_authorized(remote, headers.get("Authorization", "")):
        return {"response_code": "401", "output": '{"error": "Invalid password"}'}
    if remote.server_totp and not headers.get("x-weechat-totp"):
        return {"response_code": "401", "output": '{"error": "Missing TOTP"}'}
    if body.get("buffer_name") not in remote.server_buffers:
        return {
            "response_code": "400",
            "output": _json.dumps({"error": f'Buffer "{body.get("buffer_name")}" not found'}),
        }
    remote.server_inputs.append((body["buffer_name"], body["command"]))
    return {"response_code": "204", "output": ""}


# -- hooks -------------------------------------------------------------------


def _hook(kind, pattern, callback, data, **extra):
    hook = _Hook(_STATE.new_pointer(), kind, pattern, callback, data, **extra)
    _STATE.hooks[hook.pointer] = hook
    _STATE.kinds.setdefault(kind, {})[hook.pointer] = hook
    return hook.pointer


def hook_command(command, description, args, args_description, completion, callback, callback_data):  # pylint: disable=redefined-outer-name
    return _hook("command", command, callback, callback_data, completion=completion, args=args)


def bar_item_new(name, build_callback, build_callback_data):
    _STATE.bar_items[name] = (build_callback, build_callback_data)
    return _hook("bar_item", name, build_callback, build_callback_data)


def bar_item_update(name):
    _STATE.bar_updates.append(name)


def bar_item_remove(item):
    hook = _STATE.remove_hook(item)
    if hook:
        _STATE.bar_items.pop(hook.pattern, None)


def hook_print(buffer, tags, message, strip_colors, callback, callback_data):
    return _hook("print", message, callback, callback_data, buffer=buffer)


def hook_modifier(modifier, callback, callback_data):
    priority, _, name = modifier.rpartition("|")
    return _hook("modifier", name, callback, callback_data, priority=int(priority or 1000))


def hook_signal(signal, callback, callback_data):
    return _hook("signal", signal, callback, callback_data)


def hook_command_run(command, callback, callback_data):  # pylint: disable=redefined-outer-name
    return _hook("command_run", command, callback, callback_data)


def hook_config(option, callback, callback_data):
    return _hook("config", option, callback, callback_data)


def hook_timer(interval, align_second, max_calls, callback, callback_data):
    pointer = _hook(
        "timer",
        "",
        callback,
        callback_data,
        interval=interval,
        due=_STATE.now + interval / 1000.0,
        remaining=max_calls,
    )
    _STATE.push_timer(_STATE.hooks[pointer])
    return pointer


def hook_connect(proxy, address, port, ipv6, retry, local_hostname, callback, callback_data):
    return _hook("connect", f"{address}:{port}", callback, callback_data, address=address, port=port)


def hook_fd(fd, flag_read, flag_write, flag_exception, callback, callback_data):
    return _hook("fd", str(fd), callback, callback_data, fd=fd)


def hook_url(url, options, timeout, callback, callback_data):
    return _hook("url", url, callback, callback_data, options=options, timeout=timeout, started=_STATE.now)


def unhook(hook):
    _STATE.remove_hook(hook)


# -- options -----------------------------------------------------------------


def config_get(option_name):
    option = _STATE.option(option_name)
    return option.pointer if option else ""


def config_option_get_pointer(option, property):  # pylint: disable=redefined-builtin
    if option not in _STATE.options:
        return ""
    file_name, section_name = _STATE.options[option].full_name.split(".")[:2]
    if property == "config_file":
        return _STATE.files.get(file_name, "")
    if property == "section":
        return _STATE.sections.setdefault((file_name, section_name), _STATE.new_pointer())
    return ""


def config_new_option(  # pylint: disable=too-many-arguments,too-many-locals
    config_file,
    section,
    name,
    type,  # pylint: disable=redefined-builtin
    description,
    string_values,
    min,  # pylint: disable=redefined-builtin
    max,  # pylint: disable=redefined-builtin
    default_value,
    value,
    null_value_allowed,
    callback_check_value,
    callback_check_value_data,
    callback_change,
    callback_change_data,
    callback_delete,
    callback_delete_data,
):
    file_name = next((n for n, p in _STATE.files.items() if p == config_file), None)
    section_name = next((k[1] for k, p in _STATE.sections.items() if p == section), None)
    full_name = f"{file_name}.{section_name}.{name}"
    if file_name is None or section_name is None or _STATE.option(full_name):
        return ""
    option = _STATE.add_option(
        full_name, type, min, max, default_value, default_value, callback_change, callback_change_data
    )
    option.value = option.parse(value) or default_value
    return option.pointer


def config_option_free(option):
    _STATE.remove_option(option)


def string_eval_expression(expr, pointers, extra_vars, options):
    if expr.startswith("${sec.data.") and expr.endswith("}"):
        return _STATE.secured.get(expr[len("${sec.data.") : -1], "")
    return expr


def config_string(option):
    return _STATE.options[option].value if option in _STATE.options else ""


def config_integer(option):
    if option not in _STATE.options:
        return 0
    value = _STATE.options[option].value
    if _STATE.options[option].kind == "boolean":
        return 1 if value == "on" else 0
    return int(value or 0)


def config_boolean(option):
    return 1 if option in _STATE.options and _STATE.options[option].value == "on" else 0


def config_option_set(option, value, run_callback):
    if option not in _STATE.options:
        return WEECHAT_CONFIG_OPTION_SET_OPTION_NOT_FOUND
    target = _STATE.options[option]
    new_value = target.parse(value)
    if new_value is None:
        return WEECHAT_CONFIG_OPTION_SET_ERROR
    if new_value == target.value:
        return WEECHAT_CONFIG_OPTION_SET_OK_SAME_VALUE
    target.value = new_value
    if run_callback and target.change_cb:
        _STATE.callback(target.change_cb)(target.change_data, target.pointer)
    for hook in _STATE.of_kind("config"):
        if hook.kind == "config" and _fnmatch.fnmatchcase(target.full_name, hook.pattern):
            _STATE.callback(hook.callback)(hook.data, target.full_name, new_value)
    return WEECHAT_CONFIG_OPTION_SET_OK_CHANGED


def config_get_plugin(option):
    return _STATE.plugin_vars.get(option, "")


def config_is_set_plugin(option):
    return 1 if option in _STATE.plugin_vars else 0


def config_set_plugin(option, value):
    if _STATE.plugin_vars.get(option) == value:
        return WEECHAT_CONFIG_OPTION_SET_OK_SAME_VALUE
    _STATE.plugin_vars[option] = value
    return WEECHAT_CONFIG_OPTION_SET_OK_CHANGED


def config_set_desc_plugin(option, description):
    _STATE.plugin_descs[option] = description


# -- infolists and hdata -----------------------------------------------------


def infolist_get(infolist_name, pointer, arguments):
    if infolist_name == "option":
        names = [o.full_name for o in _STATE.options.values() if _fnmatch.fnmatchcase(o.full_name, arguments)]
        items = [{"full_name": name} for name in sorted(names)]
    elif infolist_name == "hook" and arguments == "command":
        items = [{"command": name} for name in _commands()]
    else:
        return ""
    infolist_pointer = _STATE.new_pointer()
    _STATE.infolists[infolist_pointer] = [-1, items]
    return infolist_pointer


def infolist_next(infolist):
    cursor = _STATE.infolists[infolist]
    cursor[0] += 1
    return 1 if cursor[0] < len(cursor[1]) else 0


def infolist_string(infolist, var):
    cursor = _STATE.infolists[infolist]
    return cursor[1][cursor[0]].get(var, "")


def infolist_free(infolist):
    _STATE.infolists.pop(infolist, None)


def hdata_get(hdata_name):
    return "0xhdataproxy" if hdata_name == "proxy" else ""


def hdata_string(hdata, pointer, name):
    remote = _STATE.remotes.get(pointer)
    return remote.name if remote and name == "name" else ""


def hdata_pointer(hdata, pointer, name):
    remote = _STATE.remotes.get(pointer)
    if remote and name == "0|options":
        return config_get(f"relay.remote.{remote.name}.url")
    return ""
