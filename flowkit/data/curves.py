r"""Noisy curves in the plane: ``moons``, ``circles``, ``spirals`` and ``swissroll``.

Each point is $x = \texttt{scale} \cdot c + \texttt{noise} \cdot \varepsilon$ with $c$ a random point of a unit-sized
curve and $\varepsilon \sim \mathcal{N}(0, I)$ (so ``noise`` is a standard deviation in data units). Labels are the
curve a point came from where there are several (moons, circles, spiral arms).

These data sets have no exact density: $p(x)$ is a curve measure convolved with a Gaussian,
$\int \mathcal{N}(x; \texttt{scale}\, c(t), \texttt{noise}^2 I)\, dP(t)$, a one-dimensional integral without closed
form (and with ``noise = 0`` the data lie on a curve and have no density on the plane at all).

- ``moons``: the upper half circle $(\cos t, \sin t)$ and the lower one $(1 - \cos t, \frac{1}{2} - \sin t)$,
  $t \sim \mathcal{U}[0, \pi]$, shifted by $-(\frac{1}{2}, \frac{1}{4})$ to centre them (scikit-learn's
  ``make_moons``).
- ``circles``: radius 1 (label 0) or ``factor`` (label 1), angle $\sim \mathcal{U}[0, 2 \pi)$.
- ``spirals``: two arms $\pm r\, (-\cos \vartheta, \sin \vartheta)$ with
  $\vartheta = 2 \pi\, \texttt{turns} \sqrt{u}$, $r = \vartheta / (2 \pi\, \texttt{turns})$.
- ``swissroll``: $t\, (\cos t, \sin t) / (9 \pi / 2)$ with $t \sim \mathcal{U}[3 \pi / 2, 9 \pi / 2]$ (the
  two-dimensional swiss roll of FFJORD, scikit-learn's ``make_swiss_roll`` without its height axis).

Defaults keep the points roughly within $[-4, 4]^2$ like FFJORD's toy data.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import torch
from torch import Tensor

from flowkit.core import DataSplit
from flowkit.data.synthetic import SyntheticDataset
from flowkit.validation import require_float


class NoisyCurve(SyntheticDataset):
    r"""Points $\texttt{scale} \cdot c + \texttt{noise} \cdot \varepsilon$, $c$ drawn by :meth:`_curve`; no density."""

    event_shape = (2,)

    def __init__(self, n_train: int, n_test: int, seed: int, scale: float, noise: float):
        self.scale = require_float("scale", scale, above=0.0)
        self.noise = require_float("noise", noise, minimum=0.0)
        super().__init__(n_train, n_test, seed)

    @abstractmethod
    def _curve(self, n: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor | None]:
        """``n`` float64 points of the unit-sized curve ``[n, 2]`` and their labels (or None)."""

    def _sample(self, n: int, generator: torch.Generator | None) -> DataSplit:
        curve, label = self._curve(n, generator)
        eps = torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return DataSplit((self.scale * curve + self.noise * eps).to(torch.get_default_dtype()), label)


def _uniform(n: int, generator: torch.Generator | None) -> Tensor:
    return torch.rand(n, generator=generator, dtype=torch.float64)


def _coin(n: int, generator: torch.Generator | None) -> Tensor:
    return torch.randint(2, (n,), generator=generator)


class Moons(NoisyCurve):
    """Two interleaving half circles (labels 0: upper, 1: lower), centred at the origin."""

    num_classes = 2

    def __init__(
        self, n_train: int = 50_000, n_test: int = 5_000, seed: int = 0, scale: float = 2.5, noise: float = 0.25
    ):
        super().__init__(n_train, n_test, seed, scale, noise)

    def _curve(self, n: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        label = _coin(n, generator)
        t = math.pi * _uniform(n, generator)
        upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
        lower = torch.stack([1.0 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
        curve = torch.where(label[:, None].bool(), lower, upper) - torch.tensor([0.5, 0.25], dtype=torch.float64)
        return curve, label


class Circles(NoisyCurve):
    """Two concentric circles of radii ``scale`` (label 0) and ``factor * scale`` (label 1)."""

    num_classes = 2

    def __init__(
        self,
        n_train: int = 50_000,
        n_test: int = 5_000,
        seed: int = 0,
        scale: float = 3.0,
        noise: float = 0.25,
        factor: float = 0.5,
    ):
        self.factor = require_float("factor", factor, above=0.0, below=1.0, note="inner radius / outer radius")
        super().__init__(n_train, n_test, seed, scale, noise)

    def _curve(self, n: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        label = _coin(n, generator)
        angle = 2 * math.pi * _uniform(n, generator)
        radius = 1.0 + (self.factor - 1.0) * label.to(torch.float64)
        return radius[:, None] * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1), label


class Spirals(NoisyCurve):
    """Two interleaved spiral arms of ``turns`` turns and outer radius ``scale`` (labels: the arm)."""

    num_classes = 2

    def __init__(
        self,
        n_train: int = 50_000,
        n_test: int = 5_000,
        seed: int = 0,
        scale: float = 3.0,
        noise: float = 0.1,
        turns: float = 1.5,
    ):
        self.turns = require_float("turns", turns, above=0.0)
        super().__init__(n_train, n_test, seed, scale, noise)

    def _curve(self, n: int, generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
        label = _coin(n, generator)
        theta_max = 2 * math.pi * self.turns
        theta = theta_max * torch.sqrt(_uniform(n, generator))
        sign = 1.0 - 2.0 * label.to(torch.float64)
        arm = (theta / theta_max)[:, None] * torch.stack([-torch.cos(theta), torch.sin(theta)], dim=1)
        return sign[:, None] * arm, label


class SwissRoll(NoisyCurve):
    r"""The two-dimensional swiss roll $t\, (\cos t, \sin t)$, $t \sim \mathcal{U}[3 \pi / 2, 9 \pi / 2]$.

    Its outer radius is ``scale``.
    """

    def __init__(
        self, n_train: int = 50_000, n_test: int = 5_000, seed: int = 0, scale: float = 3.0, noise: float = 0.2
    ):
        super().__init__(n_train, n_test, seed, scale, noise)

    def _curve(self, n: int, generator: torch.Generator | None) -> tuple[Tensor, None]:
        t = 1.5 * math.pi * (1.0 + 2.0 * _uniform(n, generator))
        return (t / (4.5 * math.pi))[:, None] * torch.stack([torch.cos(t), torch.sin(t)], dim=1), None
