r"""Built-in probability paths: Gaussian conditional paths $x_t = a(t)\, x_1 + s(t)\, \varepsilon$ and their priors.

* :class:`GaussianPath`: the base class (sampling, conditional and marginal fields, marginal
  log-density, conversions between velocity, x1-, epsilon- and score-parametrisations);
* :class:`ConditionalOTPath` (``ot``), :class:`VariancePreservingPath` (``vp``),
  :class:`VarianceExplodingPath` (``ve``), :class:`CosinePath` (``cosine``) and
  :class:`SchedulePath` (``schedule``: user callables);
* :class:`GeodesicPath` (``geodesic``): the Riemannian geodesic path on a manifold;
* :class:`RescheduledField`: sampling a model trained on one Gaussian path along another's marginals;
* the schedulers $\kappa(t)$ of the mixture and geodesic paths (:mod:`flowkit.paths.kappa`);
* priors :class:`StandardNormal` and :class:`IsotropicGaussian`.
"""

from flowkit.paths.cosine import CosinePath
from flowkit.paths.gaussian import GaussianPath, time_derivative
from flowkit.paths.geodesic import GeodesicPath
from flowkit.paths.kappa import KAPPA_SCHEDULERS, CosineKappa, KappaScheduler, PolynomialKappa, kappa_scheduler
from flowkit.paths.ot import ConditionalOTPath
from flowkit.paths.priors import IsotropicGaussian, StandardNormal
from flowkit.paths.reschedule import RescheduledField
from flowkit.paths.schedule import SchedulePath
from flowkit.paths.ve import VarianceExplodingPath
from flowkit.paths.vp import VariancePreservingPath

__all__ = [
    "KAPPA_SCHEDULERS",
    "ConditionalOTPath",
    "CosineKappa",
    "CosinePath",
    "GaussianPath",
    "GeodesicPath",
    "IsotropicGaussian",
    "KappaScheduler",
    "PolynomialKappa",
    "RescheduledField",
    "SchedulePath",
    "StandardNormal",
    "VarianceExplodingPath",
    "VariancePreservingPath",
    "kappa_scheduler",
    "time_derivative",
]
