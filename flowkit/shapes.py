"""Runtime shape checks for public interfaces (jaxtyping annotations checked by beartype).

Public methods are decorated with :func:`checked`; a call with a wrong shape or dtype raises
:class:`flowkit.exceptions.ShapeError`, whose message names the argument, the shape it got and
the annotation it expected, e.g.::

    The problem arose whilst typechecking parameter 'x'.
    Actual value: f32[4,2](torch)
    Expected type: <class 'Float[Tensor, 'batch *dims']'>.
    ... batch=3

The checks cost a few microseconds a call. Inner loops (ODE steps, training steps after the
first) run with them off through :func:`shape_checks`; ``FLOWKIT_SHAPE_CHECKS=0`` turns them
off globally. Shape aliases shared by the interfaces are defined here.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from typing import TypeVar

import torch
from beartype import beartype
from jaxtyping import Float, Int, TypeCheckError, jaxtyped
from torch import Tensor

from flowkit.exceptions import ShapeError

__all__ = [
    "Batch",
    "Labels",
    "PerSample",
    "Scalar",
    "Time",
    "checked",
    "set_shape_checks",
    "shape_checks",
    "shape_checks_enabled",
]

Time = Float[Tensor, "batch"]
"""Times, one per sample: ``[batch]``."""
Batch = Float[Tensor, "batch *dims"]
"""A batch of states or data points of any event shape: ``[batch, *dims]``."""
Labels = Int[Tensor, "batch"]
"""Integer class labels, one per sample: ``[batch]``."""
PerSample = Float[Tensor, "batch"]
"""One value per sample, e.g. a log-density: ``[batch]``."""
Scalar = Float[Tensor, ""]
"""A 0-dimensional tensor, e.g. a loss."""

_enabled = os.environ.get("FLOWKIT_SHAPE_CHECKS", "1").strip().lower() not in {"0", "false", "off", "no"}

F = TypeVar("F", bound=Callable)


def shape_checks_enabled() -> bool:
    """Whether :func:`checked` functions currently validate their arguments."""
    return _enabled


def set_shape_checks(enabled: bool) -> None:
    """Turn the runtime shape checks on or off globally."""
    global _enabled
    _enabled = bool(enabled)


@contextlib.contextmanager
def shape_checks(enabled: bool) -> Iterator[None]:
    """Context manager that sets the shape checks on or off and restores the previous setting."""
    previous = _enabled
    set_shape_checks(enabled)
    try:
        yield
    finally:
        set_shape_checks(previous)


def checked(fn: F) -> F:
    """Check ``fn``'s jaxtyping annotations with beartype on every call while checks are on.

    A violation raises :class:`ShapeError` carrying jaxtyping's message (argument name, actual
    shape, expected annotation and the axis sizes bound so far). With checks off, and while
    ``torch.compile`` traces the call (where the checks would see fake tensors), the call goes
    straight to ``fn``.
    """
    typechecked = jaxtyped(typechecker=beartype)(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not _enabled or torch.compiler.is_compiling():
            return fn(*args, **kwargs)
        try:
            return typechecked(*args, **kwargs)
        except TypeCheckError as exc:
            raise ShapeError(f"{fn.__qualname__}: {exc}") from None

    return wrapper  # type: ignore[return-value]
