"""Gaussian mixtures with their exact density: ``2d-mixture`` and ``8gaussians``.

A mixture of ``K`` Gaussians with weights ``w_k`` (normalised to sum to 1), means ``mu_k`` and
covariances ``Sigma_k = L_k L_k^T`` (Cholesky factors) has the exact log-density

    log p(x) = logsumexp_k [ log w_k - |L_k^{-1} (x - mu_k)|^2 / 2 - log det L_k - (d/2) log(2 pi) ].

A sample picks ``k ~ Categorical(w)`` and returns ``x = mu_k + L_k eps`` with ``eps ~ N(0, I)``;
its label is the component ``k``. :class:`EightGaussians` is the usual benchmark: eight
equal-weight isotropic Gaussians of standard deviation ``std`` centred on a circle of radius
``radius`` (defaults ``2 sqrt 2`` and ``0.5 / sqrt 2`` as in FFJORD).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from jaxtyping import Float
from torch import Tensor

from flowkit.core import DataSplit
from flowkit.data.synthetic import SyntheticDataset
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.shapes import checked
from flowkit.validation import require_float

DEFAULT_WEIGHTS = (0.35, 0.3, 0.2, 0.15)
DEFAULT_MEANS = ((-2.0, -1.0), (2.0, 1.0), (0.5, -2.5), (-1.0, 2.5))
DEFAULT_COVARIANCES = (
    ((1.0, 0.6), (0.6, 0.8)),
    ((0.6, -0.4), (-0.4, 0.9)),
    ((0.25, 0.0), (0.0, 0.25)),
    ((0.4, 0.1), (0.1, 0.2)),
)
"""The default ``2d-mixture``: four correlated components of unequal weight, within [-4, 4]^2."""


def _as_float64(name: str, value: object, ndim: int) -> Tensor:
    try:
        tensor = torch.as_tensor(value, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidParameterError(f"{name} must be numbers nested {ndim} deep, got {value!r}") from exc
    if tensor.ndim != ndim or tensor.numel() == 0:
        raise InvalidParameterError(
            f"{name} must be a non-empty {ndim}-dimensional array, got shape {tuple(tensor.shape)}"
        )
    if not torch.isfinite(tensor).all():
        raise InvalidParameterError(f"{name} must be finite, got {value!r}")
    return tensor


class GaussianMixture(SyntheticDataset):
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
        weight = _as_float64("weights", weights, 1)
        mean = _as_float64("means", means, 2)
        covariance = _as_float64("covariances", covariances, 3)
        k, d = mean.shape
        if weight.shape != (k,) or covariance.shape != (k, d, d):
            raise InvalidParameterError(
                f"a mixture of K components in d dimensions needs weights [K], means [K, d] and covariances "
                f"[K, d, d]; got weights {list(weight.shape)}, means {list(mean.shape)}, "
                f"covariances {list(covariance.shape)}"
            )
        if (weight <= 0).any():
            raise InvalidParameterError(f"weights must be positive, got {weight.tolist()}")
        if not torch.allclose(covariance, covariance.transpose(1, 2)):
            raise InvalidParameterError("covariances must be symmetric matrices")
        cholesky, info = torch.linalg.cholesky_ex(covariance)
        if (info != 0).any():
            bad = torch.nonzero(info).flatten().tolist()
            raise InvalidParameterError(f"covariances must be positive definite; components {bad} are not")
        self.weights = weight / weight.sum()
        self.means = mean
        self.covariances = covariance
        self._cholesky = cholesky
        self.event_shape = (d,)
        self.num_classes = k
        super().__init__(n_train, n_test, seed)

    @property
    def has_density(self) -> bool:
        """A Gaussian mixture's density is known exactly."""
        return True

    def _sample(self, n: int, generator: torch.Generator | None) -> DataSplit:
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.event_shape[0], 1, generator=generator, dtype=torch.float64)
        x = self.means[component] + (self._cholesky[component] @ eps).squeeze(-1)
        return DataSplit(x.to(torch.get_default_dtype()), component)

    @checked
    def log_prob(self, x: Float[Tensor, "batch dim"]) -> Float[Tensor, " batch"]:
        """The exact mixture log-density, in ``x``'s dtype and on ``x``'s device."""
        d = self.event_shape[0]
        if x.shape[1] != d:
            raise ShapeError(f"{type(self).__name__}.log_prob: x must have shape [batch, {d}], got {list(x.shape)}")
        mean = self.means.to(x)
        cholesky = self._cholesky.to(x)
        diff = (x[:, None, :] - mean[None]).unsqueeze(-1)  # [batch, K, d, 1]
        z = torch.linalg.solve_triangular(cholesky.expand(x.shape[0], -1, -1, -1), diff, upper=False).squeeze(-1)
        log_det = torch.log(torch.diagonal(cholesky, dim1=-2, dim2=-1)).sum(-1)  # log det L_k, [K]
        log_normal = -0.5 * z.square().sum(-1) - log_det - 0.5 * d * math.log(2 * math.pi)
        return torch.logsumexp(torch.log(self.weights.to(x)) + log_normal, dim=1)


class EightGaussians(GaussianMixture):
    """Eight equal-weight isotropic Gaussians (std ``std``) centred at ``radius (cos k pi/4, sin k pi/4)``.

    The label of a point is its component ``k`` in ``0..7``.
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
