"""The cost metrics nfe and sampling-time, and the registered metric names."""

from __future__ import annotations

import pytest
import torch

from flowkit import EvaluationContext, registry
from flowkit.exceptions import InvalidParameterError

POINTS = torch.zeros(3, 2)


def test_all_metrics_are_registered():
    assert {"energy-distance", "sliced-w2", "nll", "nfe", "sampling-time"} <= set(registry.names("metric"))


def test_cost_metrics_report_the_context_values():
    context = EvaluationContext(samples=POINTS, reference=POINTS, nfe=42, sampling_seconds=1.25)
    assert registry.create("metric", "nfe")(context) == {"nfe": 42.0}
    assert registry.create("metric", "sampling-time")(context) == {"sampling_seconds": 1.25}


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("nfe", {}, "needs EvaluationContext.nfe, which is None"),
        ("nfe", {"nfe": -1}, "nfe must be an integer >= 0"),
        ("nfe", {"nfe": 2.5}, "nfe must be an integer >= 0"),
        ("sampling-time", {}, "needs EvaluationContext.sampling_seconds, which is None"),
        ("sampling-time", {"sampling_seconds": float("nan")}, "finite number >= 0"),
        ("sampling-time", {"sampling_seconds": -0.1}, "finite number >= 0"),
    ],
)
def test_missing_or_invalid_fields_raise_clear_errors(name, fields, message):
    with pytest.raises(InvalidParameterError, match=message):
        registry.create("metric", name)(EvaluationContext(samples=POINTS, reference=POINTS, **fields))
