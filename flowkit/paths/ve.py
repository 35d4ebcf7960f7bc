r"""The variance-exploding (VE) path of Song et al. (2021) in flow-matching time, registered as ``ve``.

$a(t) = 1$, $s(t) = \sigma(1 - t)$ with $\sigma(r) = \sigma_{\min} (\sigma_{\max} / \sigma_{\min})^r$,
prior $\mathcal{N}(0, \sigma_{\max}^2 I)$. Derivatives: $a' = 0$, $s' = -\log(\sigma_{\max} / \sigma_{\min})\, s$.
The path noise is $\varepsilon = x_0 / \sigma_{\max}$, so $x_t = x_1 + s(t)\, x_0 / \sigma_{\max}$.
"""

from __future__ import annotations

import math

import attrs
import torch
from torch import Tensor

from flowkit.hookspecs import Register, hookimpl
from flowkit.paths.gaussian import Coefficient, GaussianPath
from flowkit.validation import require_float

__all__ = ["VarianceExplodingPath"]


def _check_order(instance, attribute, value: float) -> None:
    require_float("sigma_max", value, above=instance.sigma_min, note="larger than sigma_min")


@attrs.frozen
class VarianceExplodingPath(GaussianPath):
    r"""$x_t = x_1 + \sigma_{\min} (\sigma_{\max} / \sigma_{\min})^{1 - t}\, \varepsilon$; valid for $t \in [0, 1]$.

    Defaults are Song et al.'s CIFAR-10 values (``sigma_min = 0.01``, ``sigma_max = 50``);
    $\sigma_{\max}$ should be about the largest distance between data points. The path starts at
    $\mathcal{N}(x_1, \sigma_{\max}^2 I)$, which the prior $\mathcal{N}(0, \sigma_{\max}^2 I)$ approximates when
    $\sigma_{\max}$ dominates the data scale, and ends at $\mathcal{N}(x_1, \sigma_{\min}^2 I)$.
    """

    sigma_min: float = attrs.field(default=0.01, converter=lambda value: require_float("sigma_min", value, above=0.0))
    sigma_max: float = attrs.field(
        default=50.0, converter=lambda value: require_float("sigma_max", value, above=0.0), validator=_check_order
    )

    @property
    def prior_std(self) -> float:  # type: ignore[override]
        r"""``sigma_max``: the prior is $\mathcal{N}(0, \sigma_{\max}^2 I)$."""
        return self.sigma_max

    @property
    def _log_ratio(self) -> float:
        return math.log(self.sigma_max / self.sigma_min)

    def a(self, t: Tensor) -> Tensor:
        """$a(t) = 1$."""
        return t.new_ones(t.shape)

    def s(self, t: Tensor) -> Tensor:
        r"""$s(t) = \sigma_{\min} \exp\bigl((1 - t) \log(\sigma_{\max} / \sigma_{\min})\bigr)$."""
        return self.sigma_min * torch.exp((1 - t) * self._log_ratio)

    def da(self, t: Tensor) -> Tensor:
        """$a'(t) = 0$."""
        return t.new_zeros(t.shape)

    def ds(self, t: Tensor) -> Tensor:
        r"""$s'(t) = -\log(\sigma_{\max} / \sigma_{\min})\, s(t)$."""
        return -self._log_ratio * self.s(t)

    def coefficients(self, t: Tensor) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient]:
        r"""$(a, s, a', s') = (1,\ s,\ 0,\ -\log(\sigma_{\max} / \sigma_{\min})\, s)$, $a$ and $a'$ as floats."""
        s = self.s(t)
        return 1.0, s, 0.0, -self._log_ratio * s


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register ``ve``."""
    register("ve", VarianceExplodingPath, description="variance-exploding path, prior N(0, sigma_max^2 I)")
