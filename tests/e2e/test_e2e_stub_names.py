# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inside real WeeChat: the fake module only uses real names and constant values."""

from __future__ import annotations

import json
import textwrap

import pytest
from harness import ROOT

pytestmark = pytest.mark.newest  # also run on the newest WeeChat (make test)

CHECKER = textwrap.dedent(
    """
    import importlib.util, json, os
    import weechat
    weechat.register("stubcheck", "tests", "0.1", "GPL3", "stub check", "", "")
    spec = importlib.util.spec_from_file_location("weechat_stub", {stub!r})
    stub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub)
    report = {{"missing": [], "wrong": {{}}, "checked": 0}}
    for name in sorted(vars(stub)):
        if name.startswith("_"):
            continue
        report["checked"] += 1
        if not hasattr(weechat, name):
            report["missing"].append(name)
        elif name.isupper() and getattr(weechat, name) != getattr(stub, name):
            report["wrong"][name] = [getattr(stub, name), getattr(weechat, name)]
    with open({out!r}, "w") as f:
        json.dump(report, f)
    """
)


def whole_report(out):
    """The checker's report once it is written whole (the file exists before it is), else None."""
    try:
        return json.loads(out.read_text())
    except (OSError, ValueError):
        return None


def test_stub_names_and_constants_exist_in_real_weechat(lab, tmp_path):
    out = tmp_path / "stub_report.json"
    checker = tmp_path / "stubcheck.py"
    stub = tmp_path / "weechat_stub.py"  # under /tmp: also seen from the root of the newest WeeChat
    stub.write_bytes((ROOT / "stubs" / "weechat.py").read_bytes())
    checker.write_text(CHECKER.format(stub=str(stub), out=str(out)))
    client = lab.client(script=False)
    client.send(f"/python load {checker}")
    report = client.wait_for(lambda: whole_report(out), 10, "stub report")
    assert report["checked"] >= 30
    assert report["missing"] == []
    assert report["wrong"] == {}
