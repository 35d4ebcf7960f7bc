r"""The noise floor of the sample-quality statistics (``noise-floor``).

The energy distance and the sliced W2 of :mod:`flowkit.metrics.energy` and
:mod:`flowkit.metrics.sliced` are estimated from $n$ samples and $n$ held-out points, so even a
perfect model scores a non-zero value. The floor is the same statistic between two independent
samples *of the data*, of the same size as (samples, reference): the reference and a fresh draw
$d_r$ of $n$ data points, repeated $R$ = ``repeats`` times,

$$
\begin{aligned}
\texttt{energy\_distance\_floor} &= \Bigl( \frac{1}{R} \sum_r \mathcal{E}(\mathrm{reference}, d_r)^2 \Bigr)^{1/2}
  && \text{(RMS: the U-statistic has mean 0 when } P = Q\text{)}, \\
\texttt{sliced\_w2\_floor} &= \frac{1}{R} \sum_r \mathrm{SW}_2(\mathrm{reference}, d_r)
  && \text{(mean: } \mathrm{SW}_2 \text{ is positive when } P = Q\text{)},
\end{aligned}
$$

with the same projections as ``sliced-w2`` (``num_projections``, ``seed``). A model value within
a few floors of zero cannot be told from a perfect model; the sample size should make the floor
at least 10x below the values being compared (``eval.num_samples`` in a suite). Fresh draws
come from ``dataset.sample`` for synthetic data (seeded: ``seed``, repeat ``r``), else from disjoint
slices of the training split (as many repeats as it holds; none when it holds fewer than $n$
points, and then no floor is reported).

The value depends only on the data set, the reference and the settings, so it is computed once
per data set object and reused by later evaluations (each solver setting of a suite cell).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping

import attrs
import torch
from torch import Tensor

from flowkit.core import Dataset, EvaluationContext
from flowkit.hookspecs import Register, hookimpl
from flowkit.metrics._inputs import paired_points, require_context
from flowkit.metrics.data_metric import DataMetric
from flowkit.metrics.energy import energy_distance
from flowkit.metrics.sliced import sliced_wasserstein2
from flowkit.validation import field_validator, require_int

_positive = field_validator(require_int, minimum=1)
_CACHE: weakref.WeakKeyDictionary[Dataset, dict[tuple, dict[str, float]]] = weakref.WeakKeyDictionary()


def independent_draws(dataset: Dataset, n: int, repeats: int, seed: int) -> list[Tensor]:
    """Up to ``repeats`` samples of ``n`` data points independent of the test split, flattened to ``[n, D]``."""
    sample = getattr(dataset, "sample", None)
    if callable(sample):
        draws = [sample(n, generator=torch.Generator().manual_seed(seed * 1000 + r)).x for r in range(repeats)]
    else:
        train = dataset.split("train").x
        draws = [train[r * n : (r + 1) * n] for r in range(min(repeats, train.shape[0] // n))]
    return [d.reshape(n, -1) for d in draws]


@attrs.frozen
class NoiseFloor(DataMetric):
    """``energy_distance_floor`` and ``sliced_w2_floor``: the statistics between independent data samples."""

    repeats: int = attrs.field(default=3, validator=_positive)
    num_projections: int = attrs.field(default=128, validator=_positive)
    seed: int = attrs.field(default=0, validator=field_validator(require_int, minimum=0))
    name = "noise-floor"

    def measure(self, context: EvaluationContext, dataset: Dataset) -> Mapping[str, float]:
        """The floors for ``context.reference`` and as many fresh data points (see the module)."""
        require_context(context, self.name)
        _, reference = paired_points(context, self.name, min_points=2)
        key = (reference.shape, reference.device, reference.dtype, float(reference.sum()), attrs.astuple(self))
        try:
            cached = _CACHE.setdefault(dataset, {})
        except TypeError:  # a data set that cannot be weakly referenced or hashed: no reuse
            cached = {}
        if key not in cached:
            cached[key] = self._floors(reference, dataset)
        return dict(cached[key])  # empty when the data set has no n independent points

    def _floors(self, reference: Tensor, dataset: Dataset) -> dict[str, float]:
        draws = [d.to(reference) for d in independent_draws(dataset, reference.shape[0], self.repeats, self.seed)]
        if not draws:
            return {}
        energies = [float(energy_distance(d, reference)) for d in draws]
        sliced = [
            float(sliced_wasserstein2(d, reference, self.num_projections, torch.Generator().manual_seed(self.seed)))
            for d in draws
        ]
        return {
            "energy_distance_floor": math.sqrt(sum(e * e for e in energies) / len(energies)),
            "sliced_w2_floor": sum(sliced) / len(sliced),
        }


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register ``noise-floor``."""
    register("noise-floor", NoiseFloor, description="energy distance and sliced W2 between independent data samples")
