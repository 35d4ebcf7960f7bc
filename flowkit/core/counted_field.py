"""The counted field: how :class:`flowkit.ODESolver` hands a user's vector field to a solver.

:class:`CountedField` broadcasts the solver's scalar time to the ``[batch]`` tensor the
:data:`flowkit.VectorField` contract promises, counts every call (the ``nfe`` a
:class:`flowkit.Solution` reports is this count, never a formula), checks the shape and dtype of
the first output, and runs later calls with the runtime shape checks off (the first call keeps
the setting that was active when the solve started). A solver that evaluates a second network
(e.g. a learned score beside the velocity) wraps it with :meth:`CountedField.count_also`, so the
solve's ``nfe`` counts every network evaluation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.shapes import shape_checks, shape_checks_enabled

if TYPE_CHECKING:
    from flowkit.core.solver import VectorField

__all__ = ["CountedField"]


class CountedField:
    """Wraps ``field(t, x)``; ``nfe`` counts the calls made so far.

    Called with a Python float or a 0-dimensional tensor ``t`` and a state ``x`` of shape
    ``[batch, *dims]``, it calls ``field`` with ``t`` as a ``[batch]`` tensor of ``x``'s dtype and
    device. ``last_output`` keeps the most recent value of the field (for error messages).
    """

    def __init__(self, field: VectorField) -> None:
        if not callable(field):
            raise InvalidParameterError(f"field must be callable as field(t, x), got {type(field).__name__}")
        self.field = field
        self._calls = 0
        self._also_counted: list[CountedField] = []
        self.last_output: Tensor | None = None
        self._first_call_checks = shape_checks_enabled()

    @property
    def nfe(self) -> int:
        """The calls made so far, of this field and of the fields wrapped by :meth:`count_also`."""
        return self._calls + sum(other.nfe for other in self._also_counted)

    def count_also(self, other: VectorField) -> CountedField:
        """``other`` wrapped like this field (time broadcast, first output checked), its calls added
        to this field's :attr:`nfe`."""
        counted = CountedField(other)
        counted._first_call_checks = self._first_call_checks
        self._also_counted.append(counted)
        return counted

    def __call__(self, t: float | Tensor, x: Tensor) -> Tensor:
        batch = x.shape[0]
        if isinstance(t, Tensor):
            t_batch = t.to(dtype=x.dtype).reshape(()).expand(batch).contiguous()
        else:
            t_batch = torch.full((batch,), t, dtype=x.dtype, device=x.device)
        self._calls += 1
        if self._calls == 1:
            with shape_checks(self._first_call_checks):
                out = self.field(t_batch, x)
            self._check_output(out, x)
        else:
            out = self.field(t_batch, x)
        self.last_output = out
        return out

    @staticmethod
    def _check_output(out: object, x: Tensor) -> None:
        if not isinstance(out, Tensor):
            raise ShapeError(
                f"the vector field must return a tensor shaped like x {tuple(x.shape)}, got {type(out).__name__}"
            )
        if out.shape != x.shape:
            raise ShapeError(
                f"the vector field returned shape {tuple(out.shape)} for a state of shape {tuple(x.shape)}; "
                "field(t, x) must return dx/dt with the shape of x"
            )
        if out.dtype != x.dtype:
            raise ShapeError(f"the vector field returned dtype {out.dtype} for a state of dtype {x.dtype}")
