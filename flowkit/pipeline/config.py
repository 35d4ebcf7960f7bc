"""Pipeline configuration: frozen, validated ``attrs`` classes and their plain-data form.

A pipeline is described by plain data (a dict, a TOML or a JSON file)::

    path = { name = "ot", sigma_min = 1e-4 }   # a component: a bare name or name + parameters
    coupling = "independent"
    objective = "cfm"
    model = { name = "mlp", width = 256 }
    solver = { name = "rk4", steps = 50 }
    data = "checkerboard"
    device = "auto"
    seed = 0
    # recipe = { name = "sb-cfm", sigma = 0.5 }  # a method's components (flowkit.pipeline.recipes)
    callbacks = ["tensorboard", { name = "mlflow", experiment = "toy" }]  # training callbacks

    [train]
    steps = 10000
    batch_size = 256

    [eval]
    num_samples = 2000

:meth:`PipelineConfig.from_dict` turns such data into a :class:`PipelineConfig`; an unknown key
raises :class:`flowkit.exceptions.ConfigError` naming the key and the accepted ones, a value of
the wrong type or range names the key and what is accepted. :meth:`PipelineConfig.to_dict` gives
the plain data back (``from_dict(c.to_dict()) == c``), :meth:`PipelineConfig.save` and
:meth:`PipelineConfig.load` write and read TOML or JSON by file suffix. Component names are
checked against the registry by :meth:`PipelineConfig.check_components`, not here, so a
configuration can be read without loading plugins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import tomli_w

from flowkit.atomic import atomic_write_text
from flowkit.config_values import choice, known_keys, non_empty_string, number, parse_document
from flowkit.exceptions import ConfigError

__all__ = [
    "COMPONENT_KINDS",
    "ComponentConfig",
    "EvalConfig",
    "PipelineConfig",
    "TrainConfig",
    "config_differences",
]

COMPONENT_KINDS: dict[str, str] = {
    "path": "path",
    "coupling": "coupling",
    "objective": "objective",
    "model": "model",
    "solver": "solver",
    "data": "dataset",
}
"""Configuration key of each component and the registry kind it is looked up in."""

LR_SCHEDULES = ("cosine", "linear", "constant")
PRECISIONS = ("fp32", "tf32", "bf16", "auto")
COMPILE_MODES = ("auto", "off", "cuda-graph", "inductor")
DIVERGENCES = ("auto", "exact", "hutchinson")


# -- value checks ------------------------------------------------------------------------------
def _plain(value: Any, key: str) -> Any:
    """Check that ``value`` can be written to TOML and JSON (no ``None``, no objects)."""
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"{key} must be finite, got {value!r}")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{key}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {_key(k, key): _plain(v, f"{key}.{k}") for k, v in value.items()}
    if value is None:
        raise ConfigError(f"{key} is None, which TOML cannot store; leave the key out to use the default")
    raise ConfigError(
        f"{key} must be plain data (bool, int, float, str, list or table), got {type(value).__name__}; "
        "pass objects to the Pipeline constructor instead"
    )


def _key(k: Any, where: str) -> str:
    if not isinstance(k, str):
        raise ConfigError(f"keys in {where} must be strings, got {k!r}")
    return k


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in attrs.fields(cls))


# -- components --------------------------------------------------------------------------------
@attrs.frozen
class ComponentConfig:
    """A registered component by ``name`` with keyword ``params`` for its factory.

    Plain-data form: the bare name (``"ot"``) when there are no parameters, otherwise a table
    with ``name`` and the parameters (``{name = "ot", sigma_min = 1e-4}``).
    """

    name: str = attrs.field()
    params: Mapping[str, Any] = attrs.field(factory=dict, converter=lambda p: _frozen_params(p))

    @name.validator
    def _check_name(self, attribute: attrs.Attribute, value: Any) -> None:
        non_empty_string("a component name", value)

    @classmethod
    def parse(cls, value: Any, *, key: str) -> ComponentConfig:
        """Read the plain-data form at configuration key ``key`` (used in error messages)."""
        if isinstance(value, ComponentConfig):
            return value
        if isinstance(value, str):
            if not value:
                raise ConfigError(f"{key} must name a component, got an empty string")
            return cls(value)
        if isinstance(value, Mapping):
            if "name" not in value:
                raise ConfigError(f"{key} is a table without 'name'; write {key} = {{ name = \"...\", ... }}")
            name = non_empty_string(f"{key}.name", value["name"])
            return cls(name, _plain({k: v for k, v in value.items() if k != "name"}, key))
        raise ConfigError(
            f"{key} must be a component name or a table with 'name' and parameters, "
            f"got {type(value).__name__}: {value!r}"
        )

    def to_data(self) -> str | dict[str, Any]:
        """The plain-data form: the name alone, or ``{"name": ..., **params}``."""
        if not self.params:
            return self.name
        return {"name": self.name, **_plain(self.params, self.name)}


def _frozen_params(params: Any) -> Mapping[str, Any]:
    """Check that the parameters are plain data and make the mapping read-only."""
    if not isinstance(params, Mapping):
        raise ConfigError(f"component parameters must be a mapping, got {type(params).__name__}")
    if "name" in params:
        raise ConfigError("'name' is the component's name, not one of its parameters")
    return MappingProxyType(_plain(params, "params"))


# -- sections ----------------------------------------------------------------------------------
def _betas(value: Any) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ConfigError(f"train.betas must be a pair [beta1, beta2] of numbers in [0, 1), got {value!r}")
    check = number("train.betas", minimum=0.0, below=1.0)
    return (check(value[0]), check(value[1]))


@attrs.frozen
class TrainConfig:
    """How :meth:`flowkit.Pipeline.fit` trains.

    ``steps``: optimisation steps of the whole run (the LR schedule spans them);
    ``batch_size``: data points per step, summed over all processes under ``torchrun``;
    AdamW with ``lr``, ``betas``, ``eps``, ``weight_decay``; the learning rate rises linearly over
    ``warmup_steps`` and then follows ``lr_schedule`` (``cosine``, ``linear`` or ``constant``) down
    to ``min_lr_ratio * lr`` at the last step; ``grad_clip`` caps the global gradient norm
    (``0`` turns clipping off); ``ema_decay`` is the decay of the exponential moving average of
    the weights used for sampling (``0`` turns it off); metrics are logged every ``log_every``
    steps and a checkpoint written every ``checkpoint_every`` steps (``0``: only at the end);
    ``precision`` is ``fp32``, ``tf32`` (float32, with matrix products on TF32 tensor cores on
    CUDA; the same as fp32 elsewhere), ``bf16`` (the loss computed under bfloat16 autocast, weights and
    optimizer in float32) or ``auto`` (bf16 on CUDA devices that support it, fp32 elsewhere);
    ``compile`` is how each step runs: ``off`` (eager PyTorch), ``cuda-graph`` (the whole step
    captured once in a CUDA graph and replayed), ``inductor`` (the loss compiled by
    ``torch.compile``) or ``auto`` (the fastest measured mode the run allows, never
    slower than eager: see :mod:`flowkit.pipeline.step_modes`).
    """

    steps: int = attrs.field(default=10_000, converter=number("train.steps", integer=True, minimum=1))
    batch_size: int = attrs.field(default=256, converter=number("train.batch_size", integer=True, minimum=1))
    lr: float = attrs.field(default=1e-3, converter=number("train.lr", above=0.0))
    weight_decay: float = attrs.field(default=0.0, converter=number("train.weight_decay", minimum=0.0))
    betas: tuple[float, float] = attrs.field(default=(0.9, 0.999), converter=_betas)
    eps: float = attrs.field(default=1e-8, converter=number("train.eps", above=0.0))
    warmup_steps: int = attrs.field(default=100, converter=number("train.warmup_steps", integer=True, minimum=0))
    lr_schedule: str = attrs.field(default="cosine", converter=choice("train.lr_schedule", LR_SCHEDULES))
    min_lr_ratio: float = attrs.field(default=0.0, converter=number("train.min_lr_ratio", minimum=0.0, maximum=1.0))
    grad_clip: float = attrs.field(default=1.0, converter=number("train.grad_clip", minimum=0.0))
    ema_decay: float = attrs.field(default=0.999, converter=number("train.ema_decay", minimum=0.0, below=1.0))
    log_every: int = attrs.field(default=100, converter=number("train.log_every", integer=True, minimum=1))
    checkpoint_every: int = attrs.field(
        default=1000, converter=number("train.checkpoint_every", integer=True, minimum=0)
    )
    precision: str = attrs.field(default="fp32", converter=choice("train.precision", PRECISIONS))
    compile: str = attrs.field(default="auto", converter=choice("train.compile", COMPILE_MODES))

    @classmethod
    def from_dict(cls, data: Any) -> TrainConfig:
        """Read the ``[train]`` table; unknown keys raise :class:`ConfigError`."""
        return cls(**known_keys(data, _fields(cls), "[train]"))

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data."""
        data = attrs.asdict(self)
        data["betas"] = list(self.betas)
        return data


