r"""Score and flow matching (SF2M; Tong et al., 2023), registered as ``sf2m``.

A velocity $v$ and a separate score $s \approx \nabla_x \log p_t$ are trained together on the same
draws $x_t = \mathrm{mean}_t(z) + \mathrm{std}_t(z)\, \varepsilon$ of a conditional Gaussian path (any path with
``conditional_noise``: the Gaussian paths, and the Brownian bridge of Schrodinger-bridge CFM):

$$
L = \mathbb{E}\, w(t) \bigl\lVert v(t, x_t) - u_t(x_t \mid z) \bigr\rVert^2 / D
  + \texttt{score\_weight} \cdot \mathbb{E} \bigl\lVert \lambda(t)\, s(t, x_t) + \varepsilon \bigr\rVert^2 / D
$$

The score term is denoising score matching with $\lambda(t) = \mathrm{std}_t$: the conditional score is
$\nabla \log p_t(x_t \mid z) = -\varepsilon / \mathrm{std}_t$, so
$\lVert \lambda\, (s - (-\varepsilon / \mathrm{std}_t)) \rVert^2 = \lVert \mathrm{std}_t\, s + \varepsilon \rVert^2$,
which stays bounded where $\mathrm{std}_t \to 0$ (Song et al., 2021's $\lambda(t)^2 = \sigma_t^2$
weighting). Its minimiser is the marginal score
$\nabla \log p_t(x) = \mathbb{E}[-\varepsilon / \mathrm{std}_t \mid x_t = x]$.
The model must have a score head (:class:`flowkit.models.ScoreFlowModel`, e.g. ``score-flow-mlp``);
the SDE samplers use it with ``score="model"``: $dx = [v + \frac{g^2}{2} s]\, dt + g\, dW$.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from torch import Tensor

from flowkit.core.path import PathSample
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.objectives.regression import RegressionObjective
from flowkit.validation import require_float

__all__ = ["ScoreFlowMatching"]


class _ConditionalNoisePath(Protocol):
    """A path with ``conditional_noise(sample) -> (std, eps)`` (``__init__`` checks it)."""

    def conditional_noise(self, sample: PathSample) -> tuple[Tensor, Tensor]: ...


class ScoreFlowMatching(RegressionObjective):
    r"""Regresses the velocity onto $u_t(x_t \mid z)$ and the score head onto $-\varepsilon / \mathrm{std}_t$.

    Parameters (besides those of :class:`~flowkit.objectives.regression.RegressionObjective`):
        score_weight: the weight of the score term ($> 0$).
    """

    def __init__(self, *, score_weight: float = 1.0, **params) -> None:
        super().__init__(**params)
        require_float("score_weight", score_weight, above=0.0)
        if not callable(getattr(self.path, "conditional_noise", None)):
            raise InvalidParameterError(
                f"the sf2m objective needs a path with conditional_noise(sample) -> (std, eps) (a Gaussian "
                f"conditional path such as 'ot', 'vp' or 'bridge'); {self.path!r} has none"
            )
        self.score_weight = float(score_weight)

    def target(self, sample: PathSample) -> Tensor:
        """The velocity target ``sample.u_t``."""
        return sample.u_t

    def _total_loss(self, flow: Tensor, sample: PathSample, model: Callable[..., Tensor], y: Tensor | None) -> Tensor:
        """``flow`` plus ``score_weight`` times the weighted score term on the same ``sample``."""
        score_head = getattr(model, "score", None)
        if not callable(score_head):
            raise InvalidParameterError(
                f"the sf2m objective trains a score head, and the model {type(model).__name__} has none: use a "
                "flowkit.models.ScoreFlowModel such as the model 'score-flow-mlp' (not supported under torchrun yet)"
            )
        std, eps = cast(_ConditionalNoisePath, self.path).conditional_noise(sample)
        score = score_head(sample.t, sample.x_t) if y is None else score_head(sample.t, sample.x_t, y)
        if score.shape != eps.shape:
            raise ShapeError(f"sf2m: the score head returned shape {tuple(score.shape)}, expected {tuple(eps.shape)}")
        scaled = std.reshape(-1, *([1] * (eps.dim() - 1))) * score + eps
        return flow + self.score_weight * scaled.square().mean()
