r"""Stochastic samplers that keep the marginals of the flow: ``euler-maruyama`` and ``sde-heun``.

For a flow $dx/dt = v(t, x)$ with marginals $p_t$ the SDE (Song et al., 2021; Tong et al.,
2023, SF2M)

$$
dx = \Bigl[v(t, x) + \frac{g(t)^2}{2}\, \mathrm{score}(t, x)\Bigr]\, dt + g(t)\, dW, \qquad
\mathrm{score} = \nabla_x \log p_t(x),
$$

has the same marginals $p_t$ for every diffusion coefficient $g(t) \ge 0$ (its Fokker-Planck
equation is the continuity equation of $v$). $g = 0$ is the ODE.

The score comes either from the velocity through the Gaussian path's conversion
(``score="velocity"``, :meth:`flowkit.paths.GaussianPath.velocity_to_score`,
$\mathrm{score} = (a\, v - a' x) / \bigl(s\, (a' s - a\, s')\bigr)$) or from a separately trained score network
(``score="model"``, e.g. the ``sf2m`` objective's score head). The sampler therefore needs the
pipeline's path (and, for a learned score, its score field): it declares ``needs_path`` and the
pipeline hands them over with :meth:`StochasticSolver.bind` before solving.

Diffusion coefficients: ``schedule="constant"``, $g(t) = \texttt{diffusion}$; ``schedule="std"``,
$g(t) = \texttt{diffusion} \cdot s(t)$ with the Gaussian path's $s(t)$, which keeps the correction
$\frac{g^2}{2} \mathrm{score} = -\texttt{diffusion}^2\, s\, \varepsilon / 2$ bounded where $s(t) \to 0$ (near the
data), while a constant $g$ makes the drift stiff there ($g^2 / (2 s^2)$).

Steps on the grid $t_0 < \dots < t_N$ (uniform, or ``time_grid`` as for the fixed-step ODE
solvers), with $h = t_{n+1} - t_n$, $dW \sim \mathcal{N}(0, h I)$ and drift $f = v + \frac{g^2}{2} \mathrm{score}$:

* Euler-Maruyama (strong order 1/2, weak order 1): $x_{n+1} = x_n + h f(t_n, x_n) + g(t_n)\, dW$.
* stochastic Heun (``sde-heun``, the predictor-corrector of Karras et al., 2022, for additive
  noise): $\tilde x = x_n + h f(t_n, x_n) + g(t_n)\, dW$,
  $x_{n+1} = x_n + \frac{h}{2} \bigl(f(t_n, x_n) + f(t_{n+1}, \tilde x)\bigr) + g(t_n)\, dW$; its deterministic
  part is Heun's order-2 method. When $t_{n+1}$ is the end of the path's time range (where the score
  may be singular, $s(1) = 0$) the last step is Euler-Maruyama.

Integrating backwards (``t0 > t1``, as the likelihood does from data to noise) there is no
reverse of the sampled SDE to follow; the samplers then solve the probability-flow ODE
$dx/dt = v$ ($g = 0$) on their grid with the same scheme (Euler, resp. Heun), whose marginals
are the SDE's, so ``Pipeline.log_prob`` works with an SDE solver configured. Noise comes
from ``seed`` (a generator on the state's device, seeded per solve) or, with ``seed=None``, from
torch's global generator.

Structure: the samplers are fixed-step solvers (:class:`flowkit.core.FixedStepSolver`), whose
base owns the checks, the grid, the loop, the requested times and the finiteness check.
:meth:`StochasticSolver.integrate` only sets up the solve's :class:`SampledSDE` (drift, $g$,
generator, end of the path) and hands it to the base's loop as the field; each sampler writes its
``step`` along it. ``nfe`` counts the velocity's evaluations and, for a learned score, the score's
(:meth:`flowkit.core.counted_field.CountedField.count_also`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import torch
from torch import Tensor

from flowkit.core.counted_field import CountedField
from flowkit.core.fixed_step import FixedStepSolver
from flowkit.core.solver import VectorField
from flowkit.exceptions import InvalidParameterError, NonFiniteError
from flowkit.hookspecs import Register, hookimpl
from flowkit.validation import field_validator, require_choice, require_float, require_int

__all__ = [
    "DIFFUSION_SCHEDULES",
    "SCORE_SOURCES",
    "EulerMaruyama",
    "SampledSDE",
    "StochasticHeun",
    "StochasticSolver",
]

DIFFUSION_SCHEDULES = ("constant", "std")
r"""$g(t) = \texttt{diffusion}$ or $g(t) = \texttt{diffusion} \cdot s(t)$."""

SCORE_SOURCES = ("velocity", "model")
"""Where the score comes from: converted from the velocity, or a learned score field."""

_END_TOLERANCE = 1e-12
"""A step's $t + h$ can miss the grid time $t_{n+1}$ by rounding; within this it has reached it."""

Score = Callable[[float, Tensor, Tensor], Tensor]
"""``score(t, x, v)``: the score at ``(t, x)``, given the velocity ``v`` there."""


