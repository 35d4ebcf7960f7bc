r"""One optimisation step, run eagerly, captured whole in a CUDA graph, or compiled by inductor.

Every mode carries out the same update on the batch ``x1`` (dequantised when the data are
quantised)::

    L = objective.loss(model, x1, y)                        # e.g. CFM: E ||v(t, x_t) - u_t(x_t | x1)||^2
    g = grad L;  g <- g min(1, c / ||g||)                   # clipping to global norm c (c > 0)
    theta <- AdamW(theta, g, lr_s)                           # lr_s from flowkit.pipeline.schedule
    theta_ema <- theta_ema + (1 - beta_k) (theta - theta_ema)   # flowkit.pipeline.ema, k = s + 1

and adds $L$ (and $\lVert g \rVert$) to device-side sums that the trainer reads every ``log_every``
steps. The modes differ in how the work reaches the device:

- :class:`EagerStep` (``compile = "off"``): plain PyTorch, one kernel launch per operation;
  batches are slices of the epoch's shuffled data, randomness comes from the trainer's
  generator, the learning rate is a Python float.
- :class:`GraphStep` (``"cuda-graph"``): the step is written so that no value goes back to the
  host: the batch is gathered from device-resident data at an offset held in a device tensor,
  the learning rate and the EMA weight are device tensors (filled before each step, no
  synchronisation), the optimizer is ``capturable`` and randomness comes from torch's CUDA
  generator (forked privately by the trainer, saved in checkpoints). After
  :data:`WARMUP_STEPS` eager steps of this form (which create the optimizer state and pick
  the kernels) the step is captured once with :class:`torch.cuda.CUDAGraph` and replayed; a
  capture that fails leaves the same step running eagerly, so the numbers do not depend on
  whether or when capture succeeded.
- :class:`InductorStep` (``"inductor"``): the eager step with the network compiled by
  ``torch.compile`` for the fixed batch shape.
- :class:`PrefetchingEagerStep` (``"off"`` with a coupling that solves on the host, exact OT):
  the eager step with the next step's assignment solved on a worker thread meanwhile.

Logging and checkpoints stay outside the step; see :mod:`flowkit.pipeline.step_modes` for how
``"auto"`` chooses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import torch
from torch import Tensor

from flowkit.core import Objective, VectorFieldModel
from flowkit.core.quantization import dequantize
from flowkit.couplings import HostAssignmentPrefetcher
from flowkit.device import autocast_context
from flowkit.pipeline.batches import BatchSampler
from flowkit.pipeline.config import TrainConfig
from flowkit.pipeline.ema import EMA, ema_decay_at
from flowkit.pipeline.schedule import configured_learning_rate
from flowkit.pipeline.seeding import generator_for

__all__ = ["WARMUP_STEPS", "EagerStep", "GraphStep", "InductorStep", "PrefetchingEagerStep", "StepParts"]

WARMUP_STEPS = 3
"""Eager steps of the capturable form run before the CUDA graph is captured."""


@attrs.define
class StepParts:
    """What a training step works on (shared by every mode)."""

    model: VectorFieldModel
    train_model: VectorFieldModel
    objective: Objective
    optimizer: torch.optim.Optimizer
    ema: EMA | None
    sampler: BatchSampler
    config: TrainConfig
    device: torch.device
    num_bins: int | None
    conditional: bool
    generator: torch.Generator
    loss_sum: Tensor
    norm_sum: Tensor
    params: list[Tensor] = attrs.field(init=False)
    _autocast: Any = attrs.field(init=False)
    _autocast_uncached: Any = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self._autocast = autocast_context(self.device, self.config.precision)
        self._autocast_uncached = autocast_context(self.device, self.config.precision, cache_enabled=False)

    def learning_rate(self, step: int) -> float:
        """``lr_s`` of step ``step`` (0-based) under the configured schedule."""
        return configured_learning_rate(self.config, step)

    def prepare(self, x1: Tensor, generator: torch.Generator | None) -> Tensor:
        """The batch as trained on: dequantised (uniform noise across each bin) when the data are quantised."""
        return x1 if self.num_bins is None else dequantize(x1, self.num_bins, generator)

    def loss(
        self,
        x1: Tensor,
        y: Tensor | None,
        generator: torch.Generator | None,
        *,
        cache: bool = True,
        model: Any = None,
        x0: Tensor | None = None,
    ) -> Tensor:
        """The objective's loss on the prepared batch ``x1`` (``model`` defaults to the training model).

        ``x0``, when given, holds source points already paired with ``x1``.
        """
        paired = {} if x0 is None else {"x0": x0}
        with self._autocast if cache else self._autocast_uncached:
            return self.objective.loss(
                model=self.train_model if model is None else model,
                x1=x1,
                y=y if self.conditional else None,
                generator=generator,
                **paired,
            )

    def backward_and_clip(self, loss: Tensor) -> None:
        r"""Gradients of ``loss`` into fresh ``.grad`` tensors, clipped; $\lVert g \rVert$ added to ``norm_sum``."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip > 0:
            self.norm_sum.add_(torch.nn.utils.clip_grad_norm_(self.params, self.config.grad_clip, foreach=True))


