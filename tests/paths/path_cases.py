"""The paths that the generic path tests run on: every built-in Gaussian path in the registry.

A Gaussian path that flowkit registers (its module's ``flowkit_register_paths``) is picked up here
by its registry name and built with its defaults, so adding one needs no entry in this file.
``PARAMETERS`` holds only what a path needs to be built at all (``schedule`` takes callables)
or to stay well conditioned in float64 (a moderate VE ``sigma_max``); ``EXTRA_CASES`` adds
settings worth testing besides the defaults. A path's closed forms are tested in its own test.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flowkit import GaussianPath, registry

PARAMETERS: dict[str, dict] = {
    # a path that is none of the built-ins: a = t^2 (3 - 2t), s = (1 - t) + 0.05 t^2
    "schedule": {"a": lambda t: t * t * (3 - 2 * t), "s": lambda t: (1 - t) + 0.05 * t * t},
    "ve": {"sigma_min": 0.02, "sigma_max": 5.0},
}
EXTRA_CASES: dict[str, tuple[str, dict]] = {"ot-sigma0": ("ot", {"sigma_min": 0.0})}


def builtin_gaussian_path_names() -> list[str]:
    """The registry names of the Gaussian paths that flowkit itself provides, sorted."""
    names = []
    for name in registry.names("path"):
        spec = registry.get("path", name)
        factory = spec.factory
        if spec.provider.distribution == "flowkit" and isinstance(factory, type) and issubclass(factory, GaussianPath):
            names.append(name)
    return names


def path_factories() -> dict[str, Callable[[], GaussianPath]]:
    """Case name -> a function building that path (every built-in Gaussian path, plus ``EXTRA_CASES``)."""
    cases = {name: (name, PARAMETERS.get(name, {})) for name in builtin_gaussian_path_names()}
    cases.update(EXTRA_CASES)
    return {case: partial(registry.create, "path", name, **params) for case, (name, params) in cases.items()}
