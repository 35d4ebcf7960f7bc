"""Conditional Flow Matching (Lipman et al., 2023), registered as ``cfm``.

``L_CFM = E_{t, x1 ~ q, x0 ~ p0} w(t) ||v(t, x_t) - u_t(x_t | x1)||^2 / D`` with ``x_t`` and the
conditional target ``u_t`` from the path (for a Gaussian path ``u_t = a' x1 + s' eps``); see
:mod:`flowkit.objectives.regression` for the sampling order and the reduction.
"""

from __future__ import annotations

from torch import Tensor

from flowkit.core.path import PathSample
from flowkit.objectives.regression import RegressionObjective

__all__ = ["ConditionalFlowMatching"]


class ConditionalFlowMatching(RegressionObjective):
    """Regresses onto the conditional field ``u_t(x_t | x0, x1)`` drawn by the path (works with any path)."""

    def target(self, sample: PathSample) -> Tensor:
        """``sample.u_t``."""
        return sample.u_t
