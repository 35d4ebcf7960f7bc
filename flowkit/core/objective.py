"""The objective interface: a training loss for a vector-field model."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from flowkit.core.model import VectorFieldModel
from flowkit.core.path import ProbabilityPath


class Objective(ABC):
    """A loss ``L(theta)`` estimated on a data batch; built on a path and a coupling."""

    path: ProbabilityPath

    @abstractmethod
    def loss(
        self,
        *,
        model: VectorFieldModel,
        x1: Tensor,
        y: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """A scalar Monte-Carlo estimate of the loss on the data batch ``x1`` (labels ``y``)."""
