r"""Precision-like metrics from the data's exact density (``data-density``).

For a data set with a closed-form density $p$ (``Dataset.has_density``: ``checkerboard``,
``8gaussians``, ``2d-mixture``) and generated samples $x_1, \dots, x_n$:

- ``support_fraction``: the fraction of samples in the data's highest-density region of mass
  $1 - \alpha$, $\{x : \log p(x) \ge \tau\}$, with $\tau$ the $\alpha$-quantile of $\log p$ over an
  independent draw of the data (the training split). For data uniform on their support (the
  checkerboard) every data point has the same density, so this is exactly the fraction of
  samples inside the support, whatever ``alpha``; for a Gaussian mixture it is the fraction in the
  region holding 99% of the mass ($\alpha$ = ``alpha`` = 0.01).
- ``data_log_density``: the mean of $\log p(x_i)$ over the samples where it is finite (nats; the
  others, outside the support, are what ``support_fraction`` counts). Blurred samples land in
  low-density places and lower it. Data uniform on their support (the checkerboard) have the
  same $\log p$ at every point of it, so there the mean says nothing that ``support_fraction``
  does not: it is left out when the independent data draw's $\log p$ is constant.

Both are reported for the held-out reference too (``*_reference``): what samples of the data
themselves score, the ceiling a perfect model reaches up to sampling noise. Higher is better.
These are precision-like (do the samples lie where the data are?); the model's NLL of held-out
data (``nll``) is the recall-like counterpart (does the model cover the data?). A data set
without an exact density gives no values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import torch
from torch import Tensor

from flowkit.core import Dataset, EvaluationContext
from flowkit.hookspecs import Register, hookimpl
from flowkit.metrics._inputs import paired_points, require_context
from flowkit.metrics.data_metric import DataMetric
from flowkit.validation import field_validator, require_float

_CONSTANT_DENSITY_SPREAD = 1e-9
r"""Largest spread (nats) of $\log p$ over the data draw for which the density counts as uniform."""


def _log_density(dataset: Dataset, points: Tensor, shape: tuple[int, ...]) -> Tensor:
    return dataset.log_prob(points.reshape(points.shape[0], *shape)).detach().to(torch.float64)


def _scores(log_p: Tensor, threshold: float) -> tuple[float, float]:
    finite = torch.isfinite(log_p)
    mean = float(log_p[finite].mean()) if finite.any() else -math.inf
    return float((log_p >= threshold).double().mean()), mean


@attrs.frozen
class DataDensity(DataMetric):
    """``support_fraction`` and ``data_log_density`` of the samples (and of the reference).

    ``alpha``: the data mass left outside the high-density region (default 0.01).
    """

    alpha: float = attrs.field(default=0.01, validator=field_validator(require_float, above=0.0, below=1.0))
    name = "data-density"

    def measure(self, context: EvaluationContext, dataset: Dataset) -> Mapping[str, float]:
        """Score ``context.samples`` and ``context.reference`` under ``dataset.log_prob`` (nothing without a density)."""
        require_context(context, self.name)
        if not dataset.has_density:
            return {}
        samples, reference = paired_points(context, self.name)
        shape = tuple(context.reference.shape[1:])
        train = dataset.split("train").x
        independent = train.reshape(train.shape[0], -1)[: max(reference.shape[0], 1000)].to(reference)
        data_log_p = _log_density(dataset, independent, shape)
        threshold = float(torch.quantile(data_log_p, self.alpha))
        fraction, mean = _scores(_log_density(dataset, samples, shape), threshold)
        fraction_ref, mean_ref = _scores(_log_density(dataset, reference, shape), threshold)
        values = {"support_fraction": fraction, "support_fraction_reference": fraction_ref}
        if float(data_log_p.max() - data_log_p.min()) > _CONSTANT_DENSITY_SPREAD:
            values |= {"data_log_density": mean, "data_log_density_reference": mean_ref}
        return values


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register ``data-density``."""
    register(
        "data-density",
        DataDensity,
        description="fraction of samples in the data's support and their mean data log-density (exact-density data)",
    )
