"""Composition: registered components built from a :class:`PipelineConfig`.

A coupling factory with a ``pipeline_config`` parameter (``reflow``, whose default teacher is the
pipeline's own configuration) gets the configuration. The objective is built on the configured
path and coupling (``objective(path=, coupling=, **params)``); an objective that takes a ``reference`` batch (the marginal-field FM loss) gets
the training data unless the configuration gives one. The model's shape parameters are filled
in from the data's event shape when the configuration leaves them out: ``dim`` for vector data
``[D]``, ``channels`` and ``image_size`` for square images ``[C, S, S]``; a model whose
``num_classes`` is required (e.g. ``conditional-mlp``) gets the data set's number of classes.
The model's weights are initialised from the pipeline seed alone.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import attrs
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from flowkit import registry
from flowkit.core import Coupling, Dataset, Objective, ODESolver, ProbabilityPath, VectorFieldModel
from flowkit.device import place_model
from flowkit.exceptions import ConfigError
from flowkit.pipeline.config import ComponentConfig, PipelineConfig
from flowkit.pipeline.seeding import derive_seed

__all__ = [
    "Components",
    "as_dataset",
    "bind_solver",
    "build_components",
    "build_dataset",
    "build_solver",
    "model_params",
]


@attrs.frozen
class Components:
    """The built components of a pipeline."""

    path: ProbabilityPath
    coupling: Coupling
    objective: Objective
    model: VectorFieldModel
    solver: ODESolver


def _create(kind: str, component: ComponentConfig, **extra: Any) -> Any:
    return registry.create(kind, component.name, **dict(component.params), **extra)


def build_dataset(component: ComponentConfig) -> Dataset:
    """The registered data set ``component``."""
    return _create("dataset", component)


def as_dataset(data: Any) -> Dataset:
    """A :class:`flowkit.Dataset` from a data set, a tensor / array ``x``, a pair ``(x, y)`` or a
    ``torch.utils.data.DataLoader``.

    Tensors are wrapped in :class:`flowkit.data.TensorData` (10% held out for evaluation). A
    DataLoader is read once, batch by batch, into such tensors (its batches are ``x`` or
    ``(x, y)``): training then draws its own seeded batches from them, so a run resumes exactly,
    which a loader's own iteration order would not allow. The data must fit in memory.
    """
    from flowkit.data import TensorData

    if isinstance(data, Dataset):
        return data
    if isinstance(data, DataLoader):
        return TensorData(*_read_loader(data))
    if isinstance(data, (Tensor, np.ndarray)):
        return TensorData(data)
    if isinstance(data, tuple) and len(data) == 2:
        return TensorData(*data)
    raise ConfigError(
        "data must be a flowkit.Dataset, a tensor x [n, *event_shape], a pair (x, y) or a "
        f"torch.utils.data.DataLoader, got {type(data).__name__}"
    )


def _read_loader(loader: DataLoader) -> tuple[Tensor, Tensor | None]:
    """Concatenate a DataLoader's batches (``x`` or ``(x, y)``) into ``(x, y or None)``."""
    xs: list[Tensor] = []
    ys: list[Tensor] = []
    for index, batch in enumerate(loader):
        if isinstance(batch, Tensor):
            x, y = batch, None
        elif isinstance(batch, (tuple, list)) and len(batch) in (1, 2) and all(isinstance(b, Tensor) for b in batch):
            x, y = batch[0], (batch[1] if len(batch) == 2 else None)
        else:
            raise ConfigError(
                f"DataLoader batch {index} is {type(batch).__name__}; accepted batches: a tensor x or a pair "
                "of tensors (x, y)"
            )
        if index > 0 and (y is not None) != bool(ys):
            raise ConfigError(f"DataLoader batch {index} {'has' if y is not None else 'lacks'} labels, unlike batch 0")
        xs.append(x)
        if y is not None:
            ys.append(y)
    if not xs:
        raise ConfigError("the DataLoader yielded no batches")
    return torch.cat(xs), (torch.cat(ys) if ys else None)


def build_solver(solver: Any) -> ODESolver:
    """An ODE solver from a name, a ``{name, **params}`` table, a ComponentConfig or a solver."""
    if isinstance(solver, ODESolver):
        return solver
    return _create("solver", ComponentConfig.parse(solver, key="solver"))


