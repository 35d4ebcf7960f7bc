"""Benchmark suites: run a grid of registered components and compare them fairly.

A suite (TOML file, built-in name or dict; :mod:`flowkit.bench.loading`) lists axes over
registered components and seeds, fixed training and evaluation settings
(:mod:`flowkit.bench.eval_settings`), exclusions (:mod:`flowkit.bench.exclusions`) and claims
(:mod:`flowkit.bench.claims`); :mod:`flowkit.bench.suite` validates it and expands it into the
cells of :mod:`flowkit.bench.grid`. Each cell — one training configuration and seed — is trained
once and evaluated with every solver setting (:mod:`flowkit.bench.cell`); ``baseline`` cells
train the same network with a hand-written PyTorch CFM loop (:mod:`flowkit.bench.baseline`). :func:`run_suite`
(:mod:`flowkit.bench.runner`) runs the missing cells, in parallel worker processes if asked,
appends one record per cell to ``results.jsonl`` (:mod:`flowkit.bench.results`), and writes
``summary.md`` / ``summary.csv`` (:mod:`flowkit.bench.summary` over the aggregates of
:mod:`flowkit.bench.aggregate`) and plots (:mod:`flowkit.bench.plots`). The command line is ``flowkit bench SUITE --out DIR``.
"""

from flowkit.bench.claims import Claim
from flowkit.bench.eval_settings import EvalSettings
from flowkit.bench.grid import Cell
from flowkit.bench.loading import builtin_suites, load_suite
from flowkit.bench.results import ResultStore
from flowkit.bench.runner import RunReport, run_suite
from flowkit.bench.suite import Suite

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
