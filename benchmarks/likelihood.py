"""Exact log-likelihood: flowkit's vectorised divergence against a per-dimension autograd loop.

Both compute ``log p1(x) = log p0(x0) - int_0^1 tr(dv/dx) dt`` for the same points, with the
same MLP field, the same solver (``rk4``, fixed steps, so both make the same field evaluations)
and the same prior ``N(0, I)``; only the divergence differs:

- ``flowkit``: :func:`flowkit.likelihood.log_prob` with ``divergence="exact"``: one forward pass
  and vectorised backward passes over the ``D`` basis vectors (``torch.func.vjp`` + ``vmap``;
  on CPU in passes of ``8192 / points`` probes, or ``--chunk-size``);
- ``loop``: the plain baseline, one ``torch.autograd.grad`` call per dimension,
  ``div = sum_i d v_i / d x_i`` (``retain_graph=True``, no ``create_graph``: evaluation only).

Timing: the two alternate for ``--rounds`` rounds in one process; the median wall time of each
is reported with ``speedup = loop time / flowkit time`` (>= 5 is the aim at d=64, >= 1 at d=2).

Memory: the peak of the bytes held by tensors allocated during one call (an untimed run):
``torch.cuda.max_memory_allocated`` above its starting level on CUDA; on CPU, the peak of the
running sum of the allocation (+) and free (-) events that torch's CPU allocator reports to the
profiler (``profile_memory=True``). Both count tensor storage only, not Python objects or
allocator caching.

Run:  python benchmarks/likelihood.py [--points 1000] [--dims 2 64] [--width 256] [--steps 10]
                                      [--rounds 3] [--device auto] [--threads N] [--chunk-size K]
(the numbers are only meaningful on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from torch._C._profiler import _EventType

from flowkit import registry
from flowkit.likelihood import log_prob


class MLPField(torch.nn.Module):
    """``v(t, x) = MLP([x, t])``: ``depth`` hidden SiLU layers of ``width`` units."""

    def __init__(self, dim: int, width: int, depth: int = 3) -> None:
        super().__init__()
        layers: list[torch.nn.Module] = [torch.nn.Linear(dim + 1, width), torch.nn.SiLU()]
        for _ in range(depth - 1):
            layers += [torch.nn.Linear(width, width), torch.nn.SiLU()]
        layers.append(torch.nn.Linear(width, dim))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, t[:, None]], dim=1))


def standard_normal_log_prob(x0: torch.Tensor) -> torch.Tensor:
    return -0.5 * (x0**2).sum(1) - 0.5 * x0.shape[1] * math.log(2 * math.pi)


class StandardNormal:
    log_prob = staticmethod(standard_normal_log_prob)


def loop_log_prob(field: torch.nn.Module, x: torch.Tensor, solver) -> torch.Tensor:
    """The baseline: the same augmented ODE, divergence by one autograd call per dimension."""
    dim = x.shape[1]

    def augmented(t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            state = z[:, :-1].detach().requires_grad_(True)
            velocity = field(t, state)
            divergence = torch.zeros_like(z[:, -1])
            for i in range(dim):
                (row,) = torch.autograd.grad(velocity[:, i].sum(), state, retain_graph=True)
                divergence = divergence + row[:, i]
        return torch.cat([velocity.detach(), divergence[:, None]], dim=1)

    z = torch.cat([x, x.new_zeros(x.shape[0], 1)], dim=1)
    end = solver.solve(augmented, z, t0=1.0, t1=0.0).x
    return standard_normal_log_prob(end[:, :-1]) + end[:, -1]


CHUNK_SIZE: int | None = None  # probes per vectorised pass; None: flowkit's default


def flowkit_log_prob(field: torch.nn.Module, x: torch.Tensor, solver) -> torch.Tensor:
    return log_prob(field, x, prior=StandardNormal(), solver=solver, divergence="exact", chunk_size=CHUNK_SIZE)


VARIANTS = {"flowkit": flowkit_log_prob, "loop": loop_log_prob}


def setup(args: argparse.Namespace, dim: int, device: torch.device):
    torch.manual_seed(0)
    field = MLPField(dim, args.width).to(device)
    x = torch.randn(args.points, dim, device=device)
    solver = registry.create("solver", "rk4", steps=args.steps)
    return field, x, solver


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_variants(args: argparse.Namespace, dim: int, device: torch.device) -> dict[str, object]:
    field, x, solver = setup(args, dim, device)
    results = {name: fn(field, x, solver) for name, fn in VARIANTS.items()}  # warm-up and agreement
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, fn in VARIANTS.items():
            synchronize(device)
            start = time.perf_counter()
            fn(field, x, solver)
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {
        "median_s": {name: statistics.median(values) for name, values in times.items()},
        "max_abs_difference": float((results["flowkit"] - results["loop"]).abs().max()),
    }


def peak_memory(args: argparse.Namespace, dim: int, device: torch.device, variant: str) -> float:
    """Peak MiB of tensors allocated during one call of ``variant`` (see the module docstring)."""
    field, x, solver = setup(args, dim, device)
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        VARIANTS[variant](field, x, solver)
        synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        VARIANTS[variant](field, x, solver)
    return peak_of_allocation_events(prof) / 2**20


def peak_of_allocation_events(prof: torch.profiler.profile) -> int:
    """The peak of the running sum of the CPU allocator's allocation (+) and free (-) events."""
    allocations, stack = [], list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.tag == _EventType.Allocation:
            allocations.append((node.start_time_ns, node.extra_fields.alloc_size))
    live = peak = 0
    for _, size in sorted(allocations):
        live += size
        peak = max(peak, live)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 64])
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10, help="rk4 steps (4 field evaluations each)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda, ...")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads on CPU")
    parser.add_argument("--chunk-size", type=int, default=None, help="probes per vectorised pass (default: flowkit's)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    global CHUNK_SIZE
    CHUNK_SIZE = args.chunk_size
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else "cpu"
        if args.device == "auto"
        else args.device
    )
    print(
        f"exact log_prob of {args.points} points, MLP field (3 x {args.width} SiLU), rk4 x {args.steps} steps "
        f"({4 * args.steps} field evaluations), device {device}, {torch.get_num_threads()} CPU threads"
    )
    memory_kind = "peak tensor memory during the call"
    print(
        f"{'d':>4} {'flowkit s':>10} {'loop s':>10} {'speedup':>8} {'flowkit MiB':>12} {'loop MiB':>10}  "
        f"(memory: {memory_kind}; max |difference| in nats)"
    )
    for dim in args.dims:
        timing = time_variants(args, dim, device)
        memory = {name: peak_memory(args, dim, device, name) for name in VARIANTS}
        fast, slow = timing["median_s"]["flowkit"], timing["median_s"]["loop"]
        print(
            f"{dim:>4} {fast:>10.3f} {slow:>10.3f} {slow / fast:>7.2f}x {memory['flowkit']:>12.1f} "
            f"{memory['loop']:>10.1f}  {timing['max_abs_difference']:.1e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
