r"""Projecting solvers for flows on a manifold: ``riemannian-euler``, ``riemannian-midpoint``, ``riemannian-rk4``.

Each step is the explicit Runge-Kutta step of the tableau in the ambient coordinates (see
:mod:`flowkit.solvers.fixed`) followed by the projection onto the manifold,
$x_{n+1} = \operatorname{projx}(\operatorname{RK\_step}(x_n))$: for a tangent field the exact flow stays on the
manifold, and the projection removes the $O(h^{p+1})$ drift of each step without lowering the order
(it moves the state by no more than that drift).

The manifold comes from the pipeline's path: the solvers declare ``needs_path`` and
``Pipeline.flow`` / ``sample`` bind the path's manifold (:meth:`RiemannianSolver.bind`) before
solving; standalone, give ``manifold=`` (a registered name or a
:class:`~flowkit.core.manifold.Manifold`). An unbound solver without a manifold takes the plain
Runge-Kutta step: that is what ``Pipeline.log_prob`` runs, on the likelihood engine's augmented
state ``[x, log-density]``, which is not a point of the manifold (the fields of
:mod:`flowkit.models.tangent` keep the exact flow on the manifold; the error is the method's
$O(h^p)$). So leave ``manifold`` unset in a pipeline configuration: a projection of the
augmented state would corrupt the log-density.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import attrs
from torch import Tensor

from flowkit.core.manifold import Manifold, resolve_manifold
from flowkit.core.runge_kutta import RungeKuttaSolver
from flowkit.exceptions import InvalidParameterError
from flowkit.solvers.fixed import EULER_TABLEAU, MIDPOINT_TABLEAU, RK4_TABLEAU

__all__ = ["RiemannianEuler", "RiemannianMidpoint", "RiemannianRK4", "RiemannianSolver"]


def _to_manifold(value: Manifold | str | None) -> Manifold | None:
    return None if value is None else resolve_manifold(value)


@attrs.frozen
class RiemannianSolver(RungeKuttaSolver):
    """A fixed-step Runge-Kutta method whose every step ends with ``projx`` onto ``manifold``.

    ``manifold``: a registered manifold name or a Manifold for standalone use; ``None`` (in a
    pipeline) takes the path's manifold when bound, and the plain step while unbound (see the
    module docstring). ``steps`` / ``time_grid`` as for the fixed-step solvers.
    """

    needs_path: ClassVar[bool] = True

    manifold: Manifold | None = attrs.field(default=None, converter=_to_manifold)

    def bind(self, *, path: Any, score_field: Any = None) -> RiemannianSolver:
        """This solver with the manifold of ``path`` (``score_field`` is not used); an explicit manifold is kept."""
        if self.manifold is not None:
            return self
        manifold = getattr(path, "manifold", None)
        if not isinstance(manifold, Manifold):
            raise InvalidParameterError(
                f"{type(self).__name__} projects onto the path's manifold, and the path {path!r} has none; "
                "use the path 'geodesic' or give the solver manifold='sphere' / 'flat-torus'"
            )
        return attrs.evolve(self, manifold=manifold)

    def step(self, field: Callable[[float, Tensor], Tensor], t: float, x: Tensor, h: float) -> Tensor:
        """The tableau's step, projected onto the manifold (unprojected while no manifold is bound)."""
        x = self.tableau.step(field, t, x, h)
        return x if self.manifold is None else self.manifold.projx(x)


class RiemannianEuler(RiemannianSolver):
    r"""Projected forward Euler, order 1: $x_{n+1} = \operatorname{projx}(x_n + h\, v(t_n, x_n))$."""

    tableau = EULER_TABLEAU


class RiemannianMidpoint(RiemannianSolver):
    """Projected explicit midpoint, order 2."""

    tableau = MIDPOINT_TABLEAU


class RiemannianRK4(RiemannianSolver):
    """Projected classical Runge-Kutta, order 4."""

    tableau = RK4_TABLEAU