class EagerStep:
    """Plain PyTorch: ``step(s)`` takes step ``s`` and returns its learning rate."""

    name = "off"

    def __init__(self, parts: StepParts):
        self.parts = parts
        self.network: Any = None  # the training model, unless a subclass runs it another way

    def loss(self, step: int) -> Tensor:
        """The loss of step ``step`` on the sampler's next batch."""
        parts = self.parts
        x1, y = parts.sampler.next()
        return parts.loss(parts.prepare(x1, parts.generator), y, parts.generator, model=self.network)

    def close(self) -> None:
        """Release what the step holds besides tensors (nothing here)."""

    def __call__(self, step: int) -> float:
        parts = self.parts
        loss = self.loss(step)
        parts.backward_and_clip(loss)
        lr = parts.learning_rate(step)
        for group in parts.optimizer.param_groups:
            group["lr"] = lr
        parts.optimizer.step()
        if parts.ema is not None:
            parts.ema.update(step + 1)
        parts.loss_sum.add_(loss.detach())
        return lr


class InductorStep(EagerStep):
    """The eager step with the network compiled by ``torch.compile`` (fixed shapes, no recompiles).

    Only the network is compiled: the objective's own Python (path sample, target, the frozen
    ``PathSample``) stays eager, which keeps the mode working for any objective.
    """

    name = "inductor"

    def __init__(self, parts: StepParts):
        super().__init__(parts)
        self.network = torch.compile(parts.train_model, dynamic=False)


class PrefetchingEagerStep(EagerStep):
    """The eager step with a host-side coupling (exact OT) solved one step ahead on a worker thread.

    The pairs of step ``k`` are computed from the sampler's batch ``k`` and from a generator
    seeded by ``(seed, rank, k)`` alone (for the prior draw ``x0`` and the dequantisation), so the
    solve for step ``k + 1`` can be submitted to a
    :class:`flowkit.couplings.HostAssignmentPrefetcher` before step ``k`` trains, and a resumed run
    pairs exactly as an uninterrupted one. The objective then gets ``x0[pi]`` as paired sources.
    """

    def __init__(self, parts: StepParts, *, seed: int, rank: int):
        super().__init__(parts)
        self.seed, self.rank = seed, rank
        coupling = getattr(parts.objective, "coupling", None)
        assert coupling is not None, "build_step picks this step only for an objective that prefetches_pairs"
        self._prefetcher = HostAssignmentPrefetcher(coupling)
        self._pending: dict[int, tuple[Tensor, Tensor, Any]] = {}

    def _submit(self, step: int, x1: Tensor) -> None:
        parts = self.parts
        generator = generator_for(self.seed, "pairs", self.rank, step, device=x1.device)
        x1 = parts.prepare(x1, generator)
        x0 = parts.objective.path.prior.sample(x1.shape, device=x1.device, dtype=x1.dtype, generator=generator)
        self._pending[step] = (x0, x1, self._prefetcher.submit(x0, x1))

    def loss(self, step: int) -> Tensor:
        parts = self.parts
        x1, y = parts.sampler.next()
        if step not in self._pending:  # the first step of a run
            self._submit(step, x1)
        x0, x1, solved = self._pending.pop(step)
        self._pending.clear()
        self._submit(step + 1, parts.sampler.peek()[0])  # solved on the worker while this step trains
        permutation = solved.result().to(x0.device, non_blocking=True)
        return parts.loss(x1, y, parts.generator, x0=x0[permutation])

    def close(self) -> None:
        self._pending.clear()
        self._prefetcher.close()


