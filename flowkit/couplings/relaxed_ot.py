r"""Unbalanced and partial entropic minibatch OT, registered as ``unbalanced-ot`` and ``partial-ot``.

Both relax the marginals of the balanced entropic plan (``sinkhorn``) so that outliers of either
batch need not be transported. With the squared-Euclidean cost $C$, uniform weights
$a = 1/n$, $b = 1/m$ and the temperature $\varepsilon$:

* **unbalanced** (Chizat, Peyre, Schmitzer, Vialard, 2018), marginals penalised by KL with
  strength $\tau$:

    $$
    \min_P \langle P, C \rangle + \varepsilon \operatorname{KL}(P \,\Vert\, a b^\top)
    + \tau \operatorname{KL}(P \mathbf{1} \,\Vert\, a) + \tau \operatorname{KL}(P^\top \mathbf{1} \,\Vert\, b)
    $$

  solved by log-domain Sinkhorn with damped updates,
  $P_{ij} = a_i b_j \exp\bigl((f_i + g_j - C_{ij}) / \varepsilon\bigr)$, $\lambda = \tau / (\tau + \varepsilon)$:

    $$
    \begin{aligned}
    f_i &= -\lambda \varepsilon \operatorname{logsumexp}_j\bigl(\log b_j + (g_j - C_{ij}) / \varepsilon\bigr) \\
    g_j &= -\lambda \varepsilon \operatorname{logsumexp}_i\bigl(\log a_i + (f_i - C_{ij}) / \varepsilon\bigr)
    \end{aligned}
    $$

  $\tau \to \infty$ gives $\lambda = 1$, the balanced plan.

* **partial** (Benamou, Carlier, Cuturi, Nenna, Peyre, 2015), only the mass $m$ (``mass``) transported:

    $$
    \min_P \langle P, C \rangle - \varepsilon H(P) \quad \text{s.t.} \quad
    P \mathbf{1} \le a, \quad P^\top \mathbf{1} \le b, \quad \textstyle\sum P = m
    $$

  solved by Bregman projections of $\log K = -C / \varepsilon$ onto the three constraint sets in turn,
  with Dykstra's corrections (the row and column sets are inequalities, where plain alternating
  projections would stop short of the KL projection). $m = 1$ gives the balanced plan.

``reg`` and ``tau`` are in units of the batch's mean cost (as ``sinkhorn``'s ``reg``), so they do
not depend on the data scale; ``epsilon`` gives an absolute temperature instead (then ``tau`` is
absolute too). Every iteration runs on the batch's device with a fixed count and no host
synchronisation, so a training step using these couplings can be captured. The unbalanced solver
anneals the temperature from $\max C$ halving per update down to $\varepsilon$.

Pairs are drawn as for ``sinkhorn``: for each data point $x_1^{(j)}$ a source $i \sim P_{:, j}$
(normalised), so ``x1`` keeps its rows (labels stay aligned) and the relaxation acts on which
sources are used: sources that the plan leaves (nearly) untransported are rarely drawn.
"""

from __future__ import annotations

import math

import attrs
import torch
from torch import Tensor

from flowkit.core.coupling import Coupling
from flowkit.couplings.cost import squared_distances
from flowkit.couplings.sinkhorn import sample_sources
from flowkit.shapes import Batch, checked
from flowkit.validation import require_float, require_int

__all__ = ["PartialOTCoupling", "UnbalancedOTCoupling", "partial_log_plan", "unbalanced_log_plan"]

_ANNEALING = 0.5


def unbalanced_log_plan(cost: Tensor, eps: Tensor | float, tau: Tensor | float, *, iterations: int) -> Tensor:
    r"""$\log P$ (``[n, m]``) of the KL-relaxed entropic plan with uniform weights (module docstring).

    ``eps`` and ``tau`` may be 0-d tensors on ``cost``'s device; $\tau = \infty$ is the balanced plan.
    """
    n, m = cost.shape
    log_a, log_b = -math.log(n), -math.log(m)
    eps = torch.as_tensor(eps, dtype=cost.dtype, device=cost.device)
    tau = torch.as_tensor(tau, dtype=cost.dtype, device=cost.device)
    f = cost.new_zeros(n)
    g = cost.new_zeros(m)
    temperature = torch.maximum(cost.max(), eps)
    for _ in range(iterations):
        temperature = torch.maximum(temperature * _ANNEALING, eps)
        damping = torch.where(torch.isinf(tau), torch.ones_like(tau), tau / (tau + temperature))
        f = -damping * temperature * torch.logsumexp(log_b + (g[None, :] - cost) / temperature, dim=1)
        g = -damping * temperature * torch.logsumexp(log_a + (f[:, None] - cost) / temperature, dim=0)
    return log_a + log_b + (f[:, None] + g[None, :] - cost) / eps


