r"""Finite mixtures with an exact density: the base of the Gaussian and manifold mixtures.

A mixture of $K$ components with weights $w_k$ (positive, normalised to sum to 1) and
component densities $p_k$ has

$$
p(x) = \sum_k w_k\, p_k(x), \qquad \log p(x) = \operatorname{logsumexp}_k \bigl[\log w_k + \log p_k(x)\bigr];
$$

a draw picks $k \sim \operatorname{Categorical}(w)$ and then $x \sim p_k$; its label is the component $k$.
Subclasses give the component draws (:meth:`MixtureDataset._sample_components`) and log-densities
(:meth:`MixtureDataset._component_log_prob`); this class does the rest.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import torch
from jaxtyping import Float
from torch import Tensor

from flowkit.core import DataSplit
from flowkit.data.synthetic import SyntheticDataset
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.shapes import checked
from flowkit.validation import require_float64_array

__all__ = ["MixtureDataset", "per_component"]


def per_component(name: str, value: object, k: int, maximum: float = math.inf) -> Tensor:
    """``value`` as ``k`` numbers in ``(0, maximum]``, one per mixture component (float64)."""
    numbers = require_float64_array(name, value, 1)
    if numbers.shape != (k,) or (numbers <= 0).any() or (numbers > maximum).any():
        bound = "positive numbers" if maximum == math.inf else f"numbers in (0, {maximum}]"
        raise InvalidParameterError(f"{name} must be {k} {bound} (one per component), got {numbers.tolist()}")
    return numbers


class MixtureDataset(SyntheticDataset):
    """A mixture of ``K`` components over points ``[n, dim]`` with exact density; labels are the components.

    Subclasses set their component parameters, then call
    ``super().__init__(n_train, n_test, seed, weights=..., dim=...)`` with the ``K`` raw weights.
    """

    def __init__(self, n_train: int, n_test: int, seed: int, *, weights: object, dim: int, components: int):
        weight = per_component("weights", weights, components)
        self.weights = weight / weight.sum()
        self.event_shape = (dim,)
        self.num_classes = components
        super().__init__(n_train, n_test, seed)

    @property
    def has_density(self) -> bool:
        """The mixture's density is known exactly."""
        return True

    @abstractmethod
    def _sample_components(self, component: Tensor, generator: torch.Generator | None) -> Tensor:
        r"""One draw $x \sim p_k$ (``[n, dim]``, float64) for each entry $k$ of ``component`` (``[n]``)."""

    @abstractmethod
    def _component_log_prob(self, x: Tensor) -> Tensor:
        r"""$\log p_k(x)$ of every point and component, ``[batch, K]``, in ``x``'s dtype and on its device."""

    def _sample(self, n: int, generator: torch.Generator | None) -> DataSplit:
        component = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        x = self._sample_components(component, generator)
        return DataSplit(x.to(torch.get_default_dtype()), component)

    @checked
    def log_prob(self, x: Float[Tensor, "batch dim"]) -> Float[Tensor, " batch"]:
        r"""The exact log-density $\operatorname{logsumexp}_k [\log w_k + \log p_k(x)]$, in ``x``'s dtype and device."""
        d = self.event_shape[0]
        if x.shape[1] != d:
            raise ShapeError(f"{type(self).__name__}.log_prob: x must have shape [batch, {d}], got {list(x.shape)}")
        return torch.logsumexp(torch.log(self.weights.to(x)) + self._component_log_prob(x), dim=1)
