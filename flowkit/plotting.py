"""Figures of 2D flows: samples beside data, and the flow's trajectories over time.

:func:`plot_samples` draws generated points next to held-out data on equal axes;
:func:`plot_trajectories` draws the distribution of ``x_t`` at several times from ``t = 0``
(the prior) to ``t = 1`` (the model), as in Figure 4 of Lipman et al. (2023), followed by a panel
with the whole paths ``t -> x_t`` of a few individual points. The axes are labelled (the two
coordinates of a point; the shared y axis on the first panel); the legend of the paths panel sits below the panel, where it
covers no start or end point. :func:`samples_figure` and :func:`trajectories_figure` build the
figures, the ``plot_*`` functions save them: both render with matplotlib's Agg backend (no
display needed, the global pyplot state is untouched) and write the PNG atomically.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from flowkit.atomic import atomic_write_bytes
from flowkit.exceptions import ShapeError

__all__ = ["plot_samples", "plot_trajectories", "samples_figure", "trajectories_figure"]

_POINT = {"s": 2.5, "alpha": 0.5, "linewidths": 0, "rasterized": True}
_SAMPLE_COLOR = "#1f5fa8"
_DATA_COLOR = "#444444"


def _array(x: Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, Tensor) else np.asarray(x, dtype=float)


def _points(name: str, x: Tensor | np.ndarray) -> np.ndarray:
    array = _array(x)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ShapeError(f"{name} must be 2D points [n, 2] to be plotted, got shape {list(array.shape)}")
    return array


def _limits(*arrays: np.ndarray) -> tuple[float, float]:
    """A square window holding the central 99.8% of every array, with a 5% margin."""
    stacked = np.concatenate([a[np.isfinite(a).all(axis=1)] for a in arrays])
    low, high = np.quantile(stacked, [0.001, 0.999]) if len(stacked) else (-1.0, 1.0)
    margin = 0.05 * max(high - low, 1e-6)
    return float(low - margin), float(high + margin)


def _style(axis, limits: tuple[float, float], title: str) -> None:
    axis.set_xlim(*limits)
    axis.set_ylim(*limits)
    axis.set_aspect("equal")
    axis.set_title(title, fontsize=11)
    axis.set_xlabel("coordinate 1", fontsize=9)
    if axis.get_subplotspec().is_first_col():  # the panels share their y axis: label it once
        axis.set_ylabel("coordinate 2", fontsize=9)
    axis.tick_params(labelsize=8)


def _save(figure: Figure, path: str | Path) -> Path:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight", pad_inches=0.1)
    return atomic_write_bytes(path, buffer.getvalue())


def plot_samples(
    samples: Tensor | np.ndarray, data: Tensor | np.ndarray, path: str | Path, *, title: str | None = None
) -> Path:
    """Save a figure with held-out ``data`` (left) and generated ``samples`` (right), both ``[n, 2]``."""
    return _save(samples_figure(samples, data, title=title), path)


def samples_figure(samples: Tensor | np.ndarray, data: Tensor | np.ndarray, *, title: str | None = None) -> Figure:
    """The figure of :func:`plot_samples`."""
    samples, data = _points("samples", samples), _points("data", data)
    limits = _limits(samples, data)
    figure = Figure(figsize=(9.0, 4.8), layout="constrained")
    left, right = figure.subplots(1, 2, sharex=True, sharey=True)
    left.scatter(data[:, 0], data[:, 1], color=_DATA_COLOR, **_POINT)
    _style(left, limits, f"held-out data ({len(data)} points)")
    right.scatter(samples[:, 0], samples[:, 1], color=_SAMPLE_COLOR, **_POINT)
    _style(right, limits, f"model samples ({len(samples)} points)")
    if title:
        figure.suptitle(title, fontsize=12)
    return figure


def plot_trajectories(
    trajectory: Tensor | np.ndarray,
    times: Sequence[float] | Tensor | np.ndarray,
    path: str | Path,
    *,
    snapshots: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    num_paths: int = 24,
    title: str | None = None,
) -> Path:
    """Save snapshots of the flow ``x_t`` and a few whole paths; ``trajectory`` is ``[len(times), n, 2]``.

    One panel per snapshot time (the recorded time nearest to it) shows all ``n`` points; the
    last panel draws the paths ``t -> x_t`` through every recorded time of the first
    ``num_paths`` points, from their start (circles) to their end (dots), over the final points.
    """
    figure = trajectories_figure(trajectory, times, snapshots=snapshots, num_paths=num_paths, title=title)
    return _save(figure, path)


def trajectories_figure(
    trajectory: Tensor | np.ndarray,
    times: Sequence[float] | Tensor | np.ndarray,
    *,
    snapshots: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
    num_paths: int = 24,
    title: str | None = None,
) -> Figure:
    """The figure of :func:`plot_trajectories`."""
    states = _array(trajectory)
    times = _array(times)
    if states.ndim != 3 or states.shape[2] != 2 or states.shape[0] != len(times):
        raise ShapeError(
            f"trajectory must be [len(times), n, 2] = [{len(times)}, n, 2] to be plotted, got {list(states.shape)}"
        )
    shown = [int(np.argmin(np.abs(times - s))) for s in snapshots]
    limits = _limits(states[0], states[-1])
    panels = len(shown) + 1
    figure = Figure(figsize=(2.7 * panels, 3.2), layout="constrained")
    axes = figure.subplots(1, panels, sharex=True, sharey=True)
    for axis, index in zip(axes, shown):
        axis.scatter(states[index, :, 0], states[index, :, 1], color=_SAMPLE_COLOR, **_POINT)
        _style(axis, limits, f"t = {times[index]:.2f}")
    paths = axes[-1]
    paths.scatter(states[-1, :, 0], states[-1, :, 1], color="#b8c7dc", **_POINT)
    chosen = states[:, : min(num_paths, states.shape[1])]
    for k in range(chosen.shape[1]):
        paths.plot(chosen[:, k, 0], chosen[:, k, 1], color="#c0392b", linewidth=0.9, alpha=0.85)
    start, end = chosen[0], chosen[-1]
    paths.scatter(
        start[:, 0], start[:, 1], facecolors="none", edgecolors="black", s=14, linewidths=0.7, label="start (t = 0)"
    )
    paths.scatter(end[:, 0], end[:, 1], color="black", s=8, label="end (t = 1)")
    _style(paths, limits, f"paths of {chosen.shape[1]} points")
    paths.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7, frameon=False)
    if title:
        figure.suptitle(title, fontsize=12)
    return figure
