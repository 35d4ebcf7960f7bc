"""Registers the built-in metrics (kind ``"metric"``)."""

from flowkit.hookspecs import Register, hookimpl
from flowkit.metrics.cost import FunctionEvaluations, SamplingTime
from flowkit.metrics.density import DataDensity
from flowkit.metrics.energy import EnergyDistance
from flowkit.metrics.fid import FrechetInceptionDistance
from flowkit.metrics.floor import NoiseFloor
from flowkit.metrics.nll import NegativeLogLikelihood
from flowkit.metrics.sliced import SlicedWasserstein2


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register the built-in metrics."""
    register("energy-distance", EnergyDistance, description="unbiased energy distance, samples vs held-out data")
    register("sliced-w2", SlicedWasserstein2, description="sliced Wasserstein-2 distance, samples vs held-out data")
    register("nll", NegativeLogLikelihood, description="held-out negative log-likelihood in nats and bits/dim")
    register("nfe", FunctionEvaluations, description="vector-field evaluations used for sampling")
    register("sampling-time", SamplingTime, description="wall-clock seconds spent sampling")
    register(
        "data-density",
        DataDensity,
        description="fraction of samples in the data's support and their mean data log-density (exact-density data)",
    )
    register("noise-floor", NoiseFloor, description="energy distance and sliced W2 between independent data samples")
    register(
        "fid",
        FrechetInceptionDistance,
        description="Frechet Inception Distance through a TorchScript Inception file on disk ($FLOWKIT_FID_NETWORK)",
    )
