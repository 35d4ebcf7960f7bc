"""The built-in ``beyond-gaussian`` suite at a tiny budget: a Gaussian, a discrete and a
Riemannian cell in one run, each with its own solver and the metrics that fit its samples."""

from __future__ import annotations

import json
import warnings

import numpy as np

from flowkit.bench import load_suite, run_suite
from flowkit.discrete import DiscreteCheckerboard

TINY_BUDGET = [
    "train.steps=20",
    "train.warmup_steps=5",
    "train.log_every=10",
    'axes.data=[{ name = "checkerboard", n_train = 512, n_test = 256 }, '
    '{ name = "discrete-checkerboard", grid = 16, cells = 4, n_train = 512, n_test = 256 }, '
    '{ name = "sphere-mixture", n_train = 512, n_test = 256 }]',
    "eval.num_samples=200",
]


def test_three_families_run_side_by_side_with_fitting_metrics(tmp_path):
    suite = load_suite("beyond-gaussian", overrides=TINY_BUDGET)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no metric is left out of a cell with a warning
        report = run_suite(suite, tmp_path, threads=1, plots=False, log=lambda line: None)
    assert (report.cells, report.errors, report.partial) == (3, 0, 0)
    records = {
        r["axes"]["path"].split("(")[0]: r
        for r in map(json.loads, (tmp_path / "results.jsonl").read_text().splitlines())
    }
    assert sorted(records) == ["geodesic", "mixture", "ot"]
    solvers = {path: [e["label"].split("(")[0] for e in r["evaluations"]] for path, r in records.items()}
    assert solvers == {"ot": ["rk4"], "mixture": ["discrete-euler"], "geodesic": ["riemannian-rk4"]}
    metrics = {path: set(r["evaluations"][0]["metrics"]) for path, r in records.items()}
    for path in ("ot", "geodesic"):
        assert {"energy_distance", "sliced_w2"} <= metrics[path] and "tv" not in metrics[path]
    assert {"tv", "tv-marginal"} <= metrics["mixture"] and "energy_distance" not in metrics["mixture"]
    samples = {path: dict(np.load(tmp_path / r["samples_file"])) for path, r in records.items()}
    tokens = samples["mixture"]["solver0"]
    assert ((tokens >= 0) & (tokens < DiscreteCheckerboard(grid=16, cells=4).vocab_size)).all()
    on_sphere = samples["geodesic"]["solver0"]
    assert np.abs(np.linalg.norm(on_sphere, axis=1) - 1).max() < 1e-5
