#!/usr/bin/env bash
# Set up .venv (see scripts/setup.sh), then run flowkit's main job on built-in data:
# train OT-CFM on the 2D checkerboard, sample, and write metrics.json, samples.png,
# trajectories.png and the checkpoint to demo-out/ (extra arguments go to `flowkit demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/flowkit demo --out demo-out "$@"
