r"""Isotropic Gaussian priors $p_0 = \mathcal{N}(0, \sigma^2 I)$ for Gaussian probability paths.

$\log p_0(x) = -\lVert x \rVert^2 / (2 \sigma^2) - \frac{D}{2} \log(2 \pi \sigma^2)$, summed over the $D$ event
entries of each sample; $\sigma$ is ``std``. :class:`StandardNormal` is the $\sigma = 1$ case used by the OT, VP
and cosine paths; the VE path uses $\sigma = \sigma_{\max}$.
"""

from __future__ import annotations

import math

from torch import Tensor

from flowkit.core.prior import DrawRequest, Prior
from flowkit.shapes import Batch, PerSample, checked
from flowkit.validation import require_float

__all__ = ["IsotropicGaussian", "StandardNormal"]


class IsotropicGaussian(Prior):
    r"""$\mathcal{N}(0, \sigma^2 I)$ over events of any shape, $\sigma$ = ``std``.

    ``sample`` draws ``std * randn(shape)``; ``log_prob`` is the closed-form log-density
    $\log p_0(x) = -\lVert x \rVert^2 / (2 \sigma^2) - \frac{D}{2} \log(2 \pi \sigma^2)$ over the $D$ event entries.
    """

    def __init__(self, std: float = 1.0):
        self.std = require_float("std", std, above=0.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(std={self.std!r})"

    def draw(self, request: DrawRequest) -> Tensor:
        r"""$x_0 = \sigma\, \varepsilon$, $\varepsilon \sim \mathcal{N}(0, I)$, shaped ``[batch, *dims]``."""
        x = request.randn()
        return x if self.std == 1.0 else x.mul_(self.std)

    @checked
    def log_prob(self, x0: Batch) -> PerSample:
        r"""$\log \mathcal{N}(x_0; 0, \sigma^2 I)$ summed over the event dimensions: shape ``[batch]``."""
        dim = x0[0].numel()
        sq = x0.reshape(x0.shape[0], -1).square().sum(dim=1)
        return -0.5 * sq / self.std**2 - 0.5 * dim * math.log(2 * math.pi * self.std**2)


class StandardNormal(IsotropicGaussian):
    r"""$\mathcal{N}(0, I)$: the prior of the OT, VP and cosine paths."""

    def __init__(self) -> None:
        super().__init__(std=1.0)

    def __repr__(self) -> str:
        return "StandardNormal()"
