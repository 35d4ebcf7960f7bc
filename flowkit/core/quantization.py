r"""Quantised data on $[-1, 1]$: bin centres, uniform dequantisation and back to levels.

Data with $K$ discrete levels $k = 0, \dots, K-1$ per dimension (e.g. pixel intensities) are
stored as the centres of $K$ equal bins of width $2/K$ that tile $[-1, 1]$:

$$
x = 2 (k + \tfrac{1}{2}) / K - 1.
$$

Training on such data adds uniform noise across each bin (dequantisation),

$$
\tilde x = x + \tfrac{2}{K} (u - \tfrac{1}{2}), \qquad u \sim \mathcal{U}[0, 1)^D,
$$

so $\tilde x$ is uniform on the bin $[2k/K - 1, 2(k+1)/K - 1)$ and a continuous density $p$ on
$\tilde x$ defines the discrete model $P(k) = \int_{\mathrm{bin}} p$. Its code length in bits per dimension is
bounded (Jensen) by $\mathrm{bpd} = (-\log p(\tilde x) + D \log(K/2)) / (D \ln 2)$ averaged over $u$
(:func:`flowkit.likelihood.bits_per_dim`); $D \log(K/2)$ is $-\log$ of the bin volume $(2/K)^D$.
"""

from __future__ import annotations

import torch
from jaxtyping import Float, Int
from torch import Tensor

from flowkit.exceptions import InvalidParameterError
from flowkit.shapes import checked
from flowkit.validation import require_int


@checked
def bin_centres(levels: Int[Tensor, "*shape"], num_bins: int) -> Float[Tensor, "*shape"]:
    r"""The bin centres $x = 2 (k + \frac{1}{2}) / K - 1$ of integer levels $k$ in $0, \dots, K-1$ (default dtype)."""
    num_bins = require_int("num_bins", num_bins, minimum=2)
    if levels.numel() and (levels.min() < 0 or levels.max() >= num_bins):
        raise InvalidParameterError(
            f"levels must lie in 0..{num_bins - 1}, got range {int(levels.min())}..{int(levels.max())}"
        )
    return (2.0 * levels.to(torch.get_default_dtype()) + 1.0) / num_bins - 1.0


@checked
def dequantize(
    x: Float[Tensor, "*shape"], num_bins: int, generator: torch.Generator | None = None
) -> Float[Tensor, "*shape"]:
    r"""Uniform dequantisation of bin centres: $x + \frac{2}{K} (u - \frac{1}{2})$ with $u \sim \mathcal{U}[0, 1)$.

    ``x`` holds bin centres on $[-1, 1]$ (see :func:`bin_centres`); the result is uniform on
    each point's bin, in ``x``'s dtype and on ``x``'s device (``generator`` must be on that device).
    """
    num_bins = require_int("num_bins", num_bins, minimum=2)
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return x + (2.0 / num_bins) * (u - 0.5)


@checked
def quantize(x: Float[Tensor, "*shape"], num_bins: int) -> Int[Tensor, "*shape"]:
    r"""The level of the bin holding each value: $k = \operatorname{clamp}(\lfloor (x + 1) K / 2 \rfloor, 0, K - 1)$.

    Inverts :func:`bin_centres` and :func:`dequantize`; values outside $[-1, 1]$ (e.g. model
    samples) go to the nearest end level.
    """
    num_bins = require_int("num_bins", num_bins, minimum=2)
    return torch.floor((x + 1.0) * (num_bins / 2.0)).clamp(0, num_bins - 1).long()
