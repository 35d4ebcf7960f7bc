r"""The discrete mixture path over token sequences, registered as ``mixture``.

Tokens $x \in \{0, \dots, V-1\}^L$. Given source $x_0$ (uniform tokens, or all the mask token $V$) and
data $x_1$, every position of $x_t$ is drawn independently from

$$
p_t(x^i \mid x_0, x_1) = \kappa(t)\, \delta_{x_1^i} + (1 - \kappa(t))\, \delta_{x_0^i},
$$

so a position shows its data token with probability $\kappa(t)$ (:mod:`flowkit.paths.kappa`).
A model predicts the posterior $p_{1 \mid t}(\cdot \mid x_t)$ per position; the continuous-time Markov
chain that carries the marginals $p_t$ jumps at position $i$ from $x_t^i$ to $y$ with rate

$$
u_t(y \mid x_t) = \frac{\kappa'(t)}{1 - \kappa(t)} \bigl(p_{1 \mid t}(y \mid x_t) - \delta_{x_t^i}(y)\bigr)
$$

(:meth:`MixturePath.rates`). Its Euler step of size $h$ (:meth:`MixturePath.transition`)
resamples a position from $p_{1 \mid t}$ with probability $\lambda = \min\bigl(1, h\, \kappa' / (1 - \kappa)\bigr)$
and keeps it otherwise: $P(y) = (1 - \lambda)\, \delta_{x_t}(y) + \lambda\, p_{1 \mid t}(y)$, which is
$\delta + h\, u_t$ while $h\, \kappa' / (1 - \kappa) \le 1$ and the exact draw from $p_{1 \mid t}$ at $t = 1$.

A divergence-free term (a corrector) may be added to the rates without changing the marginals:
resampling a position from the conditional path itself, $q_t = (1 - \kappa)\, p_0 + \kappa\, p_{1 \mid t}$
($p_0$ the source's per-position law), with rate $c(t) = \beta\, \kappa' / \bigl(\kappa (1 - \kappa)\bigr)$,

$$
v_t(y \mid x_t) = c(t) \bigl(q_t(y \mid x_t) - \delta_{x_t^i}(y)\bigr)
$$

(:meth:`MixturePath.corrector_rates`), has $p_t\, v_t = 0$: for each $x_1$ the jump to a fresh draw
of $p_t(\cdot \mid x_1)$ leaves $p_t(\cdot \mid x_1)$ unchanged, and the marginal rate is its posterior
mean. $\beta$ (``div_free`` of ``discrete-euler``, as in flow_matching's ``MixtureDiscreteEulerSolver``)
trades more jumps for correcting earlier errors; with the mask source the corrector re-masks tokens.

``PathSample.u_t`` of a mixture path is the training target, the data tokens ``x1``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from flowkit.core import PathSample, ProbabilityPath
from flowkit.core.capabilities import Capability
from flowkit.core.state_space import TOKEN_STATE
from flowkit.discrete.priors import TokenPrior, token_prior
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.paths.kappa import KappaScheduler, scheduler_from
from flowkit.shapes import shape_checks_enabled

__all__ = ["MIXTURE", "TOKEN_STATE", "MixturePath"]

MIXTURE = Capability(
    name="a mixture schedule",
    attribute="scheduler",
    usage="scheduler.kappa(t), scheduler.jump_coefficient(t) (kappa'(t) / (1 - kappa(t)))",
    provided_by="the discrete mixture path (flowkit.discrete.MixturePath, registered 'mixture')",
    validate=lambda value: (
        None if isinstance(value, KappaScheduler) else f"has scheduler {value!r}, not a KappaScheduler"
    ),
)
"""What the discrete objectives need from their path."""


class MixturePath(ProbabilityPath):
    r"""$x_t^i = x_1^i$ with probability $\kappa(t)$, else $x_0^i$, independently per position.

    Parameters:
        vocab_size: $V$, the number of data tokens.
        source: ``"uniform"`` (tokens uniform on $\{0, \dots, V-1\}$) or ``"mask"`` (all the mask token $V$).
        scheduler: a :class:`flowkit.paths.KappaScheduler`, or a name of
            :data:`flowkit.paths.KAPPA_SCHEDULERS` (``"polynomial"``, ``"cosine"``).
        exponent: $n$ of the polynomial scheduler $\kappa = t^n$.
    """

    state_space = TOKEN_STATE

    def __init__(
        self, *, vocab_size: int, source: str = "uniform", scheduler: Any = "polynomial", exponent: float = 1.0
    ):
        self._prior: TokenPrior = token_prior(source, vocab_size)
        self.vocab_size = self._prior.vocab_size
        self.source = source
        self.scheduler = scheduler_from(scheduler, exponent)

    def __repr__(self) -> str:
        return f"MixturePath(vocab_size={self.vocab_size}, source={self.source!r}, scheduler={self.scheduler!r})"

    @property
    def prior(self) -> TokenPrior:
        """The token source: :class:`UniformTokens` or :class:`MaskTokens`."""
        return self._prior

    @property
    def num_states(self) -> int:
        """The values a position of $x_t$ takes: $V$, or $V + 1$ with the mask source."""
        return self._prior.num_states

    def _check_tokens(self, name: str, x: Tensor, states: int) -> None:
        if x.dtype.is_floating_point or x.dtype == torch.bool or x.dim() < 2:
            raise ShapeError(
                f"MixturePath: {name} must be integer tokens [batch, length], got dtype {x.dtype} and shape {tuple(x.shape)}"
            )
        if shape_checks_enabled() and x.numel() and (int(x.min()) < 0 or int(x.max()) >= states):
            raise InvalidParameterError(
                f"MixturePath: {name} holds tokens outside [0, {states - 1}] (vocab_size={self.vocab_size}, "
                f"source={self.source!r}); got values in [{int(x.min())}, {int(x.max())}]"
            )

    def sample(self, *, x0: Tensor, x1: Tensor, t: Tensor, generator: torch.Generator | None = None) -> PathSample:
        r"""Keep each position of ``x1`` with probability $\kappa(t)$, else take ``x0``'s; ``u_t`` is ``x1``."""
        self._check_tokens("x1", x1, self.vocab_size)
        self._check_tokens("x0", x0, self.num_states)
        if x0.shape != x1.shape or t.shape != x1.shape[:1]:
            raise ShapeError(
                f"MixturePath.sample: x0 {tuple(x0.shape)}, x1 {tuple(x1.shape)} and t {tuple(t.shape)} disagree "
                "(x0 and x1 [batch, length], t [batch])"
            )
        kappa = self.scheduler.kappa(t).reshape(-1, *([1] * (x1.dim() - 1)))
        draw = torch.rand(x1.shape, generator=generator, device=x1.device, dtype=kappa.dtype)
        x_t = torch.where(draw < kappa, x1, x0)
        return PathSample(t=t, x0=x0, x1=x1, x_t=x_t, u_t=x1)

    def posterior_in_states(self, posterior: Tensor) -> Tensor:
        r"""$p_{1 \mid t}$ ``[..., V]`` padded with a zero for the mask state: ``[..., num_states]``."""
        missing = self.num_states - posterior.shape[-1]
        return posterior if missing == 0 else torch.nn.functional.pad(posterior, (0, missing))

    def rates(self, *, posterior: Tensor, x: Tensor, t: Tensor) -> Tensor:
        r"""$u_t(y \mid x) = \frac{\kappa'}{1 - \kappa} \bigl(p_{1 \mid t}(y \mid x) - \delta_x(y)\bigr)$ per position.

        Returns ``[batch, length, num_states]``. ``posterior`` is $p_{1 \mid t}(\cdot \mid x)$ ``[batch, length, V]``,
        ``x`` the tokens ``[batch, length]``, ``t`` ``[batch]`` with $t < 1$.
        """
        coefficient = self.scheduler.jump_coefficient(t.to(posterior.dtype)).reshape(-1, *([1] * (posterior.dim() - 1)))
        stay = torch.nn.functional.one_hot(x.long(), self.num_states).to(posterior.dtype)
        return coefficient * (self.posterior_in_states(posterior) - stay)

    def corrector_target(self, *, posterior: Tensor, t: Tensor) -> Tensor:
        r"""$q_t = (1 - \kappa)\, p_0 + \kappa\, p_{1 \mid t}$ per position, ``[batch, length, num_states]``; ``t`` ``[batch]``."""
        kappa = self.scheduler.kappa(t.to(posterior.dtype)).reshape(-1, *([1] * (posterior.dim() - 1)))
        source = self._prior.state_probabilities().to(device=posterior.device, dtype=posterior.dtype)
        return (1.0 - kappa) * source + kappa * self.posterior_in_states(posterior)

    def corrector_coefficient(self, t: Tensor, beta: float) -> Tensor:
        r"""$c(t) = \beta\, \kappa'(t) / \bigl(\kappa(t) (1 - \kappa(t))\bigr)$ (``inf`` where $\kappa$ is 0 or 1)."""
        return beta * self.scheduler.jump_coefficient(t) / self.scheduler.kappa(t)

    def corrector_rates(self, *, posterior: Tensor, x: Tensor, t: Tensor, beta: float) -> Tensor:
        r"""The divergence-free rates $c(t) \bigl(q_t(y \mid x) - \delta_x(y)\bigr)$; shapes as in :meth:`rates`, $0 < t < 1$."""
        coefficient = self.corrector_coefficient(t.to(posterior.dtype), beta).reshape(
            -1, *([1] * (posterior.dim() - 1))
        )
        stay = torch.nn.functional.one_hot(x.long(), self.num_states).to(posterior.dtype)
        return coefficient * (self.corrector_target(posterior=posterior, t=t) - stay)

    def transition(self, *, posterior: Tensor, x: Tensor, t: float, h: float, beta: float = 0.0) -> Tensor:
        r"""The Euler step's probabilities $(1 - \lambda - \mu)\, \delta_x + \lambda\, p_{1 \mid t} + \mu\, q_t$.

        $\lambda = \min\bigl(1, h\, \kappa' / (1 - \kappa)\bigr)$ and, with the corrector weight $\beta > 0$,
        $\mu = \min\bigl(1 - \lambda, h\, c(t)\bigr)$: $\delta + h (u_t + v_t)$ for small steps. Shapes as in
        :meth:`rates`, ``t`` and $h > 0$ numbers; returns ``[batch, length, num_states]``.
        """
        time = torch.tensor(t, dtype=torch.float64)
        resample = _step_weight(h, self.scheduler.jump_coefficient(time), 1.0)
        stay = torch.nn.functional.one_hot(x.long(), self.num_states).to(posterior.dtype)
        step = (1.0 - resample) * stay + resample * self.posterior_in_states(posterior)
        if beta == 0.0:
            return step
        correct = _step_weight(h, self.corrector_coefficient(time, beta), 1.0 - resample)
        times = torch.full(x.shape[:1], t, dtype=posterior.dtype, device=posterior.device)
        return step + correct * (self.corrector_target(posterior=posterior, t=times) - stay)


def _step_weight(h: float, rate: Tensor, cap: float) -> float:
    """``min(cap, h rate)``, with ``cap`` for an infinite rate."""
    return cap if not bool(torch.isfinite(rate)) else min(cap, h * float(rate))
