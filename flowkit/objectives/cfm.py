r"""Conditional Flow Matching (Lipman et al., 2023), registered as ``cfm``.

$L_{\mathrm{CFM}} = \mathbb{E}_{t,\, x_1 \sim q,\, x_0 \sim p_0} w(t) \lVert v(t, x_t) - u_t(x_t \mid x_1) \rVert^2 / D$
with $x_t$ and the conditional target $u_t$ from the path (for a Gaussian path $u_t = a' x_1 + s' \varepsilon$); see
:mod:`flowkit.objectives.regression` for the sampling order and the reduction.
"""

from __future__ import annotations

from torch import Tensor

from flowkit.core.path import PathSample
from flowkit.objectives.regression import RegressionObjective

__all__ = ["ConditionalFlowMatching"]


class ConditionalFlowMatching(RegressionObjective):
    r"""Regresses onto the conditional field $u_t(x_t \mid x_0, x_1)$ drawn by the path (works with any path)."""

    def target(self, sample: PathSample) -> Tensor:
        """``sample.u_t``."""
        return sample.u_t
