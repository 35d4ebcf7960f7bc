r"""The CTMC sampler of discrete paths, registered as ``discrete-euler``.

From tokens ``x0`` at ``t0`` to ``t1`` on a fixed grid (``steps`` uniform steps or ``time_grid``,
as for the fixed-step ODE solvers), each step of size $h$ from $t$ evaluates the token model's
logits ``[batch, length, V]``, turns them into $p_{1 \mid t}(\cdot \mid x_t)$ (softmax) and draws every
position independently from the path's Euler transition (:meth:`flowkit.discrete.MixturePath.transition`)

$$
P(x_{t+h}^i = y) = \delta_{x_t^i}(y) + h\, u_t(y \mid x_t), \qquad
u_t = \frac{\kappa'}{1 - \kappa} \bigl(p_{1 \mid t} - \delta\bigr),
$$

with the jump probability capped at 1, so the step ending at $t = 1$ ($\kappa = 1$) draws
from $p_{1 \mid t}$ (``final="sample"``) or takes its most likely token (``final="argmax"``).
``div_free`` $= \beta > 0$ adds the path's divergence-free corrector (a jump to a fresh draw of
$(1 - \kappa)\, p_0 + \kappa\, p_{1 \mid t}$ with rate $\beta\, \kappa' / \bigl(\kappa (1 - \kappa)\bigr)$), which keeps the
marginals (:meth:`flowkit.discrete.MixturePath.corrector_rates`).

Design: it is a solver of the ``solver`` kind that declares the state it supports,
``state_space = "tokens"`` (continuous solvers have ``"continuous"``, the default), and
``needs_path``, so :func:`flowkit.pipeline.build.bind_solver` hands it the pipeline's path and
refuses a solver and a path whose state spaces differ. ``Pipeline.sample``, ``flow`` and
``evaluate`` then run it unchanged: the "field" it receives is the model, whose output (logits) is
not shaped like the state, so it owns its :meth:`solve` (interval and requested-time checks,
evaluation count, :class:`flowkit.Solution`) instead of the ODE base's, and reuses the fixed-step
grid and loop. Jumps are drawn from ``seed`` (a generator on the state's device, per solve) or,
with ``seed=None``, from torch's global generator. It runs forwards only: a CTMC has no
probability-flow ODE, so ``Pipeline.log_prob`` does not apply to discrete paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import attrs
import torch
from torch import Tensor

from flowkit.core import FixedStepSolver, Solution
from flowkit.core.solver_times import check_interval, requested_times
from flowkit.discrete.path import TOKEN_STATE
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.validation import field_validator, require_choice, require_float, require_int

__all__ = ["FINAL_STEPS", "DiscreteEuler", "TokenField", "draw_categorical"]

FINAL_STEPS = ("sample", "argmax")
r"""How the step that reaches $\kappa = 1$ picks the token: a draw from $p_{1 \mid t}$ or its mode."""

_END_TOLERANCE = 1e-9


class TokenField:
    """The model of one solve: ``posterior(t, x)`` is ``softmax(logits(t [batch], x))``; ``nfe`` counts calls."""

    def __init__(self, logits: Callable[[Tensor, Tensor], Tensor], *, generator: torch.Generator | None):
        self.logits = logits
        self.generator = generator
        self.nfe = 0

    def posterior(self, t: float, x: Tensor) -> Tensor:
        r"""$p_{1 \mid t}(\cdot \mid x)$ ``[batch, length, V]``; the first output's shape is checked."""
        time = torch.full((x.shape[0],), t, dtype=torch.get_default_dtype(), device=x.device)
        logits = self.logits(time, x)
        self.nfe += 1
        if self.nfe == 1 and (
            not isinstance(logits, Tensor) or logits.dim() != x.dim() + 1 or logits.shape[:-1] != x.shape
        ):
            got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
            raise ShapeError(
                f"discrete-euler: the model returned {got} for tokens of shape {tuple(x.shape)}; a token model "
                "returns logits [batch, length, vocab_size]"
            )
        return torch.softmax(logits.to(torch.promote_types(logits.dtype, torch.float32)), dim=-1)


