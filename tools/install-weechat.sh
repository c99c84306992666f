#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Make sure weechat-headless and the curses weechat >= 4.3 with the python
# plugin are installed (the terminal tests run the curses one in tmux).
# On Debian bookworm, WeeChat 4.x comes from bookworm-backports: the suite is
# added next to the machine's existing Debian source (same URI).
set -euo pipefail

min_major=4
min_minor=3

have_weechat() {
    command -v weechat-headless >/dev/null 2>&1 || return 1
    local ver
    ver=$(weechat-headless --version 2>/dev/null | head -n 1)
    local major=${ver%%.*} rest=${ver#*.}
    local minor=${rest%%.*}
    [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
    if (( major < min_major || (major == min_major && minor < min_minor) )); then
        return 1
    fi
    [[ $(weechat --version 2>/dev/null | head -n 1) == "$ver" ]] || return 1
    compgen -G "/usr/lib/*/weechat/plugins/python.so" >/dev/null \
        || compgen -G "/usr/lib/weechat/plugins/python.so" >/dev/null \
        || compgen -G "/usr/local/lib/weechat/plugins/python.so" >/dev/null
}

# ip and tc (iproute2) make the network namespaces of the dead-link tests;
# openssl makes the self-signed certificate of the TLS test; tmux is the
# terminal of the terminal tests
missing=()
command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || missing+=(iproute2)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if (( ${#missing[@]} )); then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "warning: ${missing[*]} missing: install them to run every test" >&2
    fi
fi

if have_weechat; then
    echo "weechat-headless and weechat (curses) $(weechat-headless --version | head -n 1) with python plugin: ok"
    exit 0
fi

packages=(weechat-headless weechat-curses weechat-python weechat-plugins)

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: weechat-headless and weechat (curses) >= ${min_major}.${min_minor} with the python plugin are required." >&2
    echo "       Install it as root, e.g.: apt-get install ${packages[*]}" >&2
    echo "       (Debian bookworm: add bookworm-backports and use -t bookworm-backports)" >&2
    exit 1
fi

. /etc/os-release
apt_target=()
if [[ ${ID:-} == debian && ${VERSION_CODENAME:-} == bookworm ]]; then
    src=/etc/apt/sources.list.d/relay-autoreconnect-backports.sources
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        . "$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh"
        uri=$(debian_mirror)
        if [[ -z $uri ]]; then
            echo "error: no Debian source found to add bookworm-backports to" >&2
            exit 1
        fi
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$uri" >"$src"
        echo "added bookworm-backports ($src)"
    fi
    apt_target=(-t bookworm-backports)
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${apt_target[@]}" "${packages[@]}" >/dev/null
if ! have_weechat; then
    echo "error: installed WeeChat is older than ${min_major}.${min_minor} or lacks the python plugin" >&2
    exit 1
fi
echo "installed weechat-headless and weechat (curses) $(weechat-headless --version | head -n 1)"
