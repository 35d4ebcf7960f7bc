"""Registers the built-in models: ``mlp``, ``unet`` and their class-conditional variants.

``mlp`` and ``unet`` build an unconditional field by default and a class-conditional one when
given ``num_classes``. ``conditional-mlp`` and ``conditional-unet`` are the same classes with
``num_classes`` required, so that ``flowkit plugins`` lists the conditional variants and a
configuration that names one cannot silently build an unconditional model.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from flowkit.exceptions import InvalidParameterError
from flowkit.hookspecs import Register, hookimpl
from flowkit.models.mlp import MLPVectorField
from flowkit.models.score_flow import score_flow_mlp
from flowkit.models.unet import UNetVectorField


def conditional_factory(cls: type) -> Callable[..., Any]:
    """A factory for ``cls`` whose signature makes ``num_classes`` required (and not ``None``)."""

    def factory(**params: Any) -> Any:
        if params.get("num_classes") is None:
            raise InvalidParameterError(
                f"conditional {cls.__name__} needs num_classes (an integer >= 1), got {params.get('num_classes')!r}"
            )
        return cls(**params)

    signature = inspect.signature(cls)
    factory.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            p.replace(default=inspect.Parameter.empty) if p.name == "num_classes" else p
            for p in signature.parameters.values()
        ]
    )
    factory.__name__ = factory.__qualname__ = f"conditional_{cls.__name__}"
    factory.__doc__ = f"Build a class-conditional {cls.__name__}; ``num_classes`` is required."
    return factory


@hookimpl
def flowkit_register_models(register: Register) -> None:
    """Register the built-in models."""
    register(
        "mlp",
        MLPVectorField,
        description="MLP vector field for vector data (dim=...); num_classes=K conditions on labels",
    )
    register(
        "unet",
        UNetVectorField,
        description="U-Net vector field for square images (channels=..., image_size=...); num_classes=K conditions on labels",
    )
    register(
        "conditional-mlp",
        conditional_factory(MLPVectorField),
        description="class-conditional MLP (num_classes required), for classifier-free guidance",
    )
    register(
        "conditional-unet",
        conditional_factory(UNetVectorField),
        description="class-conditional U-Net (num_classes required), for classifier-free guidance",
    )
    register(
        "score-flow-mlp",
        score_flow_mlp,
        description="MLP velocity and MLP score heads (for the sf2m objective and SDE sampling with score='model')",
    )
