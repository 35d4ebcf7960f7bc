r"""The squared-Euclidean cost between two batches, over flattened events.

$C_{ij} = \lVert x_0^{(i)} - x_1^{(j)} \rVert^2$.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["squared_distances"]


def squared_distances(x0: Tensor, x1: Tensor) -> Tensor:
    r"""$C_{ij} = \lVert x_0^{(i)} - x_1^{(j)} \rVert^2$ for ``x0`` ``[n, *dims]`` and ``x1`` ``[m, *dims]``.

    Shape ``[n, m]``.
    """
    events = math.prod(x0.shape[1:])  # explicit, so that an empty batch reshapes too
    return torch.cdist(x0.reshape(x0.shape[0], events), x1.reshape(x1.shape[0], events)).square()
