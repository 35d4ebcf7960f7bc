#!/usr/bin/env bash
# Set up .venv (see scripts/setup.sh), check lint and formatting (ruff) and types (mypy; both are
# configured in pyproject.toml), run the built-in `quick` benchmark suite end to end, then run
# flowkit's test suite, the bundled plugins' tests, the docs build and the examples.
# pytest exits non-zero on any failure and with status 5 when no test was collected.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
bench_out="$(mktemp -d)"
trap 'rm -rf "$bench_out"' EXIT
.venv/bin/flowkit bench quick --out "$bench_out"
.venv/bin/python -m pytest -q "$@"
