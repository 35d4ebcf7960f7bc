"""The built-in ``discrete-2d`` suite at a tiny budget: both sources train and are evaluated at 8 and 64 steps."""

from __future__ import annotations

import json

from flowkit.bench import builtin_suites, load_suite, run_suite

TINY_BUDGET = [
    "train.steps=10",
    "train.warmup_steps=2",
    "train.log_every=5",
    'axes.data=[{ name = "discrete-checkerboard", grid = 8, n_train = 512, n_test = 256 }]',
    'axes.model=[{ name = "discrete-mlp", width = 16, depth = 1 }]',
    "eval.num_samples=100",
    "eval.plot_samples=0",
]


def test_discrete_suite_runs_both_sources_at_a_tiny_budget(tmp_path):
    assert "discrete-2d" in builtin_suites()
    suite = load_suite("discrete-2d", overrides=TINY_BUDGET)
    report = run_suite(suite, tmp_path, threads=1, plots=False, log=lambda line: None)
    assert report.errors == 0 and report.partial == 0
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines() if line]
    assert len(records) == 2
    for record in records:
        assert [e["nfe"] for e in record["evaluations"]] == [8, 64]
        assert all(0.0 <= e["metrics"]["tv"] <= 1.0 for e in record["evaluations"])
