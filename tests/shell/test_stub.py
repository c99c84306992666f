# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake weechat module reads values and calls callbacks as real WeeChat does.

The expected values are what real WeeChat 4.6.3 and 4.10.0 gave
(tests/e2e/test_e2e_stub_parity.py checks the fake against them in WeeChat):
here a regression of the fake is caught without WeeChat.
"""

from __future__ import annotations

import types

import pytest
import weechat

V463, V410 = 0x04060300, 0x040A0000
OK, SAME, ERROR = (
    weechat.WEECHAT_CONFIG_OPTION_SET_OK_CHANGED,
    weechat.WEECHAT_CONFIG_OPTION_SET_OK_SAME_VALUE,
    weechat.WEECHAT_CONFIG_OPTION_SET_ERROR,
)


class Script(types.SimpleNamespace):
    """The callbacks of a test, found by name as WeeChat finds a script's."""


@pytest.fixture(params=[V463, V410], ids=["4.6.3", "4.10"])
def version(request):
    return request.param


@pytest.fixture
def fake(version):
    """A fresh fake WeeChat of a version; `fake.calls` collects what callbacks got."""
    weechat._STATE = weechat._State()  # pylint: disable=protected-access
    weechat._STATE.version = version  # pylint: disable=protected-access
    calls = []

    def record(name, rc=weechat.WEECHAT_RC_OK):
        def callback(*args):
            calls.append((name, args))
            return rc

        return callback

    script = Script(
        print_cb=record("print"),
        connect_cb=record("connect"),
        config_cb=record("config"),
        signal_cb=record("signal"),
        eat_cb=record("eat", weechat.WEECHAT_RC_OK_EAT),
        run_cb=record("run"),
    )
    weechat._STATE.script = script  # pylint: disable=protected-access
    yield types.SimpleNamespace(script=script, calls=calls, version=version)
    weechat._STATE = weechat._State()  # pylint: disable=protected-access


def new_option(kind, default, value, minimum=0, maximum=100):
    """An option in file "stubtest", section "s" (both made the first time)."""
    config = weechat.config_new("stubtest", "", "") or weechat._STATE.files["stubtest"]  # pylint: disable=protected-access
    section = weechat.config_new_section(config, "s", 0, 0, "", "", "", "", "", "", "", "", "", "")
    section = section or weechat._STATE.sections[("stubtest", "s")]  # pylint: disable=protected-access
    return weechat.config_new_option(
        config, section, "opt", kind, "", "", minimum, maximum, default, value, 0, "", "", "", "", "", ""
    )


# text, (rc, value) on 4.6.3, (rc, value) on 4.10: option 0..100 at 10
INTEGER_SET = [
    ("60", (OK, 60), (OK, 60)),
    (" 60", (OK, 60), (OK, 60)),
    ("\t7", (OK, 7), (OK, 7)),
    ("60 ", (ERROR, 10), (ERROR, 10)),
    ("7\n", (ERROR, 10), (ERROR, 10)),
    ("+5", (OK, 5), (OK, 5)),
    ("-1", (ERROR, 10), (ERROR, 10)),
    ("-0", (OK, 0), (OK, 0)),
    ("1_0", (ERROR, 10), (ERROR, 10)),
    ("0x10", (ERROR, 10), (ERROR, 10)),
    ("", (OK, 0), (ERROR, 10)),  # strtol reads "" as 0; util_parse_int refuses it
    (" ", (ERROR, 10), (ERROR, 10)),
    ("+", (ERROR, 10), (ERROR, 10)),
    ("++", (SAME, 10), (ERROR, 10)),
    ("++5", (OK, 15), (OK, 15)),
    ("--5", (OK, 5), (OK, 5)),
    ("++-50", (OK, -40), (OK, -40)),  # "++" checks max only
    ("---5", (OK, 15), (OK, 15)),  # "--" checks min only
    ("++95", (ERROR, 10), (ERROR, 10)),
    ("++91", (ERROR, 10), (ERROR, 10)),
    ("--11", (ERROR, 10), (ERROR, 10)),
    ("\uff11\uff12", (ERROR, 10), (ERROR, 10)),  # fullwidth digits
    ("999", (ERROR, 10), (ERROR, 10)),
    ("abc", (ERROR, 10), (ERROR, 10)),
    ("10", (SAME, 10), (SAME, 10)),
    ("2147483648", (ERROR, 10), (ERROR, 10)),
    ("4294967306", (SAME, 10), (ERROR, 10)),  # 4.6.3: the long is put in an int (2**32 + 10 is 10)
    ("99999999999999999999", (ERROR, 10), (ERROR, 10)),
]


