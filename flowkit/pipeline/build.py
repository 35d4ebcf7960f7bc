"""Composition: registered components built from a :class:`PipelineConfig`.

A coupling factory with a ``pipeline_config`` parameter (``reflow``, whose default teacher is the
pipeline's own configuration) gets the configuration. The objective is built on the configured path and coupling (``objective(path=, coupling=,
**params)``); an objective that takes a ``reference`` batch (the marginal-field FM loss) gets
the training data unless the configuration gives one. Before it is built, the path is checked
against the objective's declared ``path_requirements`` (:mod:`flowkit.core.capabilities`), so
a path without, e.g., the marginal field of ``fm`` fails at once with the missing method named. The model's shape parameters are filled
in from the data's event shape when the configuration leaves them out: ``dim`` for vector data
``[D]``, ``channels`` and ``image_size`` for square images ``[C, S, S]``; a model whose
``num_classes`` is required (e.g. ``conditional-mlp``) gets the data set's number of classes.
The model's weights are initialised from the pipeline seed alone.

Any component may instead be given as an object (``Pipeline(config, model=my_net,
path=my_path, ...)``): :func:`component_objects` checks it against its interface (an objective
object brings its own path and coupling) and :func:`describe_objects` records it in the
configuration as its class, named by a factory reference ``"package.module:Class"`` (or its
registered name), plus its constructor parameters
(:func:`flowkit.core.construction.construction_parameters`), so that a saved pipeline is
rebuilt from plain data by importing that module; nothing is pickled. An object that cannot be
described so (a class defined in ``__main__`` or in a function, arguments that are not plain
data) triggers a :class:`flowkit.exceptions.NotRebuildableWarning`: its weights are saved, and
``Pipeline.load`` needs the object again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

import attrs
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from flowkit import registry
from flowkit.core import (
    Coupling,
    Dataset,
    Objective,
    ODESolver,
    ProbabilityPath,
    VectorFieldModel,
    require_capabilities,
)
from flowkit.core.construction import construction_parameters
from flowkit.core.signatures import accepts_keyword, keyword_names, requires_keyword
from flowkit.core.state_space import CONTINUOUS_STATE, state_space_of
from flowkit.device import place_model
from flowkit.exceptions import ConfigError, InvalidParameterError, NotRebuildableWarning, UnknownComponentError
from flowkit.pipeline.config import COMPONENT_KINDS, ComponentConfig, PipelineConfig
from flowkit.pipeline.seeding import derive_seed

__all__ = [
    "COMPONENT_INTERFACES",
    "Components",
    "as_dataset",
    "bind_solver",
    "build_components",
    "build_dataset",
    "build_path",
    "build_solver",
    "check_registered",
    "component_objects",
    "describe_objects",
    "model_params",
]

COMPONENT_INTERFACES: dict[str, type] = {
    "path": ProbabilityPath,
    "coupling": Coupling,
    "objective": Objective,
    "model": VectorFieldModel,
    "solver": ODESolver,
}
"""The configuration keys that accept component objects, and the interface each must implement."""


@attrs.frozen
class Components:
    """The built components of a pipeline."""

    path: ProbabilityPath
    coupling: Coupling
    objective: Objective
    model: VectorFieldModel
    solver: ODESolver


def _create(kind: str, component: ComponentConfig, **extra: Any) -> Any:
    try:
        return registry.create(kind, component.name, **dict(component.params), **extra)
    except (UnknownComponentError, InvalidParameterError) as exc:
        raise _with_rebuild_hint(exc, kind, component.name) from exc


def _with_rebuild_hint(exc: Exception, kind: str, name: str) -> Exception:
    """``exc`` with, for a factory reference, how to rebuild a component that was given as an object."""
    if not registry.is_reference(name):
        return exc
    key = next(k for k, v in COMPONENT_KINDS.items() if v == kind)
    return type(exc)(
        f"{exc}\n{kind} {name!r} could not be rebuilt from the configuration. If it was given to Pipeline as an "
        f"object, give it again (Pipeline.load(directory, {key}=...)), or make its class importable under that "
        "name with plain-data constructor parameters (or a factory_parameters() method)."
    )


# -- component objects -------------------------------------------------------------------------
def component_objects(objects: Mapping[str, Any]) -> dict[str, Any]:
    """The component objects given to a pipeline (``None`` values dropped), each checked against
    its interface; an objective object brings its own ``path`` and ``coupling``."""
    given = {key: value for key, value in objects.items() if value is not None}
    for key, value in given.items():
        interface = COMPONENT_INTERFACES.get(key)
        if interface is None:
            raise ConfigError(f"unknown component {key!r}; objects are accepted for {', '.join(COMPONENT_INTERFACES)}")
        if not isinstance(value, interface):
            raise ConfigError(
                f"{key}= must be a flowkit.{interface.__name__}, got {type(value).__name__}; subclass "
                f"flowkit.{interface.__name__}, or name a registered {COMPONENT_KINDS[key]} or a factory "
                "'package.module:factory' in the config instead"
            )
    objective = given.get("objective")
    for key in ("path", "coupling") if objective is not None else ():
        own = getattr(objective, key, None)
        if own is None:
            continue
        if key in given and given[key] is not own:
            raise ConfigError(f"the objective object was built on a different {key} than {key}=; pass only one of them")
        given[key] = own
    return given


def _describe_object(key: str, component: Any) -> ComponentConfig:
    kind = COMPONENT_KINDS[key]
    cls = type(component)
    registered = [
        spec.name for spec in registry.components(kind) if spec.factory is cls and not spec.provider.in_process
    ]
    name = registered[0] if registered else registry.reference_to(cls)
    problem = None
    if name is None:
        name = f"{cls.__module__}:{cls.__qualname__}"
        problem = f"its class {name} cannot be imported by that name (defined in __main__ or inside a function)"
    try:
        params = construction_parameters(component)
        for built in ("path", "coupling") if key == "objective" else ():
            params.pop(built, None)
        description = ComponentConfig(name, params)
    except (LookupError, TypeError, ConfigError) as exc:
        problem = problem or f"its constructor parameters cannot be recorded as plain data ({exc})"
        description = ComponentConfig(name)
    if problem is not None:
        warnings.warn(
            f"{key}: {problem}. Pipeline.save stores its state, not how to rebuild it: pass {key}=... to "
            f"Pipeline.load again, or make its class importable with plain-data constructor parameters (or "
            "give it a factory_parameters() method)",
            NotRebuildableWarning,
            stacklevel=4,
        )
    return description


def describe_objects(config: PipelineConfig, objects: Mapping[str, Any]) -> PipelineConfig:
    """``config`` with each object's component replaced by its class (a registered name or a
    factory reference) and constructor parameters, so that saving it saves how to rebuild it."""
    return attrs.evolve(config, **{key: _describe_object(key, value) for key, value in objects.items()})


def check_registered(config: PipelineConfig, *, skip: Any = ()) -> None:
    """Look up every configured component (and callback) not in ``skip`` (keys given as objects)
    in the registry."""
    for key, component in config.components().items():
        if key not in skip:
            try:
                registry.get(COMPONENT_KINDS[key], component.name)
            except UnknownComponentError as exc:
                raise _with_rebuild_hint(exc, COMPONENT_KINDS[key], component.name) from None
    for callback in config.callbacks:
        registry.get("callback", callback.name)


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


def build_path(path: Any) -> ProbabilityPath:
    """A probability path from a name, a ``{name, **params}`` table, a ComponentConfig or a path."""
    if isinstance(path, ProbabilityPath):
        return path
    return _create("path", ComponentConfig.parse(path, key="schedule"))


def build_solver(solver: Any) -> ODESolver:
    """An ODE solver from a name, a ``{name, **params}`` table, a ComponentConfig or a solver."""
    if isinstance(solver, ODESolver):
        return solver
    return _create("solver", ComponentConfig.parse(solver, key="solver"))


class _PathBoundSolver(Protocol):
    """A solver that declares ``needs_path``: it is used as ``solver.bind(path=, score_field=)``."""

    def bind(self, *, path: ProbabilityPath, score_field: Callable[[Tensor, Tensor], Tensor] | None) -> ODESolver: ...


def bind_solver(solver: ODESolver, *, path: ProbabilityPath, network: Any, labels: Tensor | None) -> ODESolver:
    """``solver`` bound to the pipeline's path and learned score when it declares ``needs_path``.

    A solver and a path declare the states they move in ``state_space`` (default
    :data:`CONTINUOUS_STATE`; the discrete CTMC sampler and mixture path use ``"tokens"``); a
    solver for other states than the path's is a :class:`ConfigError`.

    The SDE samplers (:mod:`flowkit.solvers.sde`) turn the velocity into a score through the path,
    or use the score head ``network.score(t, x [, y])`` of a model trained with ``sf2m``; other
    solvers are returned unchanged.
    """
    solver_state = state_space_of(solver)
    path_state = state_space_of(path)
    if solver_state != path_state:
        raise ConfigError(
            f"solver {type(solver).__name__} moves {solver_state} states but path {type(path).__name__} has "
            f"{path_state} states; choose a solver for {path_state} states (e.g. 'discrete-euler' for tokens, "
            "'euler' or 'dopri5' for continuous paths)"
        )
    if not getattr(solver, "needs_path", False):
        return solver
    score = getattr(network, "score", None)
    score_field = None
    if callable(score):
        score_field = (lambda t, x: score(t, x)) if labels is None else (lambda t, x: score(t, x, labels))
    return cast(_PathBoundSolver, solver).bind(path=path, score_field=score_field)


def model_params(
    component: ComponentConfig, event_shape: tuple[int, ...], num_classes: int | None, vocab_size: int | None = None
) -> dict[str, Any]:
    """The model's parameters with the shape (and required ``num_classes``) filled in from the data;
    a token model (parameters ``vocab_size`` and ``length``) gets the data's vocabulary and length."""
    params = dict(component.params)
    factory = registry.get("model", component.name).factory
    accepted = keyword_names(factory) or []
    if vocab_size is not None and "vocab_size" in accepted and "vocab_size" not in params:
        params["vocab_size"] = vocab_size
    if vocab_size is not None and "length" in accepted and "length" not in params and len(event_shape) == 1:
        params["length"] = event_shape[0]
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
    if requires_keyword(factory, "num_classes") and "num_classes" not in params:
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
    objects: Mapping[str, Any] | None = None,
    vocab_size: int | None = None,
) -> Components:
    """Build path, coupling, objective, model (on ``device``) and solver from ``config``.

    ``objects`` (from :func:`component_objects`) are used as they are instead of building those
    components. ``reference()`` (the training data) is called for an objective with a
    ``reference`` parameter that the configuration leaves unset. For discrete data
    (``vocab_size`` set) a path or model with a ``vocab_size`` parameter the configuration
    leaves unset gets the data's.
    """
    objects = dict(objects or {})
    if "path" in objects:
        path = objects["path"]
    else:
        fill_vocab = (
            vocab_size is not None
            and accepts_keyword(registry.get("path", config.path.name).factory, "vocab_size")
            and "vocab_size" not in config.path.params
        )
        path = _create("path", config.path, **({"vocab_size": vocab_size} if fill_vocab else {}))
    if vocab_size is not None and state_space_of(path) == CONTINUOUS_STATE:
        raise ConfigError(
            f"the data are integer tokens (vocab_size={vocab_size}) but path {config.path.name!r} moves continuous "
            "states; use a discrete path such as 'mixture' (with a token objective, model and solver: "
            "'discrete-ce', 'discrete-mlp', 'discrete-euler')"
        )
    if "coupling" in objects:
        coupling = objects["coupling"]
    else:
        coupling_extra: dict[str, Any] = {}
        if accepts_keyword(registry.get("coupling", config.coupling.name).factory, "pipeline_config"):
            coupling_extra["pipeline_config"] = config
        coupling = _create("coupling", config.coupling, **coupling_extra)
    objective_factory = (
        type(objects["objective"])
        if "objective" in objects
        else registry.get("objective", config.objective.name).factory
    )
    require_capabilities(
        path,
        getattr(objective_factory, "path_requirements", ()),
        needed_by=f"objective {config.objective.name!r}",
        role=f"path {config.path.name!r}",
    )
    if "objective" in objects:
        objective = objects["objective"]
    else:
        extra: dict[str, Any] = {"path": path, "coupling": coupling}
        if accepts_keyword(objective_factory, "reference") and "reference" not in config.objective.params:
            extra["reference"] = reference()
        objective = _create("objective", config.objective, **extra)
    if "model" in objects:
        model = objects["model"]
    else:
        params = model_params(config.model, event_shape, num_classes, vocab_size)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derive_seed(config.seed, "init"))
            model = _create("model", ComponentConfig(config.model.name, params))
    if not isinstance(model, VectorFieldModel):
        raise ConfigError(f"model {config.model.name!r} built a {type(model).__name__}, not a flowkit.VectorFieldModel")
    model_classes = getattr(model, "num_classes", None)
    if model_classes is not None and num_classes is not None and model_classes < num_classes:
        raise ConfigError(
            f"model {config.model.name!r} has num_classes={model_classes} but the data set has {num_classes} classes"
        )
    if model_classes is not None and num_classes is None:
        raise ConfigError(f"model {config.model.name!r} is class-conditional, but the data set has no labels")
    solver = objects["solver"] if "solver" in objects else build_solver(config.solver)
    return Components(path, coupling, objective, place_model(model, device), solver)
