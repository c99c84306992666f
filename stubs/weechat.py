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
import functools as _functools
import hashlib as _hashlib
import heapq as _heapq
import hmac as _hmac
import itertools as _itertools
import json as _json
import re as _re

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

WEECHAT_LIST_POS_SORT = "sort"
WEECHAT_LIST_POS_BEGINNING = "beginning"
WEECHAT_LIST_POS_END = "end"

_CORE_BUFFER = "0xcorebuffer"
_REMOTE_OPTIONS = ("url", "autoconnect", "autoreconnect_delay", "proxy", "tls_verify", "password", "totp_secret")
_REMOTE_DEFAULTS = {"autoconnect": "off", "autoreconnect_delay": "10", "tls_verify": "on"}
# relay-config.c, relay_config_create_remote_option: type, min, max of each option of a remote
_REMOTE_KINDS = {
    "autoconnect": ("boolean", 0, 1),
    "autoreconnect_delay": ("integer", 0, 65535),
    "tls_verify": ("boolean", 0, 1),
}


# C integer limits on 64-bit Linux (int, long)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
# the blanks C's isspace() takes (WeeChat's locale: none outside ASCII)
_C_BLANKS = " \t\n\v\f\r"
# core-config-file.c: config_boolean_true / config_boolean_false (compared with strcmp)
_BOOLEAN_TRUE = ("on", "yes", "y", "true", "t", "1")
_BOOLEAN_FALSE = ("off", "no", "n", "false", "f", "0")
# first version whose config functions parse integers with util_parse_int (commit 6658122b0)
_UTIL_PARSE_INT_VERSION = 0x040A0000


def _c_cast(number, bits):
    """A number put in a C signed integer of this many bits (two's complement)."""
    half = 1 << (bits - 1)
    return (number + half) % (1 << bits) - half


def _strtol(text):
    """C strtol(text, &end, 10): (number, rest after the number, out of range).

    Blanks, then an optional sign, then ASCII digits; without a digit the number
    is 0 and nothing is read (rest is the whole text); beyond a long it is
    LONG_MIN/LONG_MAX (errno ERANGE)."""
    start = len(text) - len(text.lstrip(_C_BLANKS))
    end = start + 1 if text[start : start + 1] in ("+", "-") else start
    digits = end
    while digits < len(text) and "0" <= text[digits] <= "9":
        digits += 1
    if digits == end:
        return 0, text, False
    number = int(text[start:digits])
    clamped = min(max(number, _LONG_MIN), _LONG_MAX)
    return clamped, text[digits:], clamped != number


def _parse_integer(text):
    """An integer as WeeChat's config functions read it, or None if refused.

    Up to 4.9 (core-config-file.c): `number = strtol (value, &error, 10)`, taken if
    `error && !error[0]`: blanks before and a sign are taken, "" is 0, and a number
    beyond a long is LONG_MIN/LONG_MAX. From 4.10 (util_parse_int, core-util.c):
    "" is refused, and so is a number out of range (ERANGE, beyond an int).
    """
    number, rest, out_of_range = _strtol(text)
    if rest:
        return None
    if _STATE.version >= _UTIL_PARSE_INT_VERSION and (not text or out_of_range or not _INT_MIN <= number <= _INT_MAX):
        return None
    return number


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
        self.description = ""

    @staticmethod
    def initial(kind, minimum, maximum, text):
        """The value config_file_new_option gives from a text ("on"/"off", a number, a string).

        A boolean is on only for a true word (config_file_string_to_boolean);
        an integer not read is 0, then brought into [min, max]."""
        if kind == "boolean":
            return "on" if text in _BOOLEAN_TRUE else "off"
        if kind == "integer":
            number = _parse_integer(text)
            return str(min(max(number or 0, minimum), maximum))
        return text

    def parse(self, value):
        """The value config_file_option_set makes of a text, or None if it refuses it."""
        if self.kind == "boolean":
            if value == "toggle":
                return "off" if self.value == "on" else "on"
            return "on" if value in _BOOLEAN_TRUE else "off" if value in _BOOLEAN_FALSE else None
        if self.kind == "integer":
            return self.parse_integer(value)
        return value

    def parse_integer(self, value):
        """ "N" (in [min, max]), "++N" (add, up to max) or "--N" (subtract, down to min)."""
        old = int(self.value)
        if value[:2] in ("++", "--"):
            number = _parse_integer(value[2:])
            if number is None:
                return None
            # checked as a long; only the bound on the side of the sign ("++-5" goes below min)
            total = old + number if value[0] == "+" else old - number
            if _STATE.version < _UTIL_PARSE_INT_VERSION:
                total = _c_cast(total, 64)
            inside = total <= self.maximum if value[0] == "+" else total >= self.minimum
            return str(_c_cast(total, 32)) if inside else None
        number = _parse_integer(value)
        if number is None:
            return None
        number = _c_cast(number, 32)  # value_int = number: a long put in an int
        return str(number) if self.minimum <= number <= self.maximum else None


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
        self.server_totp_secret = None  # None: the one the remote's options give
        self.server_totp_window = 0  # relay.network.totp_window: steps of 30 s taken either side
        self.server_time_window = 5  # relay.network.time_window: seconds a hash's salt may be off
        self.server_skew = 0.0  # the server's clock minus the client's (s)
        self.server_requests = []  # (resource, error or "") of every API request answered
        self.server_commands = "*,!quit"  # relay.network.commands: checked for each command, nested too
        self.server_localvars = {}  # (buffer, name): value, set by /buffer setvar on the server
        self.server_sync = "now"  # a local variable set reaches the mirror: "now", "later" (sim.sync)
        self.server_pending = []  # (buffer, name, value) on their way to the mirrors


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
        self.native_planned = {}  # pointer -> remote with an attempt of WeeChat's own engine planned
        self.overlaps = 0
        self.relay_loaded = True
        self.infolists = {}
        self.completions = {}  # pointer -> {"args", "base_word", "words"}: a completion in progress
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
        self.add_option("weechat.look.command_incomplete", "boolean", 0, 1, "off", "off")
        self.add_option("weechat.network.connection_timeout", "integer", 1, _INT_MAX, "60", "60")

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


