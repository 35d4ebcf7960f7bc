"""Built-in metrics (kind ``"metric"``): sample quality, likelihood and sampling cost.

``energy-distance`` and ``sliced-w2`` compare generated samples with held-out data
(:func:`energy_distance`, :func:`sliced_wasserstein2`); ``nll`` reports the held-out negative
log-likelihood in nats and bits/dim; ``nfe`` and ``sampling-time`` report the cost of sampling.
Each is a :class:`flowkit.Metric` called with an :class:`flowkit.EvaluationContext`.
``data-density`` (support fraction and data log-density of the samples, for data with an exact
density) and ``noise-floor`` (the sample statistics between independent data samples) also read
the data set: they are :class:`DataMetric` and are called as ``measure(context, dataset)``.
``fid`` is the Fréchet Inception Distance through an Inception network file on disk.
"""

from flowkit.metrics.cost import FunctionEvaluations, SamplingTime
from flowkit.metrics.data_metric import DataMetric
from flowkit.metrics.density import DataDensity
from flowkit.metrics.energy import EnergyDistance, energy_distance
from flowkit.metrics.fid import FrechetInceptionDistance, frechet_distance
from flowkit.metrics.floor import NoiseFloor
from flowkit.metrics.nll import NegativeLogLikelihood
from flowkit.metrics.sliced import SlicedWasserstein2, sliced_wasserstein2

__all__ = [
    "DataDensity",
    "DataMetric",
    "EnergyDistance",
    "FrechetInceptionDistance",
    "FunctionEvaluations",
    "NegativeLogLikelihood",
    "NoiseFloor",
    "SamplingTime",
    "SlicedWasserstein2",
    "energy_distance",
    "frechet_distance",
    "sliced_wasserstein2",
]
