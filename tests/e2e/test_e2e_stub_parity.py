# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inside real WeeChat: the fake module reads values and calls callbacks as WeeChat does.

One table (RUNNER) goes through the real API in weechat-headless and through the
fake module set to the same version; the two reports must be equal. The table
covers what the script relies on: how config_option_set / config_new_option read
integers and booleans, what config_string / config_integer / config_boolean give
for each type, the hook_print callback's arguments, the "weechat_print" modifier's
string, priorities in hook names, signals, string_input_for_buffer, buffer_search,
the buffer infolist by full name, the totp_generate info, and where the
hook_connect callback gets the IP address and the error (real connections; the
fake's _connect_answer is then given the same answers by meaning and must put
them in the same places).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import textwrap
import types

import pytest
from harness import ROOT, free_port

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)

# the table, run with W = the real module (in WeeChat) or the fake one (here)
RUNNER = textwrap.dedent(
    r"""
    import os

    W = None
    CLOSE_SOCKETS = False  # only in WeeChat: a socket number of the fake is not ours
    RESULT = {}
    CONNECTS = {}
    OK = 0

    INTEGER_SET = ["60", " 60", "\t7", "60 ", "7\n", "+5", "-1", "-0", "1_0", "0x10", "", " ", "+", "++", "++5",
                   "--5", "++-50", "---5", "++95", "++91", "--11", "\uff11\uff12", "999", "abc", "10",
                   "2147483648", "4294967306", "99999999999999999999"]
    INTEGER_NEW = ["60 ", "abc", "-5", "500", "", " 42", "+7", "2147483648", "1_0"]
    BOOLEAN_SET = ["on", "On", "ON", "yes", "y", "true", "t", "1", "off", "no", "n", "false", "f", "0",
                   "toggle", "", "maybe", " on", "on "]
    BOOLEAN_NEW = ["On", "yes", "", "toggle", "1", "TRUE", "off"]
    INPUTS = ["hello", "/cmd", "/cmd arg", "//x", "/ x", "/*c*/", "/path/to/file", "/cmd arg/x", "/cmd/x arg",
              "/", "", "//", "/a\n/b", " /x"]
    SEARCHES = [["==", "core.weechat"], ["", "weechat"], ["core", "weechat"], ["==", "nope.nope"],
                ["python", "nope"], ["==", "(?i)CORE.WEECHAT"], ["core", "(?i)WEECHAT"], ["CORE", "weechat"],
                ["==", "CORE.WEECHAT"]]
    TOTP = ["JBSWY3DPEHPK3PXP,1700000000", "jbswy3dpehpk3pxp,1700000000,8", "JBSWY3DPEHPK3PXP,59,6",
            "JBSWY3DPEHPK3PXP,-1", "not base32!,1", "", "JBSWY3DPEHPK3PXP,1,3", "GEZDGNBV=,1234567890"]
    BUFFER_MASKS = ["core.*", "core.weechat", "*.weechat", "CORE.*", "core.weechat.*", "nope.*"]
    MODIFIERS = [["parity_m", "a"], ["2000|parity_m", "b"], ["|parity_m", "c"], ["x|parity_m", "d"],
                 ["PARITY_M", "e"], ["500|parity_m|z", "f"], [" 300|parity_m", "g"]]

    def names(*args):
        return [type(a).__name__ for a in args]

    def parity_config_cb(data, option, value):
        RESULT["config_hooks"].append([option, value])
        return OK

    def option(config, section, name, kind, default, value, minimum=0, maximum=100):
        return W.config_new_option(config, section, name, kind, "", "", minimum, maximum, default, value, 0,
                                   "", "", "", "", "", "")

    def run_config(config, section):
        out = RESULT["config"] = {"integer_set": [], "integer_new": [], "boolean_set": [], "boolean_new": []}
        for n, text in enumerate(INTEGER_SET):
            pointer = option(config, section, f"i{n}", "integer", "10", "10")
            rc = W.config_option_set(pointer, text, 1)
            out["integer_set"].append([text, rc, W.config_integer(pointer)])
            W.config_option_free(pointer)
        for n, text in enumerate(INTEGER_NEW):
            pointer = option(config, section, f"n{n}", "integer", "10", text)
            out["integer_new"].append([text, W.config_integer(pointer)])
            W.config_option_free(pointer)
        for n, text in enumerate(BOOLEAN_SET):
            pointer = option(config, section, f"b{n}", "boolean", "off", "off", 0, 0)
            rc = W.config_option_set(pointer, text, 1)
            out["boolean_set"].append([text, rc, W.config_boolean(pointer), W.config_string(pointer)])
            W.config_option_free(pointer)
        for n, text in enumerate(BOOLEAN_NEW):
            pointer = option(config, section, f"c{n}", "boolean", "off", text, 0, 0)
            out["boolean_new"].append([text, W.config_boolean(pointer), W.config_string(pointer)])
            W.config_option_free(pointer)
        # what each getter gives for each type
        getters = out["getters"] = {}
        for kind, value in (("integer", "42"), ("boolean", "on"), ("string", "abc"), ("string", "on")):
            pointer = option(config, section, f"g_{kind}_{value}", kind, value, value)
            getters[f"{kind} {value}"] = [W.config_string(pointer), W.config_integer(pointer),
                                          W.config_boolean(pointer)]
            W.config_option_free(pointer)
        out["set_no_option"] = W.config_option_set("", "1", 1)
        pointer = option(config, section, "s", "string", "x", "x")
        out["string_set"] = [[W.config_option_set(pointer, text, 1), W.config_string(pointer)]
                             for text in ("x", "y", "", " y ")]

    def parity_print_cb(data, buffer, date, tags, displayed, highlight, prefix, message):
        RESULT["print"].append({
            "hook": data, "types": names(data, buffer, date, tags, displayed, highlight, prefix, message),
            "core": buffer == W.buffer_search_main(), "date": "0" if date in ("0", 0) else "now" if
            isinstance(date, str) and date.isdigit() else repr(date), "tags": tags, "displayed": displayed,
            "highlight": highlight, "prefix": prefix, "message": message,
        })
        return OK

    def parity_print_modifier_cb(data, modifier, modifier_data, string):
        if "parity-line" not in string:
            return string
        RESULT["print_modifier"].append([modifier_data.replace(W.buffer_search_main(), "CORE"), string])
        if "parity-line drop" in string:
            return ""
        if "parity-line rewrite" in string:
            return "new\tparity-line rewritten\nsecond line"
        return string

    def run_print():
        RESULT["print"], RESULT["print_modifier"] = [], []
        core = W.buffer_search_main()
        hooks = [W.hook_print("", "", "parity-line", 1, "parity_print_cb", "all"),
                 W.hook_print("", "", "PFXONLY", 1, "parity_print_cb", "prefix"),
                 W.hook_print("", "tag2", "parity-line", 1, "parity_print_cb", "tag2"),
                 W.hook_print("", "nope,tag1+tag2", "parity-line", 1, "parity_print_cb", "tag1+tag2"),
                 W.hook_print(core, "!tag1", "parity-line", 1, "parity_print_cb", "!tag1"),
                 W.hook_modifier("weechat_print", "parity_print_modifier_cb", "")]
        W.prnt_date_tags(core, 0, "tag1,tag2", "pfx\tparity-line tagged")
        W.prnt_date_tags(core, 0, "a,,b", "parity-line empty tag")
        for text in ("parity-line no prefix", " \tparity-line space tab", "\t\tparity-line no time",
                     "=!=\tparity-line error", "parity-line one\nparity-line two", "p1\tp2\tparity-line two tabs",
                     "\tparity-line empty prefix", "pfxonly\tin the message", "parity-line drop",
                     "parity-line rewrite"):
            W.prnt("", text)
        for pointer in hooks:
            W.unhook(pointer)

    def parity_modifier_cb(data, modifier, modifier_data, string):
        return string + data

    def run_modifiers():
        hooks = [W.hook_modifier(name, "parity_modifier_cb", tag) for name, tag in MODIFIERS]
        RESULT["modifiers"] = {name: W.hook_modifier_exec(name, "", "") for name in
                               ("parity_m", "x|parity_m", "parity_m|z", "PARITY_M")}
        for pointer in hooks:
            W.unhook(pointer)

    def parity_signal_cb(data, signal, signal_data):
        RESULT["signals"].append([data, signal, signal_data, names(signal_data)])
        return W.WEECHAT_RC_OK_EAT if data == "high" and signal == "parity_eat" else OK

    def run_signals():
        RESULT["signals"] = []
        hooks = [W.hook_signal(name, "parity_signal_cb", data) for name, data in
                 (("PARITY_Sig", "upper"), ("parity_x;parity_sig", "list"), ("500|parity_*", "low"),
                  ("2000|parity_*", "high"), ("parity_s", "exact"))]
        RESULT["signal_rc"] = [
            W.hook_signal_send("parity_sig", W.WEECHAT_HOOK_SIGNAL_STRING, "text"),
            W.hook_signal_send("parity_eat", W.WEECHAT_HOOK_SIGNAL_STRING, "text"),
            W.hook_signal_send("parity_int", W.WEECHAT_HOOK_SIGNAL_INT, " 42"),
            W.hook_signal_send("parity_int", W.WEECHAT_HOOK_SIGNAL_INT, "4x"),
        ]
        for pointer in hooks:
            W.unhook(pointer)

    def run_sync(module):
        global W
        W = module
        RESULT["config_hooks"] = []
        config = W.config_new("parity", "", "")
        section = W.config_new_section(config, "s", 0, 0, "", "", "", "", "", "", "", "", "", "")
        hook = W.hook_config("parity.s.*", "parity_config_cb", "")
        run_config(config, section)
        W.unhook(hook)
        W.config_free(config)
        run_print()
        run_modifiers()
        run_signals()
        RESULT["input_for_buffer"] = [[text, W.string_input_for_buffer(text)] for text in INPUTS]
        main = W.buffer_search_main()
        RESULT["buffer_search"] = [[plugin, name, {main: "core", "": ""}.get(W.buffer_search(plugin, name), "?")]
                                   for plugin, name in SEARCHES]
        RESULT["totp"] = [[text, W.info_get("totp_generate", text)] for text in TOTP]
        RESULT["buffer_infolist"] = [[mask, buffer_infolist(mask, main)] for mask in BUFFER_MASKS]
        return RESULT

    def buffer_infolist(mask, main):
        found = []
        infolist = W.infolist_get("buffer", "", mask)
        while infolist and W.infolist_next(infolist):
            pointer = W.infolist_pointer(infolist, "pointer")
            found.append([{main: "core"}.get(pointer, "?"), W.infolist_string(infolist, "full_name")])
        if infolist:
            W.infolist_free(infolist)
        return found

    def parity_connect_cb(data, *args):
        CONNECTS[data] = {"args": [data, *args], "types": names(data, *args)}
        if CLOSE_SOCKETS and len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            os.close(args[2])
        return OK

    def start_connects(module, targets):
        global W
        W = module
        return [W.hook_connect("", address, port, 1, 0, "", "parity_connect_cb", name)
                for name, address, port in targets]
    """
)