@pytest.mark.parametrize(("text", "old", "new"), INTEGER_SET, ids=[repr(t[0]) for t in INTEGER_SET])
def test_config_option_set_reads_an_integer_as_weechat(fake, text, old, new):
    pointer = new_option("integer", "10", "10")
    rc = weechat.config_option_set(pointer, text, 1)
    assert (rc, weechat.config_integer(pointer)) == (old if fake.version == V463 else new)


# text, value on 4.6.3, value on 4.10: config_new_option, 0..100
INTEGER_NEW = [
    ("60 ", 0, 0),
    ("abc", 0, 0),
    ("-5", 0, 0),
    ("500", 100, 100),
    ("", 0, 0),
    (" 42", 42, 42),
    ("+7", 7, 7),
    ("2147483648", 100, 0),  # strtol reads it (then max); util_parse_int refuses it (then 0)
    ("1_0", 0, 0),
]


@pytest.mark.parametrize(("text", "old", "new"), INTEGER_NEW, ids=[repr(t[0]) for t in INTEGER_NEW])
def test_config_new_option_reads_an_integer_as_weechat(fake, text, old, new):
    pointer = new_option("integer", "10", text)
    assert weechat.config_integer(pointer) == (old if fake.version == V463 else new)


BOOLEAN_SET = [
    *[(word, OK, 1) for word in ("on", "yes", "y", "true", "t", "1", "toggle")],
    *[(word, SAME, 0) for word in ("off", "no", "n", "false", "f", "0")],
    *[(word, ERROR, 0) for word in ("On", "ON", "", "maybe", " on", "on ")],
]


@pytest.mark.parametrize(("text", "rc", "value"), BOOLEAN_SET, ids=[repr(t[0]) for t in BOOLEAN_SET])
def test_config_option_set_reads_a_boolean_as_weechat(fake, text, rc, value):
    pointer = new_option("boolean", "off", "off", 0, 0)
    assert weechat.config_option_set(pointer, text, 1) == rc
    assert (weechat.config_boolean(pointer), weechat.config_string(pointer)) == (value, "on" if value else "off")


@pytest.mark.parametrize(("text", "value"), [("On", 0), ("yes", 1), ("", 0), ("toggle", 0), ("1", 1), ("TRUE", 0)])
def test_config_new_option_makes_a_boolean_on_only_for_a_true_word(fake, text, value):
    assert weechat.config_boolean(new_option("boolean", "off", text, 0, 0)) == value


@pytest.mark.parametrize(
    ("kind", "value", "got"),
    [
        ("integer", "42", ["", 42, 0]),  # an integer has no string (NULL: "")
        ("boolean", "on", ["on", 1, 1]),
        ("string", "abc", ["abc", 0, 0]),
        ("string", "on", ["on", 0, 0]),  # config_boolean is 0 for any option not a boolean
    ],
)
def test_each_getter_gives_for_each_type_what_weechat_gives(fake, kind, value, got):
    pointer = new_option(kind, value, value)
    assert [weechat.config_string(pointer), weechat.config_integer(pointer), weechat.config_boolean(pointer)] == got


