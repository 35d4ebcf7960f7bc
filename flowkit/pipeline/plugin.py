"""Registers the components built on whole pipelines: the coupling ``reflow`` (kind ``"coupling"``)."""

from __future__ import annotations

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_couplings(register: Register) -> None:
    """Register ``reflow`` (:func:`flowkit.pipeline.reflow.reflow`)."""
    from flowkit.pipeline.reflow import reflow

    register(
        "reflow",
        reflow,
        description="rectified flow: pairs (x0, T(x0)) from a teacher flow's ODE (teacher=, num_pairs=, solver=, seed=)",
    )
