"""The squared-Euclidean cost between two batches: ``C_ij = ||x0_i - x1_j||^2`` over flattened events."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["squared_distances"]


def squared_distances(x0: Tensor, x1: Tensor) -> Tensor:
    """``C_ij = ||x0_i - x1_j||^2`` for ``x0`` ``[n, *dims]`` and ``x1`` ``[m, *dims]``: shape ``[n, m]``."""
    events = math.prod(x0.shape[1:])  # explicit, so that an empty batch reshapes too
    return torch.cdist(x0.reshape(x0.shape[0], events), x1.reshape(x1.shape[0], events)).square()
