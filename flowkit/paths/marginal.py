r"""Posterior over the points of an empirical data set under a Gaussian path, computed in chunks.

For data points $x_1^{(1)}, \dots, x_1^{(n)}$ (uniform weights) and one query $x$ with path coefficients
$a, s$ the conditional densities are $p_t(x \mid x_1^{(i)}) = \mathcal{N}(x; a\, x_1^{(i)}, s^2 I)$. This module
computes, for every query,

* the log-sum $L(x) = \operatorname{logsumexp}_i l_i$ of $l_i = -\lVert x - a\, x_1^{(i)} \rVert^2 / (2 s^2)$, and
* the posterior mean $m(x) = \sum_i w_i\, x_1^{(i)}$ with $w = \operatorname{softmax}_i(l_i)$,

streaming over chunks of the data with a running maximum (an online logsumexp), so memory is
$O(\texttt{batch} \cdot \texttt{chunk\_size})$ whatever $n$ is. From these,
$\log p_t(x) = L(x) - \log n - \frac{D}{2} \log(2 \pi s^2)$ and the marginal field is the conditional
field at $x_1 = m(x)$.

The squared distances are expanded as
$\lVert x - a c \rVert^2 - 2 a\, (x - a c) \cdot (x_1^{(i)} - c) + a^2 \lVert x_1^{(i)} - c \rVert^2$
around the chunk mean $c$ (exact algebra; centring keeps the cancellation small), so the work
is one matrix product per chunk. Everything is differentiable in $x$, $a$ and $s$.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["DEFAULT_CHUNK_ELEMENTS", "gaussian_mixture_posterior", "log_normalizer"]

DEFAULT_CHUNK_ELEMENTS = 1 << 22
"""Default bound on ``batch * chunk_size`` (the size of one chunk's weight matrix)."""


def gaussian_mixture_posterior(
    x: Tensor, a: Tensor, s: Tensor, data: Tensor, chunk_size: int | None = None
) -> tuple[Tensor, Tensor]:
    r"""Return $(m, L)$: the posterior mean ``[batch, D]`` and log-sum ``[batch]`` defined above.

    ``x`` is ``[batch, D]``, ``a`` and ``s`` are ``[batch]`` ($s > 0$), ``data`` is ``[n, D]``
    with $n \ge 1$. ``chunk_size`` is the number of data points per chunk (default: as many as
    keep ``batch * chunk_size <= DEFAULT_CHUNK_ELEMENTS``).
    """
    batch, n = x.shape[0], data.shape[0]
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_CHUNK_ELEMENTS // max(1, batch))
    a_col = a[:, None]
    scale = -0.5 / (s * s)[:, None]
    run_max: Tensor | None = None
    run_sum: Tensor  # set with run_max by the first chunk
    run_acc: Tensor
    for start in range(0, n, chunk_size):
        chunk = data[start : start + chunk_size]
        center = chunk.mean(dim=0)
        xc = x - a_col * center
        dc = chunk - center
        sq = xc.square().sum(dim=1)[:, None] - 2 * a_col * (xc @ dc.T) + (a_col * a_col) * dc.square().sum(dim=1)
        logits = scale * sq.clamp_min(0)
        chunk_max = logits.amax(dim=1)
        new_max = chunk_max if run_max is None else torch.maximum(run_max, chunk_max)
        weights = torch.exp(logits - new_max[:, None])
        if run_max is None:
            run_sum, run_acc = weights.sum(dim=1), weights @ chunk
        else:
            decay = torch.exp(run_max - new_max)
            run_sum = run_sum * decay + weights.sum(dim=1)
            run_acc = run_acc * decay[:, None] + weights @ chunk
        run_max = new_max
    assert run_max is not None, "data has n >= 1 rows, so at least one chunk was reduced"
    return run_acc / run_sum[:, None], run_max + torch.log(run_sum)


def log_normalizer(dim: int, s: Tensor) -> Tensor:
    r"""$-\frac{D}{2} \log(2 \pi s^2)$: the log-normaliser of $\mathcal{N}(\cdot, s^2 I)$ in $D$ dimensions."""
    return -0.5 * dim * (math.log(2 * math.pi) + 2 * torch.log(s))
