r"""Negative log-likelihood of held-out data under the model (``nll``), in nats and bits/dim.

With the model's log-density $\log p$ (``EvaluationContext.log_prob``) and the reference
points $x_1, \dots, x_m$ ($D$ scalar dimensions each), the metric reports

$$
\begin{aligned}
\texttt{nll\_nats} &= -\frac{1}{m} \sum_i \log p(x_i), \\
\texttt{bits\_per\_dim} &= \frac{1}{m} \sum_i \mathrm{bpd}(x_i), \qquad
\mathrm{bpd} = \frac{-\log p(x) + [D \log(K/2)]_{\text{quantised}}}{D \ln 2}
\end{aligned}
$$

(:func:`flowkit.likelihood.bits_per_dim`). For quantised data (``context.num_bins = K``) the
reference holds bin centres; they are first dequantised with uniform noise across their bins
(:func:`flowkit.data.dequantize`, seeded), so ``bits_per_dim`` is, in expectation, an upper bound
on the discrete code length per dimension and ``nll_nats`` is the continuous NLL of the
dequantised points. ``log_prob`` is called on batches of ``batch_size`` points (it may need
autograd for the divergence, so no ``torch.no_grad`` is imposed); ``max_points`` evaluates only
the first points of the reference, for speed.

Each point's value is an independent estimate (its own dequantisation noise and, with the
Hutchinson divergence, its own probes), so the standard error of the mean,
$\operatorname{std}(\text{values}) / \sqrt{m}$ (``nll_nats_stderr``, ``bits_per_dim_stderr``; NaN for one point),
covers the spread of the data and the estimator's noise together.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import attrs
import torch

from flowkit.core import Metric
from flowkit.core.quantization import dequantize
from flowkit.exceptions import NonFiniteError, ShapeError
from flowkit.hookspecs import Register, hookimpl
from flowkit.likelihood import bits_per_dim
from flowkit.metrics._inputs import check_points, require_context, require_field
from flowkit.validation import field_validator, require_int


@attrs.frozen
class NegativeLogLikelihood(Metric):
    """``{"nll_nats": ..., "bits_per_dim": ...}`` (and their standard errors) of the reference under ``context.log_prob`` (lower is better)."""

    batch_size: int = attrs.field(default=1024, validator=field_validator(require_int, minimum=1))
    max_points: int | None = attrs.field(default=None, validator=field_validator(require_int, minimum=1, optional=True))
    seed: int = attrs.field(default=0, validator=field_validator(require_int, minimum=0))

    def __call__(self, context: object) -> Mapping[str, float]:
        """Evaluate ``context.log_prob`` on (dequantised) ``context.reference``."""
        context = require_context(context, "nll")
        log_prob = require_field(context, "log_prob", "nll")
        reference = check_points("reference", context.reference, "nll")
        if self.max_points is not None:
            reference = reference[: self.max_points]
        num_dims = context.num_dims or math.prod(reference.shape[1:])
        if context.num_bins is not None:
            generator = torch.Generator(device=reference.device).manual_seed(self.seed)
            reference = dequantize(reference, context.num_bins, generator)
        values = []
        for batch in reference.split(self.batch_size):
            value = log_prob(batch)
            if not isinstance(value, torch.Tensor) or value.shape != (batch.shape[0],):
                got = list(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise ShapeError(
                    f"metric 'nll': log_prob must return one log-density per point, [{batch.shape[0]}], got {got}"
                )
            values.append(value.detach())
        log_density = torch.cat(values)
        if torch.isnan(log_density).any():
            raise NonFiniteError("metric 'nll': log_prob returned NaN")
        bpd = bits_per_dim(log_density, num_dims, context.num_bins)
        count = log_density.shape[0]
        stderr = lambda v: float(v.std() / math.sqrt(count)) if count > 1 else math.nan
        return {
            "nll_nats": float(-log_density.mean()),
            "bits_per_dim": float(bpd.mean()),
            "nll_nats_stderr": stderr(log_density.double()),
            "bits_per_dim_stderr": stderr(bpd.double()),
        }


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register ``nll``."""
    register("nll", NegativeLogLikelihood, description="held-out negative log-likelihood in nats and bits/dim")
