"""Every example runs end to end with its reduced budget and writes what its docstring promises.

Each script runs as a user would run it — a subprocess with ``FLOWKIT_EXAMPLES_FAST=1`` — and
must exit 0 and write its figures (valid PNG files) and a ``metrics.json`` whose numbers are
finite. The benchmark suite file runs through ``flowkit bench`` with its training shortened by
``--set``. A new file in ``examples/`` without an entry here fails :func:`test_every_example_is_run`
(``_common.py``, the command line the scripts share, is a helper module, not an example).
"""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

SCRIPTS: dict[str, list[str]] = {
    "quickstart_2d.py": [
        "samples.png",
        "trajectories.png",
        "few_steps.png",
        "metrics.json",
        "run/metrics.jsonl",
        "run/checkpoint/manifest.json",
    ],
    "conditional_digits.py": [
        *(f"class_{k}.png" for k in range(10)),
        "grid.png",
        "metrics.json",
        "run/checkpoint/manifest.json",
    ],
    "likelihood.py": ["density.png", "hutchinson.png", "metrics.json"],
    "custom_path.py": ["paths.png", "metrics.json"],
}
SUITE = "suite.toml"
SUITE_OVERRIDES = ["train.steps=20", "axes.seed=[0]", "eval.num_samples=200", "eval.plot_samples=200"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # One torch thread per process: on a shared or small machine intra-op threads only contend.
    env = {**os.environ, "FLOWKIT_EXAMPLES_FAST": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        print(result.stdout[-4000:])
        print(result.stderr[-4000:])
    return result


def finite_numbers(data) -> list[float]:
    """Every number in a JSON document."""
    if isinstance(data, dict):
        return [x for value in data.values() for x in finite_numbers(value)]
    if isinstance(data, list):
        return [x for value in data for x in finite_numbers(value)]
    return [float(data)] if isinstance(data, (int, float)) and not isinstance(data, bool) else []


def test_every_example_is_run() -> None:
    present = {p.name for p in EXAMPLES.iterdir() if p.suffix in (".py", ".toml") and not p.name.startswith("_")}
    assert present == {*SCRIPTS, SUITE}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_documents_itself(script: str) -> None:
    docstring = ast.get_docstring(ast.parse((EXAMPLES / script).read_text(encoding="utf-8")))
    assert docstring and "What it shows" in docstring and f"python examples/{script}" in docstring
    assert "--fast" in docstring and "--out" in docstring


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs_with_reduced_budget(script: str, tmp_path: Path) -> None:
    """Run from a scratch directory without ``--out``: outputs go to ``runs/<name>`` below it."""
    out = tmp_path / "runs" / Path(script).stem
    result = run([sys.executable, str(EXAMPLES / script), "--device", "cpu"], cwd=tmp_path)
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-3000:]}"
    for name in SCRIPTS[script]:
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, f"{script} did not write {name}"
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_MAGIC, f"{name} is not a PNG file"
    metrics = json.loads((out / "metrics.json").read_text())
    numbers = finite_numbers(metrics)
    assert numbers and all(math.isfinite(x) for x in numbers), f"{script}: non-finite metrics {metrics}"


def test_suite_runs_with_reduced_budget(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    overrides = [arg for override in SUITE_OVERRIDES for arg in ("--set", override)]
    result = run(
        [
            sys.executable,
            "-m",
            "flowkit",
            "bench",
            str(EXAMPLES / SUITE),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--threads",
            "1",
            *overrides,
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, f"flowkit bench failed:\n{result.stderr[-3000:]}"
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(records) == 6  # 3 paths x 2 couplings x 1 seed
    summary = (out / "summary.md").read_text()
    assert "Along the OT path, exact minibatch OT couplings give better few-step samples" in summary
    for name in ("summary.csv", "plots/samples.png", "plots/nfe_vs_quality.png"):
        assert (out / name).is_file(), f"flowkit bench did not write {name}"
