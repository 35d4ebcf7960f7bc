"""pluggy hook specifications: one hook per component kind.

Every hook receives a ``register`` callable with the signature
``register(name: str, factory: Callable[..., Any], **metadata) -> None``.
``name`` is the short lowercase registry name (``"ot"``, ``"rk4"``); ``factory`` builds the
component from keyword parameters (a class or a function); ``metadata`` carries at least
``description=`` (one line shown by ``flowkit plugins``).

A plugin is a module (or object) with functions marked by :data:`hookimpl`; it is found through
the ``flowkit`` entry-point group. Built-in components register through these same hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pluggy

PROJECT_NAME = "flowkit"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class Register(Protocol):
    """The ``register`` callable each hook receives: adds one component of the hook's kind.

    ``name``: the short lowercase registry name, unique within the kind, without ``":"``;
    ``factory``: a class or function that builds the component from keyword parameters;
    ``metadata``: at least ``description=`` (one line shown by ``flowkit plugins``). A bad name,
    a non-callable factory or a name registered twice makes the hook fail (reported by
    ``flowkit plugins``, the plugin's other hooks still count).
    """

    def __call__(self, name: str, factory: Callable[..., Any], **metadata: Any) -> None: ...


@hookspec
def flowkit_register_paths(register: Register) -> None:
    """Register probability paths (kind ``"path"``).

    A factory returns a :class:`flowkit.ProbabilityPath`: an object that owns its prior ``p0``
    and draws ``x_t`` with its conditional target field ``u_t`` from ``sample(x0=, x1=, t=)``.
    """


@hookspec
def flowkit_register_couplings(register: Register) -> None:
    """Register couplings (kind ``"coupling"``).

    A factory returns a :class:`flowkit.Coupling`: ``pair(x0, x1)`` returns the batch's
    ``(x0, x1)`` pairs, keeping the row order of ``x1``.
    """


@hookspec
def flowkit_register_objectives(register: Register) -> None:
    """Register training objectives (kind ``"objective"``).

    A factory returns a :class:`flowkit.Objective`: ``loss(model=, x1=, y=)`` returns a scalar
    tensor to minimise. A pipeline calls the factory with the keywords ``path=`` (the built
    path), ``coupling=`` (the built coupling), the configured parameters, and ``reference=``
    (the training data) when the factory accepts ``reference`` and the configuration leaves it
    unset. The class attribute ``path_requirements`` declares what the objective needs from
    the path (default: a prior and a time range; ``fm`` adds ``MARGINAL_FIELD``,
    ``marginal_vector_field(x=, t=, data=, chunk_size=)``); it is checked before the factory is
    called.
    """


@hookspec
def flowkit_register_solvers(register: Register) -> None:
    """Register ODE solvers (kind ``"solver"``).

    A factory returns a :class:`flowkit.ODESolver`: ``solve(field, x0, t0=, t1=)`` returns a
    :class:`flowkit.Solution` with the final state and the number of field evaluations. The
    base class checks the inputs, counts evaluations and honours requested times; a solver
    declares a tableau (:class:`flowkit.RungeKuttaSolver`), writes a step
    (:class:`flowkit.FixedStepSolver`) or writes its loop (``ODESolver.integrate``).
    """


@hookspec
def flowkit_register_models(register: Register) -> None:
    """Register vector-field networks (kind ``"model"``).

    A factory returns a :class:`flowkit.VectorFieldModel`: a ``torch.nn.Module`` called as
    ``model(t, x, y=None)`` that returns a tensor shaped like ``x``.
    """


@hookspec
def flowkit_register_datasets(register: Register) -> None:
    """Register data sets (kind ``"dataset"``).

    A factory returns a :class:`flowkit.Dataset`: ``split(name)`` gives the data (and labels)
    of a split; a data set may also know its exact density.
    """


@hookspec
def flowkit_register_metrics(register: Register) -> None:
    """Register evaluation metrics (kind ``"metric"``).

    A factory returns a :class:`flowkit.Metric`: called with an
    :class:`flowkit.EvaluationContext`, it returns a mapping of metric names to floats.
    """


@hookspec
def flowkit_register_callbacks(register: Register) -> None:
    """Register training callbacks (kind ``"callback"``).

    A factory returns a :class:`flowkit.Callback`: :meth:`flowkit.Pipeline.fit` calls its hooks
    at the start, after each step (``on_step_end(run, step)``, only when the callback defines
    it), for each logged record, each evaluation and each checkpoint, and at the end; a callback
    may ask training to stop (``run.request_stop(reason)``). Configured as
    ``callbacks = [{name = "tensorboard"}, ...]`` or passed to ``Pipeline.fit(callbacks=...)``.
    """


@hookspec
def flowkit_register_manifolds(register: Register) -> None:
    """Register manifolds (kind ``"manifold"``), for Riemannian flow matching.

    A factory returns a :class:`flowkit.core.Manifold`: ``expmap``, ``logmap``,
    ``projx``, ``proju``, the geodesic distance ``dist`` and the uniform distribution on it. The
    path ``geodesic``, the ``manifold-mlp`` model and the ``riemannian-*`` solvers take a
    manifold by its registered name.
    """


HOOK_BY_KIND: dict[str, str] = {
    "path": "flowkit_register_paths",
    "coupling": "flowkit_register_couplings",
    "objective": "flowkit_register_objectives",
    "solver": "flowkit_register_solvers",
    "model": "flowkit_register_models",
    "dataset": "flowkit_register_datasets",
    "metric": "flowkit_register_metrics",
    "callback": "flowkit_register_callbacks",
    "manifold": "flowkit_register_manifolds",
}
"""The component kinds and the hook through which each kind is registered."""

KINDS: tuple[str, ...] = tuple(HOOK_BY_KIND)
"""Every component kind, in display order."""
