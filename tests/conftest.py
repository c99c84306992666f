# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tests mirror the script's layers:

- tests/core: the pure core (no WeeChat: every call to the weechat module fails there);
- tests/shell: the WeeChat layer against the fake weechat module (stubs/), on virtual time;
- tests/e2e: real weechat-headless and curses weechat processes.

This file makes the script and the fake weechat module importable.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "stubs", ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
