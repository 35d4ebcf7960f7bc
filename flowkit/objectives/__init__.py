"""Built-in training objectives: Conditional Flow Matching (``cfm``) and Flow Matching (``fm``).

Both regress ``v(t, x_t)`` onto a target field, on a path, a coupling and a time distribution;
``cfm`` uses the conditional field, ``fm`` the exact marginal field of a reference set.
"""

from flowkit.objectives.cfm import ConditionalFlowMatching
from flowkit.objectives.fm import FlowMatching
from flowkit.objectives.regression import RegressionObjective
from flowkit.objectives.time import LogitNormalTime, TimeDistribution, UniformTime

__all__ = [
    "ConditionalFlowMatching",
    "FlowMatching",
    "LogitNormalTime",
    "RegressionObjective",
    "TimeDistribution",
    "UniformTime",
]
