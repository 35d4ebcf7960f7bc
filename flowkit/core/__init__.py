"""flowkit's typed core: the interfaces every component implements, and what a plugin needs.

The core names no built-in component; built-ins and third-party plugins implement these
abstract base classes and register factories through the hooks in :mod:`flowkit.hookspecs`.
Besides the interfaces it re-exports the public surface a plugin lives on: the solver bases
(:class:`ODESolver`, :class:`FixedStepSolver`, :class:`RungeKuttaSolver`,
:class:`ButcherTableau`), the exception types of :mod:`flowkit.exceptions`, and the shape aliases
and checks of :mod:`flowkit.shapes` (``Batch``, ``Time``, ``Labels``, ``PerSample``, ``Scalar``,
:func:`checked`, :func:`shape_checks`, :func:`shape_checks_enabled`), and the parameter checks
of :mod:`flowkit.validation` (:func:`require_float`, :func:`require_int`, :func:`require_choice`),
which raise :class:`InvalidParameterError` in flowkit's message style. Built-in priors
(``StandardNormal``, ``IsotropicGaussian``) and paths are importable from :mod:`flowkit`.
"""

from flowkit.core.callback import Callback, TrainingRun
from flowkit.core.capabilities import MARGINAL_FIELD, PRIOR, TIME_RANGE, Capability, require_capabilities
from flowkit.core.coupling import Coupling
from flowkit.core.dataset import Dataset, DataSplit
from flowkit.core.fixed_step import FixedStepSolver
from flowkit.core.manifold import Manifold, UniformManifoldPrior
from flowkit.core.metric import EvaluationContext, Metric
from flowkit.core.model import VectorFieldModel
from flowkit.core.objective import Objective
from flowkit.core.path import PathSample, ProbabilityPath
from flowkit.core.prior import DrawRequest, Prior
from flowkit.core.runge_kutta import ButcherTableau, RungeKuttaSolver
from flowkit.core.solver import ODESolver, Solution, VectorField
from flowkit.core.state_space import CONTINUOUS_STATE, TOKEN_STATE, can_measure, state_space_of
from flowkit.exceptions import (
    CapabilityError,
    CheckpointError,
    ConfigError,
    DuplicateComponentError,
    FlowkitError,
    InvalidParameterError,
    NonFiniteError,
    ParameterTypeError,
    PluginLoadError,
    ShapeError,
    SolverError,
    UnknownComponentError,
    UnknownKindError,
)
from flowkit.shapes import Batch, Labels, PerSample, Scalar, Time, checked, shape_checks, shape_checks_enabled
from flowkit.validation import require_choice, require_float, require_int

__all__ = [
    "CONTINUOUS_STATE",
    "MARGINAL_FIELD",
    "PRIOR",
    "TIME_RANGE",
    "TOKEN_STATE",
    "Batch",
    "ButcherTableau",
    "Callback",
    "Capability",
    "CapabilityError",
    "CheckpointError",
    "ConfigError",
    "Coupling",
    "DataSplit",
    "Dataset",
    "DrawRequest",
    "DuplicateComponentError",
    "EvaluationContext",
    "FixedStepSolver",
    "FlowkitError",
    "InvalidParameterError",
    "Labels",
    "Manifold",
    "Metric",
    "NonFiniteError",
    "ODESolver",
    "Objective",
    "ParameterTypeError",
    "PathSample",
    "PerSample",
    "PluginLoadError",
    "Prior",
    "ProbabilityPath",
    "RungeKuttaSolver",
    "Scalar",
    "ShapeError",
    "Solution",
    "SolverError",
    "Time",
    "TrainingRun",
    "UnknownComponentError",
    "UniformManifoldPrior",
    "UnknownKindError",
    "VectorField",
    "VectorFieldModel",
    "can_measure",
    "checked",
    "require_capabilities",
    "require_choice",
    "require_float",
    "require_int",
    "shape_checks",
    "shape_checks_enabled",
    "state_space_of",
]
