r"""Entropic minibatch optimal transport by log-domain Sinkhorn, registered as ``sinkhorn``.

For $C_{ij} = \lVert x_0^{(i)} - x_1^{(j)} \rVert^2$ and uniform marginals $1/n$ (rows) and $1/m$ (columns) the
entropic plan $P = \operatorname{argmin}_P \langle P, C \rangle - \varepsilon H(P)$ is
$P_{ij} = \exp\bigl((f_i + g_j - C_{ij}) / \varepsilon\bigr)$, with potentials from the Sinkhorn updates, carried
out in log space (with epsilon scaling: the temperature starts at $\max C$ and halves per update down to
$\varepsilon$, then stays there):

$$
\begin{aligned}
f_i &= -\varepsilon \log n - \varepsilon \operatorname{logsumexp}_j\bigl((g_j - C_{ij}) / \varepsilon\bigr) \\
g_j &= -\varepsilon \log m - \varepsilon \operatorname{logsumexp}_i\bigl((f_i - C_{ij}) / \varepsilon\bigr)
\end{aligned}
$$

$\varepsilon = \texttt{reg} \cdot \operatorname{mean}(C)$: ``reg`` is relative to the batch's mean cost, so it does
not depend on the data scale; ``epsilon`` sets an absolute $\varepsilon$ instead (Schrodinger-bridge CFM needs
$\varepsilon = 2 \sigma^2$ in the units of the cost). Iteration stops when the row marginals are within
``tol`` (L1) of uniform, or after ``max_iter`` updates; with ``iterations = N`` it runs exactly
$N$ updates (the same annealed temperatures $\max(\varepsilon, \max(C) / 2^k)$, as device tensors) and
reads nothing on the host, so a training step using it can be captured in a CUDA graph
(``capturable`` is then true). As $\texttt{reg} \to 0$ the plan tends to an exact OT plan. Pairs are drawn
from the plan column by column, ``x0`` index $i \sim P_{:, j} / \sum_i P_{ij}$ for each $x_1^{(j)}$,
so ``x1`` keeps its order and ``x0`` rows may repeat. Everything runs in torch on the batch's
device.
"""

from __future__ import annotations

import math
from typing import ClassVar

import attrs
import torch
from torch import Tensor

from flowkit.core.coupling import Coupling
from flowkit.couplings.cost import squared_distances
from flowkit.shapes import Batch, checked
from flowkit.validation import require_float, require_int

__all__ = ["SinkhornCoupling", "sample_sources", "sinkhorn_log_plan", "sinkhorn_log_plan_fixed"]

_CHECK_EVERY = 10
_ANNEALING = 0.5


def sinkhorn_log_plan(cost: Tensor, eps: float, *, max_iter: int, tol: float) -> Tensor:
    r"""$\log P$ (``[n, m]``) of the entropic OT plan with uniform marginals for ``cost``.

    Log-domain Sinkhorn updates of the potentials $f, g$ (in cost units) with epsilon scaling:
    the temperature starts at $\max(C)$ and halves every update until it reaches $\varepsilon$, where
    the updates continue until the row marginals are within ``tol`` (L1) or ``max_iter`` is spent.
    """
    n, m = cost.shape
    log_a, log_b = -math.log(n), -math.log(m)
    f = cost.new_zeros(n)
    g = cost.new_zeros(m)
    temperature = max(float(cost.max()), eps)
    for iteration in range(1, max_iter + 1):
        temperature = max(eps, temperature * _ANNEALING)
        f = temperature * (log_a - torch.logsumexp((g[None, :] - cost) / temperature, dim=1))
        g = temperature * (log_b - torch.logsumexp((f[:, None] - cost) / temperature, dim=0))
        if temperature == eps and (iteration % _CHECK_EVERY == 0 or iteration == max_iter):
            rows = torch.logsumexp((f[:, None] + g[None, :] - cost) / eps, dim=1).exp()
            if float((rows - 1.0 / n).abs().sum()) < tol:
                break
    return (f[:, None] + g[None, :] - cost) / eps


