"""Summaries of a suite's records: mean and standard deviation over seeds, best values marked.

The cells of a combination (same config, different seeds) are aggregated per quantity as the
mean and the sample standard deviation (``ddof = 1``) of the seeds that produced a finite value;
``n`` counts them. Two kinds of quantities:

- per combination (:data:`TRAINING_COLUMNS`): training time, steps per second, final training
  loss, peak memory, held-out NLL (nats), bits/dim and the likelihood solve's NFE;
- per combination and solver setting: NFE, the sample metrics (energy distance, sliced W2, ...)
  and sampling time.

``summary.md`` shows one table per combination-level quantity set and one pivot table per
sample metric (rows: combinations, columns: solver settings), the claims of the suite
(:mod:`flowkit.bench.claims`), a comparison with the hand-written baseline, and every failure.
In each column the best value is **bold** (lowest, except for :data:`HIGHER_IS_BETTER`), so a
sample-metric column compares the combinations at one solver setting. ``summary.csv`` has one
row per combination and solver setting with every quantity's mean and std (combination-level
quantities repeated on each of its rows) and a ``best`` column listing the quantities for which
that row is best.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from flowkit.bench.grid import TRAINING_AXES, Cell, Suite, component_label
from flowkit.metrics.fid import FID_SKIPPED
from flowkit.pipeline.atomic import atomic_write_text

__all__ = [
    "COMPANIONS",
    "HIGHER_IS_BETTER",
    "TRAINING_COLUMNS",
    "Combination",
    "Stat",
    "aggregate",
    "best_indices",
    "headline_quantities",
    "write_summary",
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

SAMPLE_TITLES = {
    "nfe": "NFE",
    "energy_distance": "energy distance",
    "sliced_w2": "sliced W2",
    "sampling_seconds": "sampling seconds",
    "support_fraction": "support fraction (higher is better)",
    "data_log_density": "data log-density of the samples, nats (higher is better)",
}

COMPANIONS = {
    "_floor": "noise floor (the same statistic between two data samples of this size)",
    "_reference": "held-out data",
}
"""Suffixes of quantities printed in the title of their main quantity's table, not as tables."""


def headline_quantities(quantities: Sequence[str]) -> list[str]:
    """``quantities`` without the companions (``X_floor``, ``X_reference``) of a listed ``X``."""
    return [q for q in quantities if not any(q.endswith(s) and q[: -len(s)] in quantities for s in COMPANIONS)]


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


def _cell_text(stat: Stat | None, best: bool) -> str:
    if stat is None:
        return "—"
    text = stat.format()
    return f"**{text}**" if best else text


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _column_texts(stats: Sequence[Stat | None], quantity: str) -> list[str]:
    best = best_indices(stats, quantity)
    return [_cell_text(s, i in best) for i, s in enumerate(stats)]


def _environment_line(records: Sequence[dict[str, Any]]) -> str:
    envs = {
        (e["flowkit"], e["torch"], e["device"], e["device_name"], e["threads"])
        for e in (r.get("environment") for r in records)
        if e
    }
    parts = [
        f"flowkit {f}, torch {t}, device {d} ({name}), {threads} torch thread(s)"
        for f, t, d, name, threads in sorted(envs)
    ]
    return "; ".join(parts) if parts else "no cell has run yet"


def _title(quantity: str) -> str:
    return SAMPLE_TITLES.get(quantity, quantity.replace("_", " "))


def _training_section(combinations: Sequence[Combination]) -> list[str]:
    shown = [q for q in TRAINING_COLUMNS if any(c.training.get(q) is not None for c in combinations)]
    columns = [_column_texts([c.training.get(q) for c in combinations], q) for q in shown]
    rows = [
        [c.label, f"{len(c.ok_seeds())}/{len(c.seeds)}", *(column[i] for column in columns)]
        for i, c in enumerate(combinations)
    ]
    return _markdown_table(["combination", "seeds ok", *(TRAINING_COLUMNS[q] for q in shown)], rows)


