r"""``mlp``: a multilayer perceptron vector field $v(t, x\, [, y])$ for vector data $x \in \mathbb{R}^{\mathrm{dim}}$.

With the conditioning vector $c = c(t, y)$ of :class:`flowkit.models.conditioning.ConditionEmbedding`
(time embedding, plus a label embedding when ``num_classes`` is set), the network is

$$
\begin{aligned}
h_0 &= x, \\
h_k &= \operatorname{dropout}\bigl(\operatorname{act}(A_k h_{k-1} + a_k + B_k c)\bigr),
  \qquad k = 1, \dots, \mathrm{depth}, \\
v &= W h_{\mathrm{depth}} + w,
\end{aligned}
$$

so the time (and label) reach every hidden layer through the projections $B_k$.
"""

from __future__ import annotations

from jaxtyping import Float
from torch import Tensor, nn

from flowkit.core import VectorFieldModel
from flowkit.hookspecs import Register, hookimpl
from flowkit.models.boundary import check_dtype, check_event_shape, checks_active
from flowkit.models.conditioning import ConditionEmbedding, check_labels, conditional_factory
from flowkit.shapes import Labels, Time, checked
from flowkit.validation import require_choice, require_float, require_int

__all__ = ["ACTIVATIONS", "MLPVectorField"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "silu": nn.SiLU,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
}
"""The hidden-layer activations of :class:`MLPVectorField` by name."""


class MLPVectorField(VectorFieldModel):
    r"""An MLP vector field on $\mathbb{R}^{\mathrm{dim}}$ (the layers as in the module docstring).

    $h_k = \operatorname{dropout}(\operatorname{act}(A_k h_{k-1} + B_k c(t, y)))$, $v = W h_{\mathrm{depth}}$.

    Args:
        dim: dimension of the data.
        width: hidden width, also the size of the conditioning vector $c$.
        depth: number of hidden layers (>= 1).
        activation: one of :data:`ACTIVATIONS` (``"silu"``, ``"relu"``, ``"gelu"``, ``"elu"``,
            ``"tanh"``, ``"softplus"``).
        dropout: dropout probability after each hidden layer, in ``[0, 1)``.
        time_embedding: ``"sinusoidal"`` or ``"fourier"`` (with ``width`` features).
        num_classes: ``None`` for an unconditional field, or the number of classes for a
            class-conditional one (labels ``y`` in ``[0, num_classes)``, ``-1`` = no label).
        condition_dropout: probability that a label is replaced by the null token in training
            mode (used only when ``num_classes`` is set); enables classifier-free guidance.
    """

    def __init__(
        self,
        *,
        dim: int,
        width: int = 128,
        depth: int = 3,
        activation: str = "silu",
        dropout: float = 0.0,
        time_embedding: str = "sinusoidal",
        num_classes: int | None = None,
        condition_dropout: float = 0.1,
    ):
        super().__init__()
        self.dim = require_int("dim", dim, minimum=1)
        width = require_int("width", width, minimum=1)
        depth = require_int("depth", depth, minimum=1)
        require_choice("activation", activation, ACTIVATIONS)
        dropout = require_float("dropout", dropout, minimum=0.0, below=1.0)
        self.condition = ConditionEmbedding(
            width, width, time_embedding=time_embedding, num_classes=num_classes, condition_dropout=condition_dropout
        )
        self.num_classes = self.condition.num_classes
        self.hidden = nn.ModuleList(nn.Linear(dim if k == 0 else width, width) for k in range(depth))
        self.condition_projections = nn.ModuleList(nn.Linear(width, width, bias=False) for _ in range(depth))
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(width, dim)

    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        r"""$v(t, x \mid y)$ with ``t: [batch]``, ``x: [batch, dim]``, ``y: [batch]`` or ``None``.

        Returns a tensor with the shape and dtype of ``x``.
        """
        if checks_active():
            self._check_inputs(x, t, y)
        c = self.condition(t, y)
        h = x
        for layer, projection in zip(self.hidden, self.condition_projections):
            h = self.dropout(self.activation(layer(h) + projection(c)))
        return self.output(h).to(x.dtype)

    @checked
    def _check_inputs(self, x: Float[Tensor, "batch dim"], t: Time, y: Labels | None) -> None:
        """``x`` is checked first, so a ``t`` or ``y`` whose batch disagrees with ``x`` is the one named."""
        check_event_shape(type(self).__name__, x, (self.dim,))
        check_dtype(type(self).__name__, x, self.output.weight)
        check_labels(y, self.num_classes)


@hookimpl
def flowkit_register_models(register: Register) -> None:
    """Register ``mlp`` and ``conditional-mlp`` (``num_classes`` required)."""
    register(
        "mlp",
        MLPVectorField,
        description="MLP vector field for vector data (dim=...); num_classes=K conditions on labels",
    )
    register(
        "conditional-mlp",
        conditional_factory(MLPVectorField),
        description="class-conditional MLP (num_classes required), for classifier-free guidance",
    )