@attrs.frozen
class DiscreteEuler(FixedStepSolver):
    r"""Euler jumps of the CTMC of a discrete path (see the module docstring).

    Parameters (besides ``steps`` / ``time_grid``):
        final: ``"sample"`` or ``"argmax"`` for the step that reaches $\kappa = 1$.
        div_free: $\beta \ge 0$, the weight of the divergence-free corrector term
            (:meth:`flowkit.discrete.MixturePath.corrector_rates`; 0 turns it off).
        seed: seeds the jumps per solve; ``None`` draws from torch's global generator.
    """

    needs_path: ClassVar[bool] = True
    state_space: ClassVar[str] = TOKEN_STATE

    final: str = attrs.field(default="sample", validator=field_validator(require_choice, choices=FINAL_STEPS))
    div_free: float = attrs.field(default=0.0, validator=field_validator(require_float, minimum=0.0))
    seed: int | None = attrs.field(default=None, validator=field_validator(require_int, minimum=0, optional=True))
    path: Any = attrs.field(default=None, kw_only=True)

    def bind(self, *, path: Any, score_field: Any = None) -> DiscreteEuler:
        """A copy that jumps along ``path`` (``score_field`` is unused: a CTMC needs no score)."""
        return attrs.evolve(self, path=path)

    def solve(
        self,
        field: Callable[[Tensor, Tensor], Tensor],
        x0: Tensor,
        *,
        t0: float | int = 0.0,
        t1: float | int = 1.0,
        trajectory_times: Sequence[float | int] | Tensor | None = None,
        enable_grad: bool = False,
    ) -> Solution:
        """Jump from the tokens ``x0`` at ``t0`` to ``t1 > t0``; ``field(t, x)`` returns the model's logits."""
        t0, t1 = check_interval(t0, t1)
        if t1 < t0:
            raise InvalidParameterError(
                "discrete-euler samples forwards only (t0 < t1); a continuous-time Markov chain has no "
                "probability-flow ODE to integrate backwards, so log_prob is not available for discrete paths"
            )
        times = requested_times(trajectory_times, t0, t1)
        if not isinstance(x0, Tensor) or x0.dtype.is_floating_point or x0.dim() < 2:
            got = f"dtype {x0.dtype} and shape {tuple(x0.shape)}" if isinstance(x0, Tensor) else type(x0).__name__
            raise ShapeError(f"discrete-euler: x0 must be integer tokens [batch, length], got {got}")
        transition = getattr(self.path, "transition", None)
        if transition is None:
            raise InvalidParameterError(
                f"discrete-euler needs a discrete path with transition(posterior=, x=, t=, h=), got {self.path!r}; "
                "sample through Pipeline.sample/flow, or call solver.bind(path=...) first"
            )
        generator = None if self.seed is None else torch.Generator(device=x0.device).manual_seed(self.seed)
        tokens = TokenField(field, generator=generator)
        with torch.set_grad_enabled(enable_grad):
            x, trajectory = self.integrate(tokens, x0, t0=t0, t1=t1, times=times)  # type: ignore[arg-type]
        if times is None:
            return Solution(x=x, nfe=tokens.nfe)
        return Solution(x=x, nfe=tokens.nfe, times=torch.tensor(times, device=x0.device), trajectory=trajectory)

    def step(self, field: TokenField, t: float, x: Tensor, h: float) -> Tensor:  # type: ignore[override]
        """One jump from ``x`` at ``t`` to ``t + h``."""
        posterior = field.posterior(t, x)
        reaches_end = (
            self.final == "argmax"
            and float(self.path.scheduler.kappa(torch.tensor(t + h, dtype=torch.float64))) >= 1.0 - _END_TOLERANCE
        )
        if reaches_end:
            return posterior.argmax(dim=-1).to(x.dtype)
        probabilities = self.path.transition(posterior=posterior, x=x, t=t, h=h, beta=self.div_free)
        return draw_categorical(probabilities, generator=field.generator).to(x.dtype)


def draw_categorical(probabilities: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """One draw per row of ``probabilities`` ``[..., S]`` (rows sum to 1) by the inverse CDF, ``[...]``."""
    cumulative = probabilities.cumsum(dim=-1)
    u = torch.rand(probabilities.shape[:-1], generator=generator, device=probabilities.device, dtype=cumulative.dtype)
    u = u * cumulative[..., -1]
    return (cumulative <= u.unsqueeze(-1)).sum(dim=-1).clamp(max=probabilities.shape[-1] - 1)
