#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a command where the kernel refuses netlink sockets, as a sandbox does.

A seccomp filter, installed before exec and inherited by the command and
its children, makes socket(AF_NETLINK, ...) fail with EPERM; every other
system call goes through. The script's network watcher then can not open
its socket: what a user sees in a sandbox (a container, a systemd unit with
RestrictAddressFamilies, Flatpak).

Run: python3 tests/e2e/no_netlink.py COMMAND [ARGS...]
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket
import struct
import sys

# seccomp_data.arch and the number of socket() for the machines the tests run on
ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
# offsets in struct seccomp_data: nr, arch, args[0] (its low 32 bits, little-endian)
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0 = 0, 4, 16


def instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def refuse_netlink() -> None:
    """Install the filter for this process and what it runs (no new privileges either)."""
    arch, nr_socket = ARCHES[platform.machine()]
    program = b"".join(
        (
            instruction(BPF_LD_W_ABS, 0, 0, OFFSET_ARCH),
            instruction(BPF_JEQ_K, 0, 5, arch),  # another ABI: allow
            instruction(BPF_LD_W_ABS, 0, 0, OFFSET_NR),
            instruction(BPF_JEQ_K, 0, 3, nr_socket),  # not socket(): allow
            instruction(BPF_LD_W_ABS, 0, 0, OFFSET_ARG0),
            instruction(BPF_JEQ_K, 0, 1, socket.AF_NETLINK),  # another family: allow
            instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM),
            instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        )
    )
    filters = ctypes.create_string_buffer(program)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(program) // 8, ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    for args in ((PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0)):
        if libc.prctl(*args) != 0:
            raise OSError(ctypes.get_errno(), f"prctl{args[:2]}: {os.strerror(ctypes.get_errno())}")


if __name__ == "__main__":
    refuse_netlink()
    os.execvp(sys.argv[1], sys.argv[1:])
