r"""The cosine (trigonometric) path, registered as ``cosine``.

$a(t) = \sin(\pi t / 2)$, $s(t) = \cos(\pi t / 2)$, prior $\mathcal{N}(0, I)$; $a^2 + s^2 = 1$.
Derivatives: $a' = \frac{\pi}{2} s$, $s' = -\frac{\pi}{2} a$. $s$ is evaluated as
$\sin(\pi (1 - t) / 2)$ so that $s(1) = 0$ exactly in floating point ($\cos$ of a rounded
$\pi / 2$ is slightly negative in float32).
"""

from __future__ import annotations

import math

import attrs
import torch
from torch import Tensor

from flowkit.hookspecs import Register, hookimpl
from flowkit.paths.gaussian import Coefficient, GaussianPath

__all__ = ["CosinePath"]

_HALF_PI = math.pi / 2


@attrs.frozen
class CosinePath(GaussianPath):
    r"""$x_t = \sin(\pi t / 2)\, x_1 + \cos(\pi t / 2)\, x_0$; valid for $t \in [0, 1]$.

    $s(1) = 0$: the path ends exactly at the data, so the field at arbitrary $x$ (conditional
    or marginal) is undefined at $t = 1$, while :meth:`sample` stays finite there.
    """

    def a(self, t: Tensor) -> Tensor:
        r"""$a(t) = \sin(\pi t / 2)$."""
        return torch.sin(_HALF_PI * t)

    def s(self, t: Tensor) -> Tensor:
        r"""$s(t) = \cos(\pi t / 2) = \sin(\pi (1 - t) / 2)$."""
        return torch.sin(_HALF_PI * (1 - t))

    def da(self, t: Tensor) -> Tensor:
        r"""$a'(t) = \frac{\pi}{2} \cos(\pi t / 2)$."""
        return _HALF_PI * self.s(t)

    def ds(self, t: Tensor) -> Tensor:
        r"""$s'(t) = -\frac{\pi}{2} \sin(\pi t / 2)$."""
        return -_HALF_PI * self.a(t)

    def coefficients(self, t: Tensor) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient]:
        r"""$(a, s, a', s') = (a,\ s,\ \frac{\pi}{2} s,\ -\frac{\pi}{2} a)$."""
        a, s = self.a(t), self.s(t)
        return a, s, _HALF_PI * s, -_HALF_PI * a


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register ``cosine``."""
    register("cosine", CosinePath, description="cosine path: a = sin(pi t / 2), s = cos(pi t / 2)")
