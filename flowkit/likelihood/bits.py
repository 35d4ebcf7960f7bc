r"""Bits per dimension: a log-density in nats expressed as bits per data dimension.

For continuous data with $D$ dimensions:

$$
\mathrm{bpd} = -\log p(x) / (D \ln 2)
$$

For quantised data with $K$ levels per dimension (integers $k$ in $\{0, \dots, K-1\}$) mapped
to $[-1, 1]$ by uniform dequantisation $x = 2 (k + u) / K - 1$, $u \sim \mathcal{U}[0, 1)^D$, the map
from $k + u$ to $x$ has Jacobian $(2 / K)^D$, so a density $p(x)$ on $[-1, 1]^D$ gives
the dequantised density $p(x)\, (2 / K)^D$ on the integer lattice cells and, by Jensen's
inequality, the bound $-\log_2 P(k) \le \mathbb{E}_u[-\log p(x) + D \log(K / 2)] / \ln 2$. Per dimension:

$$
\mathrm{bpd} = \frac{-\log p(x) + D \log(K / 2)}{D \ln 2}
$$

A model that is uniform on $[-1, 1]^D$ scores exactly $\log_2 K$ bits/dim, the cost of
coding $K$ equiprobable levels.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_int

__all__ = ["bits_per_dim"]


def bits_per_dim(log_prob_nats: Tensor, num_dims: int, num_bins: int | None = None) -> Tensor:
    r"""Convert log-densities in nats to bits per dimension (elementwise, any shape).

    Continuous data (``num_bins=None``): $\mathrm{bpd} = -\log p(x) / (D \ln 2)$.

    Quantised data with $K$ = ``num_bins`` levels per dimension, mapped to $[-1, 1]$ by
    $x = 2 (k + u) / K - 1$ with $u \sim \mathcal{U}[0, 1)$ (dequantisation):
    $\mathrm{bpd} = (-\log p(x) + D \log(K / 2)) / (D \ln 2)$, an upper bound on the discrete code length
    per dimension. $D$ = ``num_dims`` is the number of scalar dimensions of one data point
    (e.g. $C \cdot H \cdot W$ for images).
    """
    if not isinstance(log_prob_nats, Tensor):
        raise InvalidParameterError(
            f"bits_per_dim: log_prob_nats must be a torch.Tensor of log-densities in nats, got {type(log_prob_nats).__name__}"
        )
    if not torch.is_floating_point(log_prob_nats):
        raise InvalidParameterError(
            f"bits_per_dim: log_prob_nats must be a floating-point tensor, got {log_prob_nats.dtype}"
        )
    require_int("bits_per_dim: num_dims", num_dims, minimum=1)
    require_int("bits_per_dim: num_bins", num_bins, minimum=2, optional=True, note="None: continuous data")
    nats = -log_prob_nats
    if num_bins is not None:
        nats = nats + num_dims * math.log(num_bins / 2)
    return nats / (num_dims * math.log(2))
