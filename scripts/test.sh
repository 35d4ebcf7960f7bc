#!/usr/bin/env bash
# Set up .venv (see scripts/setup.sh), then run flowkit's test suite and the bundled plugins' tests.
# pytest exits non-zero on any failure and with status 5 when no test was collected.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q "$@"
