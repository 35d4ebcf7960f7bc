"""Aggregating a suite's records over seeds: mean and standard deviation per combination, best values.

The cells of a combination (same config, different seeds) are aggregated per quantity as the
mean and the sample standard deviation (``ddof = 1``) of the seeds that produced a finite value;
``n`` counts them (:class:`Stat`). Two kinds of quantities:

- per combination (:data:`TRAINING_COLUMNS`): training time, steps per second, final training
  loss, peak memory, held-out NLL (nats), bits/dim and the likelihood solve's NFE;
- per combination and solver setting (:func:`sample_quantities`): NFE, the sample metrics
  (energy distance, sliced W2, ...) and sampling time.

Lower is better, except for :data:`HIGHER_IS_BETTER`; :func:`best_indices` picks the best means.
The summaries (:mod:`flowkit.bench.summary`), the claims (:mod:`flowkit.bench.claims`) and the
plots (:mod:`flowkit.bench.plots`) all read these aggregates.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from flowkit.bench.grid import Cell, component_label

__all__ = [
    "HIGHER_IS_BETTER",
    "TRAINING_COLUMNS",
    "Combination",
    "Stat",
    "aggregate",
    "best_indices",
    "fmt",
    "sample_quantities",
]

HIGHER_IS_BETTER = frozenset(
    {
        "steps_per_second",
        "support_fraction",
        "data_log_density",
        "support_fraction_reference",
        "data_log_density_reference",
    }
)
"""Quantities for which a larger value is better; every other one is lower-is-better."""

TRAINING_COLUMNS: dict[str, str] = {
    "train_seconds": "train s",
    "steps_per_second": "steps/s",
    "final_loss": "final loss",
    "nll_nats": "NLL (nats)",
    "bits_per_dim": "bits/dim",
    "bits_per_dim_stderr": "bits/dim s.e.",
    "likelihood_nfe": "NFE (likelihood)",
    "peak_memory_mib": "peak memory (MiB)",
}
"""Combination-level quantities and their column titles."""


@attrs.frozen
class Stat:
    """Mean, sample standard deviation (``None`` for one value) and count over seeds."""

    mean: float
    std: float | None
    n: int

    @classmethod
    def of(cls, values: Iterable[Any]) -> Stat | None:
        """The statistics of the finite numbers in ``values`` (``None`` if there are none)."""
        finite = [
            float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        ]
        if not finite:
            return None
        return cls(statistics.fmean(finite), statistics.stdev(finite) if len(finite) > 1 else None, len(finite))

    def format(self) -> str:
        """``mean ± std`` with 4 significant digits (just the mean for a single value)."""
        return fmt(self.mean) if self.std is None else f"{fmt(self.mean)} ± {fmt(self.std)}"


def fmt(value: float) -> str:
    """4 significant digits."""
    return f"{value:.4g}"


@attrs.define
class Combination:
    """The cells of one combination and their aggregated quantities."""

    key: str
    label: str
    method: str
    axes: dict[str, str]
    names: dict[str, str]
    seeds: list[int]
    records: list[dict[str, Any]]
    training: dict[str, Stat | None]
    solvers: list[str]
    solver_names: dict[str, str]  # solver label -> registered solver name
    sampling: dict[str, dict[str, Stat | None]]  # solver label -> quantity -> stat

    def ok_seeds(self) -> list[int]:
        """Seeds whose cell trained (status ok or partial)."""
        return [r["seed"] for r in self.records if r["status"] != "error"]


def _training_values(record: dict[str, Any]) -> dict[str, Any]:
    train = record.get("train") or {}
    likelihood = record.get("likelihood") or {}
    memory = record.get("peak_memory_bytes")
    return {
        "train_seconds": train.get("seconds"),
        "steps_per_second": train.get("steps_per_second"),
        "final_loss": train.get("final_loss"),
        "nll_nats": likelihood.get("nll_nats"),
        "bits_per_dim": likelihood.get("bits_per_dim"),
        "bits_per_dim_stderr": likelihood.get("bits_per_dim_stderr"),
        "likelihood_nfe": likelihood.get("nfe"),
        "peak_memory_mib": None if memory is None or record["status"] == "error" else memory / 2**20,
    }


def sample_quantities(records: Iterable[dict[str, Any]]) -> list[str]:
    """Every per-solver quantity in the records: sample metrics first, then NFE and sampling time."""
    seen: dict[str, None] = {}
    for record in records:
        for entry in record.get("evaluations", []):
            seen.update(dict.fromkeys(entry.get("metrics", {})))
    last = [q for q in ("nfe", "sampling_seconds") if q in seen]
    return [q for q in seen if q not in last] + last


def aggregate(cells: Sequence[Cell], records: Sequence[dict[str, Any]]) -> list[Combination]:
    """One :class:`Combination` per combination of ``cells`` with its records (grid order, baselines last)."""
    by_id = {r["cell_id"]: r for r in records}
    combinations: dict[str, Combination] = {}
    for cell in cells:
        combination = combinations.get(cell.combination)
        if combination is None:
            combination = Combination(
                key=cell.combination,
                label=cell.label,
                method=cell.method,
                axes={k: v for k, v in cell.axes.items() if k != "seed"},
                names=cell.names(),
                seeds=[],
                records=[],
                training={},
                solvers=[component_label(s) for s in cell.solvers],
                solver_names={component_label(s): s.name for s in cell.solvers},
                sampling={},
            )
            combinations[cell.combination] = combination
        combination.seeds.append(cell.seed)
        if cell.id in by_id:
            combination.records.append(by_id[cell.id])
    quantities = sample_quantities(records)
    ordered = sorted(combinations.values(), key=lambda c: c.method == "baseline")  # baselines last, else grid order
    for combination in ordered:
        values = [_training_values(r) for r in combination.records]
        combination.training = {q: Stat.of(v[q] for v in values) for q in TRAINING_COLUMNS}
        for solver in combination.solvers:
            entries = [
                e
                for r in combination.records
                for e in r.get("evaluations", [])
                if e["label"] == solver and "error" not in e
            ]
            combination.sampling[solver] = {q: Stat.of(e["metrics"].get(q) for e in entries) for q in quantities}
    return ordered


def best_indices(stats: Sequence[Stat | None], quantity: str) -> set[int]:
    """Indices of the best mean among ``stats`` (all tied ones); empty when there is nothing to choose.

    Nothing is marked when fewer than two values are present or when all of them are equal.
    """
    present = {i: s.mean for i, s in enumerate(stats) if s is not None}
    if len(present) < 2 or len(set(present.values())) == 1:
        return set()
    best = max(present.values()) if quantity in HIGHER_IS_BETTER else min(present.values())
    return {i for i, value in present.items() if value == best}
