r"""``Pipeline``: a Flow Matching model composed from registered components, end to end.

A pipeline is built from a :class:`~flowkit.pipeline.config.PipelineConfig` (or plain data / a
TOML or JSON file): a probability path $p_t(x \mid x_1)$ with its prior $p_0$, a coupling, an
objective (e.g. CFM, $\mathbb{E} \lVert v(t, x_t) - u_t(x_t \mid x_1) \rVert^2$), a vector-field model $v$, an ODE
solver and a data set. It then

- trains $v$ (:meth:`Pipeline.fit`, see :mod:`flowkit.pipeline.training`),
- samples by solving $dx/dt = v(t, x)$ from $x_0 \sim p_0$ at $t = 0$ to $t = 1$
  (:meth:`Pipeline.sample`, :meth:`Pipeline.flow`), with the EMA weights,
- scores data by the instantaneous change of variables,
  $\log p_1(x) = \log p_0(x_0) - \int_0^1 \operatorname{div} v_t(x_t)\, dt$ (:meth:`Pipeline.log_prob`),
- evaluates the registered metrics on held-out data (:meth:`Pipeline.evaluate`),
- saves and loads itself as a checkpoint directory (:meth:`Pipeline.save`,
  :meth:`Pipeline.load`) from which training resumes exactly.

Under ``torchrun`` the same code trains with DistributedDataParallel on every process; only
rank 0 writes files (see :mod:`flowkit.pipeline.distributed`).
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import Tensor

from flowkit import __version__, registry
from flowkit.core import Dataset, EvaluationContext, ODESolver, Solution, VectorFieldModel, can_measure, state_space_of
from flowkit.device import resolve_device, synchronize
from flowkit.exceptions import (
    CheckpointError,
    ConfigError,
    FlowkitError,
    InvalidParameterError,
    OutputError,
    TrainingInterrupted,
)
from flowkit.metrics import DataMetric
from flowkit.paths.reschedule import RescheduledField
from flowkit.pipeline.build import (
    as_dataset,
    bind_solver,
    build_components,
    build_dataset,
    build_path,
    build_solver,
    check_registered,
    component_objects,
    describe_objects,
)
from flowkit.pipeline.callbacks import CallbackList, Run, build_callbacks
from flowkit.pipeline.checkpoint import CHECKPOINT_DIR, Checkpoint, write_checkpoint
from flowkit.pipeline.config import PipelineConfig
from flowkit.pipeline.distributed import context_from_environment
from flowkit.pipeline.interrupts import StopSignals
from flowkit.pipeline.monitor import TrainingMonitor
from flowkit.pipeline.provenance import check_providers, component_provenance
from flowkit.pipeline.schedule import describe_schedule_change
from flowkit.pipeline.seeding import generator_for
from flowkit.pipeline.serialization import join_optimizer_state, split_optimizer_state
from flowkit.pipeline.training import Trainer
from flowkit.validation import require_int

__all__ = ["LogProb", "Pipeline"]

CONFIG_FILE = "config.toml"
STATE_FILE = "state.json"
MODEL_FILE = "model.safetensors"
EMA_FILE = "ema.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
OPTIMIZER_META_FILE = "optimizer.json"
RNG_FILE = "rng.safetensors"


@attrs.frozen
class LogProb:
    r"""Log-densities of data points under the flow; each field's name states its sign.

    ``log_prob_nats``: the log-density $\log p_1(x)$ per point (``[batch]``, higher is better);
    ``nll_bits_per_dim``: the negative log-likelihood per dimension $-\log p_1(x) / (D \ln 2)$,
    plus $\log(K / 2) / \ln 2$ for data quantised to $K$ levels on $[-1, 1]$
    (:func:`flowkit.likelihood.bits_per_dim`; lower is better, as the ``nll`` metric's values);
    ``nfe``: field evaluations of the solve.
    """

    log_prob_nats: Tensor
    nll_bits_per_dim: Tensor
    nfe: int


@attrs.frozen
class _DataInfo:
    event_shape: tuple[int, ...]
    num_classes: int | None
    num_bins: int | None
    vocab_size: int | None = None


class Pipeline:
    """A Flow Matching model composed from registered components.

    ``Pipeline(config, data=None, path=None, coupling=None, objective=None, model=None,
    solver=None)``: ``config`` is a :class:`PipelineConfig`, plain data or a path to a TOML/JSON
    file (``None``: the defaults); ``data`` (a :class:`flowkit.Dataset`, a tensor ``x`` or a pair
    ``(x, y)``) replaces the configured data set; a component object replaces the configured
    component and is recorded in :attr:`config` as its class (factory reference) and
    constructor parameters, so the pipeline saves and loads (see
    :func:`flowkit.pipeline.build.describe_objects`). Every component name is looked up before
    anything is built, so an unknown name fails at once with the registry's list of names.

    Attributes: ``config``, ``device``, ``path``, ``coupling``, ``objective``, ``model`` (the
    trained network), ``ema_model`` (the weights used for sampling), ``solver``, ``step``.
    """

    def __init__(
        self,
        config: PipelineConfig | Mapping[str, Any] | str | Path | None = None,
        *,
        data: Any = None,
        path: Any = None,
        coupling: Any = None,
        objective: Any = None,
        model: Any = None,
        solver: Any = None,
        _data_info: _DataInfo | None = None,
    ):
        """``_data_info`` (for :meth:`load`): the data description saved in a checkpoint, used
        instead of the data set's, so that a pipeline whose data set is not at hand loads."""
        config = _as_config(config)
        objects = component_objects(dict(path=path, coupling=coupling, objective=objective, model=model, solver=solver))
        check_registered(config, skip=objects)
        config = describe_objects(config, objects)
        if config.eval.metrics != "all":
            for metric in config.eval.metrics:
                registry.get("metric", metric)
        if data is not None and config.data is not None:
            raise ConfigError("data is given both in the config and as an object; pass only one")
        self.config = config
        self.device = resolve_device(config.device)
        self.distributed = context_from_environment(self.device)
        self.device = self.distributed.device_for(self.device)
        self._dataset: Dataset | None = None if data is None else as_dataset(data)
        self._train_tensors: tuple[Tensor, Tensor | None] | None = None
        self._checkpoint_step: int | None = None
        info = _data_info
        if info is None:
            dataset = self.dataset
            info = _DataInfo(
                tuple(dataset.event_shape), dataset.num_classes, dataset.num_bins, getattr(dataset, "vocab_size", None)
            )
        self._info = info
        components = build_components(
            config,
            event_shape=info.event_shape,
            num_classes=info.num_classes,
            vocab_size=info.vocab_size,
            device=self.device,
            reference=self._reference_for_objective,
            objects=objects,
        )
        self.path = components.path
        self.coupling = components.coupling
        self.objective = components.objective
        self.model: VectorFieldModel = components.model
        self.solver: ODESolver = components.solver
        self.trainer = Trainer(
            self.model,
            self.objective,
            config=config.train,
            seed=config.seed,
            device=self.device,
            context=self.distributed,
        )

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: PipelineConfig | Mapping[str, Any] | str | Path, *, data: Any = None) -> Pipeline:
        """Build a pipeline from a config object, plain data, or a ``.toml`` / ``.json`` file."""
        return cls(config, data=data)

    @classmethod
    def from_components(
        cls,
        *,
        config: PipelineConfig | Mapping[str, Any] | str | Path | None = None,
        data: Any = None,
        **components: Any,
    ) -> Pipeline:
        """Build a pipeline from component objects (``path=``, ``coupling=``, ``objective=``,
        ``model=``, ``solver=``); the others come from ``config`` (default: the defaults)."""
        return cls(config, data=data, **components)

    @property
    def dataset(self) -> Dataset:
        """The data set (built from the configuration on first use)."""
        if self._dataset is None:
            if self.config.data is None:
                raise ConfigError(
                    "this pipeline has no data set: its config has no 'data' and no data object was given "
                    "(pass data=... to Pipeline or Pipeline.load)"
                )
            self._dataset = build_dataset(self.config.data)
        return self._dataset

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one data point."""
        return self._info.event_shape

    @property
    def num_dims(self) -> int:
        r"""The dimension bits/dim divides by: the coordinates of a data point, or the manifold's
        own dimension on a Riemannian path (2 for the sphere in $\mathbb{R}^3$)."""
        coordinates = math.prod(self.event_shape)
        manifold = getattr(self.path, "manifold", None)
        return manifold.intrinsic_dim(coordinates) if manifold is not None else coordinates

    @property
    def num_bins(self) -> int | None:
        """Levels per dimension of quantised data (``None`` for continuous data)."""
        return self._info.num_bins

    @property
    def step(self) -> int:
        """Optimisation steps taken so far."""
        return self.trainer.step

    @property
    def ema_model(self) -> VectorFieldModel:
        """The network used for sampling and evaluation: the EMA weights, or the model without EMA."""
        return self.trainer.ema.average if self.trainer.ema is not None else self.model

    @property
    def vocab_size(self) -> int | None:
        """Tokens per position of discrete data (``None`` for real-valued data)."""
        return self._info.vocab_size

    def _dtype(self) -> torch.dtype:
        for parameter in self.model.parameters():
            return parameter.dtype
        return torch.get_default_dtype()

    def _state_dtype(self) -> torch.dtype:
        """The dtype of data and of flow states: ``long`` tokens for discrete data, else the model's."""
        return torch.long if self.vocab_size is not None else self._dtype()

    def _split(self, name: str) -> tuple[Tensor, Tensor | None]:
        split = self.dataset.split(name)
        x = split.x.to(device=self.device, dtype=self._state_dtype())
        y = None if split.y is None else split.y.to(self.device)
        return x, y

    def _reference_for_objective(self) -> Tensor:
        return self.dataset.split("train").x.to(self.device)

    def _training_data(self) -> tuple[Tensor, Tensor | None]:
        if self._train_tensors is None:
            self._train_tensors = self._split("train")
        return self._train_tensors

    # -- training ------------------------------------------------------------------------------
    def fit(
        self,
        steps: int | None = None,
        *,
        batch_size: int | None = None,
        out: str | Path | None = None,
        stop_at: int | None = None,
        progress: bool | None = None,
        callbacks: Any = (),
        **train_overrides: Any,
    ) -> list[dict[str, float]]:
        """Train until ``steps`` optimisation steps in total have been taken; returns the logged records.

        ``steps``, ``batch_size`` and any other ``[train]`` field given as a keyword (``lr=``,
        ``warmup_steps=``, ``ema_decay=``, ...) replace the configured values (and are saved with
        the config). The learning-rate schedule spans ``steps``; a pipeline loaded from a
        checkpoint continues where it stopped. ``stop_at`` ends this call early at that step
        (the schedule still spans ``steps``), e.g. to split a run into sessions.

        ``out`` is the run directory: metrics go to ``out/metrics.jsonl`` and checkpoints, every
        ``checkpoint_every`` steps and at the end, to ``out/checkpoint/``. ``progress`` shows a
        progress bar (default: only on a terminal).

        ``callbacks`` (:class:`flowkit.Callback` objects, registered names or ``{name, **params}``
        tables) run after the configured ``callbacks`` (:mod:`flowkit.pipeline.callbacks`): at the
        start, after each step, for each logged record, evaluation and checkpoint, and at the end.
        A callback's ``run.request_stop(reason)`` stops training with a checkpoint of that step
        and ``fit`` returns normally.

        SIGINT or SIGTERM (Ctrl-C, ``kill``) during training finishes the current step, writes a
        checkpoint of it to ``out`` and raises :class:`flowkit.exceptions.TrainingInterrupted`
        naming the step kept; a second signal aborts at once and the previous checkpoint stays
        intact (see :mod:`flowkit.pipeline.interrupts`). ``steps`` below the steps already taken
        is a :class:`ConfigError`; a changed ``steps`` on a resumed pipeline re-stretches the
        learning-rate schedule, which is stated in one line.

        Raises :class:`flowkit.exceptions.NonFiniteError` if the loss diverges; the last
        checkpoint in ``out`` is then the last good state. A checkpoint that cannot be written
        (unwritable directory, full disk) raises :class:`flowkit.exceptions.OutputError`; the
        previous one stays intact.
        """
        overrides = dict(train_overrides)
        if steps is not None:
            overrides["steps"] = steps
        if batch_size is not None:
            overrides["batch_size"] = batch_size
        if overrides:
            self.config = self.config.with_train(**overrides)
        train = self.config.train
        if train.steps < self.step:
            raise ConfigError(
                f"train.steps = {train.steps} is below the {self.step} steps this pipeline has already taken; "
                f"ask for at least {self.step} steps (a run cannot be shortened after the fact)"
            )
        schedule_change = describe_schedule_change(self.trainer.config, train, self.step)
        self.trainer.configure(train)
        if self.trainer.sampler is None or self.trainer.sampler.batch_size != train.batch_size:
            self.trainer.set_data(*self._training_data())
        until = train.steps if stop_at is None else min(int(stop_at), train.steps)
        run_dir = None if out is None else Path(out)
        hooks = CallbackList(build_callbacks(self.config.callbacks, callbacks) if self.distributed.is_main else [])
        monitor = TrainingMonitor(
            initial_step=self.step,
            total_steps=train.steps,
            out=run_dir,
            progress=progress,
            enabled=self.distributed.is_main,
            on_log=hooks.log if hooks else None,
        )
        if schedule_change:
            monitor.write(schedule_change)
        checkpoint = (
            None if run_dir is None else (lambda: hooks.checkpoint(self._save_checkpoint(run_dir / CHECKPOINT_DIR)))
        )
        stop = StopSignals(self.distributed, device=self.device, announce=self.distributed.is_main)
        hooks.run = run = Run(
            self, out=run_dir, total_steps=train.steps, stop=stop, monitor=monitor, callbacks=hooks.callbacks
        )
        try:
            with stop:
                hooks.train_start()
                stopped = self.trainer.run(
                    until=until,
                    num_bins=self.num_bins,
                    conditional=getattr(self.model, "num_classes", None) is not None,
                    monitor=monitor,
                    checkpoint=checkpoint,
                    should_stop=stop.should_stop,
                    on_step=hooks.step_hook(),
                )
            run.outcome = ("stopped" if stop.requested_stop else "interrupted") if stopped else "completed"
            if run.outcome == "stopped":
                monitor.write(
                    f"training stopped after step {self.step} of {train.steps}: "
                    f"{stop.reason or 'a callback asked to stop on another process'}"
                )
        except KeyboardInterrupt:
            run.outcome = "interrupted"
            if stop.received is None:
                raise
            raise self._interrupted(stop.signal_name, aborted=True) from None
        except BaseException:
            run.outcome = "failed"
            raise
        finally:
            try:
                hooks.train_end()
            finally:
                monitor.close()
        if run.outcome == "interrupted":
            raise self._interrupted(stop.signal_name, aborted=False)
        return monitor.history

    def _save_checkpoint(self, directory: Path) -> str:
        try:
            written = str(self.save(directory))
        except OSError as exc:
            if isinstance(exc, FlowkitError):
                raise
            reason = exc.strerror or str(exc)
            if exc.filename:
                reason += f" ({exc.filename})"
            raise OutputError(
                f"cannot write the checkpoint of step {self.step} to {directory}: {reason}; {self._kept_checkpoint()}"
            ) from exc
        self._checkpoint_step = self.step
        return written

    def _kept_checkpoint(self) -> str:
        if self.trainer.last_checkpoint is None:
            return "no checkpoint was written before"
        return f"the previous checkpoint {self.trainer.last_checkpoint} (step {self._checkpoint_step}) is intact"

    def _interrupted(self, signal_name: str, *, aborted: bool) -> TrainingInterrupted:
        if aborted:
            message = (
                f"{signal_name} received twice: training aborted after step {self.step}, which was not saved; "
                + self._kept_checkpoint()
            )
        elif self.trainer.last_checkpoint is not None and self._checkpoint_step == self.step:
            message = (
                f"{signal_name}: training stopped after step {self.step} of {self.config.train.steps}; "
                f"checkpoint of step {self.step} kept in {self.trainer.last_checkpoint}"
            )
        else:
            message = (
                f"{signal_name}: training stopped after step {self.step} of {self.config.train.steps}; "
                "no checkpoint written (fit was called without out=)"
            )
        return TrainingInterrupted(
            message,
            step=self.step,
            checkpoint=self.trainer.last_checkpoint,
            checkpoint_step=self._checkpoint_step if self.trainer.last_checkpoint else None,
            signal=signal_name,
            aborted=aborted,
        )

    # -- sampling ------------------------------------------------------------------------------
    def _time_range(self) -> tuple[float, float]:
        t0, t1 = getattr(self.path, "time_range", (0.0, 1.0))
        return float(t0), float(t1)

    def _labels(self, y: Any, n: int) -> Tensor | None:
        if y is None:
            return None
        if getattr(self.model, "num_classes", None) is None:
            raise InvalidParameterError("y: this pipeline's model is unconditional; labels are not accepted")
        labels = torch.as_tensor(y, device=self.device)
        if labels.dim() == 0:
            labels = labels.expand(n)
        if labels.shape != (n,) or labels.dtype.is_floating_point:
            raise InvalidParameterError(
                f"y must be an integer label or {n} integer labels, got shape {list(labels.shape)}"
            )
        return labels.long()

    @contextlib.contextmanager
    def _sampling_network(self, y: Tensor | None, guidance: float | None) -> Iterator[Any]:
        network = self.ema_model
        was_training = network.training
        network.eval()
        try:
            if guidance is not None:
                if y is None:
                    raise InvalidParameterError("guidance needs labels y (the class to guide towards)")
                from flowkit.models import guided

                network = guided(network, guidance)
            yield (lambda t, x: network(t, x)) if y is None else (lambda t, x: network(t, x, y))
        finally:
            self.ema_model.train(was_training)

    def flow(
        self,
        x0: Tensor,
        *,
        solver: Any = None,
        y: Any = None,
        guidance: float | None = None,
        trajectory_times: Any = None,
        schedule: Any = None,
    ) -> Solution:
        r"""Solve $dx/dt = v(t, x\, [, y])$ from ``x0`` at the path's start to its end ($t = 0$ to $1$).

        ``solver`` overrides the configured one (a name, ``{name, **params}`` or an ODESolver);
        ``y`` conditions a class-conditional model (one label or one per point), ``guidance``
        applies classifier-free guidance with that scale; ``trajectory_times`` asks the solver for
        the intermediate states; ``schedule`` (a Gaussian path: name, table or object) samples
        along that path's marginals instead of the trained one's, by the scheduler change of
        :class:`flowkit.paths.RescheduledField` (``x0`` then comes from that path's prior).
        Returns the :class:`flowkit.Solution` (``x``, ``nfe``, ...).
        For discrete data (:attr:`vocab_size` set) ``x0`` and the result are integer tokens and
        the solver is a CTMC sampler such as ``discrete-euler``.
        """
        x0 = x0.to(device=self.device, dtype=self._state_dtype())
        labels = self._labels(y, x0.shape[0])
        ode = self.solver if solver is None else build_solver(solver)
        path = self.path if schedule is None else build_path(schedule)
        t0, t1 = getattr(path, "time_range", (0.0, 1.0))
        with torch.no_grad(), self._sampling_network(labels, guidance) as field:
            if schedule is not None:
                field = RescheduledField(field, trained=self.path, target=path)
            ode = bind_solver(ode, path=path, network=self.ema_model, labels=labels)
            return ode.solve(field, x0, t0=float(t0), t1=float(t1), trajectory_times=trajectory_times)

    def sample(
        self,
        n: int,
        *,
        solver: Any = None,
        y: Any = None,
        guidance: float | None = None,
        generator: torch.Generator | None = None,
        schedule: Any = None,
    ) -> Tensor:
        r"""Draw ``n`` samples ``[n, *event_shape]``: $x_0 \sim p_0$ carried to $t = 1$ by the flow.

        ``generator`` (on the pipeline's device) seeds ``x0``; see :meth:`flow` for the rest.
        """
        require_int("n", n, minimum=1)
        path = None if schedule is None else build_path(schedule)
        x0 = self.prior_sample(n, generator=generator, path=path)
        return self.flow(x0, solver=solver, y=y, guidance=guidance, schedule=path).x

    def prior_sample(self, n: int, *, generator: torch.Generator | None = None, path: Any = None) -> Tensor:
        r"""``n`` draws $x_0 \sim p_0$ from the prior of the path (default: the pipeline's), ``[n, *event_shape]``."""
        return (path or self.path).prior.sample(
            (n, *self.event_shape), device=self.device, dtype=self._state_dtype(), generator=generator
        )

    # -- likelihood ----------------------------------------------------------------------------
    def _divergence(self, divergence: str | None) -> str:
        divergence = divergence or self.config.eval.divergence
        if divergence == "auto":
            dims = math.prod(self.event_shape)
            return "exact" if dims <= self.config.eval.exact_divergence_max_dim else "hutchinson"
        return divergence

    def log_prob(
        self,
        x: Tensor,
        *,
        solver: Any = None,
        y: Any = None,
        divergence: str | None = None,
        generator: torch.Generator | None = None,
    ) -> LogProb:
        r"""$\log p_1(x)$ in nats and bits/dim, integrating the flow from $t = 1$ back to $t = 0$.

        $\log p_1(x) = \log p_0(x_0) - \int_0^1 \operatorname{div} v_t(x_t)\, dt$ (:func:`flowkit.likelihood.log_prob`);
        ``divergence`` is ``"exact"`` or ``"hutchinson"`` (default: the config's, ``auto`` picks
        exact up to ``eval.exact_divergence_max_dim`` dimensions); ``generator`` seeds the
        Hutchinson probes. Quantised data are expected dequantised (see ``LogProb``).
        """
        from flowkit.likelihood import bits_per_dim
        from flowkit.likelihood import log_prob as flow_log_prob

        x = x.to(device=self.device, dtype=self._dtype())
        labels = self._labels(y, x.shape[0])
        ode = self.solver if solver is None else build_solver(solver)
        t0, t1 = self._time_range()
        calls = 0

        with self._sampling_network(labels, None) as field:

            def unit_time_field(tau: Tensor, x_tau: Tensor) -> Tensor:
                # The engine integrates over [0, 1]; the path's [t0, t1] is reached by
                # t = t0 + (t1 - t0) tau, dx/dtau = (t1 - t0) v(t, x), which leaves log p unchanged.
                nonlocal calls
                calls += 1
                if (t0, t1) == (0.0, 1.0):
                    return field(tau, x_tau)
                return (t1 - t0) * field(t0 + (t1 - t0) * tau, x_tau)

            log_prob_nats = flow_log_prob(
                unit_time_field,
                x,
                prior=self.path.prior,
                solver=ode,
                divergence=self._divergence(divergence),
                generator=generator,
            )
        return LogProb(log_prob_nats, bits_per_dim(log_prob_nats, self.num_dims, self.num_bins), calls)

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(self, *, num_samples: int | None = None, metrics: Any = None, solver: Any = None) -> dict[str, float]:
        """The configured metrics (default: every registered one) on held-out data.

        Draws ``num_samples`` points (``eval.num_samples``) with a fixed seed, conditioned on the
        held-out labels for a class-conditional model, and compares them with as many held-out
        points; also reports the NFE and wall time of the sampling solve. Metrics that read the
        data set (:class:`flowkit.metrics.DataMetric`) get this pipeline's. Metrics that cannot
        measure the path's states (``Metric.state_spaces``, e.g. ``energy-distance`` on tokens)
        are left out: silently under ``"all"``, with a warning when named. Returns
        ``{name: value}`` as produced by the metrics.
        """
        n_wanted = num_samples or self.config.eval.num_samples
        reference, labels = self._split("test")
        n = min(n_wanted, reference.shape[0])
        reference = reference[:n]
        conditional = getattr(self.model, "num_classes", None) is not None
        y = labels[:n] if conditional and labels is not None else None
        requested = metrics if metrics is not None else self.config.eval.metrics
        names = registry.names("metric") if requested == "all" else list(requested)
        state = state_space_of(self.path)
        created = {name: registry.create("metric", name) for name in names}
        measures = {name: metric for name, metric in created.items() if can_measure(metric, state)}
        unfit = [name for name in created if name not in measures]
        if unfit and requested != "all":
            warnings.warn(
                f"metrics {unfit} cannot measure {state} samples (their state_spaces); left out", stacklevel=2
            )
        generator = generator_for(self.config.seed, "eval", device=self.device)
        x0 = self.prior_sample(n, generator=generator)
        synchronize(self.device)
        start = time.perf_counter()
        solution = self.flow(x0, solver=solver, y=y)
        synchronize(self.device)
        seconds = time.perf_counter() - start
        probe_generator = generator_for(self.config.seed, "eval", 1, device=self.device)
        context = EvaluationContext(
            samples=solution.x,
            reference=reference,
            log_prob=lambda x: self.log_prob(x, solver=solver, generator=probe_generator).log_prob_nats,
            num_bins=self.num_bins,
            nfe=solution.nfe,
            sampling_seconds=seconds,
            num_dims=self.num_dims,
        )
        results: dict[str, float] = {}
        for metric in measures.values():
            values = metric.measure(context, self.dataset) if isinstance(metric, DataMetric) else metric(context)
            results.update({key: float(value) for key, value in values.items()})
        return results

    # -- persistence ---------------------------------------------------------------------------
    def provenance(self) -> list[dict[str, Any]]:
        """Which distribution (and version) or module provides each component (and callback) of
        :attr:`config`: one entry per component (:mod:`flowkit.pipeline.provenance`), as stored
        in checkpoints and reports."""
        return component_provenance(self.config)

    def save(self, directory: str | Path) -> Path:
        """Write a checkpoint to ``directory`` atomically (the previous one stays until done).

        Files: ``config.toml``, ``state.json`` (step, data position, event shape, versions, and
        ``providers``: the distribution and version providing each component, see :meth:`provenance`),
        ``model.safetensors``, ``ema.safetensors``, ``optimizer.safetensors`` + ``optimizer.json``,
        ``rng.safetensors`` and ``manifest.json`` (sizes and SHA-256 of the others). Under
        ``torchrun`` every process must call it (the RNG states are gathered); rank 0 writes.
        """
        rng = self.trainer.rng_tensors()
        directory = Path(directory)
        if not self.distributed.is_main:
            return directory
        state = {
            "step": self.step,
            "data_position": self.trainer.data_position(),
            "event_shape": list(self.event_shape),
            "num_classes": self._info.num_classes,
            "num_bins": self.num_bins,
            "vocab_size": self.vocab_size,
            "world_size": self.distributed.world_size,
            "flowkit_version": __version__,
            "torch_version": torch.__version__,
            "providers": self.provenance(),
        }
        tensors = {MODEL_FILE: self.model.state_dict(), RNG_FILE: rng}
        json_data: dict[str, Any] = {STATE_FILE: state}
        if self.trainer.ema is not None:
            tensors[EMA_FILE] = self.trainer.ema.average.state_dict()
        if self.trainer.optimizer.state:
            optimizer_tensors, optimizer_meta = split_optimizer_state(self.trainer.optimizer_state_dict())
            tensors[OPTIMIZER_FILE] = optimizer_tensors
            json_data[OPTIMIZER_META_FILE] = optimizer_meta
        text = {CONFIG_FILE: self.config.to_toml()}
        return write_checkpoint(directory, text=text, json_data=json_data, tensors=tensors)

    @classmethod
    def load(cls, directory: str | Path, *, data: Any = None, device: str | None = None, **objects: Any) -> Pipeline:
        """Load a checkpoint written by :meth:`save` (or the ``checkpoint/`` of a run directory).

        ``data`` supplies the data set when the config has none (pipelines built on user tensors);
        ``device`` overrides the saved one; component objects (``model=``, ``path=``, ...) replace
        the saved components (the saved weights are loaded into a given model), e.g. for one whose
        class the config cannot import. Components named by a factory reference are rebuilt by
        importing their module, which runs its code (only load checkpoints you trust). Every file is
        checked against the manifest; a missing, incomplete or corrupt checkpoint raises
        :class:`CheckpointError` naming the file. A component whose provider is not installed here
        raises :class:`flowkit.exceptions.UnknownComponentError` naming the distribution and version
        to install (from ``state.json``'s ``providers``); another installed version of it gives a
        :class:`flowkit.exceptions.ProviderVersionWarning`.
        """
        checkpoint = Checkpoint(directory)
        try:
            config = PipelineConfig.from_toml(checkpoint.read_text(CONFIG_FILE))
        except ConfigError as exc:
            raise CheckpointError(f"{checkpoint.path / CONFIG_FILE}: {exc}") from None
        if device is not None:
            config = attrs.evolve(config, device=device)
        state = checkpoint.read_json(STATE_FILE)
        try:
            info = _DataInfo(
                tuple(state["event_shape"]), state["num_classes"], state["num_bins"], state.get("vocab_size")
            )
            step, position, world_size = int(state["step"]), state["data_position"], int(state["world_size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"corrupt checkpoint file {checkpoint.path / STATE_FILE}: {exc!r}") from None
        check_providers(
            config, state.get("providers"), skip=[key for key, value in objects.items() if value is not None]
        )
        pipeline = cls(config, data=data, _data_info=info, **component_objects(objects))
        trainer = pipeline.trainer
        _load_weights(pipeline.model, checkpoint, MODEL_FILE, pipeline.device)
        if trainer.ema is not None:
            if checkpoint.has(EMA_FILE):
                _load_weights(trainer.ema.average, checkpoint, EMA_FILE, pipeline.device)
            else:
                trainer.ema.average.load_state_dict(pipeline.model.state_dict())
        if checkpoint.has(OPTIMIZER_FILE):
            optimizer_state = join_optimizer_state(
                checkpoint.read_tensors(OPTIMIZER_FILE, pipeline.device), checkpoint.read_json(OPTIMIZER_META_FILE)
            )
            try:
                trainer.load_optimizer_state_dict(optimizer_state)
            except (ValueError, KeyError, RuntimeError) as exc:
                raise CheckpointError(f"{checkpoint.path / OPTIMIZER_FILE} does not fit the model: {exc}") from None
            trainer.configure(config.train)
        trainer.step = step
        trainer.load_data_position(position)
        trainer.load_rng_tensors(checkpoint.read_tensors(RNG_FILE), world_size)
        trainer.last_checkpoint = str(checkpoint.path)
        pipeline._checkpoint_step = step
        return pipeline

    def __repr__(self) -> str:
        parts = ", ".join(f"{key}={component.name!r}" for key, component in self.config.components().items())
        return f"Pipeline({parts}, step={self.step}, device={str(self.device)!r})"


def _as_config(config: Any) -> PipelineConfig:
    if config is None:
        return PipelineConfig()
    if isinstance(config, PipelineConfig):
        return config
    if isinstance(config, (str, Path)):
        return PipelineConfig.load(config)
    if isinstance(config, Mapping):
        return PipelineConfig.from_dict(config)
    raise ConfigError(
        f"config must be a PipelineConfig, a mapping or a path to a .toml/.json file, got {type(config).__name__}"
    )


def _load_weights(module: torch.nn.Module, checkpoint: Checkpoint, name: str, device: torch.device) -> None:
    tensors = checkpoint.read_tensors(name, device)
    try:
        module.load_state_dict(tensors)
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint.path / name} does not fit the configured model: {exc}") from None
