"""Isotropic Gaussian priors ``p0 = N(0, std^2 I)`` for Gaussian probability paths.

``log p0(x) = -||x||^2 / (2 std^2) - (D / 2) log(2 pi std^2)``, summed over the ``D`` event
entries of each sample. :class:`StandardNormal` is the ``std = 1`` case used by the OT, VP and
cosine paths; the VE path uses ``std = sigma_max``.
"""

from __future__ import annotations

import math

from torch import Tensor

from flowkit.core.prior import DrawRequest, Prior
from flowkit.shapes import Batch, PerSample, checked
from flowkit.validation import require_float

__all__ = ["IsotropicGaussian", "StandardNormal"]


class IsotropicGaussian(Prior):
    """``N(0, std^2 I)`` over events of any shape.

    ``sample`` draws ``std * randn(shape)``; ``log_prob`` is the closed-form log-density above.
    """

    def __init__(self, std: float = 1.0):
        self.std = require_float("std", std, above=0.0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(std={self.std!r})"

    def draw(self, request: DrawRequest) -> Tensor:
        """``x0 = std * eps``, ``eps ~ N(0, I)``, of the requested shape ``[batch, *dims]``."""
        x = request.randn()
        return x if self.std == 1.0 else x.mul_(self.std)

    @checked
    def log_prob(self, x0: Batch) -> PerSample:
        """``log N(x0; 0, std^2 I)`` summed over the event dimensions: shape ``[batch]``."""
        dim = x0[0].numel()
        sq = x0.reshape(x0.shape[0], -1).square().sum(dim=1)
        return -0.5 * sq / self.std**2 - 0.5 * dim * math.log(2 * math.pi * self.std**2)


class StandardNormal(IsotropicGaussian):
    """``N(0, I)``: the prior of the OT, VP and cosine paths."""

    def __init__(self) -> None:
        super().__init__(std=1.0)

    def __repr__(self) -> str:
        return "StandardNormal()"
