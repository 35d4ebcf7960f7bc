"""End-to-end GPU check: device dispatch, bf16 autocast and torch.compile on a short CFM training run.

On a machine with CUDA this script

1. resolves ``device="auto"`` and checks that it picks CUDA and that the model, its output and
   its gradients live there;
2. checks bf16 autocast: the U-Net's convolutions run in bfloat16 while its output keeps the
   input's float32, and the bf16 prediction stays close to the fp32 one;
3. checks ``torch.compile`` (through :func:`flowkit.device.maybe_compile`, on by default on CUDA):
   the compiled model agrees with the eager one;
4. trains a class-conditional digits U-Net with the ``cfm`` objective for a few hundred steps
   in each of three settings (eager fp32, eager bf16, compiled bf16), checking that the loss
   goes down, and prints the throughput (training samples/s) of each, then a guided prediction.

Without CUDA it says so and exits 0. Exit status 1 means a check failed.

Run:  python benchmarks/gpu_check.py [--steps 300] [--batch 256]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from flowkit import registry
from flowkit.device import autocast_context, maybe_compile, module_device, resolve_device
from flowkit.models import count_parameters, guided
from flowkit.shapes import shape_checks

UNET = {"channels": 1, "image_size": 8, "base_channels": 64, "channel_mult": (1, 2), "num_classes": 10}


def check(condition: bool, message: str) -> None:
    print(("  ok    " if condition else "  FAIL  ") + message)
    if not condition:
        sys.exit(1)


def train(model, objective, x, y, *, steps: int, batch: int, precision: str, device) -> tuple[float, float, float]:
    """Train ``steps`` Adam steps; return (first loss, mean loss of the last 20 steps, samples/s)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator(device=device).manual_seed(0)
    losses = []
    warmup = 10
    with shape_checks(False):
        for step in range(steps):
            if step == warmup:
                torch.cuda.synchronize()
                start = time.perf_counter()
            index = torch.randint(0, len(x), (batch,), device=device, generator=generator)
            with autocast_context(device, precision):
                loss = objective.loss(model=model, x1=x[index], y=y[index], generator=generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
    torch.cuda.synchronize()
    throughput = (steps - warmup) * batch / (time.perf_counter() - start)
    values = torch.stack(losses).float().cpu()
    return values[:5].mean().item(), values[-20:].mean().item(), throughput


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("CUDA is not available on this machine: nothing to check (exit 0).")
        return 0

    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}")
    print("1. device dispatch")
    device = resolve_device("auto")
    check(device.type == "cuda", f"resolve_device('auto') -> {device}")
    torch.manual_seed(0)
    model = registry.create("model", "unet", **UNET).to(device)
    check(module_device(model).type == "cuda", f"U-Net ({count_parameters(model):,} parameters) on {module_device(model)}")
    digits = registry.create("dataset", "digits")
    train_split = digits.split("train")
    x = train_split.x.reshape(-1, *digits.event_shape).to(device)
    y = train_split.y.to(device)
    t = torch.rand(64, device=device)
    model.eval()
    with torch.no_grad():
        reference = model(t, x[:64], y[:64])
    check(reference.device.type == "cuda" and reference.dtype == torch.float32, "output on CUDA in float32")

    print("2. bf16 autocast")
    conv_dtypes = []
    hook = model.input_conv.register_forward_hook(lambda m, i, out: conv_dtypes.append(out.dtype))
    with torch.no_grad(), autocast_context(device, "bf16"):
        low = model(t, x[:64], y[:64])
    hook.remove()
    check(conv_dtypes == [torch.bfloat16], "convolutions run in bfloat16")
    check(low.dtype == torch.float32, "output keeps the input's float32")
    error = ((low - reference).norm() / reference.norm()).item()
    check(error < 0.05, f"bf16 relative error {error:.2e} < 5e-2")

    print("3. torch.compile")
    compiled = maybe_compile(model)  # "auto": on, because the model is on CUDA
    check(compiled is not model, "maybe_compile(model) compiles on CUDA by default")
    start = time.perf_counter()
    with torch.no_grad():
        out = compiled(t, x[:64], y[:64])
    compile_seconds = time.perf_counter() - start
    error = ((out - reference).norm() / reference.norm()).item()
    check(error < 1e-3, f"compiled matches eager (relative difference {error:.2e}); first call {compile_seconds:.1f} s")

    print(f"4. CFM training, {args.steps} steps of batch {args.batch} on digits (class-conditional U-Net)")
    objective = registry.create("objective", "cfm")
    results = {}
    for label, compile_it, precision in (("eager fp32", False, "fp32"), ("eager bf16", False, "bf16"),
                                         ("compiled bf16", True, "bf16")):
        torch.manual_seed(0)
        net = registry.create("model", "unet", **UNET).to(device).train()
        runner = maybe_compile(net, enabled=compile_it)
        first, last, throughput = train(runner, objective, x, y, steps=args.steps, batch=args.batch,
                                        precision=precision, device=device)
        results[label] = throughput
        check(last < 0.7 * first, f"{label:<14} loss {first:.3f} -> {last:.3f}; {throughput:,.0f} samples/s")
    print(f"   speed-up over eager fp32: bf16 x{results['eager bf16'] / results['eager fp32']:.2f}, "
          f"compiled bf16 x{results['compiled bf16'] / results['eager fp32']:.2f}")
    net.eval()
    with torch.no_grad():
        v = guided(net, 2.0)(t, x[:64], y[:64])
    check(v.shape == x[:64].shape and torch.isfinite(v).all().item(), "guided(model, 2.0) runs on CUDA")
    print("all GPU checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
