"""Registers the built-in objectives (kind ``"objective"``)."""

from __future__ import annotations

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_objectives(register: Register) -> None:
    """Register ``cfm``, ``fm`` and ``sf2m``."""
    from flowkit.objectives import ConditionalFlowMatching, FlowMatching, ScoreFlowMatching

    register("cfm", ConditionalFlowMatching, description="conditional flow matching: regress onto u_t(x_t | x1)")
    register("fm", FlowMatching, description="flow matching onto the exact marginal field of a reference set")
    register(
        "sf2m",
        ScoreFlowMatching,
        description="score + flow matching: CFM for the velocity and weighted denoising score matching for a score head",
    )
