"""Declared capabilities: what one component needs from another, checked when a pipeline is built.

A :class:`Capability` names a member a component must have (a method with the keyword arguments
it is called with, or an attribute with a valid value) and who provides it. A consumer declares
the capabilities it needs, e.g. an objective's :attr:`flowkit.Objective.path_requirements`
(every objective needs the path's :data:`PRIOR` and :data:`TIME_RANGE`; the marginal-field FM
objective also needs :data:`MARGINAL_FIELD`), and :func:`require_capabilities` checks them before
anything is trained, with an error naming the missing member.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from flowkit.core.signatures import binding_problem
from flowkit.exceptions import CapabilityError

__all__ = ["MARGINAL_FIELD", "PRIOR", "TIME_RANGE", "Capability", "require_capabilities"]


@attrs.frozen
class Capability:
    """A member ``attribute`` that a component must provide.

    ``name``: what it is, in words; ``usage``: how it is called or read (shown in errors);
    ``keywords``: for a method, the keyword arguments it must accept; ``validate``: for an
    attribute, a function returning a problem (``str``) or ``None``; ``provided_by``: which
    components have it (a hint in errors).
    """

    name: str
    attribute: str
    usage: str
    provided_by: str = ""
    keywords: tuple[str, ...] = ()
    validate: Callable[[Any], str | None] | None = None

    def problem(self, component: object) -> str | None:
        """Why ``component`` lacks this capability, or ``None`` if it has it."""
        try:
            value = getattr(component, self.attribute)
        except AttributeError:
            return f"has no {'method' if self.keywords else 'attribute'} {self.attribute}"
        except Exception as exc:  # a property that raises
            return f"raised {type(exc).__name__} reading {self.attribute}: {exc}"
        if self.keywords:
            if not callable(value):
                return f"has {self.attribute}, but it is a {type(value).__name__}, not a method"
            problem = binding_problem(value, self.keywords, partial=True)
            if problem is not None:
                return (
                    f"has {self.attribute}, but it does not accept the keywords {', '.join(self.keywords)} ({problem})"
                )
        if self.validate is not None:
            return self.validate(value)
        return None


def _prior_problem(prior: Any) -> str | None:
    missing = [m for m in ("sample", "log_prob") if not callable(getattr(prior, m, None))]
    if missing:
        return f"has a prior {type(prior).__name__} without {' and '.join(missing)}"
    return None


def _time_range_problem(value: Any) -> str | None:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        return f"has time_range {value!r}, not a pair of numbers (t_start, t_end)"
    if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi <= 1.0):
        return f"has time_range {value!r}; it must satisfy 0 <= t_start < t_end <= 1"
    return None


PRIOR = Capability(
    name="a prior",
    attribute="prior",
    usage="prior.sample(shape, device=, dtype=, generator=) and prior.log_prob(x0)",
    provided_by="every flowkit.ProbabilityPath (abstract property prior)",
    validate=_prior_problem,
)
"""The path's source distribution ``p0``: objectives draw ``x0`` from it, sampling starts from it."""

TIME_RANGE = Capability(
    name="a time range",
    attribute="time_range",
    usage="time_range = (t_start, t_end) with 0 <= t_start < t_end <= 1",
    provided_by="every flowkit.ProbabilityPath (default (0.0, 1.0))",
    validate=_time_range_problem,
)
"""The interval where the path's target field is finite; training times are drawn inside it."""

MARGINAL_FIELD = Capability(
    name="a marginal field",
    attribute="marginal_vector_field",
    usage="marginal_vector_field(x=, t=, data=, chunk_size=) -> u_t(x) of the empirical data [batch, *dims]",
    provided_by="Gaussian paths (flowkit.GaussianPath: ot, vp, ve, cosine)",
    keywords=("x", "t", "data", "chunk_size"),
)
r"""$u_t(x) = \sum_i w_i(x)\, u_t(x \mid x_1^{(i)})$ over a data set, needed by the ``fm`` objective."""


def require_capabilities(component: object, capabilities: Iterable[Capability], *, needed_by: str, role: str) -> None:
    """Raise :class:`CapabilityError` unless ``component`` has every capability.

    ``needed_by`` names the consumer (``"objective 'fm'"``) and ``role`` the component
    (``"path 'bridge'"``); the message names every missing member, how it is used and who has it.
    """
    problems = []
    for capability in capabilities:
        problem = capability.problem(component)
        if problem is not None:
            hint = f" (provided by {capability.provided_by})" if capability.provided_by else ""
            problems.append(f"{capability.name}, {capability.usage}: {type(component).__name__} {problem}{hint}")
    if problems:
        raise CapabilityError(f"{needed_by} needs from its {role}:\n  " + "\n  ".join(problems))
