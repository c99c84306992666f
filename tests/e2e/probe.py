# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test probe loaded into real WeeChat: records what the tests check.

Writes JSON lines to $WEECHAT_PROBE_FILE (one event per line):
- {"t", "kind": "signal", "status", "pointer"} for each relay_remote_* signal;
- {"t", "kind": "line", "buffer", "prefix", "message"} for each printed line,
  and the lines printed in the core buffer before the probe was loaded;
- {"t", "kind": "client_signal", "status", "pointer"} for relay_client_* (server side);
- {"t", "kind": "hooks", "script", "counts"} for "/probe hooks SCRIPT" (hooks by type);
- {"t", "kind": "buffer", "name"} for each buffer opened;
- {"t", "kind": "switch", "name"} for each buffer switch (the buffer now shown);
- {"t", "kind": "input", "buffer", "text"} for text sent to a "/probe buffer NAME" buffer
  (NAME: the rest of the line, spaces too);
- {"t", "kind": "option", "name", "value"} for each "/probe option NAME";
- {"t", "kind": "buffers", "names"} for "/probe buffers" (the full names of every buffer now);
- "/probe command BUFFER COMMAND" runs COMMAND in buffer BUFFER (full name; in double
  quotes if it has spaces) with weechat.command, as any other script would;
- {"t", "kind": "ready"} for "/probe ready" (the harness ends its start-up commands with it);
- {"t", "kind": "tab", "typed", "input"} for "/probe tab TEXT|": the input line TEXT would be
  after one Tab at its end in the core buffer (WeeChat's completion_search; the "|" keeps
  the spaces at the end of TEXT, which WeeChat takes off a command's arguments);
- {"t", "kind": "probe_loaded"} once.
"t" is time.monotonic(), comparable with the test process' clock.
"""

import json
import os
import time

import weechat

weechat.register("probe", "tests", "0.1", "GPL3", "test probe", "", "")

OUT = open(os.environ["WEECHAT_PROBE_FILE"], "a", buffering=1, encoding="utf-8")


def emit(**event):
    event["t"] = time.monotonic()
    OUT.write(json.dumps(event) + "\n")


def signal_cb(_data, signal, pointer):
    emit(kind="signal", status=signal[len("relay_remote_") :], pointer=pointer)
    return weechat.WEECHAT_RC_OK


def client_signal_cb(_data, signal, pointer):
    emit(kind="client_signal", status=signal[len("relay_client_") :], pointer=pointer)
    return weechat.WEECHAT_RC_OK


def buffer_opened_cb(_data, _signal, buffer):
    emit(kind="buffer", name=weechat.buffer_get_string(buffer, "full_name"))
    return weechat.WEECHAT_RC_OK


def buffer_switch_cb(_data, _signal, buffer):
    emit(kind="switch", name=weechat.buffer_get_string(buffer, "full_name"))
    return weechat.WEECHAT_RC_OK


def print_cb(_data, buffer, _date, _tags, _displayed, _highlight, prefix, message):
    emit(kind="line", buffer=weechat.buffer_get_string(buffer, "full_name"), prefix=prefix, message=message)
    return weechat.WEECHAT_RC_OK


def dump_core_lines():
    """Record the core buffer lines printed before the probe was loaded."""
    hdata_buffer = weechat.hdata_get("buffer")
    hdata_lines = weechat.hdata_get("lines")
    hdata_line = weechat.hdata_get("line")
    hdata_data = weechat.hdata_get("line_data")
    core = weechat.buffer_search_main()
    lines = weechat.hdata_pointer(hdata_buffer, core, "own_lines")
    line = weechat.hdata_pointer(hdata_lines, lines, "first_line") if lines else ""
    while line:
        data = weechat.hdata_pointer(hdata_line, line, "data")
        emit(
            kind="line",
            buffer="core.weechat",
            early=True,
            prefix=weechat.hdata_string(hdata_data, data, "prefix"),
            message=weechat.hdata_string(hdata_data, data, "message"),
        )
        line = weechat.hdata_move(hdata_line, line, 1)


def input_cb(_data, buffer, text):
    emit(kind="input", buffer=weechat.buffer_get_string(buffer, "full_name"), text=text)
    return weechat.WEECHAT_RC_OK


def hooks_of(script):
    """Number of hooks a script holds, by type."""
    counts = {}
    infolist = weechat.infolist_get("hook", "", "")
    while infolist and weechat.infolist_next(infolist):
        if weechat.infolist_string(infolist, "subplugin") == script:
            kind = weechat.infolist_string(infolist, "type")
            counts[kind] = counts.get(kind, 0) + 1
    if infolist:
        weechat.infolist_free(infolist)
    return counts


def buffer_names():
    """Full names of every buffer."""
    names = []
    infolist = weechat.infolist_get("buffer", "", "")
    while infolist and weechat.infolist_next(infolist):
        names.append(weechat.infolist_string(infolist, "full_name"))
    if infolist:
        weechat.infolist_free(infolist)
    return names


def tab(typed):
    """The input line after one Tab at the end of `typed` (as gui_input_complete puts the word found)."""
    completion = weechat.completion_new(weechat.buffer_search_main())
    weechat.completion_search(completion, typed, len(typed), 1)
    hdata = weechat.hdata_get("completion")
    word = weechat.hdata_string(hdata, completion, "word_found")
    start = len(typed.encode()[: weechat.hdata_integer(hdata, completion, "position_replace")].decode())
    space = " " if word and weechat.hdata_integer(hdata, completion, "add_space") else ""
    weechat.completion_free(completion)
    return typed[:start] + word + space if word else typed


def probe_cb(_data, _buffer, args):
    """/probe option NAME: record the value of an option (or its absence).
    /probe buffer NAME: open buffer python.NAME, whose input is recorded."""
    words = args.split()
    if len(words) > 2 and words[0] == "command":
        rest = args.split(" ", 1)[1]
        name, _, command = rest[1:].partition('" ') if rest.startswith('"') else rest.partition(" ")
        weechat.command(weechat.buffer_search("==", name), command)
    if words == ["ready"]:
        emit(kind="ready")
    if words == ["buffers"]:
        emit(kind="buffers", names=buffer_names())
    if len(words) > 1 and words[0] == "tab" and args.endswith("|"):
        typed = args.split(" ", 1)[1][:-1]
        emit(kind="tab", typed=typed, input=tab(typed))
    if len(words) == 2 and words[0] == "hooks":
        emit(kind="hooks", script=words[1], counts=hooks_of(words[1]))
    if len(words) >= 2 and words[0] == "buffer":
        weechat.buffer_new(args.split(" ", 1)[1], "input_cb", "", "", "")
    if len(words) == 2 and words[0] == "option":
        exists = bool(weechat.config_get(words[1]))
        value = weechat.string_eval_expression("${" + words[1] + "}", {}, {}, {}) if exists else None
        emit(kind="option", name=words[1], value=value)
    return weechat.WEECHAT_RC_OK


dump_core_lines()
weechat.hook_command("probe", "test probe", "option NAME", "", "", "probe_cb", "")
weechat.hook_signal("relay_remote_*", "signal_cb", "")
weechat.hook_signal("relay_client_*", "client_signal_cb", "")
weechat.hook_signal("buffer_opened", "buffer_opened_cb", "")
weechat.hook_signal("buffer_switch", "buffer_switch_cb", "")
weechat.hook_print("", "", "", 0, "print_cb", "")
emit(kind="probe_loaded")
