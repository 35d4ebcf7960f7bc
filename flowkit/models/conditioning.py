r"""The conditioning vector $c(t, y)$ shared by the built-in networks, and class-label handling.

A network conditions every layer on

$$
c(t, y) = W_2 \operatorname{silu}(W_1 \phi(t) + b_1) + b_2 + E[y]
$$

where $\phi$ is a time embedding (:mod:`flowkit.models.embeddings`) and $E$ a learned label
embedding with ``num_classes + 1`` rows, the last one being the *null token* that stands for
"no label". The null token is what makes classifier-free guidance work
(Ho & Salimans, 2022): during training (``model.train()``) each label is replaced by the null
token independently with probability ``condition_dropout``, so the same network learns both
$v(t, x \mid y)$ and the unconditional $v(t, x)$.

Label convention for every conditional flowkit model: ``y`` holds integer labels in
``[0, num_classes)``; an entry equal to :data:`NULL_LABEL` (``-1``) asks for the unconditional
field for that sample, and ``y=None`` asks for it for the whole batch. An unconditional model
(``num_classes=None``) refuses labels.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from flowkit.exceptions import InvalidParameterError
from flowkit.models import embeddings
from flowkit.validation import require_float, require_int

__all__ = ["NULL_LABEL", "ConditionEmbedding", "check_labels", "conditional_factory"]

NULL_LABEL = -1
"""The label value that asks a conditional model for the unconditional field (the null token)."""


def check_labels(y: Tensor | None, num_classes: int | None) -> None:
    """Refuse labels for an unconditional model and labels outside ``[0, num_classes)`` or ``NULL_LABEL``.

    The range check reads the labels' minimum and maximum (a device synchronisation), so
    models call it only while the runtime checks are on.
    """
    if y is None:
        return
    if num_classes is None:
        raise InvalidParameterError(
            "y: labels were given to an unconditional model (num_classes=None); "
            "build the model with num_classes=K to condition on labels"
        )
    if y.numel() == 0:
        return
    low, high = int(y.min()), int(y.max())
    if low < NULL_LABEL or high >= num_classes:
        raise InvalidParameterError(
            f"y: labels must lie in [0, {num_classes}) or equal NULL_LABEL ({NULL_LABEL}); "
            f"got values in [{low}, {high}]"
        )


class ConditionEmbedding(nn.Module):
    r"""$c(t, y) = \operatorname{MLP}(\phi(t)) + E[y]$, of size ``out_dim``; $E$ exists only if ``num_classes`` is set.

    Args:
        features: number of time features $\phi(t)$.
        out_dim: size of $c$.
        time_embedding: ``"sinusoidal"`` or ``"fourier"``.
        num_classes: number of classes, ``None`` for an unconditional network.
        condition_dropout: probability, in training mode, of replacing a label by the null token.
    """

    def __init__(
        self,
        features: int,
        out_dim: int,
        *,
        time_embedding: str = "sinusoidal",
        num_classes: int | None = None,
        condition_dropout: float = 0.1,
    ):
        super().__init__()
        self.num_classes = require_int("num_classes", num_classes, minimum=1, optional=True, note="None: unconditional")
        self.condition_dropout = require_float("condition_dropout", condition_dropout, minimum=0.0, below=1.0)
        self.time_features = embeddings.time_embedding(time_embedding, features)
        self.time_mlp = nn.Sequential(nn.Linear(features, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim))
        self.label_embedding = None if num_classes is None else nn.Embedding(num_classes + 1, out_dim)

    def forward(self, t: Tensor, y: Tensor | None) -> Tensor:
        """``c(t, y)`` of shape ``[batch, out_dim]`` (``y`` may be ``None`` or hold ``NULL_LABEL``)."""
        phi = self.time_features(t).to(self.time_mlp[0].weight.dtype)
        c = self.time_mlp(phi)
        if self.label_embedding is None:
            return c
        return c + self.label_embedding(self._token_indices(y, t))

    def _token_indices(self, y: Tensor | None, t: Tensor) -> Tensor:
        """Embedding rows: the label, or ``num_classes`` (the null token) for missing/dropped labels."""
        null = self.num_classes
        assert null is not None, "only a conditional embedding (num_classes given) has label rows"
        if y is None:
            return torch.full(t.shape, null, dtype=torch.long, device=t.device)
        indices = torch.where(y == NULL_LABEL, null, y.long())
        if self.training and self.condition_dropout > 0:
            dropped = torch.rand(indices.shape, device=indices.device) < self.condition_dropout
            indices = torch.where(dropped, null, indices)
        return indices


def conditional_factory(cls: type) -> Callable[..., Any]:
    """A factory for ``cls`` whose signature makes ``num_classes`` required (and not ``None``)."""

    def factory(**params: Any) -> Any:
        if params.get("num_classes") is None:
            raise InvalidParameterError(
                f"conditional {cls.__name__} needs num_classes (an integer >= 1), got {params.get('num_classes')!r}"
            )
        return cls(**params)

    signature = inspect.signature(cls)
    factory.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            p.replace(default=inspect.Parameter.empty) if p.name == "num_classes" else p
            for p in signature.parameters.values()
        ]
    )
    factory.__name__ = factory.__qualname__ = f"conditional_{cls.__name__}"
    factory.__doc__ = f"Build a class-conditional {cls.__name__}; ``num_classes`` is required."
    return factory
