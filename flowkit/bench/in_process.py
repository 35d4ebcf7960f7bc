"""Carrying in-process registrations (``flowkit.register``) to the processes that run cells.

A worker process (``workers > 1``) or a Dask worker starts with the registry its installed
plugins give; a component that the submitting process registered with :func:`flowkit.register`
is unknown there. :func:`registrations_for` collects the in-process components the cells use,
as ``(kind, name, factory, metadata)`` tuples that pickle by reference (the worker imports the
factory's module, as for a ``"module:factory"`` reference); :func:`install` registers them in
the worker. A factory that cannot travel — a lambda, a closure, a class defined inside a
function — is a :class:`~flowkit.exceptions.ConfigError` before any cell starts, naming the
component and the ways out.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from typing import Any

from flowkit.bench.grid import Cell
from flowkit.exceptions import ConfigError

__all__ = ["Registration", "install", "registrations_for"]

Registration = tuple[str, str, Callable[..., Any], dict[str, Any]]


def registrations_for(cells: Iterable[Cell], where: str) -> list[Registration]:
    """The in-process registrations that ``cells`` use, checked to pickle; ``where`` names the
    processes they go to (for the error message)."""
    from flowkit import registry

    in_process = {(spec.kind, spec.name): spec for spec in registry.default_registry().in_process()}
    used = dict.fromkeys(pair for cell in cells for pair in cell.components_used() if pair in in_process)
    registrations: list[Registration] = []
    for kind, name in used:
        spec = in_process[(kind, name)]
        registration = (kind, name, spec.factory, dict(spec.metadata))
        try:
            pickle.dumps(registration)
        except Exception as exc:
            raise ConfigError(
                f"{kind} {name!r} was registered in process with a factory that cannot be sent to {where} "
                f"({type(exc).__name__}: {exc}). Define the factory at module level in an importable module "
                f"(and register it there, or name it as 'module:factory' in the suite), or run with workers=1"
            ) from None
        registrations.append(registration)
    return registrations


def install(registrations: Iterable[Registration]) -> None:
    """Register each forwarded component in this (worker) process, replacing a same-named one
    (importing the factory's module may already have registered it)."""
    from flowkit import registry

    for kind, name, factory, metadata in registrations:
        registry.default_registry().register(kind, name, factory, replace=True, **metadata)
