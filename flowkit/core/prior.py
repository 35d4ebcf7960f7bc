"""The source distribution ``p0`` of a flow: something to sample from and to score.

A :class:`Prior` draws ``x0 ~ p0`` and evaluates ``log p0(x0)`` summed over the event
dimensions. Paths own their prior (``path.prior``); the likelihood engine accepts any object
with ``log_prob(x0)``, including a path (whose prior it uses) or a ``torch.distributions``
object.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch
from torch import Tensor


class Prior(ABC):
    """A source distribution ``p0`` over events of a fixed shape."""

    @abstractmethod
    def sample(
        self,
        shape: Sequence[int],
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Draw ``x0 ~ p0`` with the full tensor shape ``shape`` (``[batch, *dims]``)."""

    @abstractmethod
    def log_prob(self, x0: Tensor) -> Tensor:
        """``log p0(x0)`` in nats, summed over all but the first dimension: shape ``[batch]``."""
