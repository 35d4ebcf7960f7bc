"""The vector-field model interface: a network ``v_theta(t, x [, y])``."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from flowkit.core.construction import RecordsArguments


class VectorFieldModel(RecordsArguments, torch.nn.Module, ABC):
    """A ``torch.nn.Module`` called as ``model(t, x, y=None)``.

    ``t`` has shape ``[batch]``, ``x`` has shape ``[batch, *dims]``, ``y`` is an optional
    condition (integer class labels ``[batch]``); the output has the shape of ``x``.
    ``num_classes`` is the number of classes a conditional model accepts, ``None`` for an
    unconditional one.
    """

    num_classes: int | None = None

    @abstractmethod
    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        """Evaluate the vector field ``v(t, x | y)``."""
