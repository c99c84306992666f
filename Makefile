# SPDX-FileCopyrightText: 2026 relay_autoreconnect authors <relay-autoreconnect@users.noreply.github.com>
# SPDX-License-Identifier: GPL-3.0-or-later

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SCRIPT := relay_autoreconnect.py
WEECHAT_HOME ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/weechat

.PHONY: all test test-newest test-fast demo lint install uninstall weechat venv bench clean

all: test

$(PY): requirements-dev.txt
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && \
	    $(PYTHON) -m venv $(VENV); \
	  else echo "error: '$(PYTHON) -m venv' failed: install python3-venv" >&2; exit 1; fi; }
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $(PY)

venv: $(PY)

weechat:
	@bash tools/install-weechat.sh

## every test: core and shell (stub) first, alone (they keep a processor busy), then three
## runs of end-to-end tests side by side (they mostly wait: a run takes a fifth of a
## processor): on the machine's WeeChat, the tests that run on both WeeChats, and the
## others; on the newest WeeChat, the tests that run on both (the last two runs print
## their report at the end)
SAME_ON_BOTH := newest and not one_version
test: $(PY) weechat
	$(PY) -m pytest -ra -m "not e2e" tests
	@if [ "$$(id -u)" = 0 ]; then bash tools/install-weechat-newest.sh >/dev/null; fi
	@logs=$$(mktemp -d); \
	{ $(NEWEST_TESTS); } >$$logs/newest 2>&1 & newest=$$!; \
	$(PY) -m pytest -ra -m "e2e and not ($(SAME_ON_BOTH))" tests >$$logs/others 2>&1 & others=$$!; \
	$(PY) -m pytest -ra -m "e2e and $(SAME_ON_BOTH)" tests; same=$$?; \
	wait $$others; others=$$?; wait $$newest; newest=$$?; \
	echo "=== the other end-to-end tests (run at the same time) ==="; cat $$logs/others; \
	echo "=== make test-newest (run at the same time) ==="; cat $$logs/newest; rm -rf $$logs; \
	[ $$same = 0 ] && [ $$others = 0 ] && [ $$newest = 0 ]

## the tests marked "newest" on WeeChat from Debian sid (4.10), in a chroot
## made by tools/install-weechat-newest.sh (debootstrap: needs root)
NEWEST_TESTS = if [ "$$(id -u)" != 0 ]; then \
	  echo "*** make test: the newest WeeChat (Debian sid) was NOT tested: its chroot needs root ***" >&2; \
	  exit 0; fi; \
	root=$$(bash tools/install-weechat-newest.sh) && \
	RELAY_AUTORECONNECT_ROOT=$$root $(PY) -m pytest -ra -m "$(SAME_ON_BOTH)" tests
test-newest: $(PY)
	@$(NEWEST_TESTS)

## core and shell tests only (no WeeChat needed)
test-fast: $(PY)
	$(PY) -m pytest -ra -m "not e2e" tests

## a real server and client on 127.0.0.1: the link is cut and comes back
demo: weechat
	@$(PYTHON) tools/demo.py

lint: $(PY)
	$(VENV)/bin/weechat-script-lint $(SCRIPT)
	$(VENV)/bin/ruff check $(SCRIPT) stubs tests tools bench
	$(VENV)/bin/ruff format --check $(SCRIPT) stubs tests tools bench

bench: $(PY) weechat
	$(PYTHON) bench/engine_cost.py
	$(PYTHON) bench/schedule_error.py
	$(PYTHON) bench/deadlines.py
	$(PYTHON) bench/detection.py
	$(PYTHON) bench/herd.py
	$(PYTHON) bench/idle_cost.py
	$(PYTHON) bench/scale.py 10000 3
	$(PYTHON) bench/recovery.py schedule
	$(PYTHON) bench/recovery.py defaults
	$(PYTHON) bench/recovery.py restart
	$(PYTHON) bench/recovery.py network
	$(PYTHON) bench/poll_cost.py
	$(PYTHON) bench/offline.py real 60 2
	$(PYTHON) bench/offline.py hour
	$(PYTHON) bench/outbox_write.py
	$(PYTHON) bench/input_latency.py
	$(PYTHON) bench/delivery_rate.py 500 1 --hash '*' sha256

install:
	install -d "$(WEECHAT_HOME)/python/autoload"
	install -m 644 $(SCRIPT) "$(WEECHAT_HOME)/python/$(SCRIPT)"
	ln -sf ../$(SCRIPT) "$(WEECHAT_HOME)/python/autoload/$(SCRIPT)"
	@echo "installed in $(WEECHAT_HOME)/python (autoloaded); in a running WeeChat: /script load $(SCRIPT)"

uninstall:
	rm -f "$(WEECHAT_HOME)/python/autoload/$(SCRIPT)" "$(WEECHAT_HOME)/python/$(SCRIPT)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
