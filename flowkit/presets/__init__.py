"""Shipped pipeline configurations (presets) for settings from the literature.

A preset is a pipeline configuration file in this package (``<name>.toml``), readable by
:class:`flowkit.pipeline.PipelineConfig` and ``flowkit train``:

- ``cifar10``: the image setting of Lipman et al. (2023) with torchcfm's CIFAR-10 recipe (U-Net
  with 128 base channels, multipliers (1, 2, 2, 2), 2 residual blocks, attention at 16x16 with 4
  heads of 64 channels, dropout 0.1; Adam at 2e-4 with 5000 warm-up steps, batch 128, gradient
  clipping at 1, EMA 0.9999). The file names the source of each value.

:func:`preset_path` gives the file (to copy and edit), :func:`load_preset` the configuration.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from flowkit.exceptions import ConfigError

__all__ = ["load_preset", "preset_names", "preset_path"]


def preset_names() -> list[str]:
    """The names of the shipped presets."""
    folder = resources.files("flowkit.presets")
    return sorted(entry.name[: -len(".toml")] for entry in folder.iterdir() if entry.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    """The TOML file of preset ``name``; an unknown name raises ConfigError listing the presets."""
    if name not in preset_names():
        raise ConfigError(f"unknown preset {name!r}; shipped presets: {', '.join(preset_names())}")
    return Path(str(resources.files("flowkit.presets").joinpath(f"{name}.toml")))


def load_preset(name: str, **changes: Any) -> Any:
    """Preset ``name`` as a :class:`flowkit.pipeline.PipelineConfig`; ``changes`` replace top-level keys.

    E.g. ``load_preset("cifar10", data={"name": "cifar10", "root": "/data/cifar"})``.
    """
    from flowkit.pipeline.config import PipelineConfig

    config = PipelineConfig.load(preset_path(name))
    if not changes:
        return config
    return PipelineConfig.from_dict({**config.to_dict(), **changes})
