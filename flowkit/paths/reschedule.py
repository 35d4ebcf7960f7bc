r"""Sampling a model trained on one Gaussian path with another path's schedule (a scheduler change).

Let the model be trained on path A, $x_t = a(t)\, x_1 + s(t)\, \varepsilon$, and let path B be
$x_t = a_B(t)\, x_1 + s_B(t)\, \varepsilon$, both with signal-to-noise ratios $a / s$ increasing in $t$.
B's marginals are A's, rescaled in time and space (Lipman et al., "Flow Matching Guide and Code",
2024, section on scheduler change), in $d$ dimensions:

$$
\begin{aligned}
p^B_t(x) &= c_t^{-d}\, p^A_{r_t}(x / c_t), \qquad a_B(t) / s_B(t) = a(r_t) / s(r_t), \\
c_t &= a_B(t) / a(r_t) = s_B(t) / s(r_t) = \frac{a_B(t) + s_B(t)}{a(r_t) + s(r_t)},
\end{aligned}
$$

so B's marginal velocity follows from A's without retraining (with $r = r_t$):

$$
\begin{aligned}
u^B_t(x) &= \frac{c'_t}{c_t}\, x + c_t\, r'_t\, u^A_{r_t}(x / c_t), \\
r'_t &= \frac{s_B'(t)\, a(r) - a_B'(t)\, s(r)}{a_B(t)\, s'(r) - s_B(t)\, a'(r)}, \\
c'_t &= \frac{a_B'(t) + s_B'(t) - c_t\, (a'(r) + s'(r))\, r'_t}{a(r) + s(r)}.
\end{aligned}
$$

$r_t$ solves $a_B(t)\, s(r) = s_B(t)\, a(r)$ by bisection on A's time range; these forms stay finite
where $s$ or $s_B$ vanish (the data end). Where B's ratio leaves A's range (e.g. A = ``vp``,
whose $a(0) > 0$, near B's noise end) $r_t$ is clamped to A's end and the field there is only
approximate. Exact for A's true marginal field (tested on the closed-form field of a finite data
set); for a learned field, as good as the model is at the times $r_t$ it is asked about.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from flowkit.exceptions import ConfigError
from flowkit.paths.gaussian import GaussianPath

__all__ = ["RescheduledField"]

_BISECTION_STEPS = 64
"""Halvings of A's time range when solving for ``r_t`` (float64: below its resolution)."""


def _gaussian_path(role: str, path: object) -> GaussianPath:
    if not isinstance(path, GaussianPath):
        raise ConfigError(
            f"a scheduler change needs Gaussian paths (x_t = a(t) x1 + s(t) eps); the {role} path "
            f"{type(path).__name__} is not one. Accepted: 'ot', 'vp', 've', 'cosine', 'schedule' or another GaussianPath"
        )
    return path


class RescheduledField:
    r"""The marginal field of path ``target`` computed from a field trained on path ``trained``.

    ``field(t, x)`` is the trained velocity $u^A$; the instance is a field $(t, x) \mapsto u^B_t(x)$ for
    any ODE solver, integrated from ``target``'s prior over ``target``'s time range: with
    $a_B(t) / s_B(t) = a(r_t) / s(r_t)$ and $c_t = s_B(t) / s(r_t)$,

    $$
    u^B_t(x) = \frac{c'_t}{c_t}\, x + c_t\, r'_t\, u^A_{r_t}(x / c_t)
    $$

    (the module :mod:`flowkit.paths.reschedule` gives $r'_t$ and $c'_t$).
    """

    def __init__(self, field: Callable[[Tensor, Tensor], Tensor], *, trained: object, target: object) -> None:
        self.trained = _gaussian_path("trained", trained)
        self.target = _gaussian_path("target", target)
        self.field = field

    def reparametrize(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """$(r_t, c_t, r'_t, c'_t)$ in float64, shaped like ``t``."""
        t = t.double()
        trained = self.trained
        ab, sb, dab, dsb = (torch.as_tensor(v, dtype=torch.float64).expand_as(t) for v in self.target.coefficients(t))
        lo, hi = trained.time_range
        low = torch.full_like(t, lo)
        high = torch.full_like(t, hi)

        def mismatch(r: Tensor) -> Tensor:  # ab s(r) - sb a(r): decreasing in r, zero at r_t
            a, s, _, _ = trained.coefficients(r)
            return ab * s - sb * a

        for _ in range(_BISECTION_STEPS):
            middle = 0.5 * (low + high)
            above = mismatch(middle) > 0  # r_t lies above the middle
            low = torch.where(above, middle, low)
            high = torch.where(above, high, middle)
        r = 0.5 * (low + high)
        a, s, da, ds = (torch.as_tensor(v, dtype=torch.float64).expand_as(t) for v in trained.coefficients(r))
        c = (ab + sb) / (a + s)
        dr = (dsb * a - dab * s) / (ab * ds - sb * da)
        dc = (dab + dsb - c * (da + ds) * dr) / (a + s)
        return r, c, dr, dc

    def __call__(self, t: Tensor, x: Tensor) -> Tensor:
        r"""$u^B_t(x) = \frac{c'_t}{c_t}\, x + c_t\, r'_t\, u^A_{r_t}(x / c_t)$."""
        r, c, dr, dc = self.reparametrize(t)
        shape = (-1,) + (1,) * (x.dim() - 1)
        c, dr, dc = (v.to(x.dtype).reshape(shape) for v in (c, dr, dc))
        return dc / c * x + c * dr * self.field(r.to(t.dtype), x / c)