def test_config_option_set_without_option_is_an_error_and_hooks_see_changes(fake):
    assert weechat.config_option_set("", "1", 1) == ERROR
    weechat.hook_config("STUBTEST.s.*", "config_cb", "")  # matched without case
    pointer = new_option("integer", "10", "10")
    weechat.config_option_set(pointer, "10", 1)  # same value: no hook
    weechat.config_option_set(pointer, "++1", 1)
    weechat.config_option_free(pointer)
    assert [args[1:] for _, args in fake.calls] == [
        ("stubtest.s.opt", "10"),  # created
        ("stubtest.s.opt", "11"),
        ("stubtest.s.opt", ""),  # freed
    ]


def test_remote_options_have_weechat_types(fake):
    weechat._remote_add("home", "https://example.com:9000")  # pylint: disable=protected-access
    option = weechat.config_get
    assert weechat.config_boolean(option("relay.remote.home.tls_verify")) == 1
    assert weechat.config_boolean(option("relay.remote.home.autoconnect")) == 0
    assert weechat.config_string(option("relay.remote.home.tls_verify")) == "on"
    assert weechat.config_integer(option("relay.remote.home.autoreconnect_delay")) == 10
    assert weechat.config_string(option("relay.remote.home.autoreconnect_delay")) == ""
    assert weechat.config_option_set(option("relay.remote.home.autoreconnect_delay"), "65536", 1) == ERROR
    assert weechat.config_integer(option("weechat.network.connection_timeout")) == 60


# -- print ---------------------------------------------------------------------


PRINTS = [
    # text, (prefix, message), modifier string, date "0" (no time)
    ("pfx\tmessage", ("pfx", "message"), "pfx\tmessage", False),
    ("message", ("", "message"), " \tmessage", False),
    (" \tmessage", ("", "message"), " \tmessage", False),
    ("\t\tmessage", ("", "message"), "\t\tmessage", True),
    ("=!=\tmessage", ("=!=", "message"), "=!=\tmessage", False),
    ("p1\tp2\tmessage", ("p1", "p2\tmessage"), "p1\tp2\tmessage", False),
    ("\tmessage", ("", "message"), " \tmessage", False),
]


@pytest.mark.parametrize(("text", "parts", "string", "no_time"), PRINTS, ids=[repr(p[0]) for p in PRINTS])
def test_a_print_callback_gets_the_prefix_and_the_message_apart(fake, text, parts, string, no_time):
    seen = []
    fake.script.modifier_cb = lambda data, modifier, modifier_data, line: seen.append((modifier_data, line)) or line
    weechat.hook_modifier("weechat_print", "modifier_cb", "")
    weechat.hook_print("", "", "", 1, "print_cb", "data")
    weechat.prnt("", text)
    ((_, args),) = fake.calls
    assert [type(a).__name__ for a in args] == ["str", "str", "str", "str", "int", "int", "str", "str"]
    data, buffer, date, tags, displayed, highlight, prefix, message = args
    assert (data, buffer, tags, displayed, highlight) == ("data", weechat.buffer_search_main(), "", 1, 0)
    assert (date == "0") == no_time and date.isdigit()
    assert (prefix, message) == parts
    assert seen == [(f"{weechat.buffer_search_main()};", string)]


def test_print_tags_lines_and_modifiers_as_weechat(fake):
    def modifier_cb(_data, _modifier, _modifier_data, line):
        if "drop" in line:
            return ""
        return "new\trewritten\nsecond" if "rewrite" in line else line

    fake.script.modifier_cb = modifier_cb
    weechat.hook_modifier("weechat_print", "modifier_cb", "")
    core = weechat.buffer_search_main()
    weechat.hook_print("", "", "", 1, "print_cb", "all")
    weechat.hook_print("", "nope,tag1+tag2", "", 1, "print_cb", "tag1+tag2")
    weechat.hook_print(core, "!tag1", "", 1, "print_cb", "!tag1")
    weechat.hook_print("", "", "PFX", 1, "print_cb", "prefix")  # the prefix or the message, without case
    weechat.prnt_date_tags(core, 0, "tag1,tag2", "pfx\ttagged")
    weechat.prnt_date_tags(core, 0, "a,,b", "empty tag")
    weechat.prnt("", "one\ntwo")
    weechat.prnt("", "drop")
    weechat.prnt("", "rewrite")
    got = [(args[0], args[3], args[6], args[7]) for _, args in fake.calls]
    assert got == [
        ("all", "tag1,tag2", "pfx", "tagged"),
        ("tag1+tag2", "tag1,tag2", "pfx", "tagged"),
        ("prefix", "tag1,tag2", "pfx", "tagged"),
        ("all", "a,,b", "", "empty tag"),
        ("!tag1", "a,,b", "", "empty tag"),
        ("all", "", "", "one"),
        ("!tag1", "", "", "one"),
        ("all", "", "", "two"),
        ("!tag1", "", "", "two"),
        ("all", "", "new", "rewritten"),  # a line changed by a modifier: first line only
        ("!tag1", "", "new", "rewritten"),
    ]


