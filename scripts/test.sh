#!/usr/bin/env bash
# Set up .venv (see scripts/setup.sh), install the plugin template plugins/template (editable; for
# its tests only: setup.sh leaves it out of users' installs), check lint and formatting (ruff) and
# types (mypy; both configured in pyproject.toml), run the built-in `quick` benchmark suite end to
# end, then run flowkit's test suite, the plugins' tests (the template's too), the docs build and
# the examples.
# pytest exits non-zero on any failure and with status 5 when no test was collected.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install --quiet -e plugins/template
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
bench_out="$(mktemp -d)"
trap 'rm -rf "$bench_out"' EXIT
.venv/bin/flowkit bench quick --out "$bench_out"
.venv/bin/python -m pytest -q "$@"
