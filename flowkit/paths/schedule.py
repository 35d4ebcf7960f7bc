r"""A Gaussian path from user callables, registered as ``schedule``.

``SchedulePath(a=..., s=...)`` is the path $x_t = a(t)\, x_1 + s(t)\, \varepsilon$ for elementwise callables
``a``, ``s`` mapping a tensor of times to a tensor of the same shape (or a Python number for a
constant). ``da`` and ``ds`` are optional closed-form derivatives; without them $a'$ and $s'$
come from autograd through ``a`` and ``s``. The callables are probed at
construction on a grid over ``time_range``, so a wrong shape or a non-finite value fails early.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError
from flowkit.hookspecs import Register, hookimpl
from flowkit.paths.gaussian import GaussianPath, time_derivative
from flowkit.validation import field_validator, require_float, require_instance, short_repr

__all__ = ["SchedulePath"]

ScheduleFn = Callable[[Tensor], "Tensor | float"]

_PROBE_POINTS = 9


_CALLABLE = "a callable of t (a tensor of times)"
_check_callable = field_validator(require_instance, kind=Callable, accepted=_CALLABLE)
_check_optional_callable = field_validator(require_instance, kind=Callable, accepted=_CALLABLE, optional=True)


def _to_range(value: Sequence[float]) -> tuple[float, float]:
    accepted = "(t_min, t_max) with 0 <= t_min < t_max <= 1"
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise InvalidParameterError(f"time_range must be {accepted}, got {short_repr(value)}") from None
    lo = require_float("time_range[0]", lo, minimum=0.0, maximum=1.0, note=f"time_range is {accepted}")
    return lo, require_float("time_range[1]", hi, above=lo, maximum=1.0, note=f"time_range is {accepted}")


def _name(fn: ScheduleFn | None) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


@attrs.frozen(repr=False)
class SchedulePath(GaussianPath):
    r"""The Gaussian path of the schedule $a(t), s(t)$ given as callables.

    Parameters:
        a, s: elementwise callables of a tensor of times ($s \ge 0$ on ``time_range``).
        da, ds: optional closed-form derivatives; autograd is used where they are omitted.
        prior_std: $\sigma_0$: the prior is $\mathcal{N}(0, \sigma_0^2 I)$ and the noise is
            $\varepsilon = x_0 / \sigma_0$.
        time_range: ``(t_min, t_max)`` within $[0, 1]$ where the schedule is valid.
    """

    a_fn: ScheduleFn = attrs.field(alias="a", validator=_check_callable)
    s_fn: ScheduleFn = attrs.field(alias="s", validator=_check_callable)
    da_fn: ScheduleFn | None = attrs.field(default=None, alias="da", validator=_check_optional_callable)
    ds_fn: ScheduleFn | None = attrs.field(default=None, alias="ds", validator=_check_optional_callable)
    prior_std: float = attrs.field(default=1.0, converter=lambda value: require_float("prior_std", value, above=0.0))
    _range: tuple[float, float] = attrs.field(default=(0.0, 1.0), alias="time_range", converter=_to_range)

    def __attrs_post_init__(self) -> None:
        t = torch.linspace(*self._range, _PROBE_POINTS)
        for name in ("a", "s", "da", "ds"):
            value = getattr(self, name)(t)
            if not bool(torch.isfinite(value).all()):
                raise InvalidParameterError(
                    f"schedule {name}(t) must return finite values on time_range={self._range}; "
                    f"for t = {t.tolist()} it returned {value.tolist()}"
                )
        if bool((self.s(t) < 0).any()):
            raise InvalidParameterError(f"schedule s(t) must be >= 0 on time_range={self._range}")

    def __repr__(self) -> str:
        derivatives = "".join(
            f", {name}={_name(fn)}" for name, fn in (("da", self.da_fn), ("ds", self.ds_fn)) if fn is not None
        )
        return (
            f"SchedulePath(a={_name(self.a_fn)}, s={_name(self.s_fn)}{derivatives}, "
            f"prior_std={self.prior_std!r}, time_range={self._range!r})"
        )

    @property  # ProbabilityPath.time_range is a class-attribute default; paths may make it read-only
    def time_range(self) -> tuple[float, float]:  # type: ignore[override]
        """``time_range`` as given."""
        return self._range

    @staticmethod
    def _call(fn: ScheduleFn, t: Tensor) -> Tensor:
        value = fn(t)
        if not isinstance(value, Tensor):
            return torch.full_like(t, float(value))
        if value.shape == t.shape:
            return value
        try:
            return value.to(dtype=t.dtype, device=t.device).expand(t.shape)
        except RuntimeError:
            raise InvalidParameterError(
                f"schedule functions must return a tensor shaped like t {list(t.shape)} (or broadcastable to it), "
                f"got shape {list(value.shape)}"
            ) from None

    def a(self, t: Tensor) -> Tensor:
        """The user's $a(t)$."""
        return self._call(self.a_fn, t)

    def s(self, t: Tensor) -> Tensor:
        """The user's $s(t)$."""
        return self._call(self.s_fn, t)

    def da(self, t: Tensor) -> Tensor:
        """The user's ``da(t)``, else $da / dt$ by autograd."""
        return self._call(self.da_fn, t) if self.da_fn is not None else time_derivative(self.a, t)

    def ds(self, t: Tensor) -> Tensor:
        """The user's ``ds(t)``, else $ds / dt$ by autograd."""
        return self._call(self.ds_fn, t) if self.ds_fn is not None else time_derivative(self.s, t)


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register ``schedule``."""
    register("schedule", SchedulePath, description="Gaussian path from user callables a(t), s(t) [, da, ds]")
