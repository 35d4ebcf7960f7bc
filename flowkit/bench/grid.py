"""Benchmark suites: parsing, validation and expansion into cells.

A suite is plain data (a TOML file, a built-in name, or a dict)::

    name = "quick"
    baseline = true                       # add hand-written CFM baseline cells

    [axes]                                # the grid: every combination of these values
    path = ["ot", { name = "vp", beta_max = 20.0 }]
    coupling = ["independent"]
    objective = ["cfm"]
    model = [{ name = "mlp", width = 64 }]
    data = ["moons"]
    seed = [0, 1]
    solver = [{ name = "euler", sweep = { steps = [2, 8] } }, "dopri5"]   # evaluation axis

    [[exclude]]                           # drop matching cells (or, with `solver`, evaluations)
    path = "vp"
    solver = "dopri5"

    [train]                               # fixed training settings (flowkit.pipeline.TrainConfig)
    steps = 1000
    batch_size = 256

    [eval]                                # fixed evaluation settings (EvalSettings)
    num_samples = 1000

    [[claims]]                            # statements checked against the numbers (Claim)

An axis value is a component as in a pipeline config (a name, or a table with ``name`` and
parameters); a table may hold ``sweep = {param = [v1, v2, ...]}``, which expands to one value per
combination of the listed parameter values. Axes left out take one default value (``ot``,
``independent``, ``cfm``, ``mlp``, seed ``0``, solver ``rk4`` with 50 steps); ``data`` is required.

A **cell** is one point of the training grid ``path x coupling x objective x model x data x
seed``: one model trained once, then evaluated with *every* setting of the solver axis (solvers
and step counts are an axis of evaluation, not of training, so the same trained weights are
compared across solvers). Its identity :attr:`Cell.id` is a hash of everything that determines
its numbers (method, pipeline config without the device, solver settings, evaluation settings,
and :attr:`Cell.providers`: the distribution and version of every component that a distribution
other than flowkit provides, so upgrading a plugin reruns the cells that use it; a cell built
only from flowkit's own components keeps the identity it had before providers were recorded);
cells that differ only in the seed form a **combination** (:attr:`Cell.combination`).

Every component name, parameter name and metric name is checked against the registry when the
suite is read, so an unknown name fails before anything runs, with the registry's error.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import tomllib

from flowkit.core.signatures import binding_problem
from flowkit.core.state_space import CONTINUOUS_STATE, state_space_of
from flowkit.exceptions import ConfigError, FlowkitError, InvalidParameterError
from flowkit.pipeline.config import (
    COMPONENT_KINDS,
    DIVERGENCES,
    ComponentConfig,
    PipelineConfig,
    TrainConfig,
)

__all__ = [
    "AXES",
    "TRAINING_AXES",
    "Cell",
    "Claim",
    "EvalSettings",
    "Suite",
    "apply_overrides",
    "builtin_suites",
    "component_label",
    "load_suite",
    "plugin_versions",
]

TRAINING_AXES: tuple[str, ...] = ("path", "coupling", "objective", "model", "data")
"""Component axes that define what is trained (the pipeline config keys of the components)."""
AXES: tuple[str, ...] = (*TRAINING_AXES, "seed", "solver")
"""Every axis a suite may list."""
DEFAULT_AXES: dict[str, tuple[Any, ...]] = {
    "path": ("ot",),
    "coupling": ("independent",),
    "objective": ("cfm",),
    "model": ("mlp",),
    "seed": (0,),
    "solver": ({"name": "rk4", "steps": 50},),
}
SUITE_KEYS = ("name", "description", "device", "baseline", "axes", "exclude", "train", "eval", "claims")
METHODS = ("flowkit", "baseline")
ALWAYS_MEASURED = ("nfe", "sampling-time")
"""Metrics every solver evaluation reports, whatever the suite lists."""


# -- small value checks ------------------------------------------------------------------------
def _int(key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key} must be an integer >= {minimum}, got {value!r}")
    return value


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _list(key: str, value: Any) -> list[Any]:
    """A non-empty list; a single value is accepted as a list of one."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"{key} must not be empty")
        return list(value)
    return [value]


