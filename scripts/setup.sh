#!/usr/bin/env bash
# Create .venv (if missing), install the CPU torch wheel when no torch is present,
# then install flowkit (editable) with its dev extra and the bundled plugin distributions in plugins/
# (not plugins/template, the skeleton to copy: scripts/test.sh installs it to test it).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PY=.venv/bin/python
$PY -m pip install --quiet --upgrade pip
if ! $PY -c "import torch" >/dev/null 2>&1; then
    # A bare `torch` requirement would pull a multi-GB CUDA build; take the CPU wheel.
    $PY -m pip install --quiet "torch==2.13.0"
fi
$PY -m pip install --quiet -e ".[dev]"
plugin_args=()
for plugin in plugins/*/; do
    [ "$plugin" = plugins/template/ ] && continue
    [ -f "$plugin/pyproject.toml" ] && plugin_args+=(-e "$plugin")
done
if [ ${#plugin_args[@]} -gt 0 ]; then
    $PY -m pip install --quiet "${plugin_args[@]}"
fi
