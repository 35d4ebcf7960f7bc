r"""A model with a velocity and a score head, for score + flow matching (``sf2m``).

:class:`ScoreFlowModel` holds two networks: ``velocity`` $v(t, x\, [, y])$ and ``score``
$s(t, x\, [, y]) \approx \nabla_x \log p_t(x)$. Called as a vector-field model it returns the velocity, so
ODE sampling, likelihoods, EMA and checkpoints work as for any model; :meth:`ScoreFlowModel.score`
gives the learned score, which the ``sf2m`` objective trains and the SDE samplers use with
``score="model"`` ($dx = [v + \frac{g^2}{2} s]\, dt + g\, dW$).

``score-flow-mlp`` builds both heads as :class:`~flowkit.models.MLPVectorField` networks of the
same size.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import Tensor

from flowkit.core import VectorFieldModel
from flowkit.exceptions import InvalidParameterError
from flowkit.hookspecs import Register, hookimpl
from flowkit.models.mlp import MLPVectorField

__all__ = ["ScoreFlowModel", "score_flow_mlp"]


class ScoreFlowModel(VectorFieldModel):
    r"""Two networks: ``forward`` is the velocity, :meth:`score` the score $\nabla_x \log p_t(x)$."""

    def __init__(self, velocity: VectorFieldModel, score: VectorFieldModel):
        super().__init__()
        for name, network in (("velocity", velocity), ("score", score)):
            if not isinstance(network, VectorFieldModel):
                raise InvalidParameterError(f"{name} must be a flowkit.VectorFieldModel, got {type(network).__name__}")
        if getattr(velocity, "num_classes", None) != getattr(score, "num_classes", None):
            raise InvalidParameterError("the velocity and score networks must take the same num_classes")
        self.velocity = velocity
        self.score_network = score
        self.num_classes = velocity.num_classes

    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        r"""The velocity $v(t, x \mid y)$."""
        return self.velocity(t, x) if y is None else self.velocity(t, x, y)

    def score(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        r"""The learned score $s(t, x \mid y) \approx \nabla_x \log p_t(x \mid y)$, shaped like ``x``."""
        return self.score_network(t, x) if y is None else self.score_network(t, x, y)


def score_flow_mlp(**params: Any) -> ScoreFlowModel:
    """A :class:`ScoreFlowModel` whose velocity and score heads are equal-size MLPs (the parameters of ``mlp``)."""
    return ScoreFlowModel(MLPVectorField(**params), MLPVectorField(**params))


score_flow_mlp.__signature__ = inspect.signature(MLPVectorField).replace(  # type: ignore[attr-defined]
    return_annotation=ScoreFlowModel
)


@hookimpl
def flowkit_register_models(register: Register) -> None:
    """Register ``score-flow-mlp``."""
    register(
        "score-flow-mlp",
        score_flow_mlp,
        description="MLP velocity and MLP score heads (for the sf2m objective and SDE sampling with score='model')",
    )