def _sampling_sections(combinations: Sequence[Combination], quantities: Sequence[str]) -> list[str]:
    solvers = list(dict.fromkeys(s for c in combinations for s in c.solvers))
    lines: list[str] = []
    for quantity in headline_quantities(quantities):
        columns = [
            _column_texts([c.sampling.get(solver, {}).get(quantity) for c in combinations], quantity)
            for solver in solvers
        ]
        rows = [[c.label, *(column[i] for column in columns)] for i, c in enumerate(combinations)]
        notes = []
        for suffix, text in COMPANIONS.items():
            stat = Stat.of(
                e["metrics"].get(quantity + suffix)
                for c in combinations
                for r in c.records
                for e in r.get("evaluations", [])
            )
            if quantity + suffix in quantities and stat is not None:
                notes.append(f"{text}: {stat.format()}")
        title = _title(quantity) + (f" — {'; '.join(notes)}" if notes else "")
        lines += ["", f"### {title}", "", *_markdown_table(["combination", *solvers], rows)]
    return lines


def _ratio(a: Stat | None, b: Stat | None) -> str:
    if a is None or b is None or b.mean == 0:
        return "—"
    return f"{a.mean / b.mean:.2f}×"


def baseline_pairs(combinations: Sequence[Combination]) -> list[tuple[Combination, Combination | None]]:
    """Each baseline combination with the flowkit OT-CFM combination on the same model and data."""
    pairs = []
    for base in (c for c in combinations if c.method == "baseline"):
        match = next(
            (
                c
                for c in combinations
                if c.method == "flowkit"
                and (c.names["path"], c.names["coupling"], c.names["objective"]) == ("ot", "independent", "cfm")
                and c.axes["model"] == base.axes["model"]
                and c.axes["data"] == base.axes["data"]
            ),
            None,
        )
        pairs.append((base, match))
    return pairs


def _baseline_section(combinations: Sequence[Combination], quantities: Sequence[str]) -> list[str]:
    pairs = baseline_pairs(combinations)
    if not pairs:
        return []
    lines = [
        "",
        "## Relative to the hand-written baseline",
        "",
        "The baseline trains the same network from the same initial weights with a plain PyTorch CFM loop "
        "(OT path, same optimiser recipe; `flowkit.bench.baseline`) and is evaluated identically. "
        "Ratio = flowkit / baseline.",
    ]
    for base, match in pairs:
        lines += ["", f"### {base.label}", ""]
        if match is None:
            lines.append(
                "No flowkit cell with path `ot`, coupling `independent` and objective `cfm` "
                "on this model and data to compare with."
            )
            continue
        rows = []
        for q in TRAINING_COLUMNS:
            a, b = match.training.get(q), base.training.get(q)
            if a is not None or b is not None:
                rows.append([TRAINING_COLUMNS[q], _cell_text(a, False), _cell_text(b, False), _ratio(a, b)])
        for solver in match.solvers:
            for q in quantities:
                if q in ("nfe", "sampling_seconds"):
                    continue
                a, b = match.sampling.get(solver, {}).get(q), base.sampling.get(solver, {}).get(q)
                if a is not None or b is not None:
                    rows.append([f"{_title(q)}, {solver}", _cell_text(a, False), _cell_text(b, False), _ratio(a, b)])
        lines += _markdown_table(["quantity", f"flowkit ({match.label})", "hand-written", "ratio"], rows)
    return lines


def _failures_section(combinations: Sequence[Combination]) -> list[str]:
    lines = []
    for c in combinations:
        for r in c.records:
            if r["status"] == "error":
                e = r["error"]
                lines.append(
                    f"- {c.label}, seed {r['seed']}: {e['stage']} failed: {e['type']}: {e['message'].splitlines()[0]}"
                )
            for entry in r.get("evaluations", []):
                if "error" in entry:
                    e = entry["error"]
                    lines.append(
                        f"- {c.label}, seed {r['seed']}, {entry['label']}: {e['type']}: {e['message'].splitlines()[0]}"
                    )
            likelihood = r.get("likelihood") or {}
            if "error" in likelihood:
                e = likelihood["error"]
                lines.append(f"- {c.label}, seed {r['seed']}, likelihood: {e['type']}: {e['message'].splitlines()[0]}")
    return ["", "## Failures", "", *lines] if lines else []


