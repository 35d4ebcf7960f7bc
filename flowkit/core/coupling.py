"""The coupling interface: how source and data points are paired within a batch.

The paper draws ``x0`` and ``x1`` independently; minibatch optimal-transport couplings
(Tong et al., 2023) re-pair them to shorten the conditional paths.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.core.construction import RecordsArguments


class Coupling(RecordsArguments, ABC):
    """Pairs a batch of prior draws ``x0`` with a batch of data ``x1``.

    ``capturable`` declares whether :meth:`pair` runs entirely on the batch's device without
    reading device values on the host (no ``.item()``, ``float(tensor)`` or copies to the CPU),
    so that a training step using it can be captured in a CUDA graph. A coupling that solves on
    the host (exact OT) or stops on a convergence test read on the host sets it to ``False``;
    training then runs eagerly (``train.compile = "auto"``) or refuses ``"cuda-graph"``.
    """

    capturable: ClassVar[bool] = True

    @abstractmethod
    def pair(self, x0: Tensor, x1: Tensor, *, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Return paired ``(x0, x1)``, both ``[batch, *dims]``.

        The row order of ``x1`` is kept, so labels attached to ``x1`` stay aligned; ``x0`` may be
        permuted or resampled (rows may repeat). Random couplings draw from ``generator``.
        """
