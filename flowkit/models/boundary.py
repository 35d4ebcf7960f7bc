"""Runtime checks at a model's boundary: event shape, dtype and labels of ``model(t, x, y)``.

The jaxtyping annotations (checked by :func:`flowkit.shapes.checked`) fix the ranks and the
shared ``batch`` axis of ``t``, ``x`` and ``y``; the helpers here add what an annotation cannot
say: the event shape the network was built for and the parameters' dtype. The built-in models
run all of these only while :func:`checks_active` is true: shape checks on
(:func:`flowkit.shapes.shape_checks`) and not inside ``torch.compile`` tracing, where the
checks would break the graph (compiled models are meant for the hot loop anyway).
"""

from __future__ import annotations

import torch
from torch import Tensor

from flowkit.exceptions import ShapeError
from flowkit.shapes import shape_checks_enabled

__all__ = ["check_dtype", "check_event_shape", "checks_active"]


def checks_active() -> bool:
    """Whether model boundary checks run now: shape checks are on and we are not being compiled."""
    return shape_checks_enabled() and not torch.compiler.is_compiling()


def check_event_shape(owner: str, x: Tensor, expected: tuple[int, ...]) -> None:
    """Raise :class:`ShapeError` naming ``x`` unless ``x.shape[1:] == expected``."""
    if tuple(x.shape[1:]) != tuple(expected):
        wanted = ", ".join(["batch", *map(str, expected)])
        raise ShapeError(f"{owner}: argument 'x' has shape {tuple(x.shape)}; this model takes x of shape [{wanted}]")


def check_dtype(owner: str, x: Tensor, parameter: Tensor) -> None:
    """Raise :class:`ShapeError` if ``x`` and the parameters differ in dtype outside autocast."""
    if x.dtype != parameter.dtype and not torch.is_autocast_enabled(x.device.type):
        raise ShapeError(
            f"{owner}: argument 'x' has dtype {x.dtype} but the model's parameters are {parameter.dtype}; "
            f"move the model with model.to({x.dtype}) or run under flowkit.device.autocast_context"
        )