def _split_line(text):
    """(show time, prefix or None, message) of a printed line (gui-chat.c): " \\t" at the
    start: no prefix; "\\t\\t": no time, no prefix; else the prefix ends at the first tab."""
    if text.startswith(" \t"):
        return True, None, text[2:]
    if text.startswith("\t\t"):
        return False, None, text[2:]
    if "\t" in text:
        prefix, _, message = text.partition("\t")  # pylint: disable=redefined-outer-name
        return True, prefix, message
    return True, None, text


def prnt(buffer, message):
    prnt_date_tags(buffer, 0, "", message)


def prnt_date_tags(buffer, date, tags, message):
    """gui_chat_printf_datetime_tags: one line for each line of the text (unless the
    buffer is multiline), the "weechat_print" modifier on "prefix\\tmessage", then the
    print hooks, which get the prefix and the message apart."""
    target = _STATE.buffers.get(buffer or _CORE_BUFFER)
    if target is None:
        return  # not a buffer: nothing printed
    if date <= 0:
        date = int(_STATE.now + _STATE.wall_offset)
    for text in [message] if target.input_multiline else message.split("\n"):
        _print_line(buffer, target, date, tags, text)


def _print_line(buffer, target, date, tags, text):
    show_time, line_prefix, line = _split_line(text)
    # the modifier gets the line as WeeChat rebuilds it: " " for no prefix, "\\t\\t" for no time
    string = f"{line_prefix or ' '}\t{line}" if show_time else f"\t\t{line}"
    new = _modifier("weechat_print", f"{target.pointer};{tags}", string)
    if new == "":
        return  # dropped by a modifier: not shown, no print hook sees it
    if new != string:
        if not target.input_multiline:
            new = new.split("\n")[0]
        show_time, line_prefix, line = _split_line(new)
        text = new
    _STATE.printed.append((buffer, text))
    line_prefix = line_prefix if line_prefix is not None else ""
    tags_string = tags  # split on "," into the line's tags and joined again: empty tags kept
    for hook in _STATE.of_kind("print"):
        if (
            hook.pointer in _STATE.hooks
            and not hook.running
            and hook.buffer in ("", target.pointer)
            and (not hook.pattern or any(hook.pattern.lower() in part.lower() for part in (line_prefix, line)))
            and _tags_match(hook.tags, tags_string)
        ):
            hook.running = True
            try:
                # weechat_python_api_hook_print_cb, "ssssiiss": the date and the tags are strings
                _STATE.callback(hook.callback)(
                    hook.data, target.pointer, str(date if show_time else 0), tags_string, 1, 0, line_prefix, line
                )
            finally:
                hook.running = False


def _tags_match(mask, tags):
    """gui_line_match_tags: "a,b" is a or b, "a+b" a and b, "!a" not a, "*" any; "" is no filter."""
    if not mask:
        return True
    line_tags = tags.split(",") if tags else []
    for group in [g for g in mask.split(",") if g]:
        matched = True
        for word in group.split("+"):
            negated = word.startswith("!") and len(word) > 1
            tag = word[1:] if negated else word
            found = tag == "*" or any(_string_match(t, tag, False) for t in line_tags)
            if found and negated:
                return False  # a line with a tag refused matches no group
            if not found and not negated:
                matched = False
                break
        if matched:
            return True
    return False


def _string_match(string, mask, case_sensitive):
    """string_match (core-string.c): "*" is any text (the only wildcard); an empty mask matches nothing."""
    if not mask:
        return False
    return _mask_pattern(mask, case_sensitive).fullmatch(string) is not None


