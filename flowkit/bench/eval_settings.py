"""How every cell of a suite is evaluated: the suite's ``[eval]`` table (:class:`EvalSettings`)."""

from __future__ import annotations

from typing import Any

import attrs

from flowkit.config_values import choice, known_keys, non_empty_string, number, one_or_more
from flowkit.pipeline.config import DIVERGENCES, ComponentConfig

__all__ = ["ALWAYS_MEASURED", "EvalSettings"]

ALWAYS_MEASURED = ("nfe", "sampling-time")
"""Metrics every solver evaluation reports, whatever the suite lists."""


def _metric_names(value: Any) -> tuple[str, ...]:
    names = one_or_more("eval.metrics", value)
    return tuple(non_empty_string("eval.metrics[]", name) for name in names)


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

    num_samples: int = attrs.field(default=2000, converter=number("eval.num_samples", integer=True, minimum=2))
    metrics: tuple[str, ...] = attrs.field(default=("energy-distance", "sliced-w2"), converter=_metric_names)
    likelihood_points: int = attrs.field(default=0, converter=number("eval.likelihood_points", integer=True, minimum=0))
    likelihood_solver: ComponentConfig = attrs.field(
        default=ComponentConfig("dopri5", {"atol": 1e-5, "rtol": 1e-5}),
        converter=lambda v: ComponentConfig.parse(v, key="eval.likelihood_solver"),
    )
    divergence: str = attrs.field(default="auto", converter=choice("eval.divergence", DIVERGENCES))
    plot_samples: int = attrs.field(default=1000, converter=number("eval.plot_samples", integer=True, minimum=0))

    @classmethod
    def from_dict(cls, data: Any) -> EvalSettings:
        """Read the ``[eval]`` table; unknown keys raise :class:`ConfigError`."""
        return cls(**known_keys(data, [f.name for f in attrs.fields(cls)], "[eval]"))

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
