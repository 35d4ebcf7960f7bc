"""Benchmark suites: run a grid of registered components and compare them fairly.

A suite (TOML file, built-in name or dict) lists axes over registered components and seeds,
fixed training and evaluation settings, exclusions and claims (:mod:`flowkit.bench.grid`).
Each cell — one training configuration and seed — is trained once and evaluated with every
solver setting (:mod:`flowkit.bench.cell`); ``baseline`` cells train the same network with a
hand-written PyTorch CFM loop (:mod:`flowkit.bench.baseline`). :func:`run_suite`
(:mod:`flowkit.bench.runner`) runs the missing cells, in parallel worker processes if asked,
appends one record per cell to ``results.jsonl`` (:mod:`flowkit.bench.results`), and writes
``summary.md`` / ``summary.csv`` (:mod:`flowkit.bench.summary`, :mod:`flowkit.bench.claims`)
and plots (:mod:`flowkit.bench.plots`). The command line is ``flowkit bench SUITE --out DIR``.
"""

from flowkit.bench.grid import (
    Cell,
    Claim,
    EvalSettings,
    Suite,
    builtin_suites,
    load_suite,
)
from flowkit.bench.results import ResultStore
from flowkit.bench.runner import RunReport, run_suite

__all__ = [
    "Cell",
    "Claim",
    "EvalSettings",
    "ResultStore",
    "RunReport",
    "Suite",
    "builtin_suites",
    "load_suite",
    "run_suite",
]
