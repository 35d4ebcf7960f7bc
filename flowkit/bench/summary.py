"""Summaries of a suite's records: ``summary.md`` and ``summary.csv``, best values marked.

The numbers are the aggregates of :mod:`flowkit.bench.aggregate` (mean and sample standard
deviation over seeds, per combination and per combination and solver setting).
``summary.md`` shows one table per combination-level quantity set and one pivot table per
sample metric (rows: combinations, columns: solver settings), the claims of the suite
(:mod:`flowkit.bench.claims`), a comparison with the hand-written baseline, and every failure.
In each column the best value is **bold** (lowest, except for
:data:`~flowkit.bench.aggregate.HIGHER_IS_BETTER`), so a sample-metric column compares the
combinations at one solver setting. ``summary.csv`` has one row per combination and solver
setting with every quantity's mean and std (combination-level quantities repeated on each of its
rows) and a ``best`` column listing the quantities for which that row is best.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flowkit.atomic import atomic_write_text
from flowkit.bench.aggregate import (
    TRAINING_COLUMNS,
    Combination,
    Stat,
    aggregate,
    best_indices,
    sample_quantities,
)
from flowkit.bench.claims import check_claims, claims_markdown
from flowkit.bench.grid import TRAINING_AXES, Cell, component_label
from flowkit.bench.suite import Suite
from flowkit.metrics.fid import FID_SKIPPED

__all__ = ["COMPANIONS", "SAMPLE_TITLES", "headline_quantities", "render_csv", "render_markdown", "write_summary"]

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
