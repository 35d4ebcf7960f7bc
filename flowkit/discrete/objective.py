r"""Discrete flow-matching objectives on a mixture path: ``discrete-ce`` and ``discrete-gkl``.

One loss evaluation draws $x_0$ from the path's token source, pairs it with the data $x_1$
through the coupling, draws $t$ from the time distribution on the path's time range and
$x_t \sim p_t(\cdot \mid x_0, x_1)$; the model returns logits ``[batch, length, V]`` of
$p_{1 \mid t}(\cdot \mid x_t)$ per position. Per position $i$ (averaged over positions and the batch):

* ``cross-entropy``: $l = -\log p_{1 \mid t}(x_1^i \mid x_t)$;
* ``generalized-kl`` (Shaul et al., 2024, the mixture-path form):
  $l = -c(t) \bigl[p_{1 \mid t}(x_t^i \mid x_t) - \delta + (1 - \delta) \log p_{1 \mid t}(x_1^i \mid x_t)\bigr]$ with
  $\delta = [x_t^i = x_1^i]$ and $c = \kappa' / (1 - \kappa)$, the Bregman divergence between the
  true and the modelled CTMC rates.

Both are minimised by the exact posterior $p_{1 \mid t}(y \mid x_t) = P(x_1^i = y \mid x_t)$.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol, cast

import torch
from torch import Tensor

from flowkit.core import Coupling, Objective, ProbabilityPath, require_capabilities
from flowkit.core.capabilities import PRIOR, TIME_RANGE
from flowkit.couplings import IndependentCoupling
from flowkit.discrete.path import MIXTURE
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.objectives.time import make_time_distribution
from flowkit.paths.kappa import KappaScheduler
from flowkit.validation import require_choice

__all__ = ["FORMS", "DiscreteFlowMatching", "position_losses"]

FORMS = ("cross-entropy", "generalized-kl")
"""The per-position losses."""


class _MixturePath(Protocol):
    """A path with :data:`~flowkit.discrete.path.MIXTURE` (``path_requirements`` checks it)."""

    scheduler: KappaScheduler


def position_losses(
    logits: Tensor, *, x1: Tensor, x_t: Tensor, jump_coefficient: Tensor | None = None, form: str = "cross-entropy"
) -> Tensor:
    r"""The loss of every position, ``[batch, length]``, for model ``logits`` ``[batch, length, V]``.

    ``jump_coefficient`` ($\kappa' / (1 - \kappa)$, ``[batch]``) is needed by ``generalized-kl`` only.
    """
    log_p = torch.log_softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)
    log_p_data = log_p.gather(-1, x1.long().unsqueeze(-1)).squeeze(-1)
    if form == "cross-entropy":
        return -log_p_data
    if jump_coefficient is None:
        raise InvalidParameterError("position_losses: form='generalized-kl' needs jump_coefficient (kappa'/(1-kappa))")
    vocab = logits.shape[-1]
    current = x_t.long().clamp(max=vocab - 1).unsqueeze(-1)
    p_current = torch.where(x_t < vocab, log_p.gather(-1, current).squeeze(-1).exp(), 0.0)
    delta = (x_t == x1).to(log_p.dtype)
    coefficient = jump_coefficient.to(log_p.dtype).reshape(-1, *([1] * (x1.dim() - 1)))
    return -coefficient * (p_current - delta + (1.0 - delta) * log_p_data)


class DiscreteFlowMatching(Objective):
    r"""Trains a token model ``logits(t, x_t)`` to predict $x_1$ on a mixture path.

    Parameters:
        path: a :class:`flowkit.discrete.MixturePath` (anything with a prior, a time range and a
            ``scheduler``).
        coupling: pairs source and data (default: independent, which leaves the draws as they are;
            another coupling must accept integer tokens).
        form: ``"cross-entropy"`` or ``"generalized-kl"``.
        time_distribution, logit_normal_mean, logit_normal_std: as for ``cfm``.
        time_end: for ``generalized-kl``, training times are drawn in ``[t_start, time_end]``
            (its weight $\kappa' / (1 - \kappa)$ is infinite at $t = 1$).
    """

    path_requirements: ClassVar = (PRIOR, TIME_RANGE, MIXTURE)

    def __init__(
        self,
        *,
        path: ProbabilityPath,
        coupling: Coupling | None = None,
        form: str = "cross-entropy",
        time_distribution: str = "uniform",
        logit_normal_mean: float = 0.0,
        logit_normal_std: float = 1.0,
        time_end: float = 0.99,
    ):
        require_capabilities(path, self.path_requirements, needed_by=f"objective {type(self).__name__}", role="path")
        require_choice("form", form, FORMS)
        if coupling is None:
            coupling = IndependentCoupling()
        self.path = path
        self.coupling = coupling
        self.form = form
        self.time_distribution = make_time_distribution(time_distribution, mean=logit_normal_mean, std=logit_normal_std)
        start, end = (float(v) for v in path.time_range)
        if form == "generalized-kl":
            if not start < time_end < 1.0:
                raise InvalidParameterError(f"time_end must lie in ({start}, 1) for generalized-kl, got {time_end!r}")
            end = min(end, float(time_end))
        self._time_range = (start, end)

    def __repr__(self) -> str:
        return f"DiscreteFlowMatching(path={self.path!r}, form={self.form!r})"

    def loss(
        self,
        *,
        model: Callable[..., Tensor],
        x1: Tensor,
        y: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """The mean per-position loss on the token batch ``x1`` ``[batch, length]`` (labels ``y``)."""
        if x1.dtype.is_floating_point or x1.dim() < 2:
            raise ShapeError(
                f"{type(self).__name__}.loss: x1 must be integer tokens [batch, length], got dtype {x1.dtype} "
                f"and shape {tuple(x1.shape)}; a data set of tokens declares vocab_size so the pipeline keeps them integer"
            )
        x0 = self.path.prior.sample(x1.shape, device=x1.device, dtype=x1.dtype, generator=generator)
        if not isinstance(self.coupling, IndependentCoupling):
            x0, x1 = self.coupling.pair(x0, x1, generator=generator)
        time_dtype = next(
            (p.dtype for p in getattr(model, "parameters", lambda: iter(()))()), torch.get_default_dtype()
        )
        t = self.time_distribution.sample(
            x1.shape[0], time_range=self._time_range, device=x1.device, dtype=time_dtype, generator=generator
        )
        sample = self.path.sample(x0=x0, x1=x1, t=t, generator=generator)
        logits = model(t, sample.x_t) if y is None else model(t, sample.x_t, y)
        vocab_size = getattr(self.path, "vocab_size", logits.shape[-1])
        if logits.shape[:-1] != x1.shape or logits.shape[-1] != vocab_size:
            raise ShapeError(
                f"{type(self).__name__}.loss: the model returned shape {tuple(logits.shape)}; expected logits "
                f"[batch, length, vocab_size] = {[*x1.shape, vocab_size]}"
            )
        coefficient = (
            cast(_MixturePath, self.path).scheduler.jump_coefficient(t) if self.form == "generalized-kl" else None
        )
        return position_losses(logits, x1=x1, x_t=sample.x_t, jump_coefficient=coefficient, form=self.form).mean()