# -- hook_connect ----------------------------------------------------------------


def test_connect_answer_calls_back_as_the_python_plugin_then_removes_the_hook(fake):
    hook = weechat.hook_connect("", "relay.example", 9000, 1, 0, "", "connect_cb", "key")
    assert weechat._connect_answer(hook, weechat.WEECHAT_HOOK_CONNECT_OK, 6, "192.0.2.1") == 0  # pylint: disable=protected-access
    # (data, status, gnutls_rc, sock, ip_address, error), as real WeeChat 4.6.3 and 4.10 call it
    assert fake.calls == [("connect", ("key", 0, 0, 6, "192.0.2.1", ""))]
    assert hook not in weechat._STATE.hooks  # pylint: disable=protected-access
    assert weechat._connect_answer(hook, 0) is None  # pylint: disable=protected-access
    hook = weechat.hook_connect("", "nonexistent.invalid", 9000, 1, 0, "", "connect_cb", "key2")
    weechat._connect_answer(  # pylint: disable=protected-access
        hook, weechat.WEECHAT_HOOK_CONNECT_ADDRESS_NOT_FOUND, error="Name or service not known"
    )
    assert fake.calls[-1] == ("connect", ("key2", 1, 0, -1, "", "Name or service not known"))
    args = fake.calls[-1][1]
    assert [type(a).__name__ for a in args] == ["str", "int", "int", "int", "str", "str"]


# -- names, priorities, input --------------------------------------------------


def test_modifier_priorities_and_names_as_each_version_reads_them(fake):
    fake.script.tag_cb = lambda data, _modifier, _modifier_data, string: string + data
    for name, tag in [
        ("parity_m", "a"),
        ("2000|parity_m", "b"),
        ("|parity_m", "c"),
        ("x|parity_m", "d"),
        ("PARITY_M", "e"),
        ("500|parity_m|z", "f"),
        (" 300|parity_m", "g"),
    ]:
        weechat.hook_modifier(name, "tag_cb", tag)
    got = {name: weechat.hook_modifier_exec(name, "", "") for name in ("parity_m", "x|parity_m", "parity_m|z")}
    if fake.version == V463:  # "|" is priority 0; "x|..." is a name
        assert got == {"parity_m": "baegc", "x|parity_m": "d", "parity_m|z": "f"}
    else:  # util_parse_int: a priority not read is 1000, the name follows the "|"
        assert got == {"parity_m": "bacdeg", "x|parity_m": "", "parity_m|z": "f"}


def test_signals_match_without_case_by_priority_and_stop_when_eaten(fake):
    for name, data in (("PARITY_Sig", "upper"), ("parity_x;parity_sig", "list"), ("500|parity_*", "low")):
        weechat.hook_signal(name, "signal_cb", data)
    weechat.hook_signal("2000|parity_eat", "eat_cb", "high")
    assert weechat.hook_signal_send("parity_sig", weechat.WEECHAT_HOOK_SIGNAL_STRING, "x") == weechat.WEECHAT_RC_OK
    assert weechat.hook_signal_send("parity_eat", weechat.WEECHAT_HOOK_SIGNAL_STRING, "x") == 1
    assert weechat.hook_signal_send("parity_int", weechat.WEECHAT_HOOK_SIGNAL_INT, " 42") == weechat.WEECHAT_RC_OK
    assert weechat.hook_signal_send("parity_int", weechat.WEECHAT_HOOK_SIGNAL_INT, "4x") == weechat.WEECHAT_RC_ERROR
    assert [(args[0], args[1], args[2]) for _, args in fake.calls] == [
        ("upper", "parity_sig", "x"),
        ("list", "parity_sig", "x"),
        ("low", "parity_sig", "x"),
        ("high", "parity_eat", "x"),
        ("low", "parity_int", "42"),
    ]


