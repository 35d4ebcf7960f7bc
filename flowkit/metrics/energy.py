r"""Energy distance between generated samples and held-out data (``energy-distance``).

For distributions $P$ and $Q$ with $X, X' \sim P$ and $Y, Y' \sim Q$ independent, the (squared)
energy distance of Szekely and Rizzo is

$$
\mathcal{E}(P, Q) = 2\, \mathbb{E} \lVert X - Y \rVert - \mathbb{E} \lVert X - X' \rVert
- \mathbb{E} \lVert Y - Y' \rVert,
$$

with $\lVert \cdot \rVert$ the Euclidean norm; it is $\ge 0$ and $0$ only when $P = Q$. From samples
$x_1, \dots, x_n$ and $y_1, \dots, y_m$ this module reports the unbiased U-statistic

$$
\frac{2}{n m} \sum_{i,j} \lVert x_i - y_j \rVert - \frac{1}{n(n-1)} \sum_{i \neq i'} \lVert x_i - x_{i'} \rVert
- \frac{1}{m(m-1)} \sum_{j \neq j'} \lVert y_j - y_{j'} \rVert,
$$

whose expectation is exactly $\mathcal{E}(P, Q)$ (so it can be slightly negative when $P = Q$).
Images are flattened to vectors. The pairwise distances are summed block by block
(:data:`~flowkit.metrics._inputs.BLOCK_ELEMENTS` at a time) with exact differences (no
$\lVert a \rVert^2 + \lVert b \rVert^2 - 2 a \cdot b$ expansion), so 10k x 10k points need a few megabytes.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import torch
from jaxtyping import Float
from torch import Tensor

from flowkit.core import Metric
from flowkit.exceptions import ShapeError
from flowkit.hookspecs import Register, hookimpl
from flowkit.metrics._inputs import BLOCK_ELEMENTS, paired_points
from flowkit.shapes import checked


def _sum_distances(a: Tensor, b: Tensor) -> Tensor:
    """``sum_{i,j} |a_i - b_j|`` over ``a`` ``[n, D]`` and ``b`` ``[m, D]``, in row blocks."""
    rows = max(1, BLOCK_ELEMENTS // b.shape[0])
    blocks = [torch.cdist(chunk, b, compute_mode="donot_use_mm_for_euclid_dist").sum() for chunk in a.split(rows)]
    return torch.stack(blocks).sum()


@checked
def energy_distance(x: Float[Tensor, " n *dims"], y: Float[Tensor, " m *dims"]) -> Float[Tensor, ""]:
    r"""Unbiased energy distance between the rows of ``x`` (draws of $X$) and ``y`` (of $Y$).

    $\mathcal{E} = 2 \mathbb{E} \lVert X - Y \rVert - \mathbb{E} \lVert X - X' \rVert - \mathbb{E} \lVert Y - Y' \rVert$
    estimated by the U-statistic of the module docstring.

    ``x`` and ``y`` need at least two points each and the same event shape (flattened to
    vectors); the result has their promoted dtype and their device.
    """
    n, m = x.shape[0], y.shape[0]
    if n < 2 or m < 2:
        raise ShapeError(f"energy_distance needs at least 2 points in each set, got {n} and {m}")
    dtype = torch.promote_types(x.dtype, y.dtype)
    a, b = x.reshape(n, -1).to(dtype), y.reshape(m, -1).to(dtype)
    cross = _sum_distances(a, b) / (n * m)
    within_x = _sum_distances(a, a) / (n * (n - 1))
    within_y = _sum_distances(b, b) / (m * (m - 1))
    return 2.0 * cross - within_x - within_y


@attrs.frozen
class EnergyDistance(Metric):
    """``{"energy_distance": E}``: unbiased energy distance between samples and reference (lower is better)."""

    def __call__(self, context: object) -> Mapping[str, float]:
        """Compare ``context.samples`` with ``context.reference`` (same event shape, >= 2 points each)."""
        x, y = paired_points(context, "energy-distance", min_points=2)
        return {"energy_distance": float(energy_distance(x, y))}


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register ``energy-distance``."""
    register("energy-distance", EnergyDistance, description="unbiased energy distance, samples vs held-out data")
