"""Benchmark suites: reading, validating and expanding them into cells.

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

See :mod:`flowkit.bench.grid` for cells and their identity, :mod:`flowkit.bench.loading` for
built-in suites, suite files and ``KEY=VALUE`` overrides.

Every component name, parameter name and metric name is checked against the registry when the
suite is read, so an unknown name fails before anything runs, with the registry's error.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from flowkit.bench.claims import Claim
from flowkit.bench.eval_settings import EvalSettings
from flowkit.bench.exclusions import Exclusion
from flowkit.bench.grid import AXES, TRAINING_AXES, Cell, component_label, plugin_versions
from flowkit.config_values import known_keys, non_empty_string, number, one_or_more, table
from flowkit.core.signatures import binding_problem
from flowkit.core.state_space import can_measure, state_space_of
from flowkit.exceptions import ConfigError, FlowkitError, InvalidParameterError
from flowkit.pipeline.config import COMPONENT_KINDS, ComponentConfig, PipelineConfig, TrainConfig

__all__ = ["DEFAULT_AXES", "SUITE_KEYS", "Suite"]

DEFAULT_AXES: dict[str, tuple[Any, ...]] = {
    "path": ("ot",),
    "coupling": ("independent",),
    "objective": ("cfm",),
    "model": ("mlp",),
    "seed": (0,),
    "solver": ({"name": "rk4", "steps": 50},),
}
"""The value of each axis a suite leaves out (``data`` has none: it is required)."""
SUITE_KEYS = ("name", "description", "device", "baseline", "axes", "exclude", "train", "eval", "claims")
"""The top-level keys of a suite."""


def _expand_component(value: Any, key: str) -> list[ComponentConfig]:
    """One axis entry as components: ``sweep = {p = [...]}`` expands to their product."""
    if isinstance(value, Mapping) and "sweep" in value:
        sweep = table(f"{key}.sweep", value["sweep"])
        if not sweep:
            raise ConfigError(
                f"{key}.sweep is empty; list the parameter values to sweep, e.g. sweep = {{ steps = [2, 4] }}"
            )
        base = {k: v for k, v in value.items() if k != "sweep"}
        clash = sorted(set(sweep) & set(base))
        if clash:
            raise ConfigError(f"{key}: parameter {clash[0]!r} is both fixed and swept; give it in one place")
        names = list(sweep)
        lists = [one_or_more(f"{key}.sweep.{name}", sweep[name]) for name in names]
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
            factory = registry.get("metric", name).factory
        except FlowkitError:  # an unknown metric: kept, for the suite check to report
            measurable.append(name)
            continue
        if can_measure(factory, state):
            measurable.append(name)
    return measurable


def _baseline(value: Any) -> float | None:
    """``baseline = true`` (sigma_min 1e-4), ``false``, or ``{ sigma_min = ... }``; the OT path's sigma_min."""
    if value is False:
        return None
    if value is True:
        return 1e-4
    if isinstance(value, Mapping):
        known_keys(value, ("sigma_min",), "baseline")
        return number("baseline.sigma_min", minimum=0.0, below=1.0)(value.get("sigma_min", 1e-4))
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
    exclusions: tuple[Exclusion, ...]
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
        data = known_keys(data, SUITE_KEYS, "the suite")
        suite_name = non_empty_string("name", data.get("name", name or "suite"))
        axes_data = known_keys(data.get("axes", {}), AXES, "[axes]")
        if "data" not in axes_data:
            raise ConfigError("[axes] needs 'data': the data set(s) to train on, e.g. data = [\"moons\"]")
        axes: dict[str, tuple[Any, ...]] = {}
        for axis in AXES:
            raw = one_or_more(f"axes.{axis}", axes_data.get(axis, DEFAULT_AXES.get(axis)))
            if axis == "seed":
                values: list[Any] = [number("axes.seed[]", integer=True, minimum=0)(v) for v in raw]
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
        exclusions = tuple(Exclusion.parse(e, i) for i, e in enumerate(raw_exclusions))
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
            device=non_empty_string("device", device),
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
