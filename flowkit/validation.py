"""Value checks shared by flowkit (parameters in range, finite inputs, times in range), and the
short form in which error messages show a value (:func:`short_repr`: a tensor as its shape and
dtype, never its entries).

Error policy: every check raises a :class:`flowkit.exceptions.FlowkitError` subclass
(:class:`~flowkit.exceptions.InvalidParameterError` unless the caller passes ``error=``, e.g.
:class:`~flowkit.exceptions.ConfigError` for configuration files), with one message style::

    {name} must be {what is accepted}, got {short_repr(value)}

Parameter checks (:func:`require_float`, :func:`require_int`, :func:`require_choice`,
:func:`require_instance`) return the value they accept, so they serve as ``attrs`` converters
(``converter=lambda value: require_float("sigma_min", value, minimum=0.0, below=1.0)``);
:func:`field_validator` turns one into an ``attrs`` validator named after the field.
A number range is written ``>= lo``, ``> lo``, ``<= hi``, ``< hi`` or as an interval ``[lo, hi)``.

The tensor checks :func:`require_finite` and :func:`require_times` read a tensor back to the host
(a device synchronisation), so callers run them only while
:func:`flowkit.shapes.shape_checks_enabled` is true, like the shape checks of
:func:`flowkit.shapes.checked`; hot loops turn both off with ``flowkit.shape_checks(False)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError, NonFiniteError, ParameterTypeError

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "field_validator",
    "require_choice",
    "require_finite",
    "require_float",
    "require_float64_array",
    "require_instance",
    "require_int",
    "require_ints",
    "require_keys",
    "require_mapping",
    "require_times",
    "short_repr",
]

SHORT_REPR_LIMIT = 80
"""The most characters :func:`short_repr` shows of one value's ``repr``."""


def short_repr(value: Any, limit: int = SHORT_REPR_LIMIT) -> str:
    """``repr(value)`` for an error message: arrays (tensors, NumPy) as type, shape, dtype and
    device; mappings entry by entry; anything else cut to ``limit`` characters."""
    if isinstance(value, Tensor):
        return (
            f"Tensor(shape={list(value.shape)}, dtype={str(value.dtype).removeprefix('torch.')}, device={value.device})"
        )
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:
        return f"{type(value).__name__}(shape={list(shape)}, dtype={dtype})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {short_repr(item, limit)}" for key, item in value.items()) + "}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(name: str, accepted: str, value: Any, note: str, error: type[Exception]) -> Exception:
    """The error of the one message style: ``{name} must be {accepted} ({note}), got {value}``."""
    return error(f"{name} must be {accepted}{f' ({note})' if note else ''}, got {short_repr(value)}")


def _range_text(minimum: float | None, above: float | None, maximum: float | None, below: float | None) -> str:
    """`` in [lo, hi)``, `` >= lo``, `` < hi``, ... (empty without bounds)."""
    low = f"[{minimum:g}" if minimum is not None else f"({above:g}" if above is not None else None
    high = f"{maximum:g}]" if maximum is not None else f"{below:g})" if below is not None else None
    if low is not None and high is not None:
        return f" in {low}, {high}"
    if minimum is not None:
        return f" >= {minimum:g}"
    if above is not None:
        return f" > {above:g}"
    if maximum is not None:
        return f" <= {maximum:g}"
    return f" < {below:g}" if below is not None else ""


def _in_range(
    number: float, minimum: float | None, above: float | None, maximum: float | None, below: float | None
) -> bool:
    return not (
        (minimum is not None and number < minimum)
        or (above is not None and number <= above)
        or (maximum is not None and number > maximum)
        or (below is not None and number >= below)
    )


class _IntOptions(TypedDict, total=False):
    """The keyword options of :func:`require_int` besides ``optional`` (for its typed overloads)."""

    minimum: float | None
    maximum: float | None
    note: str
    error: type[Exception]


class _FloatOptions(_IntOptions, total=False):
    """The keyword options of :func:`require_float` besides ``optional``."""

    above: float | None
    below: float | None
    finite: bool


@overload
def require_float(
    name: str, value: Any, *, optional: Literal[False] = ..., **options: Unpack[_FloatOptions]
) -> float: ...
@overload
def require_float(name: str, value: Any, *, optional: bool, **options: Unpack[_FloatOptions]) -> float | None: ...


