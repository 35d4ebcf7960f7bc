r"""Sliced Wasserstein-2 distance between generated samples and held-out data (``sliced-w2``).

For a direction $\theta$ on the unit sphere, the 2-Wasserstein distance between the projected
empirical distributions of $x_1, \dots, x_n$ and $y_1, \dots, y_m$ is exact in one dimension:

$$
W_2^2(\theta) = \int_0^1 \bigl(F^{-1}(q) - G^{-1}(q)\bigr)^2 \, dq,
$$

with $F^{-1}$, $G^{-1}$ the empirical quantile functions of $\langle \theta, x_i \rangle$ and
$\langle \theta, y_j \rangle$ (step functions of the sorted projections, jumping at $i/n$ and $j/m$; the
integral is a finite sum over the merged breakpoints, and for $n = m$ it is the mean squared
difference of the sorted projections). The sliced distance is

$$
\mathrm{SW}_2 = \bigl( \mathbb{E}_\theta\, W_2^2(\theta) \bigr)^{1/2}, \qquad \theta \text{ uniform on the sphere},
$$

estimated with ``num_projections`` directions $g / \lVert g \rVert$, $g \sim \mathcal{N}(0, I)$, drawn from a seeded
CPU generator (so the directions are the same on every device). Images are flattened. For
$P = \mathcal{N}(0, I_d)$ and $Q = \mathcal{N}(\delta, I_d)$, $W_2^2(\theta) = \langle \theta, \delta \rangle^2$ and
$\mathrm{SW}_2 = \lVert \delta \rVert / \sqrt{d}$.
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
from flowkit.validation import field_validator, require_int


def _quantile_matching(n: int, m: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    r"""Indices into sorted ``[n]`` and ``[m]`` arrays and integer weights $c_k$ of the 1D distance.

    $W_2^2 = \sum_k c_k\, (x_{(i_k)} - y_{(j_k)})^2 / (n m)$. The quantile levels are kept as integers in units
    of $1/(n m)$: the breakpoints are $i m$ and $j n$; on the interval between consecutive breakpoints
    $(\mathrm{lo}, \mathrm{hi})$ both quantile functions are constant, with sorted indices
    $\lfloor (\mathrm{lo} + \mathrm{hi}) / 2m \rfloor$ and $\lfloor (\mathrm{lo} + \mathrm{hi}) / 2n \rfloor$, and the
    interval has weight $c = \mathrm{hi} - \mathrm{lo}$ (over $n m$).
    """
    cuts = (
        torch.cat([torch.arange(1, n + 1, device=device) * m, torch.arange(1, m + 1, device=device) * n]).sort().values
    )
    lows = torch.cat([cuts.new_zeros(1), cuts[:-1]])
    keep = cuts > lows  # breakpoints shared by both functions give empty intervals
    lows, highs = lows[keep], cuts[keep]
    twice_mid = lows + highs
    return twice_mid // (2 * m), twice_mid // (2 * n), highs - lows


@checked
def sliced_wasserstein2(
    x: Float[Tensor, " n *dims"],
    y: Float[Tensor, " m *dims"],
    num_projections: int = 128,
    generator: torch.Generator | None = None,
) -> Float[Tensor, ""]:
    r"""Sliced 2-Wasserstein distance $\bigl(\mathbb{E}_\theta\, W_2^2(\theta_\# P_x, \theta_\# P_y)\bigr)^{1/2}$.

    $P_x$, $P_y$ are the empirical distributions of the rows of ``x`` and ``y``.

    ``num_projections`` random unit directions are drawn on the CPU with ``generator`` (the
    global generator when ``None``); each 1D distance is exact for the two empirical
    distributions. The result has the promoted dtype of ``x`` and ``y`` and their device.
    """
    require_int("num_projections", num_projections, minimum=1)
    n, m = x.shape[0], y.shape[0]
    if n < 1 or m < 1:
        raise ShapeError(f"sliced_wasserstein2 needs at least 1 point in each set, got {n} and {m}")
    dtype = torch.promote_types(x.dtype, y.dtype)
    a, b = x.reshape(n, -1).to(dtype), y.reshape(m, -1).to(dtype)
    directions = torch.randn(num_projections, a.shape[1], generator=generator, dtype=torch.float64)
    directions = (directions / directions.norm(dim=1, keepdim=True)).to(device=a.device, dtype=dtype)
    index_x, index_y, weight = _quantile_matching(n, m, a.device)
    weight = weight.to(dtype) / (n * m)
    per_block = max(1, BLOCK_ELEMENTS // (n + m + index_x.shape[0]))
    total = []
    for block in directions.split(per_block):
        sorted_x = (a @ block.T).sort(dim=0).values  # [n, projections]
        sorted_y = (b @ block.T).sort(dim=0).values  # [m, projections]
        squared = (sorted_x[index_x] - sorted_y[index_y]).square()
        total.append((weight[:, None] * squared).sum(dim=0))
    return torch.cat(total).mean().sqrt()


@attrs.frozen
class SlicedWasserstein2(Metric):
    """``{"sliced_w2": SW2}``: sliced 2-Wasserstein distance, samples vs reference (lower is better).

    ``num_projections`` random directions from a CPU generator seeded with ``seed``.
    """

    num_projections: int = attrs.field(default=128, validator=field_validator(require_int, minimum=1))
    seed: int = attrs.field(default=0, validator=field_validator(require_int, minimum=0))

    def __call__(self, context: object) -> Mapping[str, float]:
        """Compare ``context.samples`` with ``context.reference`` (same event shape)."""
        x, y = paired_points(context, "sliced-w2")
        generator = torch.Generator().manual_seed(self.seed)
        return {"sliced_w2": float(sliced_wasserstein2(x, y, self.num_projections, generator))}


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register ``sliced-w2``."""
    register("sliced-w2", SlicedWasserstein2, description="sliced Wasserstein-2 distance, samples vs held-out data")