def partial_log_plan(cost: Tensor, eps: Tensor | float, mass: float, *, iterations: int) -> Tensor:
    r"""$\log P$ (``[n, m]``) of the entropic partial plan moving ``mass`` (module docstring)."""
    n, m = cost.shape
    log_a, log_b, log_mass = -math.log(n), -math.log(m), math.log(mass)
    log_p = -cost / torch.as_tensor(eps, dtype=cost.dtype, device=cost.device)
    rows = cost.new_zeros(n, 1)
    columns = cost.new_zeros(1, m)
    total = cost.new_zeros(())
    for _ in range(iterations):
        z = log_p + rows
        rows = torch.clamp(torch.logsumexp(z, dim=1, keepdim=True) - log_a, min=0.0)
        log_p = z - rows
        z = log_p + columns
        columns = torch.clamp(torch.logsumexp(z, dim=0, keepdim=True) - log_b, min=0.0)
        log_p = z - columns
        z = log_p + total
        total = torch.logsumexp(z.reshape(-1), dim=0) - log_mass
        log_p = z - total
    return log_p


def _iterations(value: object) -> int:
    return require_int("iterations", value, minimum=1)


@attrs.frozen
class _RelaxedOTCoupling(Coupling):
    """Shared plumbing: the cost, its scale, the plan and column-wise pair sampling."""

    capturable = True  # fixed iteration counts, nothing read on the host

    reg: float = attrs.field(default=0.05, converter=lambda value: require_float("reg", value, above=0.0))
    epsilon: float | None = attrs.field(
        default=None, converter=lambda value: require_float("epsilon", value, above=0.0, optional=True)
    )

    def _scale(self, cost: Tensor) -> Tensor | float:
        """The unit of ``reg`` and ``tau``: the mean cost, or 1 when ``epsilon`` is absolute."""
        if self.epsilon is not None:
            return 1.0
        return cost.mean().clamp_min(torch.finfo(cost.dtype).tiny)

    def _eps(self, scale: Tensor | float) -> Tensor | float:
        return self.epsilon if self.epsilon is not None else self.reg * scale

    def _log_plan(self, cost: Tensor) -> Tensor:
        raise NotImplementedError

    @checked
    def plan(self, x0: Batch, x1: Batch) -> Tensor:
        r"""The relaxed plan $P$ (``[n, m]``; its total mass is $\le 1$) between the two batches."""
        with torch.no_grad():
            return self._log_plan(squared_distances(x0, x1)).exp()

    @checked
    def pair(self, x0: Batch, x1: Batch, *, generator: torch.Generator | None = None) -> tuple[Batch, Batch]:
        r"""Return ``(x0[i], x1)`` with $i_j \sim P_{:, j}$ drawn independently per column (from ``generator``)."""
        with torch.no_grad():
            index = sample_sources(self._log_plan(squared_distances(x0, x1)), generator)
        return x0[index], x1


@attrs.frozen
class UnbalancedOTCoupling(_RelaxedOTCoupling):
    r"""Pairs drawn from the unbalanced entropic plan (marginals relaxed by $\tau\, \mathrm{KL}$; module docstring).

    Parameters:
        reg: the temperature relative to the batch's mean cost (ignored when ``epsilon`` is given).
        tau: the marginal penalty, in the same unit (relative, or absolute with ``epsilon``); ``inf``
            is balanced.
        epsilon: an absolute temperature.
        iterations: Sinkhorn updates per batch (a fixed count, so the step stays capturable).
    """

    tau: float = attrs.field(
        default=1.0, converter=lambda value: require_float("tau", value, above=0.0, finite=False, note="inf: balanced")
    )
    iterations: int = attrs.field(default=200, converter=_iterations)

    def _log_plan(self, cost: Tensor) -> Tensor:
        scale = self._scale(cost)
        tau = self.tau if math.isinf(self.tau) or self.epsilon is not None else self.tau * scale
        return unbalanced_log_plan(cost, self._eps(scale), tau, iterations=self.iterations)


@attrs.frozen
class PartialOTCoupling(_RelaxedOTCoupling):
    """Pairs drawn from the entropic partial plan that moves the fraction ``mass`` (module docstring).

    Parameters:
        reg: the temperature relative to the batch's mean cost (ignored when ``epsilon`` is given).
        mass: the fraction of mass transported, in ``(0, 1]``.
        epsilon: an absolute temperature.
        iterations: rounds of the three Bregman projections per batch (a fixed count).
    """

    mass: float = attrs.field(
        default=0.8,
        converter=lambda value: require_float(
            "mass", value, above=0.0, maximum=1.0, note="the fraction of mass transported"
        ),
    )
    iterations: int = attrs.field(default=200, converter=_iterations)

    def _log_plan(self, cost: Tensor) -> Tensor:
        return partial_log_plan(cost, self._eps(self._scale(cost)), float(self.mass), iterations=self.iterations)
