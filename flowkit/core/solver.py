r"""The ODE-solver interface and the base that owns every solver's shared work.

A solver integrates $dx/dt = \texttt{field}(t, x)$ from $x(t_0) = x_0$ to $t_1$ (forwards or
backwards). :meth:`ODESolver.solve` does, once for every solver: the shape check of ``x0``, the
interval check (finite, ``t0 != t1``), the check of the requested trajectory times (inside the
interval, in integration order), the finiteness of ``x0`` and of the final state, the count of
field evaluations (through :class:`flowkit.core.counted_field.CountedField`), ``enable_grad``,
and the assembly of the :class:`Solution`. A solver writes only :meth:`ODESolver.integrate`,
its loop (an adaptive or multistep method), or, as a :class:`flowkit.core.FixedStepSolver`,
only its step; a :class:`flowkit.core.RungeKuttaSolver` only declares its Butcher tableau.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable, Sequence

import attrs
import torch
from torch import Tensor

from flowkit.core.construction import RecordsArguments
from flowkit.core.counted_field import CountedField
from flowkit.core.solver_times import check_interval, check_start, requested_times
from flowkit.exceptions import NonFiniteError, SolverError
from flowkit.shapes import Batch, checked, shape_checks

__all__ = ["ODESolver", "Solution", "VectorField"]

VectorField = Callable[[Tensor, Tensor], Tensor]
"""``field(t, x)``: ``t`` of shape ``[batch]``, ``x`` of shape ``[batch, *dims]``; returns ``dx/dt``."""


@attrs.frozen
class Solution:
    """The result of an ODE solve.

    ``x`` is the state at ``t1``; ``nfe`` the number of field evaluations actually made;
    ``times`` and ``trajectory`` (``[len(times), batch, *dims]``) are set when requested.
    """

    x: Tensor
    nfe: int
    times: Tensor | None = None
    trajectory: Tensor | None = None


class ODESolver(RecordsArguments, ABC):
    """Integrates a vector field; works forwards (``t0 < t1``) and backwards (``t0 > t1``).

    Subclasses implement :meth:`integrate`; :meth:`solve` checks the inputs and builds the
    :class:`Solution` around it. (A subclass may instead override :meth:`solve` whole, as
    solvers written before this base did; it then owns all of its checks.)
    """

    @checked
    def solve(
        self,
        field: VectorField,
        x0: Batch,
        *,
        t0: float | int = 0.0,
        t1: float | int = 1.0,
        trajectory_times: Sequence[float | int] | Tensor | None = None,
        enable_grad: bool = False,
    ) -> Solution:
        r"""Integrate $dx/dt = \texttt{field}(t, x)$ from $x(t_0) = x_0$ to $t_1$.

        ``field`` receives ``t`` as a ``[batch]`` tensor in ``x0``'s dtype and device.
        ``trajectory_times`` requests the states at those times (inside the interval, in
        integration order). Gradients are tracked only when ``enable_grad`` is true.

        Raises :class:`~flowkit.exceptions.InvalidParameterError` for a bad interval or badly
        placed times, :class:`~flowkit.exceptions.ShapeError` for a wrong ``x0`` or a field
        output not shaped like ``x``, :class:`~flowkit.exceptions.NonFiniteError` when ``x0`` or
        a state is NaN or infinite, :class:`~flowkit.exceptions.SolverError` when the method
        cannot finish.
        """
        t0, t1 = check_interval(t0, t1)
        times = requested_times(trajectory_times, t0, t1)
        check_start(x0)
        counted = CountedField(field)
        with torch.set_grad_enabled(enable_grad), shape_checks(False):
            x, trajectory = self.integrate(counted, x0, t0=t0, t1=t1, times=times)
        if not bool(torch.isfinite(x).all()):
            raise NonFiniteError(
                f"{self!r}: the ODE state at t1={t1} contains NaN or infinity (integrating from t0={t0}); "
                "the field may be unstable at this step size or tolerance"
            )
        if times is None:
            return Solution(x=x, nfe=counted.nfe)
        expected = (len(times), *x0.shape)
        if not isinstance(trajectory, Tensor) or tuple(trajectory.shape) != expected:
            got = tuple(trajectory.shape) if isinstance(trajectory, Tensor) else type(trajectory).__name__
            raise SolverError(f"{self!r}.integrate returned a trajectory of shape {got}; expected {expected}")
        return Solution(
            x=x,
            nfe=counted.nfe,
            times=torch.tensor(times, dtype=x0.dtype, device=x0.device),
            trajectory=trajectory,
        )

    def integrate(
        self, field: CountedField, x0: Tensor, *, t0: float, t1: float, times: list[float] | None
    ) -> tuple[Tensor, Tensor | None]:
        """The method itself: return the state at ``t1`` and, when ``times`` is given, the states
        at those times stacked as ``[len(times), *x0.shape]`` (else ``None``).

        Called by :meth:`solve` with checked arguments: ``t0 != t1`` finite floats, ``times`` a
        list in integration order inside the interval, ``x0`` finite. ``field(t, x)`` takes a
        float or 0-d tensor ``t`` and counts its calls; gradients and shape checks are already
        set. Raise :class:`~flowkit.exceptions.SolverError` when the method cannot finish.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement integrate(field, x0, *, t0, t1, times) (or subclass "
            "flowkit.core.FixedStepSolver and implement step(field, t, x, h), or subclass "
            "flowkit.core.RungeKuttaSolver and declare a tableau)"
        )
