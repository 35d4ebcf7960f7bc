"""Reflow (rectified flow, Liu, Gong and Liu, 2023): pairs from a trained flow's own map.

A first flow $dx/dt = v(t, x)$ maps prior draws $x_0$ to $x_1 = T(x_0)$ (its ODE solution at
$t = 1$). Training a second flow on the pairs $(x_0, T(x_0))$ instead of independent ones gives the
*rectified* flow: its marginals at $t = 1$ are those of the first flow, and since the pairs are a
deterministic map whose straight interpolations cross less, its paths are straighter, so few
Euler steps sample it well (a map whose interpolations never cross is learned with straight
paths exactly).

:class:`ReflowCoupling` draws each training batch from a bank of pairs generated once, on first
use, by ``generate()`` (the pipeline-level factory ``reflow`` in :mod:`flowkit.pipeline.reflow`
builds it from a teacher pipeline). Both members of a pair replace the batch's: the prior noise
and the data batch of the step are ignored, so the rectified flow learns the first flow's
distribution, as in the paper. Data labels are not carried over: reflow is for unconditional
models. The bank moves once to the batch's device and dtype; indices are drawn there from the
step's generator (no host synchronisation after the first call).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from flowkit.core.coupling import Coupling
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.shapes import Batch, checked

__all__ = ["ReflowCoupling"]

PairGenerator = Callable[[], tuple[Tensor, Tensor]]
"""``generate()`` returns the bank ``(x0 [N, *dims], x1 [N, *dims])`` with $x_1 = T(x_0)$."""


class ReflowCoupling(Coupling):
    """Draws batches of pairs ``(x0_i, T(x0_i))`` from a bank made once by ``generate()`` (module docstring)."""

    capturable = True  # after the first (eager) call, which makes the bank: an index draw on the device

    def __init__(self, generate: PairGenerator, *, description: str = "") -> None:
        if not callable(generate):
            raise InvalidParameterError(
                f"generate must be a callable returning (x0, x1), got {type(generate).__name__}"
            )
        self._generate = generate
        self.description = description
        self._bank: tuple[Tensor, Tensor] | None = None

    def __repr__(self) -> str:
        return f"ReflowCoupling({self.description or self._generate!r})"

    def bank(self, like: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The pairs ``(x0, x1)``, generated on first use (moved to ``like``'s device and dtype)."""
        if self._bank is None:
            x0, x1 = self._generate()
            if x0.shape != x1.shape or x0.dim() < 2 or x0.shape[0] == 0:
                raise ShapeError(
                    f"reflow pairs must be two non-empty tensors [N, *dims] of equal shape, got "
                    f"{tuple(x0.shape)} and {tuple(x1.shape)}"
                )
            self._bank = (x0.detach(), x1.detach())
        if like is not None and (self._bank[0].device != like.device or self._bank[0].dtype != like.dtype):
            self._bank = (self._bank[0].to(like), self._bank[1].to(like))  # like's device and dtype
        return self._bank

    @checked
    def pair(self, x0: Batch, x1: Batch, *, generator: torch.Generator | None = None) -> tuple[Batch, Batch]:
        """``(X0[i], X1[i])`` for ``batch`` bank indices ``i`` drawn uniformly from ``generator``."""
        sources, targets = self.bank(like=x1)
        if sources.shape[1:] != x1.shape[1:]:
            raise ShapeError(
                f"the reflow pairs have event shape {tuple(sources.shape[1:])}, the data {tuple(x1.shape[1:])}"
            )
        index = torch.randint(sources.shape[0], (x1.shape[0],), generator=generator, device=x1.device)
        return sources[index], targets[index]
