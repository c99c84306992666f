#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The newest WeeChat (Debian sid: 4.10 and its Python) in a chroot made with
# debootstrap from Debian's own archive (the URI this machine already uses),
# for the end-to-end tests marked "newest" (make test runs them there).
# Prints the root's path on its last line. Needs root.
set -euo pipefail

root=${RELAY_AUTORECONNECT_ROOT:-/var/cache/relay-autoreconnect/sid}
packages=weechat-headless,weechat-curses,weechat-python,weechat-plugins,python3,ncurses-term

if [[ -x $root/usr/bin/weechat-headless && -x $root/usr/bin/weechat ]]; then
    echo "WeeChat $(chroot "$root" weechat-headless --version | head -n 1) in $root: ok" >&2
    echo "$root"
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "error: building $root (debootstrap, chroot) needs root" >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
. "$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh"
uri=$(debian_mirror)
if [[ -z $uri ]]; then
    echo "error: no Debian source found to take sid from" >&2
    exit 1
fi
rm -rf "$root"
mkdir -p "$(dirname "$root")"
debootstrap --variant=minbase --include="$packages" sid "$root" "$uri" >"$root.log" 2>&1 || {
    tail -n 20 "$root.log" >&2
    exit 1
}
echo "installed WeeChat $(chroot "$root" weechat-headless --version | head -n 1) in $root" >&2
echo "$root"
