"""flowkit: a plugin-based framework for Flow Matching generative models in PyTorch.

Flow Matching (Lipman et al., ICLR 2023) trains a continuous normalizing flow by regressing a
vector field ``v_theta(t, x)`` onto conditional fields ``u_t(x | x1)`` of a probability path from
a prior ``p0`` (t = 0) to the data (t = 1). Components (paths, couplings, objectives, solvers,
models, data sets, metrics) are looked up by kind and name in :mod:`flowkit.registry`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from flowkit import core as _core  # noqa: E402
from flowkit import registry  # noqa: E402
from flowkit.core import *  # noqa: E402, F403  (the interfaces and what a plugin needs: see flowkit.core.__all__)
from flowkit.hookspecs import Register, hookimpl  # noqa: E402
from flowkit.registry import register  # noqa: E402
from flowkit.shapes import set_shape_checks  # noqa: E402

# Names exported lazily: importing them pulls in a family module only when it is used. Type
# checkers read the same names from the ``TYPE_CHECKING`` imports below; the two lists are kept
# equal by tests/test_public_surface.py.
_LAZY_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        [
            "GaussianPath",
            "ConditionalOTPath",
            "VariancePreservingPath",
            "VarianceExplodingPath",
            "CosinePath",
            "SchedulePath",
            "StandardNormal",
            "IsotropicGaussian",
        ],
        "flowkit.paths",
    ),
    **dict.fromkeys(["IndependentCoupling", "ExactOTCoupling", "SinkhornCoupling"], "flowkit.couplings"),
    **dict.fromkeys(["ConditionalFlowMatching", "FlowMatching"], "flowkit.objectives"),
    **dict.fromkeys(["TensorData", "dequantize"], "flowkit.data"),
    **dict.fromkeys(
        ["guided", "count_parameters", "NULL_LABEL", "MLPVectorField", "UNetVectorField"], "flowkit.models"
    ),
    "resolve_device": "flowkit.device",
    **dict.fromkeys(["Pipeline", "PipelineConfig"], "flowkit.pipeline"),
    **dict.fromkeys(["log_prob", "sample_with_log_prob", "bits_per_dim"], "flowkit.likelihood"),
}

if TYPE_CHECKING:
    # The lazy names for type checkers, re-exported explicitly (``X as X``); isort would split these.
    # isort: off
    from flowkit.couplings import (
        ExactOTCoupling as ExactOTCoupling,
        IndependentCoupling as IndependentCoupling,
        SinkhornCoupling as SinkhornCoupling,
    )
    from flowkit.data import (
        TensorData as TensorData,
        dequantize as dequantize,
    )
    from flowkit.device import (
        resolve_device as resolve_device,
    )
    from flowkit.likelihood import (
        bits_per_dim as bits_per_dim,
        log_prob as log_prob,
        sample_with_log_prob as sample_with_log_prob,
    )
    from flowkit.models import (
        NULL_LABEL as NULL_LABEL,
        MLPVectorField as MLPVectorField,
        UNetVectorField as UNetVectorField,
        count_parameters as count_parameters,
        guided as guided,
    )
    from flowkit.objectives import (
        ConditionalFlowMatching as ConditionalFlowMatching,
        FlowMatching as FlowMatching,
    )
    from flowkit.paths import (
        ConditionalOTPath as ConditionalOTPath,
        CosinePath as CosinePath,
        GaussianPath as GaussianPath,
        IsotropicGaussian as IsotropicGaussian,
        SchedulePath as SchedulePath,
        StandardNormal as StandardNormal,
        VarianceExplodingPath as VarianceExplodingPath,
        VariancePreservingPath as VariancePreservingPath,
    )
    from flowkit.pipeline import (
        Pipeline as Pipeline,
        PipelineConfig as PipelineConfig,
    )
    # isort: on


def __getattr__(name: str) -> Any:
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'flowkit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    *_core.__all__,
    "Register",
    "__version__",
    "hookimpl",
    "register",
    "registry",
    "set_shape_checks",
    *_LAZY_EXPORTS,
]
