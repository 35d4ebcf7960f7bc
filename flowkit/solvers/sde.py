"""Stochastic samplers that keep the marginals of the flow: ``euler-maruyama`` and ``sde-heun``.

For a flow ``dx/dt = v(t, x)`` with marginals ``p_t`` the SDE (Song et al., 2021; Tong et al.,
2023, SF2M) ::

    dx = [v(t, x) + g(t)^2 / 2 * score(t, x)] dt + g(t) dW,     score = grad_x log p_t(x),

has the same marginals ``p_t`` for every diffusion coefficient ``g(t) >= 0`` (its Fokker-Planck
equation is the continuity equation of ``v``). ``g = 0`` is the ODE.

The score comes either from the velocity through the Gaussian path's conversion
(``score="velocity"``, :meth:`flowkit.paths.GaussianPath.velocity_to_score`,
``score = (a v - a' x) / (s (a' s - a s'))``) or from a separately trained score network
(``score="model"``, e.g. the ``sf2m`` objective's score head). The sampler therefore needs the
pipeline's path (and, for a learned score, its score field): it declares ``needs_path`` and the
pipeline hands them over with :meth:`StochasticSolver.bind` before solving.

Diffusion coefficients: ``schedule="constant"``, ``g(t) = diffusion``; ``schedule="std"``,
``g(t) = diffusion * s(t)`` with the Gaussian path's ``s(t)``, which keeps the correction
``g^2/2 score = -diffusion^2 s eps / 2`` bounded where ``s(t) -> 0`` (near the data), while a
constant ``g`` makes the drift stiff there (``g^2 / (2 s^2)``).

Steps on the grid ``t_0 < ... < t_N`` (uniform, or ``time_grid`` as for the fixed-step ODE
solvers), with ``h = t_{n+1} - t_n``, ``dW ~ N(0, h I)`` and drift ``f = v + g^2/2 score``:

* Euler-Maruyama (strong order 1/2, weak order 1): ``x_{n+1} = x_n + h f(t_n, x_n) + g(t_n) dW``.
* stochastic Heun (``sde-heun``, the predictor-corrector of Karras et al., 2022, for additive
  noise): ``x~ = x_n + h f(t_n, x_n) + g(t_n) dW``,
  ``x_{n+1} = x_n + h/2 (f(t_n, x_n) + f(t_{n+1}, x~)) + g(t_n) dW``; its deterministic part is
  Heun's order-2 method. When ``t_{n+1}`` is the end of the path's time range (where the score
  may be singular, ``s(1) = 0``) the last step is Euler-Maruyama.

Integrating backwards (``t0 > t1``, as the likelihood does from data to noise) there is no
reverse of the sampled SDE to follow; the samplers then solve the probability-flow ODE
``dx/dt = v`` (``g = 0``) on their grid with the same scheme (Euler, resp. Heun), whose marginals
are the SDE's, so ``Pipeline.log_prob`` works with an SDE solver configured. Noise comes
from ``seed`` (a generator on the state's device, seeded per solve) or, with ``seed=None``, from
torch's global generator.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import attrs
import torch
from torch import Tensor

from flowkit.core.solver import Solution, VectorField
from flowkit.exceptions import InvalidParameterError, NonFiniteError
from flowkit.shapes import Batch, checked, shape_checks
from flowkit.core.counted_field import CountedField
from flowkit.core.fixed_step import FixedStepSolver
from flowkit.core.solver_times import check_interval, check_start, insert_times, requested_times
from flowkit.solvers.fixed import EULER_TABLEAU, HEUN_TABLEAU

__all__ = ["DIFFUSION_SCHEDULES", "SCORE_SOURCES", "EulerMaruyama", "StochasticHeun", "StochasticSolver"]

DIFFUSION_SCHEDULES = ("constant", "std")
"""``g(t) = diffusion`` or ``g(t) = diffusion * s(t)``."""

SCORE_SOURCES = ("velocity", "model")
"""Where the score comes from: converted from the velocity, or a learned score field."""


def _check_diffusion(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value >= 0):
        raise InvalidParameterError(f"diffusion must be a finite number >= 0 (the scale of g(t)), got {value!r}")


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise InvalidParameterError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")

    return check


def _check_seed(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise InvalidParameterError(f"seed must be None or an integer >= 0, got {value!r}")


@attrs.frozen
class StochasticSolver(FixedStepSolver):
    """A fixed-step SDE sampler ``dx = [v + g^2/2 score] dt + g dW`` (see the module docstring).

    Parameters (besides ``steps`` / ``time_grid``):
        diffusion: the scale of ``g(t)`` (``>= 0``; ``0`` is the ODE).
        schedule: ``"constant"`` (``g = diffusion``) or ``"std"`` (``g = diffusion * s(t)``).
        score: ``"velocity"`` (converted through the Gaussian path) or ``"model"`` (a learned score).
        seed: seeds the Brownian increments per solve; ``None`` draws from torch's global generator.

    ``path`` and ``score_field`` are bound by :meth:`bind` (the pipeline does it); a solve before
    that raises :class:`InvalidParameterError` saying what is missing.
    """

    needs_path: ClassVar[bool] = True

    diffusion: float = attrs.field(default=1.0, validator=_check_diffusion)
    schedule: str = attrs.field(default="constant", validator=_choice("schedule", DIFFUSION_SCHEDULES))
    score: str = attrs.field(default="velocity", validator=_choice("score", SCORE_SOURCES))
    seed: int | None = attrs.field(default=None, validator=_check_seed)
    path: Any = attrs.field(default=None, kw_only=True)
    score_field: VectorField | None = attrs.field(default=None, kw_only=True, repr=False)

    def bind(self, *, path: Any, score_field: VectorField | None = None) -> StochasticSolver:
        """A copy that samples along ``path`` (and uses ``score_field(t, x)`` when ``score="model"``)."""
        return attrs.evolve(self, path=path, score_field=score_field)

    # -- g(t) and the drift --------------------------------------------------------------------------
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

    def _score_function(self) -> tuple[Callable[[float, Tensor, Tensor], Tensor], CountedField | None]:
        """``score(t, x, v)`` for the configured source (``t`` a float, ``v`` the velocity at ``(t, x)``),
        and the counted score field when the score is learned."""
        if self.score == "model":
            if self.score_field is None:
                raise InvalidParameterError(
                    "score='model' needs a learned score field, and this pipeline's model has none "
                    "(train with the objective 'sf2m' and a model with a score head such as 'score-flow-mlp', "
                    "or use score='velocity' with a Gaussian path)"
                )
            field = CountedField(self.score_field)
            return (lambda t, x, v: field(t, x)), field
        convert = getattr(self.path, "velocity_to_score", None)
        if convert is None:
            raise InvalidParameterError(
                f"score='velocity' converts the velocity through a Gaussian path (velocity_to_score); "
                f"{self.path!r} has no such conversion: train a score model ('sf2m') and use score='model'"
            )

        def converted(t: float, x: Tensor, v: Tensor) -> Tensor:
            return convert(velocity=v, x=x, t=torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device))

        return converted, None

    def _drift(self, counted: CountedField, score: Callable, t: float, x: Tensor, g: float) -> Tensor:
        v = counted(t, x)
        if g == 0.0:
            return v
        return v.add(score(t, x, v), alpha=0.5 * g * g)

    # -- solving -----------------------------------------------------------------------------------
    @checked
    def solve(
        self,
        field: VectorField,
        x0: Batch,
        *,
        t0: float | int = 0.0,
        t1: float | int = 1.0,
        trajectory_times: Sequence[float | int] | Tensor | None = None,
        enable_grad: bool = False,
    ) -> Solution:
        """Sample the SDE from ``x(t0) = x0`` to ``t1 > t0``; backwards (``t1 < t0``) solve the probability-flow ODE.

        ``nfe`` counts the network evaluations: the velocity's plus, for a learned score, the score's.
        """
        t0, t1 = check_interval(t0, t1)
        stochastic = t1 > t0 and self.diffusion > 0
        if stochastic and self.path is None:
            raise InvalidParameterError(
                f"{type(self).__name__} needs the pipeline's path to turn the velocity into a score; "
                "sample through Pipeline.sample/flow, or call solver.bind(path=...) first"
            )
        requested = requested_times(trajectory_times, t0, t1)
        check_start(x0)
        grid = self.grid(t0, t1)
        record: list[int] = []
        if requested is not None:
            grid, record = insert_times(grid, requested)
        score, score_counted = self._score_function() if stochastic else (None, None)
        generator = None
        if self.seed is not None:
            generator = torch.Generator(device=x0.device).manual_seed(self.seed)
        counted = CountedField(field)
        end = float(getattr(self.path, "time_range", (0.0, 1.0))[1]) if t1 > t0 else -math.inf
        saved: dict[int, Tensor] = {0: x0} if 0 in record else {}
        wanted = set(record)
        x = x0
        with torch.set_grad_enabled(enable_grad), shape_checks(False):
            for n in range(len(grid) - 1):
                t, h = grid[n], grid[n + 1] - grid[n]
                g, g_next = (self.g(t), self.g(grid[n + 1])) if stochastic else (0.0, 0.0)
                noise = None
                if g > 0:
                    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
                x = self._step(counted, score, x, t, h, (g, g_next), noise, last=t1 > t0 and grid[n + 1] >= end)
                if n + 1 in wanted:
                    saved[n + 1] = x
        if not bool(torch.isfinite(x).all()):
            raise NonFiniteError(
                f"the SDE state became non-finite between t={t0} and t={t1} with {type(self).__name__} "
                f"(diffusion={self.diffusion}, schedule={self.schedule!r}); use more steps or schedule='std'"
            )
        nfe = counted.nfe + (score_counted.nfe if score_counted is not None else 0)
        if requested is None:
            return Solution(x=x, nfe=nfe)
        times = torch.tensor(requested, dtype=x0.dtype, device=x0.device)
        return Solution(x=x, nfe=nfe, times=times, trajectory=torch.stack([saved[i] for i in record]))

    def step(self, field: CountedField, t: float, x: Tensor, h: float) -> Tensor:
        """Not used: :meth:`solve` runs the stochastic loop itself (the noise and the score need it)."""
        raise NotImplementedError(f"{type(self).__name__} samples through solve(), not step by step")

    @abstractmethod
    def _step(
        self,
        counted: CountedField,
        score: Any,
        x: Tensor,
        t: float,
        h: float,
        g: tuple[float, float],
        noise: Tensor | None,
        *,
        last: bool,
    ) -> Tensor:
        """One step from ``(t, x)`` of size ``h``; ``g = (g(t), g(t + h))``, ``noise`` standard normal or ``None``."""


class EulerMaruyama(StochasticSolver):
    """Euler-Maruyama: ``x_{n+1} = x_n + h (v + g^2/2 score)(t_n, x_n) + g(t_n) sqrt(h) z``.

    One velocity evaluation per step.
    """

    tableau = EULER_TABLEAU

    def _step(self, counted, score, x, t, h, g, noise, *, last):
        x_next = x.add(self._drift(counted, score, t, x, g[0]), alpha=h)
        return x_next if noise is None else x_next.add(noise, alpha=g[0] * math.sqrt(h))


class StochasticHeun(StochasticSolver):
    """Stochastic Heun (predictor-corrector for additive noise); two velocity evaluations per step.

    ``x~ = x_n + h f_n + g sqrt(h) z``, ``x_{n+1} = x_n + h/2 (f_n + f(t_{n+1}, x~)) + g sqrt(h) z``;
    the step that ends at the path's last valid time is Euler-Maruyama.
    """

    tableau = HEUN_TABLEAU

    def _step(self, counted, score, x, t, h, g, noise, *, last):
        f = self._drift(counted, score, t, x, g[0])
        increment = None if noise is None else noise * (g[0] * math.sqrt(h))
        predictor = x.add(f, alpha=h)
        if increment is not None:
            predictor = predictor + increment
        if last:
            return predictor
        f_next = self._drift(counted, score, t + h, predictor, g[1])
        x_next = x.add(f + f_next, alpha=0.5 * h)
        return x_next if increment is None else x_next + increment
