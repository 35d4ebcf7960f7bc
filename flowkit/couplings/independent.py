r"""The independent coupling of the paper, registered as ``independent``: $(x_0, x_1) \sim p_0 \times q$."""

from __future__ import annotations

from typing import ClassVar

import attrs
import torch

from flowkit.core.coupling import Coupling
from flowkit.shapes import Batch, checked

__all__ = ["IndependentCoupling"]


@attrs.frozen
class IndependentCoupling(Coupling):
    """Keeps the pairs as drawn: ``pair(x0, x1) = (x0, x1)``."""

    runs_on_host: ClassVar[bool] = False
    """No host work: the pairing is the identity (capturable on the device)."""

    @checked
    def pair(self, x0: Batch, x1: Batch, *, generator: torch.Generator | None = None) -> tuple[Batch, Batch]:
        """Return ``(x0, x1)`` unchanged (``generator`` is unused)."""
        return x0, x1
