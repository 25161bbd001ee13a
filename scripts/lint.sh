#!/bin/sh
# Lint and type-check: `make test` runs this first. ruff (lint and format) on src/ and tests/;
# mypy on the whole of src/wuxin (docs/design.md: "Lint and types").
set -e
BIN=${BIN:-.venv/bin}
$BIN/ruff check src tests
$BIN/ruff format --check src tests
$BIN/mypy src/wuxin
