r"""Gaussian mixtures with their exact density: ``2d-mixture`` and ``8gaussians``.

A mixture of $K$ Gaussians with weights $w_k$ (normalised to sum to 1), means $\mu_k$ and
covariances $\Sigma_k = L_k L_k^\top$ (Cholesky factors) has the exact log-density

$$
\log p(x) = \operatorname{logsumexp}_k \Bigl[\log w_k - \tfrac{1}{2} \lVert L_k^{-1} (x - \mu_k) \rVert^2
- \log \det L_k - \tfrac{d}{2} \log(2 \pi)\Bigr].
$$

A sample picks $k \sim \operatorname{Categorical}(w)$ and returns $x = \mu_k + L_k \varepsilon$ with
$\varepsilon \sim \mathcal{N}(0, I)$; its label is the component $k$. :class:`EightGaussians` is the usual benchmark:
eight equal-weight isotropic Gaussians of standard deviation ``std`` centred on a circle of radius
``radius`` (defaults $2 \sqrt{2}$ and $0.5 / \sqrt{2}$ as in FFJORD).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from flowkit.data.mixture import MixtureDataset
from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_float, require_float64_array

DEFAULT_WEIGHTS = (0.35, 0.3, 0.2, 0.15)
DEFAULT_MEANS = ((-2.0, -1.0), (2.0, 1.0), (0.5, -2.5), (-1.0, 2.5))
DEFAULT_COVARIANCES = (
    ((1.0, 0.6), (0.6, 0.8)),
    ((0.6, -0.4), (-0.4, 0.9)),
    ((0.25, 0.0), (0.0, 0.25)),
    ((0.4, 0.1), (0.1, 0.2)),
)
"""The default ``2d-mixture``: four correlated components of unequal weight, within [-4, 4]^2."""


class GaussianMixture(MixtureDataset):
    """A mixture of Gaussians with exact density; labels are the component indices.

    ``weights`` (``[K]``, positive, normalised to sum to 1), ``means`` (``[K, d]``) and
    ``covariances`` (``[K, d, d]``, symmetric positive definite) are plain nested sequences (or
    tensors), so a mixture can be written in a TOML configuration.
    """

    def __init__(
        self,
        n_train: int = 50_000,
        n_test: int = 5_000,
        seed: int = 0,
        weights: Sequence[float] | Tensor = DEFAULT_WEIGHTS,
        means: Sequence[Sequence[float]] | Tensor = DEFAULT_MEANS,
        covariances: Sequence[Sequence[Sequence[float]]] | Tensor = DEFAULT_COVARIANCES,
    ):
        mean = require_float64_array("means", means, 2)
        covariance = require_float64_array("covariances", covariances, 3)
        k, d = mean.shape
        if covariance.shape != (k, d, d):
            raise InvalidParameterError(
                f"a mixture of K components in d dimensions needs means [K, d] and covariances [K, d, d]; "
                f"got means {list(mean.shape)}, covariances {list(covariance.shape)}"
            )
        if not torch.allclose(covariance, covariance.transpose(1, 2)):
            raise InvalidParameterError("covariances must be symmetric matrices")
        cholesky, info = torch.linalg.cholesky_ex(covariance)
        if (info != 0).any():
            bad = torch.nonzero(info).flatten().tolist()
            raise InvalidParameterError(f"covariances must be positive definite; components {bad} are not")
        self.means = mean
        self.covariances = covariance
        self._cholesky = cholesky
        super().__init__(n_train, n_test, seed, weights=weights, dim=d, components=k)

    def _sample_components(self, component: Tensor, generator: torch.Generator | None) -> Tensor:
        r"""$x = \mu_k + L_k \varepsilon$, $\varepsilon \sim \mathcal{N}(0, I)$."""
        eps = torch.randn(len(component), self.event_shape[0], 1, generator=generator, dtype=torch.float64)
        return self.means[component] + (self._cholesky[component] @ eps).squeeze(-1)

    def _component_log_prob(self, x: Tensor) -> Tensor:
        r"""$\log \mathcal{N}(x; \mu_k, L_k L_k^\top)$ of every point and component.

        $\log \mathcal{N}(x; \mu_k, L_k L_k^\top) = -\frac{1}{2} \lVert L_k^{-1} (x - \mu_k) \rVert^2 - \log \det L_k
        - \frac{d}{2} \log(2 \pi)$.
        """
        d = self.event_shape[0]
        mean = self.means.to(x)
        cholesky = self._cholesky.to(x)
        diff = (x[:, None, :] - mean[None]).unsqueeze(-1)  # [batch, K, d, 1]
        z = torch.linalg.solve_triangular(cholesky.expand(x.shape[0], -1, -1, -1), diff, upper=False).squeeze(-1)
        log_det = torch.log(torch.diagonal(cholesky, dim1=-2, dim2=-1)).sum(-1)  # log det L_k, [K]
        return -0.5 * z.square().sum(-1) - log_det - 0.5 * d * math.log(2 * math.pi)


class EightGaussians(GaussianMixture):
    r"""Eight equal-weight isotropic Gaussians (std ``std``) centred at $r\, (\cos(k \pi / 4), \sin(k \pi / 4))$.

    $r$ is ``radius``. The label of a point is its component $k$ in $0, \dots, 7$.
    """

    def __init__(
        self,
        n_train: int = 50_000,
        n_test: int = 5_000,
        seed: int = 0,
        radius: float = 2.0 * math.sqrt(2.0),
        std: float = 0.5 / math.sqrt(2.0),
    ):
        self.radius = require_float("radius", radius, above=0.0)
        self.std = require_float("std", std, above=0.0)
        angle = torch.arange(8, dtype=torch.float64) * (math.pi / 4)
        means = self.radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
        covariances = (self.std**2) * torch.eye(2, dtype=torch.float64).expand(8, 2, 2)
        super().__init__(n_train, n_test, seed, weights=torch.ones(8), means=means, covariances=covariances)
