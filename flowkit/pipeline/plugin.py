"""Registers the components built on whole pipelines: the coupling ``reflow`` (kind ``"coupling"``)
and the training callbacks ``tensorboard``, ``mlflow`` and ``evaluate`` (kind ``"callback"``)."""

from __future__ import annotations

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_couplings(register: Register) -> None:
    """Register ``reflow`` (:func:`flowkit.pipeline.reflow.reflow`)."""
    from flowkit.pipeline.reflow import reflow

    register(
        "reflow",
        reflow,
        description="rectified flow: pairs (x0, T(x0)) from a teacher flow's ODE (teacher=, num_pairs=, solver=, seed=)",
    )


@hookimpl
def flowkit_register_callbacks(register: Register) -> None:
    """Register ``tensorboard``, ``mlflow`` (:mod:`flowkit.pipeline.trackers`) and ``evaluate``
    (:mod:`flowkit.pipeline.periodic_evaluation`)."""
    from flowkit.pipeline.periodic_evaluation import EvaluateEvery
    from flowkit.pipeline.trackers import MLflowCallback, TensorBoardCallback

    register(
        "tensorboard", TensorBoardCallback, description="TensorBoard scalars of training and evaluations (log_dir=)"
    )
    register(
        "mlflow",
        MLflowCallback,
        description="an MLflow run per fit: config, metrics, providers (tracking_uri=, experiment=, run_name=, tags=)",
    )
    register(
        "evaluate",
        EvaluateEvery,
        description="Pipeline.evaluate every N steps (every=, num_samples=, metrics=, solver=)",
    )