@attrs.frozen
class SampledSDE:
    r"""The SDE of one solve, $dx = f(t, x)\, dt + g(t)\, dW$: the field a :class:`StochasticSolver` steps along.

    Calling it evaluates the drift $f = v + \frac{g(t)^2}{2} \mathrm{score}$ (only the velocity where
    $g(t) = 0$); :meth:`increment` draws $g(t)\, dW$ with $dW \sim \mathcal{N}(0, h I)$ from the solve's
    generator; :meth:`reaches_end` tells whether a time is the path's ``end`` (``inf``, never
    reached, when integrating backwards). Built without ``g`` it is the probability-flow ODE
    $dx = v\, dt$.
    """

    velocity: CountedField
    g: Callable[[float], float] | None = attrs.field(default=None, kw_only=True)
    score: Score | None = attrs.field(default=None, kw_only=True)
    generator: torch.Generator | None = attrs.field(default=None, kw_only=True)
    end: float = attrs.field(default=math.inf, kw_only=True)

    def diffusion_at(self, t: float) -> float:
        """``g(t)``; ``0`` for the probability-flow ODE."""
        return 0.0 if self.g is None else self.g(t)

    def __call__(self, t: float, x: Tensor) -> Tensor:
        v = self.velocity(t, x)
        g = self.diffusion_at(t)
        if g == 0.0:
            return v
        assert self.score is not None, "a SampledSDE with a diffusion g is built with its score"
        return v.add(self.score(t, x, v), alpha=0.5 * g * g)

    def increment(self, t: float, x: Tensor, h: float) -> Tensor | None:
        r"""$g(t) \sqrt{h}\, z$ with $z$ standard normal shaped like ``x``, or ``None`` where $g(t) = 0$."""
        g = self.diffusion_at(t)
        if g == 0.0:
            return None
        noise = torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)
        return noise.mul_(g * math.sqrt(h))

    def reaches_end(self, t: float) -> bool:
        """Whether ``t`` is the end of the path's time range (where the score may be singular)."""
        return t >= self.end - _END_TOLERANCE


