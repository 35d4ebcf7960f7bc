"""flowkit's typed core: the interfaces every component implements.

The core names no built-in component; built-ins and third-party plugins implement these
abstract base classes and register factories through the hooks in :mod:`flowkit.hookspecs`.
"""

from flowkit.core.coupling import Coupling
from flowkit.core.dataset import Dataset, DataSplit
from flowkit.core.metric import EvaluationContext, Metric
from flowkit.core.model import VectorFieldModel
from flowkit.core.objective import Objective
from flowkit.core.path import PathSample, ProbabilityPath
from flowkit.core.prior import Prior
from flowkit.core.solver import ODESolver, Solution, VectorField

__all__ = [
    "Coupling",
    "DataSplit",
    "Dataset",
    "EvaluationContext",
    "Metric",
    "ODESolver",
    "Objective",
    "PathSample",
    "Prior",
    "ProbabilityPath",
    "Solution",
    "VectorField",
    "VectorFieldModel",
]
