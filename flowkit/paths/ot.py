r"""The conditional optimal-transport path of Lipman et al. (2023), registered as ``ot``.

$a(t) = t$, $s(t) = 1 - (1 - \sigma_{\min})\, t$, prior $\mathcal{N}(0, I)$; hence $a' = 1$,
$s' = -(1 - \sigma_{\min})$, the draw $x_t = t\, x_1 + (1 - (1 - \sigma_{\min})\, t)\, x_0$ and the target
$u_t = x_1 - (1 - \sigma_{\min})\, x_0$. $\sigma_{\min} = 0$ (``sigma_min``) is the rectified-flow straight line.
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
    r"""$x_t = t\, x_1 + (1 - (1 - \sigma_{\min})\, t)\, x_0$: straight lines from noise towards the data.

    They end at $\mathcal{N}(x_1, \sigma_{\min}^2 I)$. Valid for $t \in [0, 1]$. The paper leaves $\sigma_{\min}$
    (``sigma_min``) a small constant; flowkit's default is ``1e-4``. With $\sigma_{\min} = 0$ the field at
    arbitrary $x$ is undefined at $t = 1$.
    """

    sigma_min: float = attrs.field(
        default=1e-4, converter=lambda value: require_float("sigma_min", value, minimum=0.0, below=1.0)
    )

    def a(self, t: Tensor) -> Tensor:
        """$a(t) = t$."""
        return t

    def s(self, t: Tensor) -> Tensor:
        r"""$s(t) = 1 - (1 - \sigma_{\min})\, t$."""
        return 1 - (1 - self.sigma_min) * t

    def da(self, t: Tensor) -> Tensor:
        """$a'(t) = 1$."""
        return t.new_ones(t.shape)

    def ds(self, t: Tensor) -> Tensor:
        r"""$s'(t) = -(1 - \sigma_{\min})$."""
        return t.new_full(t.shape, -(1 - self.sigma_min))

    def coefficients(self, t: Tensor) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient]:
        r"""$(a, s, a', s') = (t,\ 1 - (1 - \sigma_{\min})\, t,\ 1,\ -(1 - \sigma_{\min}))$ ($a'$, $s'$ as floats)."""
        return t, self.s(t), 1.0, -(1 - self.sigma_min)


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register ``ot``."""
    register("ot", ConditionalOTPath, description="conditional OT path: a = t, s = 1 - (1 - sigma_min) t")
