"""Registers the built-in models (kind ``"model"``): each module's ``flowkit_register_models``.

``mlp`` and ``unet`` build an unconditional field by default and a class-conditional one when
given ``num_classes``. ``conditional-mlp`` and ``conditional-unet`` are the same classes with
``num_classes`` required (:func:`flowkit.models.conditioning.conditional_factory`), so that
``flowkit plugins`` lists the conditional variants and a configuration that names one cannot
silently build an unconditional model.
"""

from __future__ import annotations

from flowkit._builtin_plugins import register_family
from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_models(register: Register) -> None:
    """Register the models that the modules of :mod:`flowkit.models` declare."""
    register_family("flowkit.models", "flowkit_register_models", register)
