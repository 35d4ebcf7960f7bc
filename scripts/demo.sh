#!/usr/bin/env bash
# Set up .venv (see scripts/setup.sh), then run flowkit's main job on built-in data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/flowkit plugins "$@"
