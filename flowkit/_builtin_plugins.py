"""The modules of flowkit's built-in plugins, loaded like any other plugin.

Each module holds :data:`flowkit.hookimpl` functions that register one family of components
(as pytest lists its default plugins); the registry core names no component itself.

A built-in component registers in its own module: beside the class, a :data:`flowkit.hookimpl`
function of its family's hook (``flowkit_register_paths`` in ``flowkit/paths/ot.py``, ...). The
family's ``plugin`` module calls them all through :func:`register_family`, so adding a component
touches no list.
"""

from __future__ import annotations

import importlib
import pkgutil

from flowkit.hookspecs import Register

BUILTIN_PLUGINS: tuple[str, ...] = (
    "flowkit.paths.plugin",
    "flowkit.couplings.plugin",
    "flowkit.objectives.plugin",
    "flowkit.solvers.plugin",
    "flowkit.models.plugin",
    "flowkit.data.plugin",
    "flowkit.metrics.plugin",
    "flowkit.pipeline.plugin",
    "flowkit.manifolds.plugin",
    "flowkit.discrete.plugin",
)


def register_family(package: str, hook: str, register: Register) -> None:
    """Call ``hook(register)`` of every module of ``package`` that defines that function itself.

    Modules are visited in name order (the family's ``plugin`` module, which calls this, is
    skipped); a function imported from another module is not called twice.
    """
    family = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(family.__path__), key=lambda found: found.name):
        if info.name == "plugin" or info.ispkg:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        function = getattr(module, hook, None)
        if callable(function) and getattr(function, "__module__", None) == module.__name__:
            function(register)
