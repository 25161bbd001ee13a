#!/bin/sh
# Lint and type-check: `make test` runs this first. ruff (lint and format) on src/ and tests/;
# mypy on the packages that are clean (MYPY_CLEAN); the others are being made clean (docs/design.md: "Types").
set -e
BIN=${BIN:-.venv/bin}
MYPY_CLEAN="bootstrap calendars commands config domain errors labels ledger loans logs metrics security store trace web"
$BIN/ruff check src tests
$BIN/ruff format --check src tests
$BIN/mypy $(for p in $MYPY_CLEAN; do [ -d src/wuxin/$p ] && echo src/wuxin/$p || echo src/wuxin/$p.py; done)
