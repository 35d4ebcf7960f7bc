"""The hand-written baseline: Conditional Flow Matching with the OT path in plain PyTorch.

A benchmark's ``baseline`` cell trains the *same* network (same registered model, same
initial weights, same data) with the loop below instead of :meth:`flowkit.Pipeline.fit`, so a
summary shows what flowkit's objective, path and training machinery cost, and whether they change
quality, relative to code a user could write by hand. It deliberately uses nothing of flowkit's
paths, objectives, couplings, schedules or trainer (it re-implements the same recipe on purpose;
it is the reference flowkit is measured against). With ``sigma = sigma_min``, per step::

    x1 ~ data batch (epochs of random permutations; dequantised by uniform noise of width 2/K
         for data quantised to K levels), x0 ~ N(0, I), t ~ U[0, 1)
    x_t = t x1 + (1 - (1 - sigma) t) x0,   u = x1 - (1 - sigma) x0          (OT path, Lipman et al.)
    loss = mean (v(t, x_t) - u)^2
    AdamW step with gradient-norm clipping; learning rate: linear warm-up, then cosine / linear /
    constant decay to min_lr_ratio * lr; EMA of the weights with decay min(decay, (1+k)/(10+k)).

The optimisation hyper-parameters are read from the suite's ``[train]`` table so both methods
follow the same recipe. The model's runtime shape checks are turned off for the loop, as
flowkit's own trainer does after its first step, so the comparison measures the training code
around the network rather than the network's input validation.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import Tensor, nn

from flowkit.exceptions import NonFiniteError
from flowkit.pipeline.config import TrainConfig
from flowkit.shapes import shape_checks

__all__ = ["train_cfm_by_hand"]


def _learning_rate(step: int, config: TrainConfig) -> float:
    warmup = min(config.warmup_steps, config.steps)
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, config.steps - warmup))
    shape = {
        "cosine": 0.5 * (1.0 + math.cos(math.pi * progress)),
        "linear": 1.0 - progress,
        "constant": 1.0,
    }[config.lr_schedule]
    return config.lr * (config.min_lr_ratio + (1.0 - config.min_lr_ratio) * shape)


def train_cfm_by_hand(
    model: nn.Module,
    x: Tensor,
    y: Tensor | None,
    *,
    config: TrainConfig,
    sigma_min: float,
    num_bins: int | None,
    seed: int,
) -> tuple[list[dict[str, float]], nn.Module]:
    """Train ``model`` in place on ``x`` (labels ``y`` for a class-conditional model).

    Returns the logged records (``step``, ``loss``: the mean loss over the last ``log_every``
    steps, ``lr``) and the EMA copy of the model (the model itself when ``ema_decay`` is 0).
    Raises :class:`NonFiniteError` when the loss stops being finite.
    """
    generator = torch.Generator(device=x.device).manual_seed(seed)
    order_generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps, weight_decay=config.weight_decay
    )
    average = copy.deepcopy(model).requires_grad_(False).eval() if config.ema_decay > 0 else model
    params = list(model.parameters())
    n, batch = x.shape[0], config.batch_size
    order, cursor = torch.randperm(n, generator=order_generator).to(x.device), 0
    history: list[dict[str, float]] = []
    loss_sum = torch.zeros((), device=x.device)
    model.train()
    with shape_checks(False):
        for step in range(config.steps):
            if cursor + batch > n:
                order, cursor = torch.randperm(n, generator=order_generator).to(x.device), 0
            index = order[cursor : cursor + batch]
            cursor += batch
            x1 = x[index]
            if num_bins is not None:
                x1 = x1 + (2.0 / num_bins) * (
                    torch.rand(x1.shape, generator=generator, device=x.device, dtype=x.dtype) - 0.5
                )
            x0 = torch.randn(x1.shape, generator=generator, device=x.device, dtype=x.dtype)
            t = torch.rand(batch, generator=generator, device=x.device, dtype=x.dtype)
            t_ = t.view(batch, *([1] * (x1.dim() - 1)))
            x_t = t_ * x1 + (1 - (1 - sigma_min) * t_) * x0
            target = x1 - (1 - sigma_min) * x0
            v = model(t, x_t) if y is None else model(t, x_t, y[index])
            loss = (v - target).square().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            lr = _learning_rate(step, config)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.step()
            if average is not model:
                beta = min(config.ema_decay, (2.0 + step) / (11.0 + step))  # (1 + k) / (10 + k) after step k = step + 1
                with torch.no_grad():
                    for target_p, source_p in zip(average.parameters(), params):
                        target_p.lerp_(source_p, 1.0 - beta)
                    for target_b, source_b in zip(average.buffers(), model.buffers()):
                        target_b.copy_(source_b)
            loss_sum += loss.detach()
            done = step + 1
            if done % config.log_every == 0 or done == config.steps:
                window = done - (history[-1]["step"] if history else 0)
                mean_loss = float(loss_sum) / window
                if not math.isfinite(mean_loss):
                    raise NonFiniteError(f"baseline training diverged: the loss became {mean_loss} by step {done}")
                history.append({"step": done, "loss": mean_loss, "lr": lr})
                loss_sum.zero_()
    return history, average
