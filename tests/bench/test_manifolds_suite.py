"""The built-in ``manifolds`` suite at a tiny budget: the Riemannian cells run beside the Gaussian ones."""

from __future__ import annotations

import json

from flowkit.bench import load_suite, run_suite

TINY_BUDGET = [
    "train.steps=20",
    "train.warmup_steps=5",
    "train.log_every=10",
    'axes.data=[{ name = "sphere-mixture", n_train = 512, n_test = 256 }, { name = "torus-mixture", n_train = 512, n_test = 256 }]',
    "eval.num_samples=100",
]


def test_manifolds_suite_runs_every_cell_with_its_solver(tmp_path):
    suite = load_suite("manifolds", overrides=TINY_BUDGET)
    report = run_suite(suite, tmp_path, threads=1, plots=False, log=lambda line: None)
    assert report.errors == 0 and report.partial == 0
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines() if line]
    cells = {(r["axes"]["path"], r["axes"]["data"].split("(")[0]): r for r in records}
    assert len(records) == 4
    solvers = {
        key: [e["solver"]["name"] if isinstance(e["solver"], dict) else e["solver"] for e in r["evaluations"]]
        for key, r in cells.items()
    }
    assert sorted(solvers.values()) == [["riemannian-rk4"], ["riemannian-rk4"], ["rk4"], ["rk4"]], solvers
    assert all("energy_distance" in e["metrics"] for r in records for e in r["evaluations"])
