"""Figures of 2D flows: labelled axes, a legend that hides no start or end point, files like any tool's."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from flowkit.plotting import plot_samples, plot_trajectories, samples_figure, trajectories_figure


def drawn(figure):
    FigureCanvasAgg(figure).draw()
    return figure


def test_every_panel_has_labelled_axes():
    points = torch.randn(200, 2)
    trajectory = torch.stack([points * (1 - t) + 2 * t for t in torch.linspace(0, 1, 11)])
    for figure in (samples_figure(points, points + 1), trajectories_figure(trajectory, torch.linspace(0, 1, 11))):
        axes = drawn(figure).axes
        assert all(axis.get_xlabel() == "coordinate 1" for axis in axes)
        assert axes[0].get_ylabel() == "coordinate 2"  # the panels share the y axis


@pytest.mark.parametrize("corner", [(1, -1), (1, 1), (-1, -1), (-1, 1)])
def test_the_legend_covers_no_start_or_end_point(corner):
    """Paths ending in any corner of the panel: the legend's box holds none of the marked points."""
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(300, 2, generator=generator)
    end = torch.tensor(corner, dtype=torch.float32) * 2.5 + 0.2 * torch.randn(300, 2, generator=generator)
    times = torch.linspace(0, 1, 21)
    trajectory = torch.stack([(1 - t) * start + t * end for t in times])
    figure = drawn(trajectories_figure(trajectory, times, num_paths=24))
    paths = figure.axes[-1]
    box = paths.get_legend().get_window_extent(figure.canvas.get_renderer())
    marked = np.concatenate([trajectory[0, :24].numpy(), trajectory[-1, :24].numpy()])
    pixels = paths.transData.transform(marked)
    assert not any(box.contains(x, y) for x, y in pixels)


def test_figures_are_written_with_the_umask_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        files = [
            plot_samples(torch.randn(50, 2), torch.randn(50, 2), tmp_path / "s.png"),
            plot_trajectories(torch.randn(5, 50, 2), torch.linspace(0, 1, 5), tmp_path / "t.png"),
        ]
    finally:
        os.umask(previous)
    assert [oct(path.stat().st_mode & 0o777) for path in files] == ["0o644", "0o644"]
