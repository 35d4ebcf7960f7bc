r"""Token models: the interface of a network that predicts $p_{1 \mid t}(\cdot \mid x_t)$, and ``discrete-mlp``.

A :class:`TokenModel` is a :class:`flowkit.VectorFieldModel` called as ``model(t, x, y=None)`` with
integer tokens ``x`` ``[batch, length]`` (values in $\{0, \dots, V\}$, $V$ the mask token) that returns
logits ``[batch, length, V]`` of the posterior over the data token at every position.

:class:`TokenMLP` embeds each position's token ($V + 1$ embeddings, so it serves both the
uniform and the mask source), concatenates the ``length`` embeddings and runs an MLP conditioned
on $c(t\, [, y])$ (the time embedding of the vector-field MLP, plus a label embedding when
``num_classes`` is set): $h_k = \mathrm{act}(A_k h_{k-1} + B_k c)$, logits $= W h_{\mathrm{depth}}$.
"""

from __future__ import annotations

from torch import Tensor, nn

from flowkit.core import VectorFieldModel
from flowkit.exceptions import ShapeError
from flowkit.models.conditioning import ConditionEmbedding
from flowkit.models.mlp import ACTIVATIONS
from flowkit.validation import require_choice, require_int

__all__ = ["TokenMLP", "TokenModel"]


class TokenModel(VectorFieldModel):
    """A network ``logits(t, x [, y])``: tokens ``[batch, length]`` to logits ``[batch, length, vocab_size]``."""

    vocab_size: int
    length: int


class TokenMLP(TokenModel):
    """An MLP over the concatenated token embeddings of a sequence, conditioned on time (and labels).

    Args:
        vocab_size: ``V``, the data tokens (the mask token ``V`` is embedded too).
        length: ``L``, the positions of a sequence.
        embed_dim: size of each token's embedding.
        width, depth, activation, time_embedding: as for the ``mlp`` vector field.
        num_classes, condition_dropout: class conditioning, as for the ``mlp`` vector field.
    """

    def __init__(
        self,
        *,
        vocab_size: int,
        length: int,
        embed_dim: int = 32,
        width: int = 256,
        depth: int = 3,
        activation: str = "silu",
        time_embedding: str = "sinusoidal",
        num_classes: int | None = None,
        condition_dropout: float = 0.1,
    ):
        super().__init__()
        self.vocab_size = require_int("vocab_size", vocab_size, minimum=1)
        self.length = require_int("length", length, minimum=1)
        embed_dim = require_int("embed_dim", embed_dim, minimum=1)
        width = require_int("width", width, minimum=1)
        depth = require_int("depth", depth, minimum=1)
        require_choice("activation", activation, ACTIVATIONS)
        self.embedding = nn.Embedding(self.vocab_size + 1, embed_dim)
        self.condition = ConditionEmbedding(
            width, width, time_embedding=time_embedding, num_classes=num_classes, condition_dropout=condition_dropout
        )
        self.num_classes = self.condition.num_classes
        self.hidden = nn.ModuleList(
            nn.Linear(self.length * embed_dim if k == 0 else width, width) for k in range(depth)
        )
        self.condition_projections = nn.ModuleList(nn.Linear(width, width, bias=False) for _ in range(depth))
        self.activation = ACTIVATIONS[activation]()
        self.output = nn.Linear(width, self.length * self.vocab_size)

    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        r"""Logits ``[batch, length, V]`` of $p_{1 \mid t}(\cdot \mid x)$ for tokens ``x`` ``[batch, length]``."""
        if x.dim() != 2 or x.shape[1] != self.length or x.dtype.is_floating_point:
            raise ShapeError(
                f"TokenMLP: x must be integer tokens [batch, {self.length}], got dtype {x.dtype} and shape {tuple(x.shape)}"
            )
        h = self.embedding(x.long()).flatten(1)
        c = self.condition(t, y)
        for layer, projection in zip(self.hidden, self.condition_projections):
            h = self.activation(layer(h) + projection(c))
        return self.output(h).reshape(x.shape[0], self.length, self.vocab_size)
