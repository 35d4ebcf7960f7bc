"""How a component object was built, so that a pipeline made from objects can be saved as data.

Every core interface (path, coupling, objective, solver, model) derives from
:class:`RecordsArguments`, which keeps the arguments an instance was constructed with.
:func:`construction_parameters` turns them into the keyword parameters that rebuild the object
as ``type(obj)(**params)``: a checkpoint then stores the class as a factory reference
``"package.module:Class"`` plus these parameters, and never a pickle. A class can instead
define ``factory_parameters()`` returning its keyword parameters itself.
"""

from __future__ import annotations

from typing import Any

import attrs

from flowkit.core.signatures import as_keywords

__all__ = ["RecordsArguments", "construction_parameters"]

_ARGUMENTS = "_flowkit_arguments"


class RecordsArguments:
    """Keeps the positional and keyword arguments an instance was constructed with."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        instance = super().__new__(cls)
        try:
            object.__setattr__(instance, _ARGUMENTS, (args, kwargs))
        except AttributeError:  # a class with __slots__ only: attrs fields are used instead
            pass
        return instance


def construction_parameters(component: object) -> dict[str, Any]:
    """The keyword parameters that rebuild ``component`` as ``type(component)(**params)``.

    From, in this order: the component's ``factory_parameters()``; the arguments recorded by
    :class:`RecordsArguments` (positional ones named through the constructor's signature); the
    ``attrs`` fields that differ from their defaults. Raises :class:`LookupError` saying why
    when none of these applies.
    """
    custom = getattr(component, "factory_parameters", None)
    if callable(custom):
        return dict(custom())
    cls = type(component)
    recorded = getattr(component, "__dict__", {}).get(_ARGUMENTS)
    if recorded is not None:
        args, kwargs = recorded
        return as_keywords(cls, args, kwargs)
    if attrs.has(cls):
        return {
            field.alias: getattr(component, field.name)
            for field in attrs.fields(cls)
            if field.init
            and not (
                field.default is not attrs.NOTHING
                and not isinstance(field.default, attrs.Factory)  # type: ignore[arg-type]
                and getattr(component, field.name) == field.default
            )
        }
    raise LookupError(f"{cls.__qualname__} records no constructor arguments and defines no factory_parameters()")
