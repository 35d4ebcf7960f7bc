"""The ODE-solver interface: integrate ``dx/dt = field(t, x)`` from ``t0`` to ``t1``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import attrs
from torch import Tensor

VectorField = Callable[[Tensor, Tensor], Tensor]
"""``field(t, x)``: ``t`` of shape ``[batch]``, ``x`` of shape ``[batch, *dims]``; returns ``dx/dt``."""


@attrs.frozen
class Solution:
    """The result of an ODE solve.

    ``x`` is the state at ``t1``; ``nfe`` the number of field evaluations actually made;
    ``times`` and ``trajectory`` (``[len(times), batch, *dims]``) are set when requested.
    """

    x: Tensor
    nfe: int
    times: Tensor | None = None
    trajectory: Tensor | None = None


class ODESolver(ABC):
    """Integrates a vector field; works forwards (``t0 < t1``) and backwards (``t0 > t1``)."""

    @abstractmethod
    def solve(
        self,
        field: VectorField,
        x0: Tensor,
        *,
        t0: float = 0.0,
        t1: float = 1.0,
        trajectory_times: Sequence[float] | Tensor | None = None,
        enable_grad: bool = False,
    ) -> Solution:
        """Integrate ``dx/dt = field(t, x)`` from ``x(t0) = x0`` to ``t1``.

        ``trajectory_times`` requests the states at those times (in integration order).
        Gradients are tracked only when ``enable_grad`` is true.
        """
