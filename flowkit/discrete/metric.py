r"""Total variation distance of token samples against the exact distribution: ``discrete-tv``.

For samples $x_1, \dots, x_n$ of sequences over $V$ tokens with empirical frequencies $q$, and the
data set's exact probabilities $p$ (:meth:`flowkit.discrete.TokenDataset.probabilities`):

* ``tv`` $= \frac{1}{2} \sum_x \lvert q(x) - p(x) \rvert$ over all $V^L$ sequences;
* ``tv-marginal`` $= \frac{1}{L} \sum_i \frac{1}{2} \sum_v \lvert q_i(v) - p_i(v) \rvert$, the mean over positions of
  the TV of the per-position marginals.

Data sets that declare no ``vocab_size`` (real-valued data) get no value. A token data set
without exact probabilities is compared with its held-out points instead (their
empirical frequencies as $p$). Empirical TV is biased upwards by sampling noise, about
$\sqrt{V^L / (2 \pi n)}$ for a large support (``tv-floor`` reports the exact expected TV of
$n$ draws from $p$ itself,
$\mathbb{E}\, \mathrm{TV} = \frac{1}{2} \sum_x \mathbb{E} \lvert \mathrm{Binomial}(n, p_x)/n - p_x \rvert$, when $p$
is exact; De Moivre's closed form of the binomial's mean absolute deviation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import torch
from torch import Tensor

from flowkit.core import TOKEN_STATE, Dataset, EvaluationContext
from flowkit.exceptions import ShapeError
from flowkit.metrics import DataMetric

__all__ = ["TotalVariation", "empirical_probabilities", "expected_sampling_tv", "total_variation"]


def empirical_probabilities(tokens: Tensor, vocab_size: int) -> Tensor:
    r"""Frequencies of the sequences ``tokens`` ``[n, length]`` as a table ``[vocab_size] * length`` (float64).

    Sequences with a token outside $\{0, \dots, V-1\}$ ($V$ = ``vocab_size``; e.g. a mask left in place) count in $n$
    but in no cell, so the table sums to the fraction of valid sequences.
    """
    length = tokens.shape[1]
    valid = ((tokens >= 0) & (tokens < vocab_size)).all(dim=1)
    index = torch.zeros(int(valid.sum()), dtype=torch.long, device=tokens.device)
    for position in range(length):
        index = index * vocab_size + tokens[valid, position].long()
    counts = torch.bincount(index, minlength=vocab_size**length).double()
    return (counts / tokens.shape[0]).reshape([vocab_size] * length)


def total_variation(p: Tensor, q: Tensor) -> float:
    r"""$\frac{1}{2} \sum \lvert p - q \rvert$ of two probability tables of the same shape; mass missing from either
    (outside the table) counts as well: $+ \frac{1}{2} \bigl\lvert \sum p - \sum q \bigr\rvert$."""
    return 0.5 * float((p - q).abs().sum() + (p.sum() - q.sum()).abs())


def _marginals(table: Tensor) -> list[Tensor]:
    dims = list(range(table.dim()))
    return [table.sum(dim=[d for d in dims if d != i]) if table.dim() > 1 else table for i in dims]


def expected_sampling_tv(p: Tensor, n: int) -> float:
    r"""$\mathbb{E}[\mathrm{TV}(q_n, p)]$ for the frequencies $q_n$ of $n$ independent draws from $p$, exactly.

    $\mathbb{E}\, \mathrm{TV} = \frac{1}{2n} \sum_x \mathbb{E} \lvert X_x - n p_x \rvert$ with
    $X_x \sim \mathrm{Binomial}(n, p_x)$, whose mean absolute deviation is De Moivre's
    $2 m \binom{n}{m} p^m (1 - p)^{n - m + 1}$, $m = \lfloor n p \rfloor + 1$.
    """
    flat = p.reshape(-1).double().cpu()
    flat = flat[(flat > 0) & (flat < 1)]
    m = torch.floor(n * flat) + 1
    log_binomial = math.lgamma(n + 1) - torch.lgamma(m + 1) - torch.lgamma(n - m + 1)
    log_deviation = torch.log(2 * m) + log_binomial + m * flat.log() + (n - m + 1) * torch.log1p(-flat)
    return 0.5 * float(log_deviation.exp().sum()) / n


class TotalVariation(DataMetric):
    """``tv`` and ``tv-marginal`` of the samples against the exact token distribution (see the module)."""

    name = "discrete-tv"
    state_spaces: ClassVar[tuple[str, ...]] = (TOKEN_STATE,)

    def measure(self, context: EvaluationContext, dataset: Dataset) -> Mapping[str, float]:
        vocab_size = getattr(dataset, "vocab_size", None)
        if vocab_size is None:  # real-valued data: no value, as other metrics skip data they do not apply to
            return {}
        samples = context.samples
        if samples.dtype.is_floating_point or samples.dim() != 2:
            raise ShapeError(
                f"discrete-tv: samples must be integer tokens [n, length], got dtype {samples.dtype} and shape "
                f"{tuple(samples.shape)}"
            )
        exact = getattr(dataset, "probabilities", None)
        p = exact().to(samples.device) if callable(exact) else empirical_probabilities(context.reference, vocab_size)
        q = empirical_probabilities(samples, vocab_size)
        if q.shape != p.shape:
            raise ShapeError(f"discrete-tv: samples give a table of shape {tuple(q.shape)}, the data {tuple(p.shape)}")
        marginals = [empirical_probabilities(samples[:, [i]], vocab_size) for i in range(samples.shape[1])]
        marginal = sum(total_variation(a, b) for a, b in zip(_marginals(p), marginals)) / p.dim()
        results = {"tv": total_variation(p, q), "tv-marginal": marginal}
        if callable(exact):
            results["tv-floor"] = expected_sampling_tv(p, samples.shape[0])
        return results