class GraphStep:
    """The step in capturable form, replayed from a CUDA graph once captured.

    ``on_capture_failure(error)`` is called once if capture fails; the step then keeps running
    eagerly in the same form. ``captured`` tells whether replays are in use. On a device other
    than CUDA the form runs eagerly throughout (tests check the form itself on the CPU).
    """

    name = "cuda-graph"

    def __init__(self, parts: StepParts, *, on_capture_failure: Callable[[BaseException], None]):
        self.parts = parts
        self.on_capture_failure = on_capture_failure
        device = parts.device
        sampler = parts.sampler
        self._x = torch.empty_like(sampler.x)
        self._y = None if sampler.y is None else torch.empty_like(sampler.y)
        self._bound: Tensor | None = None  # the shuffled epoch copied into self._x
        self._offset = torch.zeros((), dtype=torch.long, device=device)
        self._rows = torch.arange(sampler.local_batch_size, device=device)
        self._lr = torch.tensor(parts.config.lr, dtype=torch.float32, device=device)
        self._ema_weight = torch.zeros((), dtype=torch.float32, device=device)
        for group in parts.optimizer.param_groups:
            group["lr"] = self._lr
        self._eager_steps = 0
        self._graph: torch.cuda.CUDAGraph | None = None
        self._failed = False

    @property
    def captured(self) -> bool:
        return self._graph is not None

    def close(self) -> None:
        """Drop the captured graph (its memory pool goes with it)."""
        self._graph = None

    def _prepare(self, step: int) -> float:
        """Host side of step ``step``: the batch position, learning rate and EMA weight, on the device."""
        parts = self.parts
        shuffled_x, shuffled_y, start = parts.sampler.next_range()
        if shuffled_x is not self._bound:  # a new epoch: its shuffled order goes to the static buffer
            self._x.copy_(shuffled_x)
            if self._y is not None:
                assert shuffled_y is not None, "self._y exists only for a sampler with labels"
                self._y.copy_(shuffled_y)
            self._bound = shuffled_x
        self._offset.fill_(start)
        lr = parts.learning_rate(step)
        self._lr.fill_(lr)
        if parts.ema is not None:
            self._ema_weight.fill_(1.0 - ema_decay_at(step + 1, parts.ema.decay))
        return lr

    def _body(self, *, cache: bool) -> None:
        """The device work of one step; reads and writes only tensors that stay in place."""
        parts = self.parts
        rows = self._rows + self._offset
        x1 = self._x.index_select(0, rows)
        y = None if self._y is None else self._y.index_select(0, rows)
        loss = parts.loss(parts.prepare(x1, None), y, None, cache=cache)
        parts.backward_and_clip(loss)
        parts.optimizer.step()
        if parts.ema is not None:
            parts.ema.update_by(self._ema_weight)
        parts.loss_sum.add_(loss.detach())

    def __call__(self, step: int) -> float:
        lr = self._prepare(step)
        if self._graph is not None:
            self._graph.replay()
        elif self._failed or self._eager_steps < WARMUP_STEPS or self.parts.device.type != "cuda":
            with self._side_stream():
                self._body(cache=True)
            self._eager_steps += 1
        else:
            self._capture()
            if self._graph is not None:
                self._graph.replay()
            else:
                self._body(cache=True)
        return lr

    @contextlib.contextmanager
    def _side_stream(self) -> Iterator[None]:
        """Run eager warm-up work on a side stream, as CUDA graph capture requires of it."""
        if self.parts.device.type != "cuda":
            yield
            return
        current = torch.cuda.current_stream(self.parts.device)
        side = torch.cuda.Stream(self.parts.device)
        side.wait_stream(current)
        with torch.cuda.stream(side):
            yield
        current.wait_stream(side)

    def _capture(self) -> None:
        parts = self.parts
        torch.cuda.synchronize(parts.device)
        parts.optimizer.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self._body(cache=False)
        except Exception as error:  # a component synchronised with the host, or cannot be captured
            self._failed = True
            parts.optimizer.zero_grad(set_to_none=True)
            torch.cuda.synchronize(parts.device)
            self.on_capture_failure(error)
            return
        self._graph = graph
