"""Registers the built-in probability paths (kind ``"path"``): each module's ``flowkit_register_paths``."""

from __future__ import annotations

from flowkit._builtin_plugins import register_family
from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register the paths that the modules of :mod:`flowkit.paths` declare (``ot``, ``vp``, ``ve``, ``cosine``, ``schedule``)."""
    register_family("flowkit.paths", "flowkit_register_paths", register)
