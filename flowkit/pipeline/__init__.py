"""Pipelines: compose registered components, train, sample, evaluate, save and resume.

:class:`Pipeline` is the entry point (``flowkit.Pipeline``); its configuration is a
:class:`PipelineConfig` (sections :class:`TrainConfig` and :class:`EvalConfig`, components as
:class:`ComponentConfig`), readable from plain data, TOML and JSON.
"""

from flowkit.pipeline.config import ComponentConfig, EvalConfig, PipelineConfig, TrainConfig
from flowkit.pipeline.pipeline import LogProb, Pipeline

__all__ = ["ComponentConfig", "EvalConfig", "LogProb", "Pipeline", "PipelineConfig", "TrainConfig"]