def _settings_line(suite: Suite) -> str:
    t, e = suite.train, suite.eval
    parts = [
        f"training: {t.steps} steps, batch {t.batch_size}, lr {t.lr:g} ({t.lr_schedule}, "
        f"{t.warmup_steps} warm-up), EMA {t.ema_decay:g}",
        f"evaluation: {e.num_samples} samples vs as many held-out points",
    ]
    if e.likelihood_points:
        parts.append(f"likelihood: {e.likelihood_points} held-out points with {component_label(e.likelihood_solver)}")
    return "; ".join(parts) + "."


def render_markdown(
    suite: Suite, cells: Sequence[Cell], records: Sequence[dict[str, Any]], *, command: str | None = None
) -> str:
    """The text of ``summary.md``."""
    from flowkit.bench.claims import check_claims, claims_markdown

    combinations = aggregate(cells, records)
    quantities = sample_quantities(records)
    statuses = [r["status"] for r in records]
    seeds = sorted({c.seed for c in cells})
    lines = [f"# Benchmark suite `{suite.name}`", ""]
    if suite.description:
        lines += [suite.description.strip(), ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [
        f"Cells with results: {len(records)} of {len(cells)} ({statuses.count('ok')} ok, "
        f"{statuses.count('partial')} partial, "
        f"{statuses.count('error')} failed); seeds {', '.join(map(str, seeds))}. {_environment_line(records)}.",
        "",
        _settings_line(suite),
        "",
        "Values are mean ± sample standard deviation over the seeds with a result; **bold** marks the best "
        "value of each column (lowest, except steps/s; nothing is marked when all values are equal). "
        "Solver settings are evaluated on the same trained weights (a cell is trained once).",
    ]
    if "fid" in suite.eval.metrics and "fid" not in quantities:
        lines += ["", f"**{FID_SKIPPED}.**"]
    if suite.claims:
        lines += ["", *claims_markdown(check_claims(suite.claims, combinations))]
    lines += ["", "## Training and likelihood", "", *_training_section(combinations)]
    if quantities:
        lines += ["", "## Sampling (per solver setting)", *_sampling_sections(combinations, quantities)]
    lines += _baseline_section(combinations, quantities)
    lines += _failures_section(combinations)
    return "\n".join(lines) + "\n"


def render_csv(cells: Sequence[Cell], records: Sequence[dict[str, Any]]) -> str:
    """The text of ``summary.csv``: one row per combination and solver setting."""
    combinations = aggregate(cells, records)
    quantities = sample_quantities(records)
    header = ["combination", "label", "method", *TRAINING_AXES, "seeds", "seeds_ok", "solver"]
    for q in (*TRAINING_COLUMNS, *quantities):
        header += [f"{q}_mean", f"{q}_std", f"{q}_n"]
    header.append("best")
    best_training = {q: best_indices([c.training.get(q) for c in combinations], q) for q in TRAINING_COLUMNS}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for i, c in enumerate(combinations):
        for solver in c.solvers or [""]:
            stats: dict[str, Stat | None] = {**c.training, **c.sampling.get(solver, {})}
            best = [q for q in TRAINING_COLUMNS if i in best_training[q]]
            for q in quantities:
                peers = [other.sampling.get(solver, {}).get(q) for other in combinations]
                if i in best_indices(peers, q):
                    best.append(q)
            row: list[Any] = [
                c.key,
                c.label,
                c.method,
                *(c.axes[a] for a in TRAINING_AXES),
                len(c.seeds),
                len(c.ok_seeds()),
                solver,
            ]
            for q in (*TRAINING_COLUMNS, *quantities):
                s = stats.get(q)
                row += ["", "", 0] if s is None else [repr(s.mean), "" if s.std is None else repr(s.std), s.n]
            row.append(";".join(best))
            writer.writerow(row)
    return buffer.getvalue()


def write_summary(
    suite: Suite,
    cells: Sequence[Cell],
    records: Sequence[dict[str, Any]],
    out: str | Path,
    *,
    command: str | None = None,
) -> tuple[Path, Path]:
    """Write ``summary.md`` and ``summary.csv`` into ``out`` atomically; return their paths."""
    out = Path(out)
    md = atomic_write_text(out / "summary.md", render_markdown(suite, cells, records, command=command))
    table = atomic_write_text(out / "summary.csv", render_csv(cells, records))
    return md, table
