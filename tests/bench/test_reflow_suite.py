"""The built-in ``reflow-2d`` suite at a tiny budget: both rounds train and are evaluated at 1, 2, 4 Euler steps."""

from __future__ import annotations

import json

from flowkit.bench import load_suite, run_suite

TINY_BUDGET = [
    "train.steps=20",
    "train.warmup_steps=5",
    "train.log_every=10",
    'axes.data=[{ name = "checkerboard", n_train = 512, n_test = 256 }]',
    'axes.model=[{ name = "mlp", width = 16, depth = 2 }]',
    'axes.coupling=["independent", { name = "reflow", num_pairs = 256, solver = { name = "euler", steps = 4 } }]',
    'axes.solver=[{ name = "euler", sweep = { steps = [1, 2, 4] } }]',
    "eval.num_samples=100",
    "eval.plot_samples=0",
]


def test_reflow_suite_runs_both_rounds_at_a_tiny_budget(tmp_path):
    suite = load_suite("reflow-2d", overrides=TINY_BUDGET)
    report = run_suite(suite, tmp_path, threads=1, plots=False, log=lambda line: None)
    assert report.errors == 0 and report.partial == 0
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines() if line]
    by_coupling = {record["axes"]["coupling"].split("(")[0]: record for record in records}
    assert len(records) == 2 and set(by_coupling) == {"independent", "reflow"}
    for record in by_coupling.values():
        assert [e["nfe"] for e in record["evaluations"]] == [1, 2, 4]
        assert all("energy_distance" in e["metrics"] for e in record["evaluations"])
    summary = (tmp_path / "summary.md").read_text()
    assert "one reflow round gives better samples" in summary
