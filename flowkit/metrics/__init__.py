"""Built-in metrics (kind ``"metric"``): sample quality, likelihood and sampling cost.

``energy-distance`` and ``sliced-w2`` compare generated samples with held-out data
(:func:`energy_distance`, :func:`sliced_wasserstein2`); ``nll`` reports the held-out negative
log-likelihood in nats and bits/dim; ``nfe`` and ``sampling-time`` report the cost of sampling.
Each is a :class:`flowkit.Metric` called with an :class:`flowkit.EvaluationContext`.
"""

from flowkit.metrics.cost import FunctionEvaluations, SamplingTime
from flowkit.metrics.energy import EnergyDistance, energy_distance
from flowkit.metrics.nll import NegativeLogLikelihood
from flowkit.metrics.sliced import SlicedWasserstein2, sliced_wasserstein2

__all__ = [
    "EnergyDistance",
    "FunctionEvaluations",
    "NegativeLogLikelihood",
    "SamplingTime",
    "SlicedWasserstein2",
    "energy_distance",
    "sliced_wasserstein2",
]