def test_a_signal_hook_running_is_not_called_again(fake):
    def again_cb(data, signal, signal_data):
        fake.calls.append(("again", (data, signal, signal_data)))
        if signal == "parity_a":
            weechat.hook_signal_send("parity_b", weechat.WEECHAT_HOOK_SIGNAL_STRING, "")
        return weechat.WEECHAT_RC_OK

    fake.script.again_cb = again_cb
    weechat.hook_signal("parity_*", "again_cb", "")
    weechat.hook_signal("parity_b", "signal_cb", "other")
    weechat.hook_signal_send("parity_a", weechat.WEECHAT_HOOK_SIGNAL_STRING, "")
    assert [(name, args[1]) for name, args in fake.calls] == [("again", "parity_a"), ("signal", "parity_b")]


def test_command_run_hooks_match_with_case_and_get_no_trailing_spaces(fake):
    weechat.hook_command_run("/remote", "run_cb", "")
    weechat.command("", "/remote connect home   ")
    weechat.command("", "/REMOTE connect home")  # another command for WeeChat (unknown)
    weechat.command("", "/remotes")
    assert [args[2] for _, args in fake.calls] == ["/remote connect home"]


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("hello", "hello"),
        ("/cmd", ""),
        ("/cmd arg", ""),
        ("//x", "/x"),
        ("/ x", "/ x"),
        ("/*c*/", "/*c*/"),
        ("/path/to/file", "/path/to/file"),
        ("/cmd arg/x", ""),
        ("/cmd/x arg", "/cmd/x arg"),
        ("/", ""),
        ("", ""),
        ("//", "/"),
        ("/a\n/b", ""),
        (" /x", " /x"),
    ],
)
def test_string_input_for_buffer_as_weechat(fake, text, result):
    assert weechat.string_input_for_buffer(text) == result


def test_buffer_search_as_weechat(fake):
    core = weechat.buffer_search_main()
    buffer = weechat._STATE.new_pointer()  # pylint: disable=protected-access
    weechat._STATE.buffers[buffer] = weechat._Buffer(buffer, "relay.remote.home.core.weechat", {})  # pylint: disable=protected-access
    for plugin, name, found in [
        ("==", "core.weechat", core),
        ("", "weechat", core),
        ("core", "weechat", core),
        ("==", "nope.nope", ""),
        ("python", "nope", ""),
        ("==", "(?i)CORE.WEECHAT", core),
        ("core", "(?i)WEECHAT", core),
        ("CORE", "weechat", ""),
        ("==", "CORE.WEECHAT", ""),
        ("==", "relay.remote.home.core.weechat", buffer),
        ("relay", "remote.home.core.weechat", buffer),
        ("", "", weechat._STATE.current_buffer),  # pylint: disable=protected-access
    ]:
        assert weechat.buffer_search(plugin, name) == found, (plugin, name)


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ("JBSWY3DPEHPK3PXP,1700000000", "324550"),
        ("jbswy3dpehpk3pxp,1700000000,8", "02324550"),
        ("JBSWY3DPEHPK3PXP,59,6", "996554"),
        ("JBSWY3DPEHPK3PXP,-1", ""),
        ("not base32!,1", ""),
        ("", ""),
        ("JBSWY3DPEHPK3PXP,1,3", ""),
        ("GEZDGNBV=,1234567890", "993610"),
    ],
)
def test_totp_generate_as_weechat(fake, arguments, code):
    assert weechat.info_get("totp_generate", arguments) == code
