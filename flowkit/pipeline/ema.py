"""Exponential moving average (EMA) of a model's weights, used for sampling and evaluation.

After optimisation step ``k`` (counting from 1) every floating-point parameter is updated as

    theta_ema <- beta_k theta_ema + (1 - beta_k) theta,   beta_k = min(decay, (1 + k) / (10 + k)),

so early in training, while the weights move fast, the average follows them closely, and it
settles to the configured ``decay`` (the effective averaging window is ``1 / (1 - decay)``
steps). Buffers are copied, not averaged. The update is one fused ``lerp`` over all parameters.
"""

from __future__ import annotations

import copy
from typing import Generic, TypeVar

import torch

from flowkit.validation import require_float

__all__ = ["EMA", "ema_decay_at"]


def ema_decay_at(step: int, decay: float) -> float:
    """The decay ``beta_k = min(decay, (1 + k) / (10 + k))`` applied after step ``k`` (from 1)."""
    return min(decay, (1.0 + step) / (10.0 + step))


_ModuleT = TypeVar("_ModuleT", bound=torch.nn.Module)


class EMA(Generic[_ModuleT]):
    """A frozen copy of ``model`` whose weights track the exponential moving average.

    ``average`` is the averaged module (``requires_grad`` off, in eval mode).
    """

    def __init__(self, model: _ModuleT, decay: float):
        self.decay = require_float("EMA decay", decay, above=0.0, below=1.0)
        self.average = copy.deepcopy(model).requires_grad_(False).eval()
        self._source: list[torch.Tensor] = [p for p in model.parameters()]
        self._target: list[torch.Tensor] = [p for p in self.average.parameters()]
        self._source_buffers = [b for b in model.buffers()]
        self._target_buffers = [b for b in self.average.buffers()]

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the average towards the current weights after optimisation step ``step``."""
        weight = 1.0 - ema_decay_at(step, self.decay)
        torch._foreach_lerp_(self._target, self._source, weight)
        self._copy_buffers()

    @torch.no_grad()
    def update_by(self, weight: torch.Tensor) -> None:
        """The same update with ``1 - beta_k`` given as a 0-d device tensor (no host value read).

        ``theta_ema += weight * (theta - theta_ema)``, so a CUDA graph can replay it with the
        weight refilled before each step.
        """
        difference = torch._foreach_sub(self._source, self._target)
        torch._foreach_mul_(difference, weight)
        torch._foreach_add_(self._target, difference)
        self._copy_buffers()

    def _copy_buffers(self) -> None:
        for target, source in zip(self._target_buffers, self._source_buffers):
            target.copy_(source)
