"""The cost of sampling: number of function evaluations (``nfe``) and wall time (``sampling-time``).

Both read what the caller measured while drawing ``EvaluationContext.samples``: ``nfe`` is the
number of vector-field evaluations of the ODE solve, ``sampling_seconds`` its wall-clock time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import attrs

from flowkit.core import CONTINUOUS_STATE, TOKEN_STATE, Metric
from flowkit.hookspecs import Register, hookimpl
from flowkit.metrics._inputs import require_context, require_field
from flowkit.validation import require_float, require_int


@attrs.frozen
class FunctionEvaluations(Metric):
    """``{"nfe": n}``: vector-field evaluations used to draw the samples (lower is better)."""

    state_spaces: ClassVar[tuple[str, ...]] = (CONTINUOUS_STATE, TOKEN_STATE)

    def __call__(self, context: object) -> Mapping[str, float]:
        """Report ``context.nfe`` (a non-negative integer)."""
        nfe = require_field(require_context(context, "nfe"), "nfe", "nfe")
        return {"nfe": float(require_int("metric 'nfe': EvaluationContext.nfe", nfe, minimum=0))}


@attrs.frozen
class SamplingTime(Metric):
    """``{"sampling_seconds": s}``: wall-clock time spent drawing the samples (lower is better)."""

    state_spaces: ClassVar[tuple[str, ...]] = (CONTINUOUS_STATE, TOKEN_STATE)

    def __call__(self, context: object) -> Mapping[str, float]:
        """Report ``context.sampling_seconds`` (a finite number >= 0)."""
        seconds = require_field(require_context(context, "sampling-time"), "sampling_seconds", "sampling-time")
        name = "metric 'sampling-time': EvaluationContext.sampling_seconds"
        return {"sampling_seconds": require_float(name, seconds, minimum=0.0)}


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register ``nfe`` and ``sampling-time``."""
    register("nfe", FunctionEvaluations, description="vector-field evaluations used for sampling")
    register("sampling-time", SamplingTime, description="wall-clock seconds spent sampling")
