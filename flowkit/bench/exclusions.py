"""Exclusions of a suite (``[[exclude]]``): patterns that drop cells, or only some of their evaluations.

An exclusion lists values per axis; a cell matches when, on every listed training axis and the
seed, its value matches one of the listed ones. A component pattern matches a component of the
same name whose parameters include the pattern's (``{ name = "ot", sigma_min = 0.01 }`` matches
that OT path whatever its other parameters). Without ``solver``, a matching cell is dropped;
with ``solver``, only the matching solver settings are dropped from the cell's evaluations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from flowkit.bench.grid import AXES
from flowkit.config_values import known_keys, number, one_or_more
from flowkit.exceptions import ConfigError
from flowkit.pipeline.config import ComponentConfig

__all__ = ["Exclusion"]


@attrs.frozen
class Exclusion:
    """Patterns per axis; a component pattern matches its name and the parameters it gives."""

    patterns: Mapping[str, tuple[Any, ...]]

    @classmethod
    def parse(cls, data: Any, index: int) -> Exclusion:
        where = f"exclude[{index}]"
        data = known_keys(data, AXES, where)
        if not data:
            raise ConfigError(f"{where} is empty; it would exclude every cell")
        patterns: dict[str, tuple[Any, ...]] = {}
        for key, value in data.items():
            values = one_or_more(f"{where}.{key}", value)
            if key == "seed":
                patterns[key] = tuple(number(f"{where}.seed", integer=True, minimum=0)(v) for v in values)
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