@attrs.frozen
class StochasticSolver(FixedStepSolver):
    r"""A fixed-step SDE sampler $dx = [v + \frac{g^2}{2} \mathrm{score}]\, dt + g\, dW$ (see the module docstring).

    Parameters (besides ``steps`` / ``time_grid``):
        diffusion: the scale of $g(t)$ ($\ge 0$; $0$ is the ODE).
        schedule: ``"constant"`` ($g = \texttt{diffusion}$) or ``"std"`` ($g = \texttt{diffusion} \cdot s(t)$).
        score: ``"velocity"`` (converted through the Gaussian path) or ``"model"`` (a learned score).
        seed: seeds the Brownian increments per solve; ``None`` draws from torch's global generator.

    ``path`` and ``score_field`` are bound by :meth:`bind` (the pipeline does it); a solve before
    that raises :class:`InvalidParameterError` saying what is missing. A sampler writes only
    :meth:`step`, along the :class:`SampledSDE` that :meth:`integrate` hands to the base's loop;
    ``nfe`` counts the velocity's evaluations plus, for a learned score, the score's.
    """

    needs_path: ClassVar[bool] = True

    diffusion: float = attrs.field(
        default=1.0, validator=field_validator(require_float, minimum=0.0, note="the scale of g(t)")
    )
    schedule: str = attrs.field(
        default="constant", validator=field_validator(require_choice, choices=DIFFUSION_SCHEDULES)
    )
    score: str = attrs.field(default="velocity", validator=field_validator(require_choice, choices=SCORE_SOURCES))
    seed: int | None = attrs.field(default=None, validator=field_validator(require_int, minimum=0, optional=True))
    path: Any = attrs.field(default=None, kw_only=True)
    score_field: VectorField | None = attrs.field(default=None, kw_only=True, repr=False)

    def bind(self, *, path: Any, score_field: VectorField | None = None) -> StochasticSolver:
        """A copy that samples along ``path`` (and uses ``score_field(t, x)`` when ``score="model"``)."""
        return attrs.evolve(self, path=path, score_field=score_field)

    # -- g(t) and the score ------------------------------------------------------------------------
    def _coefficient_s(self, t: float) -> float:
        s = getattr(self.path, "s", None)
        if s is None:
            raise InvalidParameterError(
                f"schedule='std' needs a Gaussian path with s(t); {self.path!r} has none (use schedule='constant')"
            )
        return float(s(torch.tensor([t], dtype=torch.float64))[0])

    def g(self, t: float) -> float:
        """The diffusion coefficient ``g(t)``."""
        if self.schedule == "std":
            return self.diffusion * self._coefficient_s(t)
        return self.diffusion

    def _score_function(self, velocity: CountedField) -> Score:
        """``score(t, x, v)`` for the configured source; a learned score is counted into ``velocity``'s nfe."""
        if self.score == "model":
            if self.score_field is None:
                raise InvalidParameterError(
                    "score='model' needs a learned score field, and this pipeline's model has none "
                    "(train with the objective 'sf2m' and a model with a score head such as 'score-flow-mlp', "
                    "or use score='velocity' with a Gaussian path)"
                )
            learned = velocity.count_also(self.score_field)
            return lambda t, x, v: learned(t, x)
        convert = getattr(self.path, "velocity_to_score", None)
        if convert is None:
            raise InvalidParameterError(
                f"score='velocity' converts the velocity through a Gaussian path (velocity_to_score); "
                f"{self.path!r} has no such conversion: train a score model ('sf2m') and use score='model'"
            )

        def converted(t: float, x: Tensor, v: Tensor) -> Tensor:
            return convert(velocity=v, x=x, t=torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device))

        return converted

    # -- solving -----------------------------------------------------------------------------------
    def _sampled_sde(self, velocity: CountedField, x0: Tensor, *, t0: float, t1: float) -> SampledSDE:
        """The solve's SDE: forwards with ``diffusion > 0`` the sampled SDE, with a generator seeded
        from ``seed`` on ``x0``'s device; otherwise the probability-flow ODE."""
        if t1 < t0:
            return SampledSDE(velocity)
        end = float(getattr(self.path, "time_range", (0.0, 1.0))[1])
        if self.diffusion == 0:
            return SampledSDE(velocity, end=end)
        if self.path is None:
            raise InvalidParameterError(
                f"{type(self).__name__} needs the pipeline's path to turn the velocity into a score; "
                "sample through Pipeline.sample/flow, or call solver.bind(path=...) first"
            )
        generator = None if self.seed is None else torch.Generator(device=x0.device).manual_seed(self.seed)
        return SampledSDE(velocity, g=self.g, score=self._score_function(velocity), generator=generator, end=end)

    def integrate(
        self, field: CountedField, x0: Tensor, *, t0: float, t1: float, times: list[float] | None
    ) -> tuple[Tensor, Tensor | None]:
        """Sample from $x(t_0) = x_0$ to $t_1 > t_0$; backwards (``t1 < t0``) solve the probability-flow ODE.

        The base's loop walks the grid, calling :meth:`step` with the solve's :class:`SampledSDE`.
        """
        sde = self._sampled_sde(field, x0, t0=t0, t1=t1)
        try:
            # the base's loop only hands its field on to self.step, which steps along a SampledSDE here
            return super().integrate(sde, x0, t0=t0, t1=t1, times=times)  # type: ignore[arg-type]
        except NonFiniteError as error:
            if sde.g is None:
                raise
            raise NonFiniteError(
                f"sampling the SDE with {type(self).__name__}(diffusion={self.diffusion}, "
                f"schedule={self.schedule!r}): {error}; use more steps or schedule='std'"
            ) from None

    # narrower than FixedStepSolver.step's CountedField: integrate passes the solve's SampledSDE
    @abstractmethod
    def step(self, field: SampledSDE, t: float, x: Tensor, h: float) -> Tensor:  # type: ignore[override]
        """One step of size ``h`` from ``x`` at time ``t`` along the solve's SDE ``field``."""


class EulerMaruyama(StochasticSolver):
    r"""Euler-Maruyama: $x_{n+1} = x_n + h\, (v + \frac{g^2}{2} \mathrm{score})(t_n, x_n) + g(t_n) \sqrt{h}\, z$.

    One velocity evaluation per step.
    """

    def step(self, field: SampledSDE, t: float, x: Tensor, h: float) -> Tensor:  # type: ignore[override]  # as above
        increment = field.increment(t, x, h)
        x_next = x.add(field(t, x), alpha=h)
        return x_next if increment is None else x_next + increment


class StochasticHeun(StochasticSolver):
    r"""Stochastic Heun (predictor-corrector for additive noise); two velocity evaluations per step.

    $\tilde x = x_n + h f_n + g \sqrt{h}\, z$,
    $x_{n+1} = x_n + \frac{h}{2} (f_n + f(t_{n+1}, \tilde x)) + g \sqrt{h}\, z$;
    the step that ends at the path's last valid time is Euler-Maruyama.
    """

    def step(self, field: SampledSDE, t: float, x: Tensor, h: float) -> Tensor:  # type: ignore[override]  # as above
        increment = field.increment(t, x, h)
        f = field(t, x)
        predictor = x.add(f, alpha=h)
        if increment is not None:
            predictor = predictor + increment
        if field.reaches_end(t + h):
            return predictor
        x_next = x.add(f + field(t + h, predictor), alpha=0.5 * h)
        return x_next if increment is None else x_next + increment


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    """Register the SDE samplers ``euler-maruyama`` and ``sde-heun``."""
    register(
        "euler-maruyama",
        EulerMaruyama,
        description="SDE sampler dx = (v + g^2/2 score) dt + g dW, marginals of the flow kept (diffusion=, schedule=, score=, seed=)",
    )
    register(
        "sde-heun",
        StochasticHeun,
        description="stochastic Heun (predictor-corrector) for the same SDE, two evaluations per step",
    )
