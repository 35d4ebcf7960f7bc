"""The grid of a benchmark suite: its axes, its cells, and the identity of a cell.

A **cell** is one point of the training grid ``path x coupling x objective x model x data x
seed``: one model trained once, then evaluated with *every* setting of the solver axis (solvers
and step counts are an axis of evaluation, not of training, so the same trained weights are
compared across solvers). Its identity :attr:`Cell.id` is a hash of everything that determines
its numbers (method, pipeline config without the device, solver settings, evaluation settings,
and :attr:`Cell.providers`: the distribution and version of every component that a distribution
other than flowkit provides, so upgrading a plugin reruns the cells that use it; a cell built
only from flowkit's own components keeps the identity it had before providers were recorded);
cells that differ only in the seed form a **combination** (:attr:`Cell.combination`).

Suites are read and expanded into cells by :mod:`flowkit.bench.suite`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from flowkit.bench.eval_settings import EvalSettings
from flowkit.exceptions import FlowkitError
from flowkit.pipeline.config import COMPONENT_KINDS, ComponentConfig, PipelineConfig

__all__ = ["AXES", "TRAINING_AXES", "Cell", "canonical_json", "component_label", "plugin_versions"]

TRAINING_AXES: tuple[str, ...] = ("path", "coupling", "objective", "model", "data")
"""Component axes that define what is trained (the pipeline config keys of the components)."""
AXES: tuple[str, ...] = (*TRAINING_AXES, "seed", "solver")
"""Every axis a suite may list."""


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