@_functools.lru_cache(maxsize=4096)
def _mask_pattern(mask, case_sensitive):
    """The compiled pattern of a mask of string_match (compiled once: masks come back often)."""
    pattern = ".*".join(_re.escape(part) for part in mask.split("*"))
    return _re.compile(pattern, 0 if case_sensitive else _re.IGNORECASE | _re.DOTALL)


def buffer_search_main():
    return _CORE_BUFFER


def _plugin_and_name(full_name):
    """A buffer's plugin ("core" for WeeChat's own) and name: its full name is "plugin.name"."""
    plugin, _, name = full_name.partition(".")
    return plugin, name


def _same(text, other, case_sensitive):
    return text == other if case_sensitive else text.lower() == other.lower()


def buffer_search(plugin, name):
    """gui_buffer_search: "" is the current buffer; plugin "==": name is a full name;
    "(?i)" before the plugin or the name: compared without case; "" if not found."""
    if not name:
        return _STATE.current_buffer
    if plugin == "==":
        case_sensitive = not name.startswith("(?i)")
        name = name if case_sensitive else name[4:]
        found = (b for b in _STATE.buffers.values() if _same(b.full_name, name, case_sensitive))
        return next((b.pointer for b in found), "")
    if plugin == "==id":
        return ""  # the fake's buffers have no id
    plugin_case, name_case = not plugin.startswith("(?i)"), not name.startswith("(?i)")
    plugin, name = plugin if plugin_case else plugin[4:], name if name_case else name[4:]
    if not name:
        return _STATE.current_buffer
    for target in _STATE.buffers.values():
        buffer_plugin, buffer_name = _plugin_and_name(target.full_name)
        if (not plugin or _same(plugin, buffer_plugin, plugin_case)) and _same(buffer_name, name, name_case):
            return target.pointer
    return ""


def buffer_get_string(buffer, property):  # pylint: disable=redefined-builtin
    target = _STATE.buffers.get(buffer)
    if target is None:
        return ""
    if property == "full_name":
        return target.full_name
    if property in ("plugin", "name"):
        return _plugin_and_name(target.full_name)[property == "name"]
    if property == "input":
        return target.input
    if property.startswith("localvar_"):
        return target.localvars.get(property[len("localvar_") :], "")
    return ""


def buffer_set(buffer, property, value):  # pylint: disable=redefined-builtin
    target = _STATE.buffers.get(buffer)
    if target is None:
        return
    if property == "name" and value:
        # gui_buffer_set_name: the full name is the plugin's name, ".", the name
        target.full_name = f"{_plugin_and_name(target.full_name)[0]}.{value}"
        target.localvars["name"] = value
        _signal_send("buffer_renamed", buffer)
    elif property.startswith("localvar_set_"):
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


def _input_for_buffer(string):
    """string_input_for_buffer (core-string.c): the text to send to the buffer, or None
    if it is a command ("/ x", "/*x" and a path "/a/b" are text; "//x" is "/x";
    weechat.look.command_chars is "" by default)."""
    if string.startswith(("/ ", "/*")):
        return string
    if string.startswith("/"):
        slash, space, newline = (string.find(c, 1) for c in "/ \n")
        if slash < 0 or 0 <= space < slash or 0 <= newline < slash:
            return None
        return string[1:] if string[1] == "/" else string
    return string


def string_input_for_buffer(string):
    return _input_for_buffer(string) or ""  # the Python API gives "" for NULL


def _modifier(name, modifier_data, string):
    """hook_modifier_exec: by priority; a hook running is skipped; "" drops the string."""
    for hook in _by_priority("modifier"):
        if hook.pattern.lower() == name.lower() and not hook.running and hook.pointer in _STATE.hooks:
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
    new = _modifier("input_text_for_buffer", buffer, data)
    if data and new == "":
        return WEECHAT_RC_OK  # dropped
    data = new
    target = _STATE.buffers[buffer]
    if target.input_multiline:
        lines = [data]
    elif split_newline:
        lines = data.split("\n")
    else:
        lines = data.split("\n")[:1]
    rc = WEECHAT_RC_OK
    for line in lines:
        if _input_for_buffer(line) is not None or (user_data and target.input_get_any_user_data):
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
        return _totp_generate(arguments)
    return ""


def _base32_decode(text):
    """string_base32_decode: letters (any case) and 2-7, up to a "="; None if another char."""
    value, bits, out = 0, 0, bytearray()
    for char in text:
        if char == "=":
            break
        if "A" <= char <= "Z" or "a" <= char <= "z":
            digit = (ord(char) & 0x1F) - 1
        elif "2" <= char <= "7":
            digit = ord(char) - ord("2") + 26
        else:
            return None
        value = ((value << 5) | digit) & 0xFFFFFFFF
        bits += 5
        if bits >= 8:
            out.append((value >> (bits - 8)) & 0xFF)
            bits -= 8
    return bytes(out)


