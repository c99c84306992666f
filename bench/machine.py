# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""The machine a benchmark ran on, in one line: CPU model, cores, system, load."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def system() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def machine() -> str:
    """E.g. "AMD EPYC, 2 cores, Debian GNU/Linux 12 (bookworm), Linux 6.1.0, load 0.12 0.30 0.25"."""
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    return f"{cpu_model()}, {os.cpu_count()} cores, {system()}, Linux {platform.release()}, load {load}"
