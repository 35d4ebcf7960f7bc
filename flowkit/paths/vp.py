r"""The variance-preserving (VP) diffusion path of Song et al. (2021) in flow-matching time, registered as ``vp``.

With $r = 1 - t$, $T(r) = \beta_{\min} r + (\beta_{\max} - \beta_{\min})\, r^2 / 2$ and
$\alpha(r) = \exp(-T(r) / 2)$:

* $a(t) = \alpha(1 - t)$, $s(t) = \sqrt{1 - \alpha(1 - t)^2}$ (evaluated as $\sqrt{-\operatorname{expm1}(-T)}$,
  accurate as $T \to 0$), prior $\mathcal{N}(0, I)$;
* $a'(t) = a\, T'(r) / 2$, $s'(t) = -T'(r)\, a^2 / (2 s)$ with
  $T'(r) = \beta_{\min} + (\beta_{\max} - \beta_{\min})\, r$.

The path is singular at $t = 1$: $s \to 0$ and $s' \to -\infty$ like $-\sqrt{\beta_{\min} / (4 (1 - t))}$.
Its valid time range is therefore $[0, t_{\max}]$ with ``t_max = 1 - 1e-5`` by default (Song et
al.'s ``eps``); methods raise for $t > t_{\max}$. At $t = 0$ the path is $\mathcal{N}(a(0)\, x_1, s(0)^2 I)$
with $a(0) = \exp(-T(1) / 2)$ (about 0.0066 for the defaults), close to but not exactly the prior.
"""

from __future__ import annotations

import attrs
import torch
from torch import Tensor

from flowkit.hookspecs import Register, hookimpl
from flowkit.paths.gaussian import GaussianPath
from flowkit.validation import require_float

__all__ = ["VariancePreservingPath"]


def _check_beta_max(instance, attribute, value: float) -> None:
    require_float("beta_max", value, minimum=instance.beta_min, note="at least beta_min")


@attrs.frozen
class VariancePreservingPath(GaussianPath):
    r"""$x_t = \alpha(1 - t)\, x_1 + \sqrt{1 - \alpha(1 - t)^2}\, x_0$; valid for $t \in [0, t_{\max}]$.

    Defaults follow the paper (``beta_min = 0.1``, ``beta_max = 20``); $\alpha$, $T$ and $\beta_{\min}$,
    $\beta_{\max}$ as in the module docstring.
    """

    beta_min: float = attrs.field(default=0.1, converter=lambda value: require_float("beta_min", value, above=0.0))
    beta_max: float = attrs.field(
        default=20.0, converter=lambda value: require_float("beta_max", value, above=0.0), validator=_check_beta_max
    )
    t_max: float = attrs.field(
        default=1.0 - 1e-5,
        converter=lambda value: require_float(
            "t_max", value, above=0.0, below=1.0, note="the VP path is singular at t = 1"
        ),
    )

    _time_range_note = "the VP path is singular at t = 1 (s -> 0, s' -> -inf); choose t_max to move the end"

    @property  # ProbabilityPath.time_range is a class-attribute default; paths may make it read-only
    def time_range(self) -> tuple[float, float]:  # type: ignore[override]
        """``(0, t_max)``."""
        return (0.0, self.t_max)

    def _integral(self, r: Tensor) -> Tensor:
        r"""$T(r) = \beta_{\min} r + (\beta_{\max} - \beta_{\min})\, r^2 / 2$."""
        return self.beta_min * r + 0.5 * (self.beta_max - self.beta_min) * r * r

    def _rate(self, r: Tensor) -> Tensor:
        r"""$T'(r) = \beta_{\min} + (\beta_{\max} - \beta_{\min})\, r$."""
        return self.beta_min + (self.beta_max - self.beta_min) * r

    def a(self, t: Tensor) -> Tensor:
        r"""$a(t) = \exp(-T(1 - t) / 2)$."""
        return torch.exp(-0.5 * self._integral(1 - t))

    def s(self, t: Tensor) -> Tensor:
        r"""$s(t) = \sqrt{1 - \exp(-T(1 - t))}$."""
        return torch.sqrt(-torch.expm1(-self._integral(1 - t)))

    def da(self, t: Tensor) -> Tensor:
        r"""$a'(t) = a\, T'(1 - t) / 2$."""
        return self.coefficients(t)[2]

    def ds(self, t: Tensor) -> Tensor:
        r"""$s'(t) = -T'(1 - t)\, a^2 / (2 s)$."""
        return self.coefficients(t)[3]

    def coefficients(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """$(a, s, a', s')$ sharing $T$ and $T'$."""
        r = 1 - t
        integral = self._integral(r)
        rate = self._rate(r)
        a = torch.exp(-0.5 * integral)
        s = torch.sqrt(-torch.expm1(-integral))
        return a, s, 0.5 * rate * a, -0.5 * rate * a * a / s


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register ``vp``."""
    register("vp", VariancePreservingPath, description="variance-preserving diffusion path (beta_min, beta_max)")
