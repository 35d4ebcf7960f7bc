r"""Classifier-free guidance (Ho & Salimans, 2022) as a wrapper around any conditional model.

For a class-conditional vector field trained with condition dropout, the guided field is

$$
v_w(t, x \mid y) = v(t, x \mid \varnothing) + w \bigl(v(t, x \mid y) - v(t, x \mid \varnothing)\bigr)
$$

($\varnothing$: the null label), so $w = 0$ gives the unconditional prediction, $w = 1$ the conditional one, and $w > 1$
extrapolates away from the unconditional field (sharper, less diverse samples).

Both predictions come from one forward pass on a batch of size ``2B``: the inputs are
duplicated and the second copy carries :data:`flowkit.models.NULL_LABEL`. This needs the wrapped
model to treat ``NULL_LABEL`` as "no label" (every conditional flowkit model does) and to process
the samples of a batch independently (no BatchNorm in training mode). Guidance is a sampling-time
device: call ``model.eval()`` first, or condition dropout would also drop labels of the
conditional pass.
"""

from __future__ import annotations

import torch
from torch import Tensor

from flowkit.core import VectorFieldModel
from flowkit.exceptions import InvalidParameterError
from flowkit.models.boundary import checks_active
from flowkit.models.conditioning import NULL_LABEL
from flowkit.shapes import Batch, Labels, Time, checked
from flowkit.validation import require_float

__all__ = ["ClassifierFreeGuidance", "guided"]


class ClassifierFreeGuidance(VectorFieldModel):
    r"""Classifier-free guidance around a conditional ``model``.

    $v_w(t, x \mid y) = v(t, x \mid \varnothing) + w\, (v(t, x \mid y) - v(t, x \mid \varnothing))$.

    Called like any :class:`flowkit.VectorFieldModel`, but ``y`` is required.
    """

    def __init__(self, model: torch.nn.Module, scale: float):
        super().__init__()
        num_classes = getattr(model, "num_classes", None)
        if not isinstance(model, torch.nn.Module) or num_classes is None:
            raise InvalidParameterError(
                f"guidance needs a class-conditional model (a module with num_classes set), got "
                f"{type(model).__name__} with num_classes={num_classes!r}; build it with num_classes=K"
            )
        self.model = model
        self.scale = require_float("guidance scale", scale)
        self.num_classes = num_classes

    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        """The guided field at ``(t, x)`` for labels ``y`` (``[batch]``, required)."""
        if y is None:
            raise InvalidParameterError(
                "guided model: labels y are required (the unconditional pass uses the null label itself)"
            )
        if checks_active():
            self._check_inputs(x, t, y)
        both = self.model(torch.cat([t, t]), torch.cat([x, x]), torch.cat([y, torch.full_like(y, NULL_LABEL)]))
        conditional, unconditional = both.chunk(2)
        return unconditional + self.scale * (conditional - unconditional)

    @checked
    def _check_inputs(self, x: Batch, t: Time, y: Labels) -> None:
        """Rank and batch agreement of ``x``, ``t`` and ``y`` (the wrapped model checks the rest)."""

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


def guided(model: torch.nn.Module, scale: float) -> ClassifierFreeGuidance:
    r"""Wrap a conditional ``model`` so that it returns $v_\varnothing + w\, (v_y - v_\varnothing)$, $w$ = ``scale``."""
    return ClassifierFreeGuidance(model, scale)
