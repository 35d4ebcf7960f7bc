"""The standard normal prior ``p0 = N(0, I)``.

``log p0(x) = -1/2 sum_i (x_i^2 + log(2 pi))``, summed over every dimension but the first.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from flowkit import Prior
from flowkit.shapes import Batch, PerSample, checked

_LOG_2PI = math.log(2.0 * math.pi)


class StandardNormalPrior(Prior):
    """``N(0, I)`` over events of any shape."""

    def sample(
        self,
        shape: Sequence[int],
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw ``x0 ~ N(0, I)`` with the full tensor shape ``shape`` (``[batch, *dims]``)."""
        return torch.randn(tuple(shape), device=device, dtype=dtype, generator=generator)

    @checked
    def log_prob(self, x0: Batch) -> PerSample:
        """``log N(x0; 0, I) = -1/2 sum_i (x0_i^2 + log 2 pi)`` over all but the batch dimension."""
        flat = x0.reshape(x0.shape[0], -1)
        return -0.5 * (flat.square().sum(dim=1) + flat.shape[1] * _LOG_2PI)

    def __repr__(self) -> str:
        return "StandardNormalPrior()"