def bind_solver(solver: ODESolver, *, path: ProbabilityPath, network: Any, labels: Tensor | None) -> ODESolver:
    """``solver`` bound to the pipeline's path and learned score when it declares ``needs_path``.

    The SDE samplers (:mod:`flowkit.solvers.sde`) turn the velocity into a score through the path,
    or use the score head ``network.score(t, x [, y])`` of a model trained with ``sf2m``; other
    solvers are returned unchanged.
    """
    if not getattr(solver, "needs_path", False):
        return solver
    score = getattr(network, "score", None)
    score_field = None
    if callable(score):
        score_field = (lambda t, x: score(t, x)) if labels is None else (lambda t, x: score(t, x, labels))
    return solver.bind(path=path, score_field=score_field)


def _signature(factory: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):
        return None


def model_params(
    component: ComponentConfig, event_shape: tuple[int, ...], num_classes: int | None
) -> dict[str, Any]:
    """The model's parameters with the shape (and required ``num_classes``) filled in from the data."""
    params = dict(component.params)
    signature = _signature(registry.get("model", component.name).factory)
    if signature is None:
        return params
    accepted = signature.parameters
    if "dim" in accepted and "dim" not in params:
        if len(event_shape) != 1:
            raise ConfigError(
                f"model {component.name!r} takes vector data (dim=...), but the data have event shape "
                f"{list(event_shape)}; use an image model such as 'unet' or give dim explicitly"
            )
        params["dim"] = event_shape[0]
    if "channels" in accepted and "image_size" in accepted and not {"channels", "image_size"} & params.keys():
        if len(event_shape) != 3 or event_shape[1] != event_shape[2]:
            raise ConfigError(
                f"model {component.name!r} takes square images [channels, size, size], but the data have "
                f"event shape {list(event_shape)}"
            )
        params["channels"], params["image_size"] = event_shape[0], event_shape[1]
    needs_classes = "num_classes" in accepted and accepted["num_classes"].default is inspect.Parameter.empty
    if needs_classes and "num_classes" not in params:
        if num_classes is None:
            raise ConfigError(f"model {component.name!r} is class-conditional, but the data set has no labels")
        params["num_classes"] = num_classes
    return params


def build_components(
    config: PipelineConfig,
    *,
    event_shape: tuple[int, ...],
    num_classes: int | None,
    device: torch.device,
    reference: Callable[[], Tensor],
) -> Components:
    """Build path, coupling, objective, model (on ``device``) and solver from ``config``.

    ``reference()`` (the training data) is called for an objective with a ``reference``
    parameter that the configuration leaves unset.
    """
    path = _create("path", config.path)
    coupling_signature = _signature(registry.get("coupling", config.coupling.name).factory)
    coupling_extra: dict[str, Any] = {}
    if coupling_signature is not None and "pipeline_config" in coupling_signature.parameters:
        coupling_extra["pipeline_config"] = config
    coupling = _create("coupling", config.coupling, **coupling_extra)
    extra: dict[str, Any] = {"path": path, "coupling": coupling}
    objective_signature = _signature(registry.get("objective", config.objective.name).factory)
    if (
        objective_signature is not None
        and "reference" in objective_signature.parameters
        and "reference" not in config.objective.params
    ):
        extra["reference"] = reference()
    objective = _create("objective", config.objective, **extra)
    params = model_params(config.model, event_shape, num_classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(config.seed, "init"))
        model = registry.create("model", config.model.name, **params)
    if not isinstance(model, VectorFieldModel):
        raise ConfigError(
            f"model {config.model.name!r} built a {type(model).__name__}, not a flowkit.VectorFieldModel"
        )
    model_classes = getattr(model, "num_classes", None)
    if model_classes is not None and num_classes is not None and model_classes < num_classes:
        raise ConfigError(
            f"model {config.model.name!r} has num_classes={model_classes} but the data set has {num_classes} classes"
        )
    if model_classes is not None and num_classes is None:
        raise ConfigError(f"model {config.model.name!r} is class-conditional, but the data set has no labels")
    solver = build_solver(config.solver)
    return Components(path, coupling, objective, place_model(model, device), solver)

