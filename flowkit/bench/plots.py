"""Figures of a suite's results: sample grids and NFE-versus-quality charts.

- ``plots/samples.png``: one row per combination (its first seed with samples), one column for
  the held-out data and one per solver setting; 2D data are drawn as scatter plots on common
  axes, images as tiles, other vector data by their first two coordinates.
- ``plots/cells/<combination>_seed<k>.png``: the same panels for every cell, at most six per row.
- ``plots/nfe_vs_quality.png``: one panel per sample metric; x is the NFE, y the metric (mean
  over seeds, error bars one standard deviation, logarithmic axes — y symmetric-logarithmic, linear
  around 0, when some value is negative, as the unbiased energy distance can be); each combination has
  one colour, each fixed-step solver a line over its step counts, each other solver setting a
  marker.

Rendered with matplotlib's Agg backend (no display, pyplot's global state untouched) and written
atomically.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from flowkit.atomic import atomic_write_bytes
from flowkit.bench.aggregate import Combination, aggregate, sample_quantities
from flowkit.bench.grid import Cell
from flowkit.bench.summary import SAMPLE_TITLES, headline_quantities

__all__ = ["PLOTS_DIR", "write_plots"]

PLOTS_DIR = "plots"
_POINT = {"s": 3.0, "alpha": 0.5, "linewidths": 0, "rasterized": True}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES: Final = ("-", "--", ":", "-.")  # Final keeps the literals matplotlib's stubs accept
_TILES = 6  # images per side of an image panel
_CELL_COLUMNS = 6  # panels per row of a cell's figure


def _save(figure: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=110)
    return atomic_write_bytes(path, buffer.getvalue())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:80] or "cell"


def _load_samples(out: Path, record: dict[str, Any]) -> dict[str, np.ndarray] | None:
    if not record.get("samples_file"):
        return None
    try:
        with np.load(out / record["samples_file"], allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError):
        return None


def _limits(reference: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    low, high = np.quantile(reference[:, :2], [0.002, 0.998], axis=0)
    margin = 0.08 * (high - low).max()
    return (float(low[0] - margin), float(high[0] + margin)), (float(low[1] - margin), float(high[1] + margin))


def _tile(images: np.ndarray) -> np.ndarray:
    """``[n, C, H, W]`` images in [-1, 1] as one ``[rows*(H+1), cols*(W+1)(, C)]`` mosaic in [0, 1]."""
    count = min(len(images), _TILES * _TILES)
    side = max(1, math.ceil(math.sqrt(count)))
    c, h, w = images.shape[1:]
    mosaic = np.zeros((side * (h + 1) - 1, side * (w + 1) - 1, c))  # grey separators (0 maps to 0.5)
    for k in range(count):
        r, q = divmod(k, side)
        mosaic[r * (h + 1) : r * (h + 1) + h, q * (w + 1) : q * (w + 1) + w] = np.transpose(images[k], (1, 2, 0))
    mosaic = np.clip((mosaic + 1.0) / 2.0, 0.0, 1.0)
    return mosaic[..., 0] if c == 1 else mosaic


def _panel(axis: Any, points: np.ndarray | None, limits: Any, title: str, color: str) -> None:
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])
    if points is None:
        axis.text(0.5, 0.5, "failed", ha="center", va="center", transform=axis.transAxes, color="#b03030")
        return
    if points.ndim == 4:
        axis.imshow(_tile(points), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        return
    flat = points.reshape(len(points), -1)
    axis.scatter(flat[:, 0], flat[:, 1], color=color, **_POINT)
    (x0, x1), (y0, y1) = limits
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_aspect("equal")


def _solver_title(entry: dict[str, Any]) -> str:
    solver = entry["solver"]
    name = solver if isinstance(solver, str) else solver["name"]
    params = (
        ""
        if isinstance(solver, str)
        else ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in solver.items() if k != "name")
    )
    nfe = f"NFE {entry['nfe']}" if entry.get("nfe") is not None else "failed"
    return f"{name}\n{params + ' · ' if params else ''}{nfe}"


_ROW_LABEL_CHARS = 34
"""Characters per line of a row label in the samples overview (wrapped at spaces)."""


def _row_limits(arrays: dict[str, np.ndarray]) -> tuple[Any, float]:
    """Axis limits of a row (``None`` for images) and its panels' height / width ratio."""
    reference = arrays["reference"]
    if reference.ndim == 4:
        return None, 1.0
    limits = _limits(reference.reshape(len(reference), -1))
    (x0, x1), (y0, y1) = limits
    return limits, min(1.5, max(0.4, (y1 - y0) / (x1 - x0)))


