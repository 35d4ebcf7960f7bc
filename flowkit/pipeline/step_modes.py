"""Which way training steps run: the ``[train] compile`` option and the optimizer settings it implies.

``compile`` takes one of :data:`flowkit.pipeline.config.COMPILE_MODES`:

- ``"off"``: eager PyTorch (:class:`flowkit.pipeline.step.EagerStep`); with exact OT, whose
  assignment is solved on the host, the next step's assignment is solved on a worker thread
  while the current step trains (:class:`flowkit.pipeline.step.PrefetchingEagerStep`).
- ``"cuda-graph"``: the whole step captured once and replayed
  (:class:`flowkit.pipeline.step.GraphStep`). It needs a CUDA device, a single process (under
  ``torchrun`` DDP's gradient all-reduce is not captured) and components that keep their work on
  the device: a coupling with ``capturable = False`` (exact OT solves on the host; Sinkhorn stops
  on a convergence test read on the host) stands in the way. Asked for explicitly where it
  cannot run, it is a :class:`flowkit.exceptions.ConfigError` naming what stands in the way.
- ``"inductor"``: the loss compiled by ``torch.compile`` (:class:`flowkit.pipeline.step.InductorStep`);
  it needs a CUDA or CPU device, and on the CPU a C++ compiler.
- ``"auto"`` (the default): ``"cuda-graph"`` wherever it can run, else eager. On an H200 the
  captured step was measured 6.7x (MLP 3x64, batch 256) and 2.1x (4x512, batch 4096) faster
  than eager, while compiling the model alone was slower than eager; on the CPU nothing beat the
  eager step with the fused AdamW kernel once compile time is counted (figures in
  ``docs/pipeline.md``, from ``benchmarks/overhead.py``). When a component stops ``"auto"`` from
  capturing on a CUDA device, :func:`resolve_step_mode` returns the reason, which training
  prints in one line; a capture that fails at run time is reported the same way.

The optimizer follows the mode (:func:`configure_optimizer`): a CUDA graph needs AdamW's
``capturable`` form (its step counters and learning rate live on the device); eager and
inductor steps use the fused AdamW kernel where the device has one. The choice changes no
hyper-parameter, so a checkpoint written in one mode loads in any other.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

import attrs
import torch

from flowkit.core import Objective
from flowkit.exceptions import ConfigError
from flowkit.pipeline.step import EagerStep, GraphStep, InductorStep, PrefetchingEagerStep, StepParts

__all__ = ["StepMode", "build_step", "configure_optimizer", "prefetches_pairs", "resolve_step_mode"]

_CXX_COMPILERS = ("g++", "c++", "clang++")
_FUSED_ADAMW_DEVICES = ("cuda", "cpu", "mps")


@attrs.frozen
class StepMode:
    """The resolved mode and, when ``"auto"`` could not capture on CUDA, the reason (else ``None``)."""

    name: str
    fallback_reason: str | None = None


def capture_obstacles(*, device: torch.device, distributed: bool, objective: Objective) -> list[str]:
    """What prevents capturing the training step in a CUDA graph (empty when nothing does)."""
    obstacles = []
    if device.type != "cuda":
        obstacles.append(f"the device is {device.type}, and CUDA graphs need a CUDA device")
    if distributed:
        obstacles.append("training runs in several processes (torchrun), whose gradient all-reduce is not captured")
    coupling = getattr(objective, "coupling", None)
    if coupling is not None and not getattr(coupling, "capturable", True):
        obstacles.append(
            f"the coupling {type(coupling).__name__} works on the host (capturable = False); "
            "use coupling 'independent' to capture the step"
        )
    return obstacles


def inductor_obstacles(device: torch.device) -> list[str]:
    """What prevents compiling the step with inductor on ``device`` (empty when nothing does)."""
    if device.type not in ("cuda", "cpu"):
        return [f"torch.compile's inductor backend does not support the {device.type} device here"]
    if device.type == "cpu" and not any(shutil.which(name) for name in _CXX_COMPILERS):
        return [f"inductor on the CPU needs a C++ compiler, and none of {', '.join(_CXX_COMPILERS)} is on PATH"]
    return []


def resolve_step_mode(requested: str, *, device: torch.device, distributed: bool, objective: Objective) -> StepMode:
    """The mode to train in for ``train.compile = requested``; an explicit mode that cannot run raises."""
    if requested == "off":
        return StepMode("off")
    if requested == "inductor":
        obstacles = inductor_obstacles(device)
        if obstacles:
            raise ConfigError(f"train.compile = 'inductor' cannot be used: {'; '.join(obstacles)}")
        return StepMode("inductor")
    obstacles = capture_obstacles(device=device, distributed=distributed, objective=objective)
    if requested == "cuda-graph":
        if obstacles:
            raise ConfigError(f"train.compile = 'cuda-graph' cannot be used: {'; '.join(obstacles)}")
        return StepMode("cuda-graph")
    if not obstacles:
        return StepMode("cuda-graph")
    # Only a CUDA device has something faster than eager to fall back from.
    reason = "; ".join(obstacles) if device.type == "cuda" else None
    return StepMode("off", reason)


def configure_optimizer(optimizer: torch.optim.Optimizer, mode: str, device: torch.device) -> None:
    """Set the optimizer's implementation flags for ``mode`` (no hyper-parameter changes).

    ``cuda-graph``: ``capturable`` AdamW with its step counters on the device (on a device
    without CUDA graphs, where the capturable form only runs eagerly in tests, the single-tensor
    AdamW, the one that takes a tensor learning rate there). Otherwise the fused kernel where the
    device has one, with float step counters on the host, as PyTorch keeps them for
    non-capturable optimizers. A learning rate left as a tensor by a CUDA graph step goes back
    to a float.
    """
    graph_form = mode == "cuda-graph"
    capturable = graph_form and device.type == "cuda"
    fused = not graph_form and device.type in _FUSED_ADAMW_DEVICES and isinstance(optimizer, torch.optim.AdamW)
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"] = float(group["lr"])
        group["capturable"] = capturable
        group["fused"] = fused or None
        group["foreach"] = None if fused else (capturable or not graph_form)
    for state in optimizer.state.values():
        step = state.get("step")
        if isinstance(step, torch.Tensor):
            where = device if capturable or fused else torch.device("cpu")
            state["step"] = step.to(device=where, dtype=torch.float32)


def prefetches_pairs(objective: Objective) -> bool:
    """Whether the eager step can solve the objective's coupling one step ahead on a worker thread.

    It can for a coupling that runs on the host and splits its work into ``stage_cost`` and
    ``solve`` (exact OT), with an objective that takes paired sources (``accepts_paired_sources``).
    """
    coupling = getattr(objective, "coupling", None)
    return (
        getattr(objective, "accepts_paired_sources", False)
        and getattr(coupling, "runs_on_host", False)
        and all(callable(getattr(coupling, name, None)) for name in ("stage_cost", "solve"))
    )


def build_step(
    mode: str, parts: StepParts, *, seed: int, rank: int, on_capture_failure: Callable[[BaseException], None]
) -> EagerStep | GraphStep:
    """The step object for a resolved ``mode``, with the optimizer configured for it."""
    configure_optimizer(parts.optimizer, mode, parts.device)
    if mode == "cuda-graph":
        return GraphStep(parts, on_capture_failure=on_capture_failure)
    if mode == "inductor":
        return InductorStep(parts)
    if prefetches_pairs(parts.objective):
        return PrefetchingEagerStep(parts, seed=seed, rank=rank)
    return EagerStep(parts)
