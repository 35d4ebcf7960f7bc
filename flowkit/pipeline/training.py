"""The training loop: AdamW, warm-up and decay, gradient clipping, EMA, logging, checkpoints.

One optimisation step ``s`` (0-based) on the batch ``x1`` (dequantised when the data are
quantised) is::

    L = objective.loss(model, x1, y)                        # e.g. CFM: E ||v(t, x_t) - u_t(x_t | x1)||^2
    g = grad L;  g <- g min(1, c / ||g||)                   # clipping to global norm c (c > 0)
    theta <- AdamW(theta, g, lr_s)                           # lr_s from flowkit.pipeline.schedule
    theta_ema <- beta theta_ema + (1 - beta) theta           # flowkit.pipeline.ema

carried out eagerly, replayed from a CUDA graph or compiled, as ``train.compile`` says
(:mod:`flowkit.pipeline.step`, :mod:`flowkit.pipeline.step_modes`). The loop around it is the
same in every mode: shape checks run on the first step of each :meth:`Trainer.run` and are off
afterwards, the loss is summed on the device and read (one host synchronisation) only every
``log_every`` steps and before a checkpoint, where a non-finite value raises
:class:`flowkit.exceptions.NonFiniteError` (so no checkpoint ever holds a diverged state). All
randomness comes from the trainer's own generator and a private copy of torch's global
generators (used by components that take no ``generator``, dropout, and the captured and
compiled steps), saved with the checkpoint, so a resumed run continues exactly as an
uninterrupted one in the same mode.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from flowkit.core import Objective, VectorFieldModel
from flowkit.exceptions import ConfigError, NonFiniteError
from flowkit.pipeline.batches import BatchSampler
from flowkit.pipeline.config import TrainConfig
from flowkit.pipeline.distributed import DistributedContext, DistributedModel, all_gather, mean_across
from flowkit.pipeline.ema import EMA
from flowkit.pipeline.monitor import TrainingMonitor
from flowkit.pipeline.seeding import derive_seed, generator_for
from flowkit.pipeline.step import EagerStep, GraphStep, StepParts
from flowkit.pipeline.step_modes import StepMode, build_step, configure_optimizer, resolve_step_mode
from flowkit.shapes import shape_checks

__all__ = ["Trainer"]


class Trainer:
    """Optimises ``model`` on ``objective``; owns the optimizer, the EMA and the training RNG.

    ``step`` counts the optimisation steps taken so far. :meth:`run` trains up to a step;
    :meth:`rng_tensors` / :meth:`load_rng_tensors` and the optimizer's state dict are what a
    checkpoint needs besides the weights.
    """

    def __init__(
        self,
        model: VectorFieldModel,
        objective: Objective,
        *,
        config: TrainConfig,
        seed: int,
        device: torch.device,
        context: DistributedContext,
    ):
        self.model = model
        self.objective = objective
        self.seed = seed
        self.device = device
        self.context = context
        self.step = 0
        self.config = config
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
        )
        self.ema: EMA[VectorFieldModel] | None = EMA(model, config.ema_decay) if config.ema_decay > 0 else None
        self.generator = generator_for(seed, "train", context.rank, device=device)
        # A private stream for torch's global generator (components that do not take a
        # ``generator``, dropout, ...): swapped in while training, so the user's is untouched.
        with torch.random.fork_rng(devices=self._cuda_devices()):
            torch.manual_seed(derive_seed(seed, "train", context.rank, 1))
            self._global_rng = self._global_rng_now()
        self.sampler: BatchSampler | None = None
        self._position = {"epoch": 0, "cursor": 0}
        self.last_checkpoint: str | None = None
        self._train_model: VectorFieldModel | None = None
        self._step_runner: EagerStep | GraphStep | None = None
        self.step_mode: StepMode = self._resolve_mode()
        configure_optimizer(self.optimizer, self.step_mode.name, device)

    def _drop_runner(self) -> None:
        """Forget the step object (it is rebuilt for the next run), releasing its graph or worker thread."""
        if self._step_runner is not None:
            self._step_runner.close()
            self._step_runner = None

    def _resolve_mode(self) -> StepMode:
        return resolve_step_mode(
            self.config.compile, device=self.device, distributed=self.context.active, objective=self.objective
        )

    # -- configuration ---------------------------------------------------------------------------
    def configure(self, config: TrainConfig) -> None:
        """Apply (possibly changed) training settings: optimizer hyper-parameters and EMA decay."""
        if config != self.config:
            self._drop_runner()  # the step holds the settings (a captured one has them baked in)
        self.config = config
        self.step_mode = self._resolve_mode()
        for group in self.optimizer.param_groups:
            group.update(betas=config.betas, eps=config.eps, weight_decay=config.weight_decay)
        if config.ema_decay == 0:
            self.ema = None
        elif self.ema is None:
            self.ema = EMA(self.model, config.ema_decay)
        else:
            self.ema.decay = config.ema_decay

    def set_data(self, x: Tensor, y: Tensor | None) -> None:
        """Use the training tensors ``x`` (and labels ``y``), keeping the position in the data."""
        position = self.data_position()
        self._drop_runner()
        self.sampler = BatchSampler(
            x,
            y,
            batch_size=self.config.batch_size,
            seed=self.seed,
            rank=self.context.rank,
            world_size=self.context.world_size,
        )
        self.sampler.load_state_dict(position)

    def data_position(self) -> dict[str, int]:
        """The position in the training data, ``{"epoch": e, "cursor": c}``."""
        return self._position if self.sampler is None else self.sampler.state_dict()

    def load_data_position(self, position: dict[str, int]) -> None:
        """Continue from a position returned by :meth:`data_position`."""
        self._position = {"epoch": int(position["epoch"]), "cursor": int(position["cursor"])}
        if self.sampler is not None:
            self.sampler.load_state_dict(self._position)

    # -- optimizer state ---------------------------------------------------------------------------
    def optimizer_state_dict(self) -> dict[str, Any]:
        """The optimizer's state dict with plain-number hyper-parameters (as in every mode)."""
        state = self.optimizer.state_dict()
        for group in state["param_groups"]:
            if isinstance(group["lr"], Tensor):
                group["lr"] = float(group["lr"])
        return state

    def load_optimizer_state_dict(self, state: dict[str, Any]) -> None:
        """Load an optimizer state written in any mode and set it up for this trainer's mode."""
        self.optimizer.load_state_dict(state)
        self._drop_runner()  # a captured step refers to the replaced state tensors
        configure_optimizer(self.optimizer, self.step_mode.name, self.device)

    # -- RNG state ---------------------------------------------------------------------------------
    def _cuda_devices(self) -> list[int]:
        return [self.device.index or 0] if self.device.type == "cuda" else []

    def _global_rng_now(self) -> dict[str, Tensor]:
        states = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            states["cuda"] = torch.cuda.get_rng_state(self.device)
        return states

    def _set_global_rng(self, states: dict[str, Tensor]) -> None:
        torch.set_rng_state(states["cpu"])
        if "cuda" in states:
            torch.cuda.set_rng_state(states["cuda"], self.device)

    def rng_tensors(self) -> dict[str, Tensor]:
        """Every process's RNG states as ``{"<name>.rank<r>": uint8 tensor}`` (a collective call)."""
        mine = {"generator": self.generator.get_state(), **{f"global_{k}": v for k, v in self._global_rng.items()}}
        out: dict[str, Tensor] = {}
        for name, state in mine.items():
            transport = state.to(self.device) if self.device.type == "cuda" and self.context.active else state
            for rank, part in enumerate(all_gather(transport, self.context)):
                out[f"{name}.rank{rank}"] = part.cpu()
        return out

    def load_rng_tensors(self, tensors: dict[str, Tensor], world_size: int) -> None:
        """Restore this process's RNG states saved by :meth:`rng_tensors` with ``world_size`` processes.

        With a different number of processes the exact continuation is impossible: each process
        keeps fresh streams derived from the seed, its rank and the step, with a warning.
        """
        if world_size != self.context.world_size:
            warnings.warn(
                f"the checkpoint was written by {world_size} process(es) and is resumed by "
                f"{self.context.world_size}; training continues with fresh random streams, not exactly",
                stacklevel=2,
            )
            self.generator.manual_seed(derive_seed(self.seed, "train", self.context.rank, 2, self.step))
            return
        rank = self.context.rank
        self.generator.set_state(tensors[f"generator.rank{rank}"])
        self._global_rng = {
            key: tensors[f"global_{key}.rank{rank}"] for key in ("cpu", "cuda") if f"global_{key}.rank{rank}" in tensors
        }

    # -- the loop ----------------------------------------------------------------------------------
    def run(
        self,
        *,
        until: int,
        num_bins: int | None,
        conditional: bool,
        monitor: TrainingMonitor,
        checkpoint: Callable[[], str | None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_step: Callable[[int], None] | None = None,
    ) -> bool:
        """Train from :attr:`step` up to step ``until``; returns whether ``should_stop`` ended it early.

        ``num_bins`` turns on dequantisation, ``conditional`` passes the labels to the model.
        ``checkpoint()`` (every ``checkpoint_every`` steps and at the end) writes a checkpoint and
        returns where. ``should_stop()`` is asked after each completed step (every process asks,
        at the same steps); when it answers ``True`` the metrics are logged, a checkpoint is
        written at that step and the run ends. Raises :class:`NonFiniteError` when the loss or
        the weights stop being finite; the last checkpoint written stays as it was.
        ``on_step(step)`` (if given) is called after each step with its number, before
        ``should_stop`` is asked; it must not read device tensors (the step may be a CUDA graph).
        """
        if self.sampler is None:
            raise RuntimeError("Trainer.set_data must be called before Trainer.run")
        if self.step >= until:
            return False
        if self._train_model is None:
            self._train_model = DistributedModel(self.model, self.device) if self.context.active else self.model
        self.model.train()
        with torch.random.fork_rng(devices=self._cuda_devices()):
            self._set_global_rng(self._global_rng)
            try:
                return self._loop(until, num_bins, conditional, monitor, checkpoint, should_stop, on_step)
            finally:
                self._global_rng = self._global_rng_now()

    def _runner(self, num_bins: int | None, conditional: bool, monitor: TrainingMonitor) -> EagerStep | GraphStep:
        """The step object for this run, kept across runs while the data and settings stay."""
        runner = self._step_runner
        if runner is not None and (runner.parts.num_bins, runner.parts.conditional) == (num_bins, conditional):
            return runner
        mode = self.step_mode
        if mode.fallback_reason is not None:
            monitor.write(f"training step not captured in a CUDA graph (running eagerly): {mode.fallback_reason}")

        def on_capture_failure(error: BaseException) -> None:
            message = (
                f"capturing the training step in a CUDA graph failed ({type(error).__name__}: {error}): a component "
                f"of the step ({self._component_names()}) reads device values on the host"
            )
            if self.config.compile == "cuda-graph":
                raise ConfigError(f"train.compile = 'cuda-graph': {message}; use 'auto' to run it eagerly") from error
            monitor.write(f"{message}; the step keeps running eagerly")

        parts = StepParts(
            model=self.model,
            train_model=self._train_model,  # type: ignore[arg-type]
            objective=self.objective,
            optimizer=self.optimizer,
            ema=self.ema,
            sampler=self.sampler,  # type: ignore[arg-type]
            config=self.config,
            device=self.device,
            num_bins=num_bins,
            conditional=conditional,
            generator=self.generator,
            loss_sum=torch.zeros((), device=self.device),
            norm_sum=torch.zeros((), device=self.device),
        )
        self._step_runner = build_step(
            mode.name, parts, seed=self.seed, rank=self.context.rank, on_capture_failure=on_capture_failure
        )
        return self._step_runner

    def _component_names(self) -> str:
        parts = {
            "objective": self.objective,
            "path": getattr(self.objective, "path", None),
            "coupling": getattr(self.objective, "coupling", None),
            "model": self.model,
        }
        return ", ".join(f"{kind} {type(value).__name__}" for kind, value in parts.items() if value is not None)

    def _loop(
        self,
        until: int,
        num_bins: int | None,
        conditional: bool,
        monitor: TrainingMonitor,
        checkpoint: Callable[[], str | None] | None,
        should_stop: Callable[[], bool] | None,
        on_step: Callable[[int], None] | None,
    ) -> bool:
        config = self.config
        runner = self._runner(num_bins, conditional, monitor)
        parts = runner.parts
        params = parts.params
        loss_sum, norm_sum = parts.loss_sum.zero_(), parts.norm_sum.zero_()
        window_start, window_step, window_time = self.step, self.step, time.perf_counter()
        lr = 0.0

        def one_step() -> None:
            nonlocal lr
            lr = runner(self.step)
            self.step += 1

        def report() -> None:
            nonlocal window_step, window_time
            count = self.step - window_step
            mean_loss = float(mean_across(loss_sum / count, self.context))
            if not math.isfinite(mean_loss) or not _finite(params):
                where = f"; the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint else ""
                raise NonFiniteError(
                    f"training diverged: the loss became {mean_loss} between steps {window_step + 1} and "
                    f"{self.step}{where}. Try a lower train.lr or train.grad_clip"
                )
            now = time.perf_counter()
            steps_per_second = count / max(now - window_time, 1e-12)
            record = {
                "step": self.step,
                "loss": mean_loss,
                "lr": lr,
                "steps_per_second": steps_per_second,
                "samples_per_second": steps_per_second * config.batch_size,
                "epoch": self.sampler.epoch,  # type: ignore[union-attr]
            }
            if config.grad_clip > 0:
                record["grad_norm"] = float(mean_across(norm_sum / count, self.context))
            monitor.log(record)
            loss_sum.zero_()
            norm_sum.zero_()
            window_step, window_time = self.step, time.perf_counter()

        one_step()  # with shape checks as set by the caller: validates the first step
        with shape_checks(False):
            while True:
                if on_step is not None:
                    on_step(self.step)
                stopping = self.step != until and should_stop is not None and should_stop()
                end = self.step == until or stopping
                due_checkpoint = checkpoint is not None and (
                    end or (config.checkpoint_every and self.step % config.checkpoint_every == 0)
                )
                if end or self.step % config.log_every == 0 or due_checkpoint:
                    report()
                if due_checkpoint:
                    self._global_rng = self._global_rng_now()
                    self.last_checkpoint = checkpoint()  # type: ignore[misc]
                    window_time = time.perf_counter()
                monitor.advance(self.step - window_start)
                window_start = self.step
                if end:
                    return stopping
                one_step()


def _finite(params: list[Tensor]) -> bool:
    """Whether every parameter is finite (one reduction over the global norm)."""
    if not params:
        return True
    norms = torch._foreach_norm(params)
    return bool(torch.isfinite(torch.stack(norms)).all())