def require_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    finite: bool = True,
    optional: bool = False,
    note: str = "",
    error: type[Exception] = InvalidParameterError,
) -> float | None:
    """``value`` as a ``float`` if it is a real number (not a ``bool``) in range.

    ``minimum``/``maximum`` are inclusive bounds, ``above``/``below`` exclusive ones; NaN is never
    accepted, infinity only where ``finite`` is false; ``None`` is returned as is where ``optional``.
    """
    if value is None and optional:
        return None
    accepted = ("None or " if optional else "") + (
        f"{'a finite number' if finite else 'a number'}{_range_text(minimum, above, maximum, below)}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, accepted, value, note, error)
    number = float(value)
    if math.isnan(number) or (finite and math.isinf(number)) or not _in_range(number, minimum, above, maximum, below):
        raise _fail(name, accepted, value, note, error)
    return number


@overload
def require_int(name: str, value: Any, *, optional: Literal[False] = ..., **options: Unpack[_IntOptions]) -> int: ...
@overload
def require_int(name: str, value: Any, *, optional: bool, **options: Unpack[_IntOptions]) -> int | None: ...


def require_int(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    optional: bool = False,
    note: str = "",
    error: type[Exception] = InvalidParameterError,
) -> int | None:
    """``value`` as an ``int`` if it is an integer (not a ``bool``) in ``[minimum, maximum]``;
    ``None`` is returned as is where ``optional``."""
    if value is None and optional:
        return None
    accepted = ("None or " if optional else "") + f"an integer{_range_text(minimum, None, maximum, None)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(name, accepted, value, note, error)
    if not _in_range(int(value), minimum, None, maximum, None):
        raise _fail(name, accepted, value, note, error)
    return int(value)


def require_ints(
    name: str,
    values: Any,
    *,
    minimum: float | None = None,
    allow_empty: bool = True,
    error: type[Exception] = InvalidParameterError,
) -> tuple[int, ...]:
    """``values`` as a tuple if it is a sequence (list or tuple) of integers ``>= minimum``,
    non-empty unless ``allow_empty``; an entry is named by its index."""
    accepted = f"a {'' if allow_empty else 'non-empty '}sequence of integers{_range_text(minimum, None, None, None)}"
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not (values or allow_empty):
        raise _fail(name, accepted, values, "", error)
    return tuple(require_int(f"{name}[{i}]", value, minimum=minimum, error=error) for i, value in enumerate(values))


def require_float64_array(name: str, value: Any, ndim: int) -> Tensor:
    """``value`` (nested numbers or a tensor) as a finite, non-empty ``ndim``-dimensional float64
    CPU tensor (e.g. mixture weights, means, covariances)."""
    try:
        tensor = torch.as_tensor(value, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidParameterError(f"{name} must be numbers nested {ndim} deep, got {short_repr(value)}") from exc
    if tensor.ndim != ndim or tensor.numel() == 0:
        raise _fail(name, f"a non-empty {ndim}-dimensional array", tensor, "", InvalidParameterError)
    if not torch.isfinite(tensor).all():
        raise _fail(name, "finite", value, "", InvalidParameterError)
    return tensor


def require_choice(
    name: str, value: Any, choices: Collection[Any], *, note: str = "", error: type[Exception] = InvalidParameterError
) -> Any:
    """``value`` if it is one of ``choices`` (of the same type: ``True`` is not ``1``)."""
    if not any(type(value) is type(choice) and value == choice for choice in choices):
        raise _fail(name, f"one of {', '.join(map(repr, choices))}", value, note, error)
    return value


def require_instance(
    name: str,
    value: Any,
    kind: Any,
    accepted: str,
    *,
    optional: bool = False,
    note: str = "",
    error: type[Exception] = ParameterTypeError,
) -> Any:
    """``value`` if it is an instance of ``kind`` (a class, a tuple of classes, or
    ``collections.abc.Callable`` for any callable);
    ``None`` too where ``optional``. ``accepted`` says what is accepted in words."""
    if not (isinstance(value, kind) or (optional and value is None)):
        raise _fail(name, ("None or " if optional else "") + accepted, value, note, error)
    return value


def require_mapping(name: str, value: Any, *, error: type[Exception] = InvalidParameterError) -> Mapping[str, Any]:
    """``value`` if it is a mapping (a table); the message shows the type that came instead."""
    if not isinstance(value, Mapping):
        raise error(f"{name} must be a table (mapping), got {type(value).__name__}: {short_repr(value)}")
    return value


def require_keys(
    name: str, value: Any, accepted: Sequence[str], *, error: type[Exception] = InvalidParameterError
) -> Mapping[str, Any]:
    """``value`` if it is a mapping whose keys are all in ``accepted``; the first unknown key is named."""
    require_mapping(name, value, error=error)
    unknown = [key for key in value if key not in accepted]
    if unknown:
        raise error(f"unknown key {unknown[0]!r} in {name}; accepted keys: {', '.join(accepted)}")
    return value


def field_validator(check: Callable[..., Any], /, **options: Any) -> Callable[[Any, Any, Any], None]:
    """An ``attrs`` validator calling ``check(field name, value, **options)`` (the field's alias,
    i.e. the constructor's parameter name)."""

    def validate(instance: Any, attribute: Any, value: Any) -> None:
        check(attribute.alias or attribute.name, value, **options)

    return validate


def require_finite(where: str, **tensors: Tensor) -> None:
    """Raise :class:`NonFiniteError` naming the first argument that holds NaN or infinity."""
    for name, tensor in tensors.items():
        finite = torch.isfinite(tensor)
        if not bool(finite.all()):
            bad = int((~finite).sum())
            raise NonFiniteError(
                f"{where}: {name} must be finite, but {bad} of its {tensor.numel()} entries are NaN or infinite"
            )


def require_times(where: str, t: Tensor, time_range: tuple[float, float], reason: str = "") -> None:
    """Raise :class:`InvalidParameterError` unless every ``t`` lies in the closed ``time_range``."""
    lo, hi = time_range
    inside = (t >= lo) & (t <= hi)  # False for NaN
    if not bool(inside.all()):
        bad = t[~inside]
        shown = ", ".join(f"{v:.6g}" for v in bad[:3].tolist())
        more = f" (and {bad.numel() - 3} more)" if bad.numel() > 3 else ""
        raise InvalidParameterError(
            f"{where}: t must lie in [{lo:g}, {hi:g}], got {shown}{more}" + (f"; {reason}" if reason else "")
        )