def sinkhorn_log_plan_fixed(cost: Tensor, eps: Tensor | float, *, iterations: int) -> Tensor:
    r"""$\log P$ of :func:`sinkhorn_log_plan` after exactly ``iterations`` updates, with no host read.

    The temperature of update $k$ is $\max(\varepsilon, \max(C) / 2^k)$, computed on the device
    (``eps`` is a 0-d tensor or a number).
    """
    n, m = cost.shape
    log_a, log_b = -math.log(n), -math.log(m)
    f = cost.new_zeros(n)
    g = cost.new_zeros(m)
    eps = torch.as_tensor(eps, dtype=cost.dtype, device=cost.device)
    top = cost.max()
    for iteration in range(1, iterations + 1):
        temperature = torch.maximum(eps, top * _ANNEALING**iteration)
        f = temperature * (log_a - torch.logsumexp((g[None, :] - cost) / temperature, dim=1))
        g = temperature * (log_b - torch.logsumexp((f[:, None] - cost) / temperature, dim=0))
    return (f[:, None] + g[None, :] - cost) / eps


def sample_sources(log_plan: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""For each column $j$ draw a row $i \sim P_{:, j} / \sum_i P_{ij}$: indices ``[m]`` into ``x0``."""
    return torch.multinomial(torch.softmax(log_plan.T, dim=1), 1, generator=generator).squeeze(1)


@attrs.frozen
class SinkhornCoupling(Coupling):
    r"""Draws pairs from the entropic OT plan of the batch (see the module docstring).

    Parameters:
        reg: entropic regularisation relative to the mean squared distance of the batch.
        epsilon: an absolute temperature $\varepsilon$ (then ``reg`` is not used); ``None``:
            $\varepsilon = \texttt{reg} \cdot \operatorname{mean}(C)$.
        max_iter: the most Sinkhorn updates per batch.
        tol: L1 tolerance on the row marginals.
        iterations: ``None`` (stop on ``tol``, tested on the host every 10 updates) or exactly
            this many updates with nothing read on the host (capturable; ``max_iter`` and ``tol``
            are then not used).
    """

    runs_on_host: ClassVar[bool] = False
    """The plan and the draws are computed in torch on the batch's device."""

    reg: float = attrs.field(
        default=0.05, converter=lambda value: require_float("reg", value, above=0.0, note="relative to the mean cost")
    )
    max_iter: int = attrs.field(default=1000, converter=lambda value: require_int("max_iter", value, minimum=1))
    tol: float = attrs.field(default=1e-4, converter=lambda value: require_float("tol", value, above=0.0))
    epsilon: float | None = attrs.field(
        default=None,
        converter=lambda value: require_float(
            "epsilon", value, above=0.0, optional=True, note="an absolute temperature"
        ),
    )
    iterations: int | None = attrs.field(
        default=None, converter=lambda value: require_int("iterations", value, minimum=1, optional=True)
    )

    @property
    def capturable(self) -> bool:  # type: ignore[override]
        """With a fixed number of ``iterations`` nothing is read on the host; the tolerance test reads."""
        return self.iterations is not None

    def _log_plan(self, x0: Tensor, x1: Tensor) -> Tensor:
        cost = squared_distances(x0, x1)
        if self.iterations is not None:
            eps = (
                self.epsilon
                if self.epsilon is not None
                else self.reg * cost.mean().clamp_min(torch.finfo(cost.dtype).tiny)
            )
            return sinkhorn_log_plan_fixed(cost, eps, iterations=self.iterations)
        if self.epsilon is not None:
            return sinkhorn_log_plan(cost, self.epsilon, max_iter=self.max_iter, tol=self.tol)
        eps = self.reg * max(float(cost.mean()), torch.finfo(cost.dtype).tiny)
        return sinkhorn_log_plan(cost, eps, max_iter=self.max_iter, tol=self.tol)

    @checked
    def plan(self, x0: Batch, x1: Batch) -> Tensor:
        """The entropic OT plan $P$ (``[n, m]``, entries summing to 1) between the two batches."""
        with torch.no_grad():
            return self._log_plan(x0, x1).exp()

    @checked
    def pair(self, x0: Batch, x1: Batch, *, generator: torch.Generator | None = None) -> tuple[Batch, Batch]:
        r"""Return ``(x0[i], x1)`` with $i_j \sim P_{:, j}$ drawn independently per column (from ``generator``)."""
        with torch.no_grad():
            index = sample_sources(self._log_plan(x0, x1), generator)
        return x0[index], x1