def _metrics(value: Any) -> str | tuple[str, ...]:
    if value == "all":
        return "all"
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ConfigError(f'eval.metrics must be "all" or a list of registered metric names, got {value!r}')


@attrs.frozen
class EvalConfig:
    """How :meth:`flowkit.Pipeline.evaluate` measures a trained pipeline.

    ``num_samples`` generated points are compared with as many held-out points (all of them if
    the test split is smaller); ``metrics`` is ``"all"`` (every registered metric) or a list of
    metric names; ``divergence`` picks the likelihood's divergence estimator (``auto``: exact up
    to ``exact_divergence_max_dim`` dimensions, Hutchinson above).
    """

    num_samples: int = attrs.field(default=2000, converter=number("eval.num_samples", integer=True, minimum=1))
    metrics: str | tuple[str, ...] = attrs.field(default="all", converter=_metrics)
    divergence: str = attrs.field(default="auto", converter=choice("eval.divergence", DIVERGENCES))
    exact_divergence_max_dim: int = attrs.field(
        default=16, converter=number("eval.exact_divergence_max_dim", integer=True, minimum=1)
    )

    @classmethod
    def from_dict(cls, data: Any) -> EvalConfig:
        """Read the ``[eval]`` table; unknown keys raise :class:`ConfigError`."""
        return cls(**known_keys(data, _fields(cls), "[eval]"))

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain data."""
        data = attrs.asdict(self)
        if data["metrics"] != "all":
            data["metrics"] = list(self.metrics)
        return data


def _device(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f'device must be "auto" or a torch device string such as "cpu" or "cuda:0", got {value!r}')
    return value


def _section(value: Any, cls: type[TrainConfig] | type[EvalConfig], key: str) -> Any:
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls.from_dict(value)
    raise ConfigError(f"{key} must be a table, got {type(value).__name__}: {value!r}")


def _component(key: str) -> Callable[[Any], ComponentConfig]:
    return lambda value: ComponentConfig.parse(value, key=key)


def _optional_component(key: str) -> Callable[[Any], ComponentConfig | None]:
    return lambda value: None if value is None else ComponentConfig.parse(value, key=key)


def _callbacks(value: Any) -> tuple[ComponentConfig, ...]:
    if isinstance(value, (str, Mapping, ComponentConfig)) or not isinstance(value, (list, tuple)):
        raise ConfigError(
            "callbacks must be a list of callback names or tables with 'name' and parameters, e.g. "
            f'callbacks = ["tensorboard", {{ name = "mlflow" }}], got {type(value).__name__}: {value!r}'
        )
    return tuple(ComponentConfig.parse(item, key=f"callbacks[{index}]") for index, item in enumerate(value))


@attrs.frozen
class PipelineConfig:
    """A whole pipeline: its components, training and evaluation settings, device and seed.

    ``data`` may be left out when the data are passed to the :class:`flowkit.Pipeline`
    constructor as objects (tensors or a :class:`flowkit.Dataset`). ``callbacks`` are registered
    training callbacks (kind ``callback``) that :meth:`flowkit.Pipeline.fit` runs
    (:mod:`flowkit.pipeline.callbacks`).
    """

    path: ComponentConfig = attrs.field(default=ComponentConfig("ot"), converter=_component("path"))
    coupling: ComponentConfig = attrs.field(default=ComponentConfig("independent"), converter=_component("coupling"))
    objective: ComponentConfig = attrs.field(default=ComponentConfig("cfm"), converter=_component("objective"))
    model: ComponentConfig = attrs.field(default=ComponentConfig("mlp"), converter=_component("model"))
    solver: ComponentConfig = attrs.field(default=ComponentConfig("rk4", {"steps": 50}), converter=_component("solver"))
    data: ComponentConfig | None = attrs.field(default=None, converter=_optional_component("data"))
    callbacks: tuple[ComponentConfig, ...] = attrs.field(default=(), converter=_callbacks)
    train: TrainConfig = attrs.field(factory=TrainConfig, converter=lambda v: _section(v, TrainConfig, "train"))
    eval: EvalConfig = attrs.field(factory=EvalConfig, converter=lambda v: _section(v, EvalConfig, "eval"))
    device: str = attrs.field(default="auto", converter=_device)
    seed: int = attrs.field(default=0, converter=number("seed", integer=True, minimum=0))

    # -- plain data ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any) -> PipelineConfig:
        """Read a configuration from plain data; unknown keys and bad values raise ConfigError.

        A ``recipe`` key is expanded first (:mod:`flowkit.pipeline.recipes`); keys given beside it win.
        """
        if isinstance(data, Mapping) and "recipe" in data:
            from flowkit.pipeline.recipes import expand_recipe

            data = {**expand_recipe(data["recipe"]), **{k: v for k, v in data.items() if k != "recipe"}}
        return cls(**known_keys(data, _fields(cls), "the pipeline config"))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (TOML- and JSON-compatible); ``data`` and ``callbacks``
        left out if unset."""
        out: dict[str, Any] = {key: getattr(self, key).to_data() for key in COMPONENT_KINDS if getattr(self, key)}
        if self.callbacks:
            out["callbacks"] = [callback.to_data() for callback in self.callbacks]
        out["device"] = self.device
        out["seed"] = self.seed
        out["train"] = self.train.to_dict()
        out["eval"] = self.eval.to_dict()
        return out

    def to_toml(self) -> str:
        """The configuration as a TOML document."""
        return tomli_w.dumps(self.to_dict())

    def to_json(self) -> str:
        """The configuration as a JSON document."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_toml(cls, text: str) -> PipelineConfig:
        """Read a configuration from a TOML document."""
        return cls.from_dict(parse_document(text, "TOML"))

    @classmethod
    def from_json(cls, text: str) -> PipelineConfig:
        """Read a configuration from a JSON document."""
        return cls.from_dict(parse_document(text, "JSON"))

    @classmethod
    def load(cls, path: str | Path) -> PipelineConfig:
        """Read a ``.toml`` or ``.json`` file; errors name the file."""
        path = Path(path)
        reader = _reader(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
        try:
            return reader(text)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def save(self, path: str | Path) -> Path:
        """Write the configuration atomically as TOML or JSON, chosen by the file suffix."""
        path = Path(path)
        _reader(path)
        return atomic_write_text(path, self.to_json() if path.suffix.lower() == ".json" else self.to_toml())

    # -- derived -------------------------------------------------------------------------------
    def with_train(self, **overrides: Any) -> PipelineConfig:
        """A copy with some ``[train]`` fields replaced; unknown fields raise ConfigError."""
        known_keys(overrides, _fields(TrainConfig), "the training overrides")
        return attrs.evolve(self, train=attrs.evolve(self.train, **overrides))

    def components(self) -> dict[str, ComponentConfig]:
        """The configured components by configuration key (``data`` only when set)."""
        return {key: getattr(self, key) for key in COMPONENT_KINDS if getattr(self, key) is not None}

    def check_components(self, registry: Any = None) -> None:
        """Look every component name up in the registry; an unknown one raises its error.

        Raises :class:`flowkit.exceptions.UnknownComponentError` (listing the registered names)
        before any component is built.
        """
        if registry is None:
            from flowkit import registry
        for key, component in self.components().items():
            registry.get(COMPONENT_KINDS[key], component.name)
        for callback in self.callbacks:
            registry.get("callback", callback.name)


def _reader(path: Path) -> Callable[[str], PipelineConfig]:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return PipelineConfig.from_toml
    if suffix == ".json":
        return PipelineConfig.from_json
    raise ConfigError(f"config file {path} must end in .toml or .json")


def config_differences(a: PipelineConfig, b: PipelineConfig) -> list[str]:
    """Dotted keys whose values differ between two configurations (e.g. ``["train.lr"]``)."""

    def flatten(value: Any, prefix: str) -> dict[str, Any]:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for k, v in value.items():
                out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
            return out
        return {prefix: value}

    left, right = flatten(a.to_dict(), ""), flatten(b.to_dict(), "")
    return sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))