def _totp_generate(arguments):
    """info totp_generate "secret[,timestamp[,digits]]" (plugin-api-info.c, weecrypto_totp_generate):
    RFC 6238 with SHA1 and 30 s steps, at the (simulated) wall clock if no timestamp; "" if invalid."""
    args = [a for a in arguments.split(",") if a]
    numbers = []
    for text in args[1:3]:
        number, rest, _ = _strtol(text)
        number = _c_cast(number, 32)  # (int)strtol (...)
        if rest or number < 0:
            return ""
        numbers.append(number)
    when, digits = (numbers + [0, 6][len(numbers) :])[:2]
    secret = _base32_decode(args[0]) if args else None
    if secret is None or not 4 <= digits <= 10:
        return ""
    when = when or int(_STATE.now + _STATE.wall_offset)
    digest = _hmac.new(secret, (when // 30).to_bytes(8, "big"), _hashlib.sha1).digest()
    offset = digest[19] & 0xF
    code = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


# -- commands ----------------------------------------------------------------


def _command_matches(pattern, command):
    """hook_command_run_exec: the mask matched with case (string_match), or, for a mask
    without a space, the command is the mask or starts with the mask and a space."""
    if _string_match(command, pattern, True):
        return True
    return " " not in pattern and (command == pattern or command.startswith(pattern + " "))


def command(buffer, command):  # pylint: disable=redefined-outer-name
    """A script's command: input_data on the buffer (current one if ""), user_data 0, first line only."""
    return _input(buffer or _STATE.current_buffer, command, split_newline=False, user_data=False)


def _run_command(buffer, command):  # pylint: disable=redefined-outer-name
    _STATE.commands.append(command)
    if buffer in _STATE.buffers:
        _STATE.buffers[buffer].ran.append(command)
    for hook in _by_priority("command_run"):
        if hook.pointer in _STATE.hooks and not hook.running and _command_matches(hook.pattern, command):
            hook.running = True
            try:
                # the callback gets the command without its trailing spaces
                rc = _STATE.callback(hook.callback)(hook.data, buffer, command.rstrip(" "))
            finally:
                hook.running = False
            if rc == WEECHAT_RC_OK_EAT:
                return WEECHAT_RC_OK
    command = _complete(command)
    for hook in _STATE.of_kind("command"):
        if hook.pointer in _STATE.hooks and command.split()[0] == "/" + hook.pattern:
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
        line = command.rstrip(" ")
        line = (line[len("/mute ") :] if line.startswith("/mute ") else line).lstrip(" ")
        _STATE.secured[args[2]] = line.split(" ", 3)[3].lstrip(" ")
        return WEECHAT_RC_OK
    if args[:2] == ["/secure", "del"] and len(args) > 2:
        _STATE.secured.pop(args[2], None)
        return WEECHAT_RC_OK
    if args[:2] == ["/remote", "list"] and _STATE.relay_loaded:
        return _remote_list()
    if args[0] == "/remote" and len(args) > 2 and _STATE.relay_loaded:
        return _remote_command(args[1], args[2:])
    if args[0] == "/unset" and len(args) == 2 and args[1].startswith("plugins.desc.python."):
        # the description of a script's plugin option (plugins.desc.python.SCRIPT.NAME)
        _STATE.plugin_descs.pop(args[1].split(".", 4)[4], None)
        return WEECHAT_RC_OK
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
        kind, minimum, maximum = _REMOTE_KINDS.get(option, ("string", 0, 0))
        _STATE.add_option(f"relay.remote.{name}.{option}", kind, minimum, maximum, value, value)
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
        _native_plan(remote, None)
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
        _native_plan(remote, None)
    native = _STATE.option(f"relay.remote.{remote.name}.autoreconnect_delay")
    if status == "disconnected" and previous != "disconnected" and native and int(native.value) > 0:
        # WeeChat 4.4+ plans its own attempt right after the signal, and says so
        _STATE.native_schedules.append((remote.name, int(native.value)))
        _native_plan(remote, _STATE.now + int(native.value))
        prnt("", f"remote[{remote.name}]: reconnecting to remote relay in {native.value} seconds")


def _native_plan(remote, due):
    """WeeChat's own engine plans an attempt of a remote at `due` (None: none planned)."""
    remote.native_due = due
    if due is None:
        _STATE.native_planned.pop(remote.pointer, None)
    else:
        _STATE.native_planned[remote.pointer] = remote


def _native_attempts(until):
    """WeeChat's own engine attempts the remotes whose planned time came (in the order they were made)."""
    for pointer in sorted(_STATE.native_planned, key=lambda pointer: int(pointer, 16)):
        remote = _STATE.native_planned[pointer]
        if pointer not in _STATE.remotes:
            _STATE.native_planned.pop(pointer, None)
        elif remote.native_due is not None and remote.native_due <= until and remote.status == "disconnected":
            _native_plan(remote, None)
            _STATE.native_fired.append(remote.name)
            _remote_connect(remote)


def _send_remote_signal(remote):
    _signal_send(f"relay_remote_{remote.status}", remote.pointer)


def _signal_send(signal, signal_data):
    """hook_signal_send: by priority, hooks removed meanwhile or running skipped; the
    signal matched without case against each of the hook's ";"-separated names; OK_EAT stops.
    """
    rc = WEECHAT_RC_OK
    for hook in _by_priority("signal"):
        names = [n.strip() for n in hook.pattern.split(";") if n.strip()]
        if hook.pointer in _STATE.hooks and not hook.running and any(_string_match(signal, n, False) for n in names):
            hook.running = True
            try:
                rc = _STATE.callback(hook.callback)(hook.data, signal, signal_data)
            finally:
                hook.running = False
            if rc == WEECHAT_RC_OK_EAT:
                break
    return rc  # the return code of the last callback run


def _remote_secret(remote, option_name):
    return string_eval_expression(config_string(config_get(f"relay.remote.{remote.name}.{option_name}")), {}, {}, {})


def _api_auth_error(remote, headers):
    """Why the server refuses a request's credentials ("" if it takes them), in the order
    and the words of relay-http.c (relay_http_get_auth_status, relay_http_check_auth)."""
    now = int(_STATE.now + _STATE.wall_offset + remote.server_skew)
    code = headers.get("x-weechat-totp", "")
    if remote.server_totp:
        secret = remote.server_totp_secret
        secret = _remote_secret(remote, "totp_secret") if secret is None else secret
        if not code:
            return "Missing TOTP"
        window = range(-remote.server_totp_window, remote.server_totp_window + 1)
        if code not in [_totp_generate(f"{secret},{now + 30 * step}") for step in window]:
            return "Invalid TOTP"
    elif code:
        return "Invalid TOTP"
    password = remote.server_password
    password = _remote_secret(remote, "password") if password is None else password
    header = headers.get("Authorization", "")
    try:
        user_pass = _base64.b64decode(header[len("Basic ") :]).decode()
    except ValueError:
        return "Invalid password"
    parts = user_pass.split(":")
    if parts[0] == "plain":
        return "" if "plain" in remote.server_algos and ":".join(parts[1:]) == password else "Invalid password"
    if parts[0] != "hash" or len(parts) < 4 or parts[1] not in remote.server_algos:
        return "Invalid password"
    algo, salt = parts[1], parts[2]
    if not salt.isdigit() or abs(int(salt) - now) > remote.server_time_window:
        return "Invalid timestamp"
    if algo.startswith("pbkdf2+") and len(parts) == 5:
        digest = _hashlib.pbkdf2_hmac(algo[7:], password.encode(), salt.encode(), int(parts[3])).hex()
    elif len(parts) == 4:
        digest = _hashlib.new(algo, (salt + password).encode()).hexdigest()
    else:
        return "Invalid password"
    return "" if parts[-1] == digest else "Invalid password"


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
    refused = _api_auth_error(remote, headers)
    remote.server_requests.append((resource, refused))
    if refused:
        return {"response_code": "401", "output": _json.dumps({"error": refused})}
    if body.get("buffer_name") not in remote.server_buffers:
        return {
            "response_code": "400",
            "output": _json.dumps({"error": f'Buffer "{body.get("buffer_name")}" not found'}),
        }
    _server_input(remote, body["buffer_name"], body["command"], nested=False)
    return {"response_code": "204", "output": ""}


def _split_command(command):
    """string_split_command (core-string.c) with ";": a ";" after a backslash is a ";" that takes
    the backslash's place; spaces at the start of each command dropped, empty ones too."""
    parts, current = [], ""
    for index, char in enumerate(command):
        if char == ";" and (index == 0 or command[index - 1] != "\\"):
            parts.append(current)
            current = ""
        elif char == ";":
            current = current[:-1] + ";"
        else:
            current += char
    parts.append(current)
    return [part.lstrip(" ") for part in parts if part.lstrip(" ")]


def _server_input(remote, buffer, data, nested=True):
    """What the remote's server does with input for one of its buffers (input_data with the
    commands relay.network.commands allows, each command checked, nested ones too): text is
    taken by the buffer; /command -s, /input send and /buffer setvar run as WeeChat runs them;
    another command is taken as it is (recorded like text)."""
    name, _, args = data[1:].partition(" ")
    if not data.startswith("/") or data.startswith("//"):
        remote.server_inputs.append((buffer, data))
        return
    if not _string_match_list(name, remote.server_commands):
        return  # "the command is not currently allowed": nothing runs, the answer is 204 all the same
    if name == "command" and args.startswith("-s "):
        for part in _split_command(args[3:]):
            _server_input(remote, buffer, part)
    elif name == "command":
        raise NotImplementedError(f"the stub's server runs /command -s only: {data!r}")
    elif name == "input" and args.startswith("send "):
        _server_input(remote, buffer, args[5:])
    elif name == "input" and nested:
        raise NotImplementedError(f"the stub's server runs /input send only: {data!r}")
    elif name == "buffer" and args.startswith("setvar "):
        variable, _, value = args[7:].partition(" ")
        remote.server_localvars[(buffer, variable)] = value
        remote.server_pending.append((buffer, variable, value))
        if remote.server_sync == "now":
            _server_sync(remote)
    elif name == "buffer" and nested:
        raise NotImplementedError(f"the stub's server runs /buffer setvar only: {data!r}")
    else:
        remote.server_inputs.append((buffer, data))


def _server_sync(remote):
    """Local variables set on the server reach the remote's mirrors of their buffers through its
    websocket (while connected; lost otherwise), with buffer_localvar_added or _changed."""
    pending, remote.server_pending = remote.server_pending, []
    if remote.status != "connected":
        return
    for buffer, variable, value in pending:
        mirror = next(
            (b for b in _STATE.buffers.values() if b.full_name == f"relay.remote.{remote.name}.{buffer}"), None
        )
        if mirror is not None:
            added = variable not in mirror.localvars
            mirror.localvars[variable] = value
            _signal_send(f"buffer_localvar_{'added' if added else 'changed'}", mirror.pointer)


def _string_match_list(string, masks):
    """string_match_list (core-string.c), case sensitive as input_exec_command asks: a "!" mask
    excludes; matched if a mask matches and no "!" one does."""
    masks = [mask for mask in masks.split(",") if mask]
    if any(mask.startswith("!") and _string_match(string, mask[1:], True) for mask in masks):
        return False
    return any(not mask.startswith("!") and _string_match(string, mask, True) for mask in masks)


# -- hooks -------------------------------------------------------------------


def _priority_and_name(string):
    """string_get_priority_and_name (core-string.c): "N|name", priority 1000 by default.

    Up to 4.9 N is read with strtol (so "|name" is priority 0) and a text that is not
    a number leaves the whole string as the name; from 4.10 N is read with
    util_parse_int and the name is always what follows the first "|"."""
    head, bar, name = string.partition("|")
    if not bar:
        return 1000, string
    number = _parse_integer(head)
    if _STATE.version >= _UTIL_PARSE_INT_VERSION:
        return (1000 if number is None else number), name
    return (1000, string) if number is None else (_c_cast(number, 32), name)


def _by_priority(kind):
    """Hooks of a type in the order WeeChat runs them: highest priority first, then oldest."""
    return sorted(_STATE.of_kind(kind), key=lambda h: -getattr(h, "priority", 1000))


def _hook(kind, pattern, callback, data, **extra):
    hook = _Hook(_STATE.new_pointer(), kind, pattern, callback, data, **extra)
    _STATE.hooks[hook.pointer] = hook
    _STATE.kinds.setdefault(kind, {})[hook.pointer] = hook
    return hook.pointer


def hook_command(command, description, args, args_description, completion, callback, callback_data):  # pylint: disable=redefined-outer-name
    priority, name = _priority_and_name(command)
    return _hook("command", name, callback, callback_data, completion=completion, args=args, priority=priority)


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
    return _hook("print", message, callback, callback_data, buffer=buffer, tags=tags)


def hook_modifier(modifier, callback, callback_data):
    priority, name = _priority_and_name(modifier)
    return _hook("modifier", name, callback, callback_data, priority=priority)


def hook_signal(signal, callback, callback_data):
    priority, name = _priority_and_name(signal)
    return _hook("signal", name, callback, callback_data, priority=priority)


def hook_command_run(command, callback, callback_data):  # pylint: disable=redefined-outer-name
    priority, name = _priority_and_name(command)
    return _hook("command_run", name, callback, callback_data, priority=priority)


def hook_config(option, callback, callback_data):
    priority, name = _priority_and_name(option)
    return _hook("config", name, callback, callback_data, priority=priority)


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
    """A connection WeeChat makes in a child process; the test answers it with _connect_answer."""
    return _hook(
        "connect",
        f"{address}:{port}",
        callback,
        callback_data,
        proxy=proxy,
        address=address,
        port=port,
        ipv6=ipv6,
        retry=retry,
        local_hostname=local_hostname,
    )


def _connect_answer(hook, status, sock=-1, ip_address="", error="", gnutls_rc=0):
    """The end of a hook_connect, as WeeChat ends it (core-network.c): the callback once,
    then the hook is removed (unhook). The Python plugin (weechat_python_api_hook_connect_cb,
    "siiiss") passes (data, status, gnutls_rc, sock, ip_address, error): the IP address
    before the error, unlike the C callback's order. Returns the callback's return code,
    or None if the hook is gone."""
    target = _STATE.hooks.get(hook)
    if target is None or target.kind != "connect":
        return None
    try:
        return _STATE.callback(target.callback)(target.data, status, gnutls_rc, sock, ip_address, error)
    finally:
        _STATE.remove_hook(hook)


def hook_fd(fd, flag_read, flag_write, flag_exception, callback, callback_data):
    return _hook("fd", str(fd), callback, callback_data, fd=fd)


def hook_completion(completion_item, description, callback, callback_data):
    return _hook("completion", completion_item, callback, callback_data, description=description)


def completion_get_string(completion, property):  # pylint: disable=redefined-builtin
    return _STATE.completions.get(completion, {}).get(property, "")


def completion_list_add(completion, word, nick_completion, where):
    """gui_completion_list_add: a word that starts with the base word (case ignored), once."""
    found = _STATE.completions.get(completion)
    if found is None or not word or word in found["words"]:
        return 1
    if word.lower().startswith(found["base_word"].lower()):
        found["words"].insert(0 if where == WEECHAT_LIST_POS_BEGINNING else len(found["words"]), word)
    return 1


def _tab_words(text):
    """The words Tab offers at the end of an input line that runs a command (gui-completion.c):
    the template of the command matching its first argument, its item at the argument's
    index (counted by spaces; "%*" repeats the last), words and %(completions) in it."""
    command, _, rest = text[1:].partition(" ")
    args = rest.lstrip(" ")
    index = len(_re.findall(r" +", text))  # the argument's index: runs of spaces after the command
    base_word = _re.split(r"[ \n]", text)[-1]
    hooks = [h for h in _STATE.of_kind("command") if h.pattern == command and h.pointer in _STATE.hooks]
    if not hooks or index == 0:
        return []
    templates = [t.strip() for t in hooks[0].completion.split("||")]
    matching = [t for t in templates if args.startswith(t.split(" ")[0] + " ")]
    template = matching[0] if matching else next((t for t in templates if "%" in t), "")
    items = template.split(" ")
    if index > len(items):
        if not template.endswith("%*"):
            return []
        index = len(items)
    pointer = _STATE.new_pointer()
    _STATE.completions[pointer] = {"args": args, "base_word": base_word, "words": []}
    try:
        for part in items[index - 1].split("|"):
            if part.startswith("%(") and part.endswith(")"):
                for hook in [h for h in _STATE.of_kind("completion") if h.pattern == part[2:-1]]:
                    _STATE.callback(hook.callback)(hook.data, hook.pattern, _CORE_BUFFER, pointer)
            elif part and not part.startswith("%"):
                completion_list_add(pointer, part, 0, WEECHAT_LIST_POS_END)
        return _STATE.completions[pointer]["words"]
    finally:
        del _STATE.completions[pointer]


def hook_url(url, options, timeout, callback, callback_data):
    return _hook("url", url, callback, callback_data, options=options, timeout=timeout, started=_STATE.now)


def hook_modifier_exec(modifier, modifier_data, string):
    return _modifier(modifier, modifier_data, string) if modifier else ""


def hook_signal_send(signal, type_data, signal_data):
    """The Python callback gets the data as a string (an int written in decimal: the
    Python API reads it with strtol, ERROR if it is not a number)."""
    if type_data == WEECHAT_HOOK_SIGNAL_INT:
        number, rest, _ = _strtol(signal_data)
        if rest:
            return WEECHAT_RC_ERROR
        signal_data = str(_c_cast(number, 32))
    elif type_data not in (WEECHAT_HOOK_SIGNAL_STRING, WEECHAT_HOOK_SIGNAL_POINTER):
        return WEECHAT_RC_ERROR
    return _signal_send(signal, signal_data)


# first version that calls back a URL transfer removed while it runs (hook_url_free_data, commit 3e49b73)
_URL_STOPPED_VERSION = 0x04080000


def unhook(hook):
    removed = _STATE.remove_hook(hook)
    if removed is not None and removed.kind == "url" and _STATE.version >= _URL_STOPPED_VERSION:
        output = {"error": "transfer stopped", "error_code": "5"}
        _STATE.callback(removed.callback)(removed.data, removed.pattern, removed.options, output)


# -- options -----------------------------------------------------------------


def config_get(option_name):
    option = _STATE.option(option_name)
    return option.pointer if option else ""


def config_option_get_string(option, property):  # pylint: disable=redefined-builtin
    """config_file_option_get_string: "config_name", "section_name", "name", "type",
    "description" (None, "" in Python, for anything else)."""
    if option not in _STATE.options:
        return ""
    target = _STATE.options[option]
    file_name, section_name, name = target.full_name.split(".", 2)
    values = {"config_name": file_name, "section_name": section_name, "name": name, "type": target.kind}
    values["description"] = target.description
    return values.get(property, "")


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
    """config_file_new_option: without null values, a missing value or default is the
    other one; the value of a boolean is on only for a true word, an integer not read is 0,
    then brought into [min, max] (see _Option.initial); "" if the option exists."""
    file_name = next((n for n, p in _STATE.files.items() if p == config_file), None)
    section_name = next((k[1] for k, p in _STATE.sections.items() if p == section), None)
    full_name = f"{file_name}.{section_name}.{name}"
    if file_name is None or section_name is None or _STATE.option(full_name):
        return ""
    if type not in ("boolean", "integer", "string") or string_values:
        return ""  # enum and color options: not in the fake
    if default_value is not None and value is None:
        value = default_value
    elif default_value is None and value is not None:
        default_value = value
    if default_value is None or value is None:
        return ""  # null values: not in the fake
    if type == "boolean":
        min, max = 0, 1  # pylint: disable=redefined-builtin
    default = _Option.initial(type, min, max, default_value)
    option = _STATE.add_option(full_name, type, min, max, default, default, callback_change, callback_change_data)
    option.value = _Option.initial(type, min, max, value)
    option.description = description or ""
    _config_hooks(full_name, option.value)
    return option.pointer


def config_new(name, callback_reload, callback_reload_data):
    """A configuration file (not read nor written by the fake); "" if the name is taken."""
    if name in _STATE.files:
        return ""
    _STATE.files[name] = _STATE.new_pointer()
    return _STATE.files[name]


def config_new_section(  # pylint: disable=too-many-arguments
    config_file,
    name,
    user_can_add_options,
    user_can_delete_options,
    callback_read,
    callback_read_data,
    callback_write,
    callback_write_data,
    callback_write_default,
    callback_write_default_data,
    callback_create_option,
    callback_create_option_data,
    callback_delete_option,
    callback_delete_option_data,
):
    file_name = next((n for n, p in _STATE.files.items() if p == config_file), None)
    if file_name is None or (file_name, name) in _STATE.sections:
        return ""
    _STATE.sections[(file_name, name)] = _STATE.new_pointer()
    return _STATE.sections[(file_name, name)]


def config_free(config_file):
    file_name = next((n for n, p in _STATE.files.items() if p == config_file), None)
    if file_name is None:
        return
    for option in [o for o in _STATE.options.values() if o.full_name.startswith(f"{file_name}.")]:
        _STATE.remove_option(option.pointer)
    for key in [k for k in _STATE.sections if k[0] == file_name]:
        del _STATE.sections[key]
    del _STATE.files[file_name]


def config_option_free(option):
    """config_file_option_free (run_callback 1): gone, then the config hooks get the name and ""."""
    target = _STATE.options.get(option)
    _STATE.remove_option(option)
    if target is not None:
        _config_hooks(target.full_name, "")


def string_eval_expression(expr, pointers, extra_vars, options):
    if expr.startswith("${sec.data.") and expr.endswith("}"):
        return _STATE.secured.get(expr[len("${sec.data.") : -1], "")
    return expr


def config_string(option):
    """config_file_option_string: a boolean is "on"/"off", an integer has none (NULL: "")."""
    target = _STATE.options.get(option)
    return target.value if target is not None and target.kind != "integer" else ""


def config_integer(option):
    """config_file_option_integer: a boolean is 1/0, a string 0."""
    target = _STATE.options.get(option)
    if target is None or target.kind == "string":
        return 0
    if target.kind == "boolean":
        return 1 if target.value == "on" else 0
    return int(target.value)


def config_boolean(option):
    """config_file_option_boolean: 0 for an option that is not a boolean."""
    target = _STATE.options.get(option)
    return 1 if target is not None and target.kind == "boolean" and target.value == "on" else 0


def config_option_set(option, value, run_callback):
    """config_file_option_set: OK_CHANGED (then the option's change callback if
    run_callback, and the config hooks), OK_SAME_VALUE, or ERROR (a value refused,
    and for no option: the Python API passes NULL)."""
    target = _STATE.options.get(option)
    if target is None:
        return WEECHAT_CONFIG_OPTION_SET_ERROR
    new_value = target.parse(value)
    if new_value is None:
        return WEECHAT_CONFIG_OPTION_SET_ERROR
    if new_value == target.value:
        return WEECHAT_CONFIG_OPTION_SET_OK_SAME_VALUE
    target.value = new_value
    if run_callback and target.change_cb:
        _STATE.callback(target.change_cb)(target.change_data, target.pointer)
    _config_hooks(target.full_name, new_value)
    return WEECHAT_CONFIG_OPTION_SET_OK_CHANGED


def _config_hooks(full_name, value):
    """hook_config_exec: by priority, the option's name matched without case (string_match)."""
    for hook in _by_priority("config"):
        if hook.pointer in _STATE.hooks and not hook.running and _string_match(full_name, hook.pattern, False):
            hook.running = True
            try:
                _STATE.callback(hook.callback)(hook.data, full_name, value)
            finally:
                hook.running = False


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
        # config_file_add_option_to_infolist: all for "", else string_match with case
        options = [o for o in _STATE.options.values() if not arguments or _string_match(o.full_name, arguments, True)]
        items = [{"full_name": o.full_name, "value": o.value} for o in sorted(options, key=lambda o: o.full_name)]
    elif infolist_name == "buffer":
        # plugin_api_infolist_buffer_cb: every buffer for "", else its full name matched with case
        items = [
            {"pointer": b.pointer, "full_name": b.full_name}
            for b in _STATE.buffers.values()
            if not arguments or _string_match(b.full_name, arguments, True)
        ]
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


def infolist_pointer(infolist, var):
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