def _row(
    axes: Sequence[Any] | np.ndarray, arrays: dict[str, np.ndarray], record: dict[str, Any], label: str | None
) -> None:
    reference = arrays["reference"]
    limits, _ = _row_limits(arrays)
    _panel(axes[0], reference, limits, "held-out data", "#444444")
    if label is not None:
        axes[0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center", labelpad=8)
    for axis, entry in zip(axes[1:], record["evaluations"]):
        _panel(axis, arrays.get(entry.get("samples_key", "")), limits, _solver_title(entry), "#1f5fa8")


def _sample_figures(out: Path, combinations: Sequence[Combination]) -> list[Path]:
    written = []
    overview: list[tuple[Combination, dict[str, Any], dict[str, np.ndarray]]] = []
    for combination in combinations:
        first = True
        for record in combination.records:
            arrays = _load_samples(out, record)
            if arrays is None:
                continue
            panels = 1 + len(record["evaluations"])
            columns = min(panels, _CELL_COLUMNS)
            rows = math.ceil(panels / columns)
            _, ratio = _row_limits(arrays)
            figure = Figure(figsize=(2.4 * columns, (2.4 * ratio + 0.6) * rows + 0.3), layout="constrained")
            axes = np.array(figure.subplots(rows, columns, squeeze=False)).ravel()
            _row(axes, arrays, record, None)
            for axis in axes[panels:]:
                axis.set_visible(False)
            title = textwrap.fill(f"{combination.label}, seed {record['seed']}", 45 * columns, break_on_hyphens=False)
            figure.suptitle(title, fontsize=10)
            name = f"{_slug(combination.label)}_seed{record['seed']}.png"
            written.append(_save(figure, out / PLOTS_DIR / "cells" / name))
            if first:
                overview.append((combination, record, arrays))
                first = False
    if overview:
        columns = 1 + max(len(record["evaluations"]) for _, record, _ in overview)
        rows = len(overview)
        ratio = max(_row_limits(arrays)[1] for _, _, arrays in overview)
        figure = Figure(figsize=(2.4 * columns + 2.4, (2.4 * ratio + 0.55) * rows + 0.5), layout="constrained")
        axes = np.array(figure.subplots(rows, columns, squeeze=False))
        for (combination, record, arrays), row in zip(overview, axes):
            _row(
                row,
                arrays,
                record,
                f"{textwrap.fill(combination.label, _ROW_LABEL_CHARS, break_on_hyphens=False)}\nseed {record['seed']}",
            )
            for axis in row[1 + len(record["evaluations"]) :]:
                axis.set_visible(False)
        figure.suptitle("Samples per combination and solver setting", fontsize=12)
        written.append(_save(figure, out / PLOTS_DIR / "samples.png"))
    return written


def _y_scale(axis: Any, values: Sequence[float]) -> None:
    """Logarithmic when every value is positive. Otherwise (the unbiased energy distance dips
    below 0 at its noise floor) symmetric-logarithmic, linear on ``[-c, c]`` with ``c`` the
    smallest power of ten covering every negative value, and cut at ``-c`` below."""
    if not values or min(values) > 0:
        axis.set_yscale("log")
        return
    deepest = max(-min(values), 1e-12)
    threshold = 10.0 ** math.ceil(math.log10(deepest))
    axis.set_yscale("symlog", linthresh=threshold)
    axis.set_ylim(bottom=-threshold)


def _spread_ticks(ticks: Sequence[int], ratio: float = 1.3) -> list[int]:
    """Keep ticks at least ``ratio`` apart on a log axis so their labels do not overlap."""
    kept: list[int] = []
    for tick in ticks:
        if tick > 0 and (not kept or tick >= kept[-1] * ratio):
            kept.append(tick)
    return kept


def _nfe_figure(out: Path, combinations: Sequence[Combination], quantities: Sequence[str]) -> Path | None:
    metrics = [q for q in quantities if q not in ("nfe", "sampling_seconds")]
    if not metrics:
        return None
    solver_names = list(dict.fromkeys(name for c in combinations for name in c.solver_names.values()))
    style = {name: i for i, name in enumerate(solver_names)}
    colors = [f"C{i % 10}" for i in range(len(combinations))]
    figure = Figure(figsize=(6.0 * len(metrics) + 3.2, 4.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(metrics)))
    for axis, metric in zip(axes, metrics):
        values: list[float] = []
        for color, combination in zip(colors, combinations):
            for name in solver_names:
                points = []
                for label in combination.solvers:
                    if combination.solver_names[label] != name:
                        continue
                    stats = combination.sampling.get(label, {})
                    nfe, value = stats.get("nfe"), stats.get(metric)
                    if nfe is not None and value is not None:
                        points.append((nfe.mean, nfe.std or 0.0, value.mean, value.std or 0.0))
                if not points:
                    continue
                points.sort()
                x, xerr, y, yerr = (np.array(v) for v in zip(*points))
                values += list(y)
                axis.errorbar(
                    x,
                    y,
                    yerr=yerr,
                    xerr=xerr,
                    color=color,
                    marker=_MARKERS[style[name] % len(_MARKERS)],
                    linestyle=_LINESTYLES[style[name] % len(_LINESTYLES)] if len(points) > 1 else "none",
                    markersize=5,
                    linewidth=1.4,
                    capsize=2,
                    alpha=0.9,
                )
        axis.set_xscale("log")
        _y_scale(axis, values)
        ticks = _spread_ticks(
            sorted({round(nfe.mean) for c in combinations for s in c.sampling.values() if (nfe := s.get("nfe"))})
        )
        if ticks:
            axis.set_xticks(ticks, [str(t) for t in ticks])
            axis.xaxis.set_minor_formatter(NullFormatter())
        axis.set_xlabel("NFE (function evaluations per sample)")
        axis.set_ylabel(SAMPLE_TITLES.get(metric, metric))
        axis.set_title(f"{SAMPLE_TITLES.get(metric, metric)} vs NFE (lower is better)", fontsize=11)
        axis.grid(True, which="both", alpha=0.25)
    handles = [Line2D([], [], color=color, linewidth=3, label=c.label) for color, c in zip(colors, combinations)]
    handles += [
        Line2D(
            [],
            [],
            color="black",
            marker=_MARKERS[style[n] % len(_MARKERS)],
            linestyle=_LINESTYLES[style[n] % len(_LINESTYLES)],
            label=n,
        )
        for n in solver_names
    ]
    figure.legend(handles=handles, loc="outside right center", fontsize=8, frameon=False)
    return _save(figure, out / PLOTS_DIR / "nfe_vs_quality.png")


def write_plots(cells: Sequence[Cell], records: Sequence[dict[str, Any]], out: str | Path) -> list[Path]:
    """Write every figure for ``records`` of ``cells`` into ``out/plots``; return their paths."""
    out = Path(out)
    combinations = aggregate(cells, records)
    written = _sample_figures(out, combinations)
    chart = _nfe_figure(out, combinations, headline_quantities(sample_quantities(records)))
    return written + ([chart] if chart is not None else [])
