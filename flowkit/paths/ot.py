"""The conditional optimal-transport path of Lipman et al. (2023), registered as ``ot``.

``a(t) = t``, ``s(t) = 1 - (1 - sigma_min) t``, prior ``N(0, I)``; hence ``a' = 1``,
``s' = -(1 - sigma_min)``, the draw ``x_t = t x1 + (1 - (1 - sigma_min) t) x0`` and the target
``u_t = x1 - (1 - sigma_min) x0``. ``sigma_min = 0`` is the rectified-flow straight line.
"""

from __future__ import annotations

import attrs
from torch import Tensor

from flowkit.hookspecs import Register, hookimpl
from flowkit.paths.gaussian import Coefficient, GaussianPath
from flowkit.validation import require_float

__all__ = ["ConditionalOTPath"]


@attrs.frozen
class ConditionalOTPath(GaussianPath):
    """``x_t = t x1 + (1 - (1 - sigma_min) t) x0``: straight lines from noise to ``N(x1, sigma_min^2 I)``.

    Valid for ``t in [0, 1]``. The paper leaves ``sigma_min`` a small constant; flowkit's default
    is ``1e-4``. With ``sigma_min = 0`` the field at arbitrary ``x`` is undefined at ``t = 1``.
    """

    sigma_min: float = attrs.field(
        default=1e-4, converter=lambda value: require_float("sigma_min", value, minimum=0.0, below=1.0)
    )

    def a(self, t: Tensor) -> Tensor:
        """``a(t) = t``."""
        return t

    def s(self, t: Tensor) -> Tensor:
        """``s(t) = 1 - (1 - sigma_min) t``."""
        return 1 - (1 - self.sigma_min) * t

    def da(self, t: Tensor) -> Tensor:
        """``a'(t) = 1``."""
        return t.new_ones(t.shape)

    def ds(self, t: Tensor) -> Tensor:
        """``s'(t) = -(1 - sigma_min)``."""
        return t.new_full(t.shape, -(1 - self.sigma_min))

    def coefficients(self, t: Tensor) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient]:
        """``(t, 1 - (1 - sigma_min) t, 1.0, -(1 - sigma_min))``."""
        return t, self.s(t), 1.0, -(1 - self.sigma_min)


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register ``ot``."""
    register("ot", ConditionalOTPath, description="conditional OT path: a = t, s = 1 - (1 - sigma_min) t")
