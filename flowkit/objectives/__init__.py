r"""Built-in training objectives: Conditional Flow Matching (``cfm``), Flow Matching (``fm``) and
score + flow matching (``sf2m``).

All regress $v(t, x_t)$ onto a target field, on a path, a coupling and a time distribution;
``cfm`` uses the conditional field, ``fm`` the exact marginal field of a reference set, ``sf2m``
the conditional field plus denoising score matching for a separate score head.
"""

from flowkit.objectives.cfm import ConditionalFlowMatching
from flowkit.objectives.fm import FlowMatching
from flowkit.objectives.regression import RegressionObjective
from flowkit.objectives.score_flow import ScoreFlowMatching
from flowkit.objectives.time import LogitNormalTime, TimeDistribution, UniformTime

__all__ = [
    "ConditionalFlowMatching",
    "FlowMatching",
    "LogitNormalTime",
    "RegressionObjective",
    "ScoreFlowMatching",
    "TimeDistribution",
    "UniformTime",
]
