r"""Reflow from a teacher pipeline (registered as the coupling ``reflow``) and the straightness of a flow.

:func:`reflow` builds a :class:`flowkit.couplings.ReflowCoupling` whose pairs are ``num_pairs``
prior draws ``x0`` (seeded by ``seed``) and the teacher's ODE outputs ``x1 = T(x0)``, solved with
``solver`` (default: the teacher's own). The teacher is

* ``None``: the pipeline being configured, with its coupling replaced by ``teacher_coupling``
  (default ``independent``) and trained with the same settings — the first round of rectified
  flow, so a suite that lists ``independent`` and ``reflow`` as couplings compares a flow with its
  own rectification;
* a checkpoint directory (a run's ``checkpoint/``), loaded;
* a pipeline configuration (a table), trained;
* a :class:`~flowkit.pipeline.Pipeline` object.

The pairs are generated lazily, at the first training batch (a pipeline loaded only to sample
never retrains its teacher), and kept per process, so the teacher of one configuration is trained
once even when several pipelines (a benchmark's warm-up and its cell) ask for it. Training the
teacher and generating the pairs count in the time of that first step.

:func:`straightness` is Liu et al.'s measure of a flow's paths,
$S = \int_0^1 \mathbb{E} \lVert (x_1 - x_0) - v(t, x_t) \rVert^2 \, dt$ along its ODE trajectories: zero exactly for
straight paths travelled at constant speed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from flowkit import registry
from flowkit.core import VectorField
from flowkit.couplings.reflow import ReflowCoupling
from flowkit.exceptions import ConfigError, InvalidParameterError
from flowkit.validation import require_int

__all__ = ["reflow", "straightness"]

_PAIRS: dict[str, tuple[Tensor, Tensor]] = {}
_TEACHERS: dict[str, Any] = {}


def _trained(config: Any) -> Any:
    """The pipeline of ``config`` trained to its ``train.steps`` (once per process)."""
    from flowkit.pipeline.pipeline import Pipeline

    key = config.to_json()
    if key not in _TEACHERS:
        teacher = Pipeline(config)
        teacher.fit(progress=False)
        _TEACHERS[key] = teacher
    return _TEACHERS[key]


def _teacher(teacher: Any, pipeline_config: Any, teacher_coupling: Any) -> tuple[Any, str]:
    """``(a callable returning the teacher pipeline, a key naming it)``."""
    from flowkit.pipeline.config import PipelineConfig
    from flowkit.pipeline.pipeline import Pipeline

    if isinstance(teacher, Pipeline):
        return (lambda: teacher), f"object:{id(teacher)}"
    if isinstance(teacher, (str, Path)):
        directory = str(Path(teacher).resolve())
        return (lambda: _TEACHERS.setdefault(directory, Pipeline.load(directory))), f"checkpoint:{directory}"
    if teacher is None:
        if pipeline_config is None:
            raise InvalidParameterError(
                "reflow needs a teacher: a checkpoint directory, a pipeline config table or a Pipeline "
                "(or, inside a pipeline, none: the pipeline's own config with teacher_coupling)"
            )
        if pipeline_config.data is None:
            raise ConfigError("reflow without a teacher trains one on the config's data, but the config has no data")
        # The teacher trains in memory: the student's callbacks (trackers writing to its run) stay with the student.
        config = PipelineConfig.from_dict({**pipeline_config.to_dict(), "coupling": teacher_coupling, "callbacks": []})
    elif isinstance(teacher, Mapping):
        config = PipelineConfig.from_dict(teacher)
    else:
        raise InvalidParameterError(
            f"teacher must be None, a checkpoint directory, a pipeline config table or a Pipeline, got {type(teacher).__name__}"
        )
    return (lambda: _trained(config)), f"config:{config.to_json()}"


def reflow(
    *,
    teacher: Any = None,
    pipeline_config: Any = None,
    num_pairs: int = 10_000,
    solver: Any = None,
    seed: int = 0,
    teacher_coupling: Any = "independent",
) -> ReflowCoupling:
    """A :class:`ReflowCoupling` on ``num_pairs`` pairs ``(x0, T(x0))`` of the teacher (module docstring).

    ``pipeline_config`` is filled in by the pipeline that builds this coupling.
    """
    require_int("num_pairs", num_pairs, minimum=1)
    require_int("seed", seed, minimum=0)
    get_teacher, key = _teacher(teacher, pipeline_config, teacher_coupling)
    bank_key = json.dumps([key, solver, num_pairs, seed], sort_keys=True, default=str)

    def generate() -> tuple[Tensor, Tensor]:
        if bank_key not in _PAIRS:
            pipeline = get_teacher()
            with torch.autocast(pipeline.device.type, enabled=False), torch.random.fork_rng(devices=[]):
                generator = torch.Generator(device=pipeline.device).manual_seed(seed)
                x0 = pipeline.prior_sample(num_pairs, generator=generator)
                x1 = pipeline.flow(x0, solver=solver).x
            _PAIRS[bank_key] = (x0, x1)
        return _PAIRS[bank_key]

    return ReflowCoupling(generate, description=f"reflow of {key[:80]}, {num_pairs} pairs")


def straightness(field: VectorField, x0: Tensor, *, steps: int = 100) -> Tensor:
    r"""The straightness $\int_0^1 \mathbb{E} \lVert (x_1 - x_0) - v(t, x_t) \rVert^2 \, dt$ of the flow of ``field``.

    $v$ is ``field`` and the ODE paths start at ``x0``. The paths are solved with RK4 on ``steps``
    uniform steps; the integrand, evaluated at each grid state, is integrated by the trapezoidal
    rule. Squared norms sum over the event dimensions and average over the batch. Returns a 0-d
    tensor.
    """
    require_int("steps", steps, minimum=1)
    times = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64).tolist()
    solver = registry.create("solver", "rk4", steps=steps)
    with torch.no_grad():
        trajectory = solver.solve(field, x0, trajectory_times=times).trajectory
        displacement = trajectory[-1] - trajectory[0]
        deviations = torch.stack(
            [
                (displacement - field(torch.full((x0.shape[0],), t, dtype=x0.dtype, device=x0.device), x))
                .reshape(x0.shape[0], -1)
                .square()
                .sum(dim=1)
                .mean()
                for t, x in zip(times, trajectory)
            ]
        )
    return torch.trapezoid(deviations, dx=1.0 / steps)
