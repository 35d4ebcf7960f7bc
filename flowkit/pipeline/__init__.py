"""Pipelines: compose registered components, train, sample, evaluate, save and resume.

:class:`Pipeline` is the entry point (``flowkit.Pipeline``); its configuration is a
:class:`PipelineConfig` (sections :class:`TrainConfig` and :class:`EvalConfig`, components as
:class:`ComponentConfig`), readable from plain data, TOML and JSON; a ``recipe`` key expands to
a published method's components (:func:`recipe`, :mod:`flowkit.pipeline.recipes`). :func:`reflow`
builds the rectified-flow coupling from a teacher pipeline; :func:`straightness` measures a flow's paths.
"""

from flowkit.pipeline.config import ComponentConfig, EvalConfig, PipelineConfig, TrainConfig
from flowkit.pipeline.pipeline import LogProb, Pipeline
from flowkit.pipeline.recipes import recipe, recipe_names
from flowkit.pipeline.reflow import reflow, straightness

__all__ = [
    "ComponentConfig",
    "EvalConfig",
    "LogProb",
    "Pipeline",
    "PipelineConfig",
    "TrainConfig",
    "recipe",
    "recipe_names",
    "reflow",
    "straightness",
]
