"""The kinds of state a flow moves, declared by paths, solvers and metrics as ``state_space``.

A path and a solver declare the one kind of state they move (``state_space``); a metric declares
the kinds of samples it can measure (``state_spaces``). Components that declare nothing work on
:data:`CONTINUOUS_STATE`. The pipeline refuses a solver for another kind of state than its path's
and leaves out metrics that cannot measure its samples.
"""

from __future__ import annotations

__all__ = ["CONTINUOUS_STATE", "TOKEN_STATE", "can_measure", "state_space_of"]

CONTINUOUS_STATE = "continuous"
r"""Points in $\mathbb{R}^d$ (or on a manifold embedded in it): Gaussian and geodesic paths, ODE and SDE solvers."""

TOKEN_STATE = "tokens"
"""Integer tokens ``[batch, length]`` over a vocabulary: the mixture path and the CTMC sampler."""


def state_space_of(component: object) -> str:
    """The ``state_space`` ``component`` (an object or a class) declares, else :data:`CONTINUOUS_STATE`."""
    return getattr(component, "state_space", CONTINUOUS_STATE)


def can_measure(metric: object, state: str) -> bool:
    """Whether ``metric`` (an object or a class) measures samples of ``state``: it is in the metric's
    ``state_spaces``; a metric that declares none measures :data:`CONTINUOUS_STATE` samples."""
    return state in getattr(metric, "state_spaces", (CONTINUOUS_STATE,))
