"""What a factory or method accepts, read from its signature: the one place flowkit inspects signatures.

The registry lists and checks a factory's parameters with these helpers, the pipeline fills in
parameters a factory declares (``vocab_size``, ``dim``, a required ``num_classes``), a benchmark
suite checks its parameter names before anything runs, capabilities check a method's keywords, and a component's recorded constructor arguments are
named for its checkpoint.
A callable whose signature cannot be read (some builtins and C extensions) is trusted: it has no
known parameters, and every call binds.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "accepts_keyword",
    "as_keywords",
    "binding_problem",
    "keyword_names",
    "requires_keyword",
    "signature_of",
]


def signature_of(factory: Callable[..., Any]) -> inspect.Signature | None:
    """``inspect.signature(factory)``, or ``None`` for a callable without a readable signature."""
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):
        return None


def keyword_names(factory: Callable[..., Any]) -> list[str] | None:
    """The parameters a caller can pass by keyword, in order, a catch-all as ``"**name"``;
    ``None`` when the signature cannot be read."""
    signature = signature_of(factory)
    if signature is None:
        return None
    return [
        ("**" + p.name) if p.kind is p.VAR_KEYWORD else p.name
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY)
    ]


def accepts_keyword(factory: Callable[..., Any], name: str) -> bool:
    """Whether ``factory`` declares a parameter ``name`` it takes by keyword (a ``**kwargs``
    catch-all does not count: it does not say that ``name`` means anything)."""
    return name in (keyword_names(factory) or ())


def requires_keyword(factory: Callable[..., Any], name: str) -> bool:
    """Whether ``factory`` declares a keyword parameter ``name`` without a default."""
    signature = signature_of(factory)
    parameter = None if signature is None else signature.parameters.get(name)
    return (
        parameter is not None
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD, parameter.POSITIONAL_ONLY)
        and parameter.default is parameter.empty
    )


def binding_problem(
    factory: Callable[..., Any], keywords: Mapping[str, Any] | Iterable[str], *, partial: bool
) -> str | None:
    """Why calling ``factory`` with these keyword arguments cannot bind, or ``None`` when it can.

    ``partial`` allows required parameters to be missing (a check of the names given so far);
    otherwise every required parameter must be among ``keywords``. Only names are checked, not
    values. A factory without a readable signature binds anything.
    """
    signature = signature_of(factory)
    if signature is None:
        return None
    arguments = dict.fromkeys(keywords)
    try:
        if partial:
            signature.bind_partial(**arguments)
        else:
            signature.bind(**arguments)
    except TypeError as exc:
        return str(exc)
    return None


def as_keywords(factory: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments equivalent to ``factory(*args, **kwargs)``: positional arguments named
    through the signature, the entries of a ``**`` catch-all spread out.

    Raises :class:`LookupError` when an argument can only be given by position (``*args`` or a
    positional-only parameter) or the signature cannot be read.
    """
    name = getattr(factory, "__qualname__", repr(factory))
    signature = signature_of(factory)
    if signature is None:
        raise LookupError(f"{name} has no readable signature to name its arguments by")
    params: dict[str, Any] = {}
    for key, value in signature.bind(*args, **kwargs).arguments.items():
        kind = signature.parameters[key].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            params.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL or kind is inspect.Parameter.POSITIONAL_ONLY:
            raise LookupError(f"{name} was built with positional-only arguments, which a config cannot name")
        else:
            params[key] = value
    return params
