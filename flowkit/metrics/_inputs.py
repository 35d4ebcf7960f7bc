"""Checks of what a metric reads from an :class:`~flowkit.EvaluationContext`, with clear errors."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from flowkit.core import EvaluationContext
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError

BLOCK_ELEMENTS = 2**22
"""Largest intermediate a metric builds at once (elements): bounds memory for large sets."""


def require_context(context: object, metric: str) -> EvaluationContext:
    """``context`` if it is an EvaluationContext, else InvalidParameterError."""
    if not isinstance(context, EvaluationContext):
        raise InvalidParameterError(
            f"metric {metric!r} must be called with an EvaluationContext, got {type(context).__name__}"
        )
    return context


def require_field(context: EvaluationContext, field: str, metric: str) -> Any:
    """The context field ``field``; InvalidParameterError when it is ``None``."""
    value = getattr(context, field)
    if value is None:
        raise InvalidParameterError(
            f"metric {metric!r} needs EvaluationContext.{field}, which is None; "
            f"pass {field}= when building the context (or drop the metric)"
        )
    return value


def check_points(name: str, points: object, metric: str, *, min_points: int = 1) -> Tensor:
    """``points`` if it is a finite floating tensor ``[n, *event_shape]`` with ``n >= min_points``."""
    if not isinstance(points, Tensor) or not points.is_floating_point():
        kind = points.dtype if isinstance(points, Tensor) else type(points).__name__
        raise ShapeError(f"metric {metric!r}: {name} must be a floating-point tensor [n, *event_shape], got {kind}")
    if points.ndim < 1 or points.shape[0] < min_points:
        raise ShapeError(
            f"metric {metric!r}: {name} needs shape [n, *event_shape] with n >= {min_points}, got {list(points.shape)}"
        )
    if not torch.isfinite(points).all():
        raise NonFiniteError(f"metric {metric!r}: {name} contains NaN or infinite values")
    return points


def paired_points(context: object, metric: str, *, min_points: int = 1) -> tuple[Tensor, Tensor]:
    """Samples and reference of ``context`` flattened to ``[n, D]`` and ``[m, D]``.

    Both must share one event shape; the reference follows the samples' device and both take
    their promoted dtype.
    """
    context = require_context(context, metric)
    samples = check_points("samples", context.samples, metric, min_points=min_points)
    reference = check_points("reference", context.reference, metric, min_points=min_points)
    if samples.shape[1:] != reference.shape[1:]:
        raise ShapeError(
            f"metric {metric!r}: samples {list(samples.shape)} and reference {list(reference.shape)} "
            f"have different event shapes {list(samples.shape[1:])} and {list(reference.shape[1:])}"
        )
    dtype = torch.promote_types(samples.dtype, reference.dtype)
    x = samples.detach().reshape(samples.shape[0], -1).to(dtype)
    y = reference.detach().reshape(reference.shape[0], -1).to(device=samples.device, dtype=dtype)
    return x, y
