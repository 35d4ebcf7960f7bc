r"""Distributions of the training time $t$, mapped onto a path's valid time range $[t_0, t_1]$.

* ``uniform``: $t = t_0 + (t_1 - t_0)\, u$ with $u \sim \mathcal{U}[0, 1)$ (the paper);
* ``logit-normal``: $t = t_0 + (t_1 - t_0) \operatorname{sigmoid}(\mu + \sigma z)$ with $z \sim \mathcal{N}(0, 1)$,
  $\mu$ = ``mean``, $\sigma$ = ``std`` (Esser et al., 2024), which concentrates training in the middle of the path
  for $\mu = 0$.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import attrs
import torch
from torch import Tensor

from flowkit.validation import require_choice, require_float

__all__ = ["LogitNormalTime", "TIME_DISTRIBUTIONS", "TimeDistribution", "UniformTime", "make_time_distribution"]


class TimeDistribution(ABC):
    """Draws ``n`` times in $[t_0, t_1]$ as a ``[n]`` tensor."""

    @abstractmethod
    def sample_unit(self, n: int, *, device, dtype, generator: torch.Generator | None) -> Tensor:
        """Draw ``n`` values in $[0, 1]$."""

    def sample(
        self,
        n: int,
        *,
        time_range: tuple[float, float] = (0.0, 1.0),
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        r"""$t = t_0 + (t_1 - t_0)\, v$ for unit draws $v$ from :meth:`sample_unit`."""
        unit = self.sample_unit(n, device=device, dtype=dtype, generator=generator)
        t0, t1 = time_range
        return unit if (t0, t1) == (0.0, 1.0) else unit.mul_(t1 - t0).add_(t0)


@attrs.frozen
class UniformTime(TimeDistribution):
    r"""$v \sim \mathcal{U}[0, 1)$."""

    def sample_unit(self, n, *, device, dtype, generator):
        """``torch.rand``."""
        return torch.rand(n, device=device, dtype=dtype, generator=generator)


@attrs.frozen
class LogitNormalTime(TimeDistribution):
    r"""$v = \operatorname{sigmoid}(\mu + \sigma z)$, $z \sim \mathcal{N}(0, 1)$; $\mu, \sigma$: ``mean``, ``std``."""

    mean: float = attrs.field(default=0.0, converter=lambda value: require_float("logit_normal_mean", value))
    std: float = attrs.field(default=1.0, converter=lambda value: require_float("logit_normal_std", value, above=0.0))

    def sample_unit(self, n, *, device, dtype, generator):
        """``sigmoid(mean + std * randn)``."""
        z = torch.randn(n, device=device, dtype=dtype, generator=generator)
        return torch.sigmoid(z.mul_(self.std).add_(self.mean))


TIME_DISTRIBUTIONS = ("uniform", "logit-normal")
"""The accepted ``time_distribution`` names."""


def make_time_distribution(name: str, *, mean: float = 0.0, std: float = 1.0) -> TimeDistribution:
    """The time distribution called ``name``; ``mean`` and ``std`` parametrise ``logit-normal``."""
    if require_choice("time_distribution", name, TIME_DISTRIBUTIONS) == "uniform":
        return UniformTime()
    return LogitNormalTime(mean=mean, std=std)
