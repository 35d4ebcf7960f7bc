"""Registers the built-in probability paths (kind ``"path"``)."""

from __future__ import annotations

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register ``ot``, ``vp``, ``ve``, ``cosine`` and ``schedule``."""
    from flowkit.paths import (
        ConditionalOTPath,
        CosinePath,
        SchedulePath,
        VarianceExplodingPath,
        VariancePreservingPath,
    )

    register("ot", ConditionalOTPath, description="conditional OT path: a = t, s = 1 - (1 - sigma_min) t")
    register("vp", VariancePreservingPath, description="variance-preserving diffusion path (beta_min, beta_max)")
    register("ve", VarianceExplodingPath, description="variance-exploding path, prior N(0, sigma_max^2 I)")
    register("cosine", CosinePath, description="cosine path: a = sin(pi t / 2), s = cos(pi t / 2)")
    register("schedule", SchedulePath, description="Gaussian path from user callables a(t), s(t) [, da, ds]")
