r"""Built-in vector-field networks, conditioning and classifier-free guidance.

- :class:`MLPVectorField` (registry name ``mlp``) for vector data, :class:`UNetVectorField`
  (``unet``) for images; ``num_classes=K`` makes either class-conditional (also registered as
  ``conditional-mlp`` and ``conditional-unet``, where ``num_classes`` is required).
- :func:`guided` wraps a conditional model for classifier-free guidance:
  $v = v_\varnothing + w\, (v_y - v_\varnothing)$ with $w$ = ``scale`` and $\varnothing$ the null label.
- :data:`NULL_LABEL` is the label value that asks a conditional model for the unconditional field.
- :class:`ScoreFlowModel` holds a velocity and a score network (``score-flow-mlp``: two MLPs),
  for score + flow matching (``sf2m``) and SDE sampling with a learned score.
- :func:`count_parameters` counts a module's parameters.
"""

from flowkit.models.conditioning import NULL_LABEL, ConditionEmbedding
from flowkit.models.embeddings import FourierTimeEmbedding, SinusoidalTimeEmbedding, time_embedding
from flowkit.models.guidance import ClassifierFreeGuidance, guided
from flowkit.models.mlp import MLPVectorField
from flowkit.models.parameters import count_parameters
from flowkit.models.score_flow import ScoreFlowModel, score_flow_mlp
from flowkit.models.unet import UNetVectorField

__all__ = [
    "NULL_LABEL",
    "ClassifierFreeGuidance",
    "ConditionEmbedding",
    "FourierTimeEmbedding",
    "MLPVectorField",
    "ScoreFlowModel",
    "SinusoidalTimeEmbedding",
    "UNetVectorField",
    "count_parameters",
    "guided",
    "score_flow_mlp",
    "time_embedding",
]
