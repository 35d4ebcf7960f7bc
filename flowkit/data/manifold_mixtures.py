r"""Toy data on manifolds with their exact densities: ``sphere-mixture`` and ``torus-mixture``.

``sphere-mixture``: a mixture of von Mises-Fisher distributions on $S^{d-1}$ (points
``[n, d]`` with $\lVert x \rVert = 1$), with density against the surface measure

$$
p(x) = \sum_k w_k\, C_d(\kappa_k) \exp(\kappa_k \langle \mu_k, x \rangle), \qquad
C_d(\kappa) = \frac{\kappa^{d/2 - 1}}{(2 \pi)^{d/2} I_{d/2 - 1}(\kappa)}
$$

($I$ the modified Bessel function, evaluated as $\log I_v(k) = \log \operatorname{ive}(v, k) + k$). Draws use
``scipy.stats.vonmises_fisher`` (Wood's rejection sampler; an exact inverse-CDF draw for
$d = 3$), seeded from the split's torch generator.

``torus-mixture``: a mixture of products of wrapped normals on the flat torus $[-\pi, \pi)^d$,
component $k$ with angle means $\mu_k$ and standard deviation $\sigma_k$ per coordinate:

$$
p(x) = \sum_k w_k \prod_i \sum_{m = -M}^{M} \mathcal{N}(x_i + 2 \pi m;\ \mu_{ki}, \sigma_k^2),
$$

a draw is $\operatorname{wrap}(\mu_k + \sigma_k \varepsilon)$. $\sigma \le 2$ and $M = 6$ make the truncated
wrapping sum exact to far below float64 rounding (the first omitted term is below
$\exp(-(13 \pi)^2 / 8)$).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from flowkit.data.mixture import MixtureDataset, per_component
from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_float64_array

__all__ = ["TorusMixture", "VonMisesFisherMixture", "von_mises_fisher_log_normalizer"]

DEFAULT_SPHERE_MEANS = ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (-0.5, -0.8, 0.3), (0.2, 0.7, -0.7))
DEFAULT_SPHERE_CONCENTRATIONS = (30.0, 15.0, 40.0, 20.0)
DEFAULT_SPHERE_WEIGHTS = (0.3, 0.3, 0.2, 0.2)

DEFAULT_TORUS_MEANS = ((-2.0, -2.0), (0.5, 1.0), (2.5, -1.0))
DEFAULT_TORUS_STDS = (0.4, 0.3, 0.5)
DEFAULT_TORUS_WEIGHTS = (0.4, 0.35, 0.25)

_WRAPS = 6
_MAX_TORUS_STD = 2.0


def von_mises_fisher_log_normalizer(dim: int, concentration: float) -> float:
    r"""$\log C_d(\kappa)$ of the von Mises-Fisher density on $S^{d-1}$ in $\mathbb{R}^d$."""
    import scipy.special  # imported on first use: scipy's import is slow

    order = 0.5 * dim - 1.0
    log_bessel = math.log(scipy.special.ive(order, concentration)) + concentration
    return order * math.log(concentration) - 0.5 * dim * math.log(2 * math.pi) - log_bessel


def _wrap(angles: Tensor) -> Tensor:
    """Angles mapped into ``[-pi, pi)`` (the torus's chart)."""
    return torch.remainder(angles + math.pi, 2 * math.pi) - math.pi


def _numpy_rng(generator: torch.Generator | None) -> np.random.Generator:
    return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator)))