def _table(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a table (mapping), got {type(value).__name__}: {value!r}")
    return value


def _known_keys(data: Mapping[str, Any], accepted: Sequence[str], where: str) -> None:
    unknown = [k for k in data if k not in accepted]
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {where}; accepted keys: {', '.join(accepted)}")


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no whitespace: the stable text that cell identities hash."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()[:16]


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_format_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}={_format_value(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def component_label(component: ComponentConfig) -> str:
    """A short display form: ``name`` or ``name(k=v, ...)`` with the parameters sorted."""
    if not component.params:
        return component.name
    inner = ", ".join(f"{k}={_format_value(v)}" for k, v in sorted(component.params.items()))
    return f"{component.name}({inner})"


# -- components and sweeps --------------------------------------------------------------------
def _expand_component(value: Any, key: str) -> list[ComponentConfig]:
    """One axis entry as components: ``sweep = {p = [...]}`` expands to their product."""
    if isinstance(value, Mapping) and "sweep" in value:
        sweep = _table(f"{key}.sweep", value["sweep"])
        if not sweep:
            raise ConfigError(
                f"{key}.sweep is empty; list the parameter values to sweep, e.g. sweep = {{ steps = [2, 4] }}"
            )
        base = {k: v for k, v in value.items() if k != "sweep"}
        clash = sorted(set(sweep) & set(base))
        if clash:
            raise ConfigError(f"{key}: parameter {clash[0]!r} is both fixed and swept; give it in one place")
        names = list(sweep)
        lists = [_list(f"{key}.sweep.{name}", sweep[name]) for name in names]
        return [
            ComponentConfig.parse({**base, **dict(zip(names, combo))}, key=key) for combo in itertools.product(*lists)
        ]
    return [ComponentConfig.parse(value, key=key)]


def _check_component(kind: str, component: ComponentConfig, key: str, registry: Any) -> None:
    """The name is registered (else the registry's error) and the parameter names are accepted."""
    spec = registry.get(kind, component.name)
    problem = binding_problem(spec.factory, component.params, partial=True)
    if problem is not None:
        raise InvalidParameterError(
            f"{key}: {kind} {component.name!r}: {problem}. "
            f"Accepted parameters: {', '.join(spec.parameters()) or '(none)'}"
        )


# -- evaluation settings and claims ------------------------------------------------------------
def _metric_names(value: Any) -> tuple[str, ...]:
    names = _list("eval.metrics", value)
    return tuple(_str("eval.metrics[]", name) for name in names)


def _divergence(value: Any) -> str:
    if value not in DIVERGENCES:
        raise ConfigError(f"eval.divergence must be one of {', '.join(map(repr, DIVERGENCES))}, got {value!r}")
    return value


@attrs.frozen
class EvalSettings:
    """How every cell is evaluated (the suite's ``[eval]`` table).

    For each solver setting: ``num_samples`` generated points against as many held-out points
    with the sample ``metrics`` (plus ``nfe`` and ``sampling-time``, always), and
    ``plot_samples`` of them kept for the sample plots. When ``likelihood_points > 0``, the
    held-out negative log-likelihood (nats and bits/dim) of that many test points is computed
    once per cell with ``likelihood_solver`` (default dopri5 at atol = rtol = 1e-5) and the
    ``divergence`` estimator (``auto``: exact in low dimension, Hutchinson above).
    """

    num_samples: int = attrs.field(default=2000, converter=lambda v: _int("eval.num_samples", v, 2))
    metrics: tuple[str, ...] = attrs.field(default=("energy-distance", "sliced-w2"), converter=_metric_names)
    likelihood_points: int = attrs.field(default=0, converter=lambda v: _int("eval.likelihood_points", v, 0))
    likelihood_solver: ComponentConfig = attrs.field(
        default=ComponentConfig("dopri5", {"atol": 1e-5, "rtol": 1e-5}),
        converter=lambda v: ComponentConfig.parse(v, key="eval.likelihood_solver"),
    )
    divergence: str = attrs.field(default="auto", converter=_divergence)
    plot_samples: int = attrs.field(default=1000, converter=lambda v: _int("eval.plot_samples", v, 0))

    @classmethod
    def from_dict(cls, data: Any) -> EvalSettings:
        """Read the ``[eval]`` table; unknown keys raise :class:`ConfigError`."""
        data = _table("[eval]", data)
        _known_keys(data, [f.name for f in attrs.fields(cls)], "[eval]")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (TOML and JSON compatible)."""
        return {
            "num_samples": self.num_samples,
            "metrics": list(self.metrics),
            "likelihood_points": self.likelihood_points,
            "likelihood_solver": self.likelihood_solver.to_data(),
            "divergence": self.divergence,
            "plot_samples": self.plot_samples,
        }

    def sample_metrics(self) -> list[str]:
        """The metrics of one solver evaluation: the listed ones, then ``nfe`` and ``sampling-time``."""
        return list(dict.fromkeys([*self.metrics, *ALWAYS_MEASURED]))


CLAIM_KEYS = ("statement", "axis", "best", "others", "metric", "solvers", "max_nfe", "where")


@attrs.frozen
class Claim:
    """A statement that the numbers either support or not.

    "On ``axis``, the value ``best`` gives a lower ``metric`` than each of ``others``": compared
    between combinations that differ only in ``axis`` (and match ``where``, a table of component
    names on other axes), at every solver setting whose solver is in ``solvers`` (all if empty)
    and whose NFE is at most ``max_nfe`` (no limit if unset). Metrics of the whole cell
    (``bits_per_dim``, ``train_seconds``, ...) are compared once. Lower is better, except for
    the metrics in :data:`flowkit.bench.aggregate.HIGHER_IS_BETTER`.
    """

    statement: str
    axis: str
    best: str
    others: tuple[str, ...]
    metric: str
    solvers: tuple[str, ...] = ()
    max_nfe: float | None = None
    where: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_dict(cls, data: Any, index: int) -> Claim:
        """Read one ``[[claims]]`` table."""
        where = f"claims[{index}]"
        data = _table(where, data)
        _known_keys(data, CLAIM_KEYS, where)
        for required in ("statement", "axis", "best", "others", "metric"):
            if required not in data:
                raise ConfigError(f"{where} needs {required!r}; keys: {', '.join(CLAIM_KEYS)}")
        axis = _str(f"{where}.axis", data["axis"])
        if axis not in TRAINING_AXES:
            raise ConfigError(f"{where}.axis must be one of {', '.join(TRAINING_AXES)}, got {axis!r}")
        filters = _table(f"{where}.where", data.get("where", {}))
        for key, value in filters.items():
            if key not in TRAINING_AXES or key == axis:
                raise ConfigError(f"{where}.where keys must be training axes other than {axis!r}, got {key!r}")
            _str(f"{where}.where.{key}", value)
        max_nfe = data.get("max_nfe")
        if max_nfe is not None and (isinstance(max_nfe, bool) or not isinstance(max_nfe, (int, float)) or max_nfe <= 0):
            raise ConfigError(f"{where}.max_nfe must be a positive number, got {max_nfe!r}")
        return cls(
            statement=_str(f"{where}.statement", data["statement"]),
            axis=axis,
            best=_str(f"{where}.best", data["best"]),
            others=tuple(_str(f"{where}.others[]", v) for v in _list(f"{where}.others", data["others"])),
            metric=_str(f"{where}.metric", data["metric"]),
            solvers=tuple(_str(f"{where}.solvers[]", v) for v in data.get("solvers", [])),
            max_nfe=None if max_nfe is None else float(max_nfe),
            where=dict(filters),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``max_nfe`` left out when unset)."""
        data: dict[str, Any] = {
            "statement": self.statement,
            "axis": self.axis,
            "best": self.best,
            "others": list(self.others),
            "metric": self.metric,
            "solvers": list(self.solvers),
            "where": dict(self.where),
        }
        if self.max_nfe is not None:
            data["max_nfe"] = self.max_nfe
        return data


# -- cells -------------------------------------------------------------------------------------
@attrs.frozen
class Cell:
    """One training run of a suite and the evaluations of its trained model.

    ``method`` is ``"flowkit"`` (trained by :meth:`flowkit.Pipeline.fit`) or ``"baseline"``
    (the plain PyTorch CFM loop of :mod:`flowkit.bench.baseline`); ``config`` is the pipeline
    configuration (its ``seed`` seeds everything the cell draws); ``solvers`` are the evaluation
    settings; ``axes`` the display label of each training axis and the seed; ``label`` names
    the combination (the varying axes); ``providers`` maps ``"<kind> <name>"`` to
    ``"<distribution>==<version>"`` for each component (training axis, solver, metric) provided
    by a distribution other than flowkit (:func:`plugin_versions`).
    """

    suite: str
    method: str
    config: PipelineConfig
    solvers: tuple[ComponentConfig, ...]
    eval: EvalSettings
    axes: Mapping[str, Any]
    label: str
    providers: Mapping[str, str] = attrs.field(factory=dict)

    def identity(self, *, with_seed: bool = True) -> dict[str, Any]:
        """What determines the cell's results: the data hashed into :attr:`id`."""
        config = self.config.to_dict()
        config.pop("device")
        if not with_seed:
            config.pop("seed")
        identity: dict[str, Any] = {
            "method": self.method,
            "config": config,
            "solvers": [s.to_data() for s in self.solvers],
            "eval": self.eval.to_dict(),
        }
        if self.providers:
            identity["providers"] = dict(self.providers)
        return identity

    @property
    def id(self) -> str:
        """A stable 16-hex-digit hash of :meth:`identity` (independent of order and device)."""
        return _digest(self.identity())

    @property
    def combination(self) -> str:
        """The hash of the identity without the seed, shared by a combination's cells."""
        return _digest(self.identity(with_seed=False))

    @property
    def seed(self) -> int:
        """The pipeline seed of this cell."""
        return self.config.seed

    def names(self) -> dict[str, str]:
        """The component name on each training axis."""
        return {axis: getattr(self.config, axis).name for axis in TRAINING_AXES}

    def components_used(self) -> list[tuple[str, str]]:
        """``(kind, name)`` of every component the cell builds: training axes, solvers, metrics."""
        used = [(COMPONENT_KINDS[axis], name) for axis, name in self.names().items()]
        used += [("solver", s.name) for s in (*self.solvers, self.eval.likelihood_solver)]
        used += [("metric", name) for name in self.config.eval.metrics]
        return used

    def to_dict(self) -> dict[str, Any]:
        """Plain data, enough to rebuild the cell with :meth:`from_dict` (e.g. in a worker)."""
        return {
            "suite": self.suite,
            "method": self.method,
            "config": self.config.to_dict(),
            "solvers": [s.to_data() for s in self.solvers],
            "eval": self.eval.to_dict(),
            "axes": dict(self.axes),
            "label": self.label,
            "providers": dict(self.providers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        """Rebuild a cell written by :meth:`to_dict`."""
        return cls(
            suite=data["suite"],
            method=data["method"],
            config=PipelineConfig.from_dict(data["config"]),
            solvers=tuple(ComponentConfig.parse(s, key="solver") for s in data["solvers"]),
            eval=EvalSettings.from_dict(data["eval"]),
            axes=dict(data["axes"]),
            label=data["label"],
            providers=dict(data.get("providers", {})),
        )


def plugin_versions(components: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{"<kind> <name>": "<distribution>==<version>"}`` for each ``(kind, name)`` that an
    installed distribution other than flowkit provides (a plugin's entry point, or the
    distribution holding the module of an in-process registration or factory reference). Names
    that are not registered are left out (the suite check reports them)."""
    from flowkit import registry

    versions: dict[str, str] = {}
    for kind, name in components:
        try:
            provenance = registry.get(kind, name).provenance()
        except FlowkitError:
            continue
        if provenance["distribution"] and provenance["distribution"] != "flowkit":
            versions[f"{kind} {name}"] = f"{provenance['distribution']}=={provenance['version']}"
    return dict(sorted(versions.items()))


def _metrics_for(path: ComponentConfig, metrics: list[str]) -> list[str]:
    """The ``metrics`` that can measure the states ``path`` moves (``Metric.state_spaces``), so a
    suite may list token and continuous metrics side by side."""
    from flowkit import registry

    try:
        state = state_space_of(registry.get("path", path.name).factory)
    except FlowkitError:  # an unknown path: the suite check reports it
        return metrics
    measurable = []
    for name in metrics:
        try:
            spaces = getattr(registry.get("metric", name).factory, "state_spaces", (CONTINUOUS_STATE,))
        except FlowkitError:
            spaces = (state,)
        if state in spaces:
            measurable.append(name)
    return measurable


# -- exclusions --------------------------------------------------------------------------------
@attrs.frozen
class _Exclusion:
    """Patterns per axis; a component pattern matches its name and the parameters it gives."""

    patterns: Mapping[str, tuple[Any, ...]]

    @classmethod
    def parse(cls, data: Any, index: int) -> _Exclusion:
        where = f"exclude[{index}]"
        data = _table(where, data)
        if not data:
            raise ConfigError(f"{where} is empty; it would exclude every cell")
        _known_keys(data, AXES, where)
        patterns: dict[str, tuple[Any, ...]] = {}
        for key, value in data.items():
            values = _list(f"{where}.{key}", value)
            if key == "seed":
                patterns[key] = tuple(_int(f"{where}.seed", v, 0) for v in values)
            else:
                patterns[key] = tuple(ComponentConfig.parse(v, key=f"{where}.{key}") for v in values)
        return cls(patterns)

    @staticmethod
    def _matches(pattern: Any, value: Any) -> bool:
        if isinstance(pattern, ComponentConfig):
            return pattern.name == value.name and all(
                k in value.params and value.params[k] == v for k, v in pattern.params.items()
            )
        return pattern == value

    def matches_training(self, point: Mapping[str, Any]) -> bool:
        """Whether every non-solver pattern matches the training point."""
        return all(
            any(self._matches(p, point[key]) for p in patterns)
            for key, patterns in self.patterns.items()
            if key != "solver"
        )

    def matches_solver(self, solver: ComponentConfig) -> bool:
        return any(self._matches(p, solver) for p in self.patterns["solver"])

    def to_data(self) -> dict[str, Any]:
        return {
            key: [p.to_data() if isinstance(p, ComponentConfig) else p for p in patterns]
            for key, patterns in self.patterns.items()
        }


# -- the suite ---------------------------------------------------------------------------------
def _baseline(value: Any) -> float | None:
    """``baseline = true`` (sigma_min 1e-4), ``false``, or ``{ sigma_min = ... }``; the OT path's sigma_min."""
    if value is False:
        return None
    if value is True:
        return 1e-4
    if isinstance(value, Mapping):
        _known_keys(value, ("sigma_min",), "baseline")
        sigma_min = value.get("sigma_min", 1e-4)
        if isinstance(sigma_min, bool) or not isinstance(sigma_min, (int, float)) or not 0 <= sigma_min < 1:
            raise ConfigError(f"baseline.sigma_min must be a number in [0, 1), got {sigma_min!r}")
        return float(sigma_min)
    raise ConfigError(f"baseline must be true, false or a table {{ sigma_min = ... }}, got {value!r}")


@attrs.frozen
class Suite:
    """A parsed, validated benchmark suite; :meth:`cells` expands it.

    ``axes`` maps each axis to its values (components as :class:`ComponentConfig`, seeds as
    ints); ``baseline_sigma_min`` is ``None`` without baseline cells.
    """

    name: str
    description: str
    device: str
    axes: Mapping[str, tuple[Any, ...]]
    exclusions: tuple[_Exclusion, ...]
    train: TrainConfig
    eval: EvalSettings
    baseline_sigma_min: float | None
    claims: tuple[Claim, ...]

    @classmethod
    def from_dict(cls, data: Any, *, name: str | None = None, registry: Any = None, check: bool = True) -> Suite:
        """Parse a suite from plain data; with ``check`` (default) validate it against the registry.

        ``name`` is used when the data has no ``name``. Raises :class:`ConfigError` for malformed
        data, :class:`flowkit.exceptions.UnknownComponentError` for an unregistered name and
        :class:`InvalidParameterError` for a parameter a component does not accept.
        """
        data = _table("the suite", data)
        _known_keys(data, SUITE_KEYS, "the suite")
        suite_name = _str("name", data.get("name", name or "suite"))
        axes_data = _table("[axes]", data.get("axes", {}))
        _known_keys(axes_data, AXES, "[axes]")
        if "data" not in axes_data:
            raise ConfigError("[axes] needs 'data': the data set(s) to train on, e.g. data = [\"moons\"]")
        axes: dict[str, tuple[Any, ...]] = {}
        for axis in AXES:
            raw = _list(f"axes.{axis}", axes_data.get(axis, DEFAULT_AXES.get(axis)))
            if axis == "seed":
                values: list[Any] = [_int("axes.seed[]", v, 0) for v in raw]
            else:
                values = [c for v in raw for c in _expand_component(v, f"axes.{axis}")]
            duplicates = [v for i, v in enumerate(values) if v in values[:i]]
            if duplicates:
                shown = duplicates[0] if axis == "seed" else component_label(duplicates[0])
                raise ConfigError(f"axes.{axis} lists {shown} twice")
            axes[axis] = tuple(values)
        raw_exclusions = data.get("exclude", [])
        if not isinstance(raw_exclusions, (list, tuple)):
            raise ConfigError(f"exclude must be a list of tables ([[exclude]] in TOML), got {raw_exclusions!r}")
        exclusions = tuple(_Exclusion.parse(e, i) for i, e in enumerate(raw_exclusions))
        raw_claims = data.get("claims", [])
        if not isinstance(raw_claims, (list, tuple)):
            raise ConfigError(f"claims must be a list of tables ([[claims]] in TOML), got {raw_claims!r}")
        train = TrainConfig.from_dict(data.get("train", {}))
        evaluation = EvalSettings.from_dict(data.get("eval", {}))
        claims = tuple(Claim.from_dict(c, i) for i, c in enumerate(raw_claims))
        device = data.get("device", "auto")
        suite = cls(
            name=suite_name,
            description=str(data.get("description", "")),
            device=_str("device", device),
            axes=axes,
            exclusions=exclusions,
            train=train,
            eval=evaluation,
            baseline_sigma_min=_baseline(data.get("baseline", False)),
            claims=claims,
        )
        if check:
            suite.check(registry)
        return suite

    def check(self, registry: Any = None) -> None:
        """Look up every component, parameter and metric name; check the claims; expand the grid.

        An exclusion that matches no cell gives a warning (usually a typo).
        """
        if registry is None:
            from flowkit import registry
        for axis in TRAINING_AXES:
            for component in self.axes[axis]:
                _check_component(COMPONENT_KINDS[axis], component, f"axes.{axis}", registry)
        for solver in (*self.axes["solver"], *([self.eval.likelihood_solver] if self.eval.likelihood_points else [])):
            registry.create("solver", solver.name, **dict(solver.params))  # cheap: validates the values too
        for metric in self.eval.sample_metrics():
            registry.get("metric", metric)
        if self.eval.likelihood_points:
            registry.get("metric", "nll")
        for index, claim in enumerate(self.claims):
            names = {c.name for c in self.axes[claim.axis]}
            missing = [n for n in (claim.best, *claim.others) if n not in names]
            if missing:
                raise ConfigError(
                    f"claims[{index}] compares {missing[0]!r}, which is not on axis {claim.axis!r} "
                    f"(values: {', '.join(sorted(names))})"
                )
            solver_names = {s.name for s in self.axes["solver"]}
            unknown = [s for s in claim.solvers if s not in solver_names]
            if unknown:
                raise ConfigError(f"claims[{index}].solvers names {unknown[0]!r}, which is not on the solver axis")
        cells, used = self._expand(None)
        if not cells:
            raise ConfigError(f"suite {self.name!r}: the exclusions remove every cell")
        for i, was_used in enumerate(used):
            if not was_used:  # usually a typo
                warnings.warn(
                    f"suite {self.name!r}: exclude[{i}] {self.exclusions[i].to_data()} matches no cell", stacklevel=3
                )

    # -- expansion -------------------------------------------------------------------------------
    def varying_axes(self) -> list[str]:
        """The training axes with more than one value (they name the combinations)."""
        return [axis for axis in TRAINING_AXES if len(self.axes[axis]) > 1]

    def _label(self, point: Mapping[str, Any], axes: Iterable[str]) -> str:
        return ", ".join(f"{axis}={component_label(point[axis])}" for axis in axes)

    def cells(self, *, device: str | None = None) -> list[Cell]:
        """Every cell in grid order (training axes, then seeds); each baseline cell follows the first
        flowkit cell with its model, data and seed.

        ``device`` overrides the suite's device.
        """
        return self._expand(device)[0]

    def _expand(self, device: str | None) -> tuple[list[Cell], list[bool]]:
        """The cells, and for each exclusion whether it matched anything."""
        varying = self.varying_axes()
        used = [False] * len(self.exclusions)
        cells: list[Cell] = []
        baseline_keys: dict[tuple[str, ...], Cell] = {}  # (model, data, seed) -> first flowkit cell
        keys = (*TRAINING_AXES, "seed")
        for values in itertools.product(*(self.axes[k] for k in keys)):
            point = dict(zip(keys, values))
            solvers = list(self.axes["solver"])
            dropped = False
            for i, exclusion in enumerate(self.exclusions):
                if not exclusion.matches_training(point):
                    continue
                if "solver" not in exclusion.patterns:
                    used[i] = dropped = True
                    break
                kept = [s for s in solvers if not exclusion.matches_solver(s)]
                used[i] = used[i] or len(kept) < len(solvers)
                solvers = kept
            if dropped:
                continue
            cell = self._cell("flowkit", point, solvers, self._label(point, varying) or "flowkit", device)
            cells.append(cell)
            if self.baseline_sigma_min is not None:
                key = (component_label(point["model"]), component_label(point["data"]), str(point["seed"]))
                baseline_keys.setdefault(key, cell)
        anchors = {id(anchor) for anchor in baseline_keys.values()}
        ordered: list[Cell] = []
        for cell in cells:
            ordered.append(cell)
            if id(cell) in anchors:  # right after its flowkit twin, so both run under similar load
                ordered.append(self._baseline_cell(cell, varying, device))
        return ordered, used

    def _baseline_cell(self, anchor: Cell, varying: list[str], device: str | None) -> Cell:
        """The hand-written CFM cell on ``anchor``'s model, data, seed and training settings."""
        point = {
            **{axis: getattr(anchor.config, axis) for axis in TRAINING_AXES},
            "path": ComponentConfig("ot", {"sigma_min": self.baseline_sigma_min}),
            "coupling": ComponentConfig("independent"),
            "objective": ComponentConfig("cfm"),
            "seed": anchor.seed,
        }
        rest = self._label(point, [a for a in varying if a in ("model", "data")])
        label = "baseline: hand-written CFM, ot" + (f"; {rest}" if rest else "")
        return self._cell("baseline", point, list(self.axes["solver"]), label, device)

    def _cell(
        self, method: str, point: Mapping[str, Any], solvers: list[ComponentConfig], label: str, device: str | None
    ) -> Cell:
        config = PipelineConfig(
            **{axis: point[axis] for axis in TRAINING_AXES},
            solver=solvers[0] if solvers else self.eval.likelihood_solver,
            train=self.train,
            eval={
                "num_samples": self.eval.num_samples,
                "metrics": _metrics_for(point["path"], self.eval.sample_metrics()),
                "divergence": self.eval.divergence,
            },
            device=device or self.device,
            seed=point["seed"],
        )
        axes = {axis: component_label(point[axis]) for axis in TRAINING_AXES}
        axes["seed"] = point["seed"]
        cell = Cell(self.name, method, config, tuple(solvers), self.eval, axes, label)
        return attrs.evolve(cell, providers=plugin_versions(cell.components_used()))

    # -- plain data ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The suite as plain data with every default filled in (written as ``suite.toml``)."""
        data: dict[str, Any] = {"name": self.name, "description": self.description, "device": self.device}
        data["baseline"] = False if self.baseline_sigma_min is None else {"sigma_min": self.baseline_sigma_min}
        data["axes"] = {
            axis: list(values) if axis == "seed" else [c.to_data() for c in values]
            for axis, values in self.axes.items()
        }
        if self.exclusions:
            data["exclude"] = [e.to_data() for e in self.exclusions]
        data["train"] = self.train.to_dict()
        data["eval"] = self.eval.to_dict()
        if self.claims:
            data["claims"] = [c.to_dict() for c in self.claims]
        return data


# -- loading -----------------------------------------------------------------------------------
def _suites_dir() -> Any:
    return resources.files("flowkit.bench").joinpath("suites")


def builtin_suites() -> list[str]:
    """The names of the built-in suites (``flowkit/bench/suites/*.toml``)."""
    return sorted(entry.name[: -len(".toml")] for entry in _suites_dir().iterdir() if entry.name.endswith(".toml"))


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: invalid TOML: {exc}") from None


def _override_value(text: str) -> Any:
    """A TOML value (``3``, ``[0, 1]``, ``"x"``, ``{ name = "ot" }``), or the text itself as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``data`` with ``KEY=VALUE`` overrides applied (dotted keys, TOML values).

    E.g. ``train.steps=200``, ``axes.seed=[0]``, ``eval.num_samples=500``.
    """
    result = copy.deepcopy(dict(data))
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like KEY=VALUE, e.g. train.steps=200")
        parts = key.split(".")
        table = result
        for depth, part in enumerate(parts[:-1]):
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {'.'.join(parts[: depth + 1])} is not a table")
            table = child
        table[parts[-1]] = _override_value(text.strip())
    return result


def load_suite(source: str | Path | Mapping[str, Any], *, overrides: Sequence[str] = (), registry: Any = None) -> Suite:
    """Read and validate a suite: a built-in name (``quick``), a ``.toml`` file, or a mapping.

    ``overrides`` are ``KEY=VALUE`` strings applied before validation (:func:`apply_overrides`).
    """
    if isinstance(source, Mapping):
        return Suite.from_dict(apply_overrides(source, overrides), registry=registry)
    path = Path(source)
    if path.suffix.lower() == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read suite file {path}: {exc.strerror or exc}") from None
        data, name = _parse_toml(text, str(path)), path.stem
    else:
        name = str(source)
        if name not in builtin_suites():
            raise ConfigError(
                f"unknown suite {name!r}: not a file and not a built-in suite; built-in suites: "
                f"{', '.join(builtin_suites())}"
            )
        data = _parse_toml(_suites_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8"), f"suite {name}")
    try:
        return Suite.from_dict(apply_overrides(data, overrides), name=name, registry=registry)
    except ConfigError as exc:
        raise ConfigError(f"suite {name!r}: {exc}") from None