CHECKER = textwrap.dedent(
    """
    import json, os
    import weechat
    weechat.register("stubparity", "tests", "0.1", "GPL3", "stub parity", "", "")
    exec(compile(open({runner!r}).read(), {runner!r}, "exec"))
    CLOSE_SOCKETS = True
    REPORT = {{"version_number": int(weechat.info_get("version_number", "")), "sync": run_sync(weechat)}}
    TARGETS = {targets!r}
    start_connects(weechat, TARGETS)

    def parity_wait_cb(data, remaining):
        if len(CONNECTS) == len(TARGETS) or remaining == 0:
            REPORT["connect"] = CONNECTS
            with open({out!r} + ".part", "w") as f:
                json.dump(REPORT, f, indent=1)
            os.rename({out!r} + ".part", {out!r})
            weechat.unhook(WAIT)
        return weechat.WEECHAT_RC_OK

    WAIT = weechat.hook_timer(50, 0, 1200, "parity_wait_cb", "")
    """
)


def whole_report(out):
    try:
        return json.loads(out.read_text())
    except (OSError, ValueError):
        return None


def fake_module():
    """A fresh copy of stubs/weechat.py, apart from the one the other tests import."""
    spec = importlib.util.spec_from_file_location("weechat_parity_fake", ROOT / "stubs" / "weechat.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runner_module():
    module = types.ModuleType("parity_runner")
    exec(compile(RUNNER, "parity_runner", "exec"), module.__dict__)  # our own table
    return module


def real_report(lab, tmp_path, targets):
    runner, checker, out = tmp_path / "parity_runner.py", tmp_path / "stubparity.py", tmp_path / "parity.json"
    runner.write_text(RUNNER)  # under /tmp: also seen from the root of the newest WeeChat
    checker.write_text(CHECKER.format(runner=str(runner), out=str(out), targets=targets))
    client = lab.client(script=False)
    client.send(f"/python load {checker}")
    return client.wait_for(lambda: whole_report(out), 70, "parity report")


def argument_positions(real):
    """Where real WeeChat put the IP address (given on success only) and the error
    (gai_strerror for a name not resolved; a refused connection has none)."""
    ip_position = real["open"]["args"].index("127.0.0.1")
    error_position = next(i for i in (4, 5) if real["unresolved"]["args"][i])
    assert ip_position != error_position
    return ip_position, error_position


def fake_connects(fake, runner, real):
    """The fake's hook_connect answered with what real WeeChat answered, given by meaning."""
    ip_position, error_position = argument_positions(real)
    for hook in fake._STATE.of_kind("connect"):  # pylint: disable=protected-access
        args = real[hook.data]["args"]
        fake._connect_answer(  # pylint: disable=protected-access
            hook.pointer,
            args[1],
            sock=args[3],
            ip_address=args[ip_position],
            error=args[error_position],
            gnutls_rc=args[2],
        )
        assert hook.pointer not in fake._STATE.hooks  # pylint: disable=protected-access
    return runner.CONNECTS


def test_fake_reads_values_and_calls_callbacks_as_real_weechat(lab, tmp_path):
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(4)  # the kernel takes the connection: no accept needed
        targets = [
            ["open", "127.0.0.1", listening.getsockname()[1]],
            ["closed", "127.0.0.1", free_port()],
            ["unresolved", "nonexistent.invalid", 9000],
        ]
        real = real_report(lab, tmp_path, targets)
    print(json.dumps(real, indent=1))  # the record of what this WeeChat does (pytest -s)

    fake, runner = fake_module(), runner_module()
    fake._STATE = fake._State()  # pylint: disable=protected-access
    fake._STATE.version = real["version_number"]  # pylint: disable=protected-access
    fake._STATE.script = runner  # pylint: disable=protected-access
    simulated = runner.run_sync(fake)
    for section in sorted(real["sync"]):
        assert simulated[section] == real["sync"][section], section

    # hook_connect: six arguments; the IP address and the error where the Python plugin puts them
    connects = real["connect"]
    assert sorted(connects) == ["closed", "open", "unresolved"], connects
    for name, answer in connects.items():
        assert answer["types"] == ["str", "int", "int", "int", "str", "str"], (name, answer)
    assert connects["open"]["args"][1] == fake.WEECHAT_HOOK_CONNECT_OK and connects["open"]["args"][3] >= 0
    assert connects["closed"]["args"][1:4] == [fake.WEECHAT_HOOK_CONNECT_CONNECTION_REFUSED, 0, -1]
    assert connects["unresolved"]["args"][1:4] == [fake.WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND, 0, -1]
    # (data, status, gnutls_rc, sock, ip_address, error): not the order of the C callback
    assert argument_positions(connects) == (4, 5)
    runner.start_connects(fake, targets)
    assert fake_connects(fake, runner, connects) == connects