class VonMisesFisherMixture(MixtureDataset):
    """A mixture of von Mises-Fisher distributions on the unit sphere; labels are the components.

    ``means`` (``[K, d]``, normalised to unit length), ``concentrations`` (``[K]``, > 0) and
    ``weights`` (``[K]``, positive, normalised) are plain nested sequences.
    """

    def __init__(
        self,
        n_train: int = 20_000,
        n_test: int = 2_000,
        seed: int = 0,
        weights: Sequence[float] | Tensor = DEFAULT_SPHERE_WEIGHTS,
        means: Sequence[Sequence[float]] | Tensor = DEFAULT_SPHERE_MEANS,
        concentrations: Sequence[float] | Tensor = DEFAULT_SPHERE_CONCENTRATIONS,
    ):
        mean = require_float64_array("means", means, 2)
        k, d = mean.shape
        if d < 2:
            raise InvalidParameterError(f"means must be [K, d] with d >= 2 (the sphere S^(d-1) in R^d), got d = {d}")
        norm = mean.norm(dim=1, keepdim=True)
        if (norm == 0).any():
            raise InvalidParameterError("means must be nonzero vectors (they are normalised to unit length)")
        concentration = per_component("concentrations", concentrations, k)
        self.means = mean / norm
        self.concentrations = concentration
        self._log_normalizers = torch.tensor(
            [von_mises_fisher_log_normalizer(d, float(c)) for c in concentration], dtype=torch.float64
        )
        super().__init__(n_train, n_test, seed, weights=weights, dim=d, components=k)

    def _sample_components(self, component: Tensor, generator: torch.Generator | None) -> Tensor:
        """Von Mises-Fisher draws (scipy, seeded from ``generator``)."""
        import scipy.stats  # imported on first use: scipy.stats takes a third of a second to import

        rng = _numpy_rng(generator)
        x = np.empty((len(component), self.event_shape[0]))
        for k in range(len(self.means)):
            rows = (component == k).nonzero().flatten().numpy()
            if len(rows):
                law = scipy.stats.vonmises_fisher(self.means[k].numpy(), float(self.concentrations[k]))
                x[rows] = law.rvs(len(rows), random_state=rng).reshape(len(rows), -1)
        return torch.from_numpy(x)

    def _component_log_prob(self, x: Tensor) -> Tensor:
        r"""$\log C_d(\kappa_k) + \kappa_k \langle \mu_k, x \rangle$ against the sphere's surface measure."""
        return self.concentrations.to(x) * (x @ self.means.to(x).T) + self._log_normalizers.to(x)


class TorusMixture(MixtureDataset):
    r"""A mixture of wrapped-normal products on the flat torus $[-\pi, \pi)^d$; labels are the components.

    ``means`` (``[K, d]`` angles), ``stds`` (``[K]``, in $(0, 2]$) and ``weights`` (``[K]``).
    """

    def __init__(
        self,
        n_train: int = 20_000,
        n_test: int = 2_000,
        seed: int = 0,
        weights: Sequence[float] | Tensor = DEFAULT_TORUS_WEIGHTS,
        means: Sequence[Sequence[float]] | Tensor = DEFAULT_TORUS_MEANS,
        stds: Sequence[float] | Tensor = DEFAULT_TORUS_STDS,
    ):
        mean = require_float64_array("means", means, 2)
        k, d = mean.shape
        std = per_component("stds", stds, k, maximum=_MAX_TORUS_STD)
        self.means = _wrap(mean)
        self.stds = std
        super().__init__(n_train, n_test, seed, weights=weights, dim=d, components=k)

    def _sample_components(self, component: Tensor, generator: torch.Generator | None) -> Tensor:
        r"""$\operatorname{wrap}(\mu_k + \sigma_k \varepsilon)$, $\varepsilon \sim \mathcal{N}(0, I)$."""
        eps = torch.randn(len(component), self.event_shape[0], generator=generator, dtype=torch.float64)
        return _wrap(self.means[component] + self.stds[component, None] * eps)

    def _component_log_prob(self, x: Tensor) -> Tensor:
        r"""Log-densities of the wrapped-normal products against the Lebesgue measure on $[-\pi, \pi)^d$."""
        shifts = 2 * math.pi * torch.arange(-_WRAPS, _WRAPS + 1, dtype=x.dtype, device=x.device)
        std = self.stds.to(x)[None, :, None, None]
        z = (x[:, None, :, None] + shifts - self.means.to(x)[None, :, :, None]) / std  # [batch, K, d, wraps]
        log_normal = -0.5 * z.square() - torch.log(std) - 0.5 * math.log(2 * math.pi)
        return torch.logsumexp(log_normal, dim=3).sum(dim=2)
