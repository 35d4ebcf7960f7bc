"""Registers the built-in couplings (kind ``"coupling"``)."""

from __future__ import annotations

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_couplings(register: Register) -> None:
    """Register ``independent``, ``ot``, ``sinkhorn``, ``unbalanced-ot`` and ``partial-ot``."""
    from flowkit.couplings import (
        ExactOTCoupling,
        IndependentCoupling,
        PartialOTCoupling,
        SinkhornCoupling,
        UnbalancedOTCoupling,
    )

    register("independent", IndependentCoupling, description="independent pairs (x0, x1) ~ p0 x q (the paper)")
    register("ot", ExactOTCoupling, description="exact minibatch OT: least-squared-distance permutation of x0")
    register(
        "sinkhorn",
        SinkhornCoupling,
        description="entropic minibatch OT (log-domain Sinkhorn in torch; reg= relative or epsilon= absolute)",
    )
    register(
        "unbalanced-ot",
        UnbalancedOTCoupling,
        description="unbalanced entropic minibatch OT, marginals relaxed by tau KL (on device, capturable)",
    )
    register(
        "partial-ot",
        PartialOTCoupling,
        description="partial entropic minibatch OT moving the mass fraction `mass` (on device, capturable)",
    )
