"""Exact minibatch OT: flowkit's ``ot`` coupling against POT's ``ot.emd`` and SciPy, side by side.

For each batch size ``n`` and two data sets it draws ``x0 ~ N(0, I)`` and a data batch ``x1``:

- ``checkerboard``: flowkit's 2-D checkerboard (dimension 2);
- ``digits``: flowkit's 8x8 digits, drawn with replacement and dequantised as in training
  (dimension 64).

and times, in alternating rounds in one process, each method from the batch tensors to the
permutation (cost matrix ``C_ij = ||x0_i - x1_j||^2`` included):

- ``flowkit``: ``registry.create("coupling", "ot").assignment(x0, x1)`` (default solver,
  ``"multiscale"``: the dense simplex up to 1024 points, sparse column generation above);
- ``pot-torchcfm``: ``ot.emd(a, b, C)`` with uniform ``a = b = 1/n`` as torchcfm's exact OT calls
  it (POT's default iteration cap ``numItermax = 100000``; torchcfm then samples pairs from the
  plan, which is not timed here);
- ``pot-exact``: the same with an iteration cap high enough to reach the optimum (flowkit's
  ``solver="network_simplex"``);
- ``scipy``: ``scipy.optimize.linear_sum_assignment`` on the float64 ``C`` (flowkit's previous
  solver, still available as ``solver="shortest_augmenting_path"``).

It prints the median time per solve of each method, the ratios ``method / flowkit`` (above 1:
flowkit is faster), and the gap of each method's total cost ``sum_j C_pi(j) j`` over the best
one found (0 for an exact solver, up to float rounding; POT's plan is read as a permutation by
its largest entry per row). It also prints how long ``HostAssignmentPrefetcher.submit`` keeps
the calling thread (the part of the solve a trainer does not overlap).

``--overlap N`` adds a training-loop check at batch ``N`` on the checkerboard: a CFM step of an
MLP (width 512, depth 4, AdamW) alone, the OT solve alone, then the two in sequence (``pair`` in
the step) and overlapped (the next batch submitted to :class:`HostAssignmentPrefetcher` before
the current step). Overlapped time per step should approach ``max(step, solve)`` rather than
their sum (on a CPU device the step and the solver share the cores).

Run:  python benchmarks/exact_ot.py [--sizes 256,1024,2048,4096] [--rounds 3]
      [--data checkerboard,digits] [--scipy-max-n 2048] [--threads N] [--device cpu]
      [--overlap 1024 --overlap-steps 10]
(``--device cuda``: the batches and the cost matrix on the GPU, solves on the host; the
``submit ms`` column then shows that the caller is not held for the solve.)
(SciPy is slow at large ``n``: it is skipped above ``--scipy-max-n``. Run on an idle machine.)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import ot
import torch
from scipy.optimize import linear_sum_assignment

from flowkit import registry
from flowkit.couplings import HostAssignmentPrefetcher
from flowkit.couplings.cost import squared_distances
from flowkit.data import dequantize
from flowkit.device import resolve_device

EXACT_ITERATIONS = 2**31 - 1
"""An iteration cap POT never reaches before the optimum at these sizes."""


def draw(data: str, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``x0 ~ N(0, I)`` and ``n`` points of ``data`` as ``[n, dim]`` float32 tensors."""
    if data == "checkerboard":
        seed = int(torch.randint(0, 2**31 - 1, (), generator=generator))
        x1 = registry.create("dataset", "checkerboard", n_train=n, n_test=1, seed=seed).split("train").x
    else:
        dataset = registry.create("dataset", "digits")
        images = dataset.split("train").x
        x1 = dequantize(images[torch.randint(0, len(images), (n,), generator=generator)], dataset.num_bins, generator)
        x1 = x1.reshape(n, -1)
    return torch.randn(x1.shape, generator=generator), x1.float()


def permutation_of_plan(plan: np.ndarray) -> np.ndarray:
    """``perm[j]``: the row of ``plan``'s largest entry in column ``j`` read row-wise (a permutation for an exact plan)."""
    perm = np.empty(plan.shape[0], dtype=np.int64)
    perm[plan.argmax(axis=1)] = np.arange(plan.shape[0])
    return perm


def methods(x0: torch.Tensor, x1: torch.Tensor, with_scipy: bool) -> dict[str, Callable[[], np.ndarray]]:
    """Each method: a call from the batch tensors to the permutation ``perm`` (``x0[perm[j]]`` pairs with ``x1[j]``)."""
    coupling = registry.create("coupling", "ot")
    n = x0.shape[0]

    def host_cost() -> np.ndarray:  # computed on the batch's device, then to the host (as torchcfm does)
        return squared_distances(x0, x1).to(device="cpu", dtype=torch.float64).numpy()

    def pot(iterations: int) -> Callable[[], np.ndarray]:
        return lambda: permutation_of_plan(ot.emd(ot.unif(n), ot.unif(n), host_cost(), numItermax=iterations))

    def scipy() -> np.ndarray:
        rows, cols = linear_sum_assignment(host_cost())
        perm = np.empty(n, dtype=np.int64)
        perm[cols] = rows
        return perm

    runs = {
        "flowkit": lambda: coupling.assignment(x0, x1).cpu().numpy(),
        "pot-torchcfm": pot(100_000),
        "pot-exact": pot(EXACT_ITERATIONS),
    }
    if with_scipy:
        runs["scipy"] = scipy
    return runs


def submit_ms(x0: torch.Tensor, x1: torch.Tensor) -> float:
    """Milliseconds the calling thread spends in ``HostAssignmentPrefetcher.submit`` (the solve runs on its worker)."""
    with HostAssignmentPrefetcher(registry.create("coupling", "ot")) as prefetcher:
        start = time.perf_counter()
        future = prefetcher.submit(x0, x1)
        elapsed = time.perf_counter() - start
        future.result()
    return 1e3 * elapsed


def measure(data: str, n: int, rounds: int, scipy_max_n: int, device: torch.device, generator: torch.Generator) -> dict:
    x0, x1 = (x.to(device) for x in draw(data, n, generator))
    runs = methods(x0, x1, with_scipy=n <= scipy_max_n)
    times: dict[str, list[float]] = {name: [] for name in runs}
    perms = {name: run() for name, run in runs.items()}  # warm-up (first-call costs), untimed
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            perms[name] = run()
            times[name].append(time.perf_counter() - start)
    cost = squared_distances(x0.double(), x1.double()).cpu().numpy()
    totals = {name: float(cost[perm, np.arange(n)].sum()) for name, perm in perms.items()}
    best = min(totals.values())
    return {
        "ms": {name: 1e3 * statistics.median(values) for name, values in times.items()},
        "gap": {name: (total - best) / best for name, total in totals.items()},
        "permutation": {name: bool(np.array_equal(np.sort(perm), np.arange(n))) for name, perm in perms.items()},
        "submit_ms": submit_ms(x0, x1),
        "dim": x0.shape[1],
    }


def overlap(n: int, steps: int, device: torch.device, generator: torch.Generator) -> dict[str, float]:
    """Milliseconds per training step: step alone, solve alone, in sequence, overlapped by the prefetcher."""
    coupling = registry.create("coupling", "ot")
    model = registry.create("model", "mlp", dim=2, width=512, depth=4).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = [tuple(x.to(device) for x in draw("checkerboard", n, generator)) for _ in range(steps + 1)]

    def train_step(x0: torch.Tensor, x1: torch.Tensor) -> None:
        t = torch.rand(n, device=device)
        x_t = t[:, None] * x1 + (1 - t[:, None]) * x0
        loss = (model(t, x_t) - (x1 - x0)).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def timed(loop: Callable[[], None]) -> float:
        loop()  # warm-up
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        loop()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return 1e3 * (time.perf_counter() - start) / steps

    def steps_only() -> None:
        for x0, x1 in batches[:steps]:
            train_step(x0, x1)

    def solves_only() -> None:
        for x0, x1 in batches[:steps]:
            coupling.assignment(x0, x1)

    def in_sequence() -> None:
        for x0, x1 in batches[:steps]:
            train_step(*coupling.pair(x0, x1))

    def overlapped() -> None:
        with HostAssignmentPrefetcher(coupling) as prefetcher:
            pending = prefetcher.submit(*batches[0])
            for (x0, x1), following in zip(batches[:steps], batches[1:]):
                pending_next = prefetcher.submit(*following)
                perm = pending.result()
                train_step(x0[perm.to(device, non_blocking=True)], x1)
                pending = pending_next
            pending.result()

    return {
        name: timed(loop)
        for name, loop in (
            ("step", steps_only),
            ("solve", solves_only),
            ("sequence", in_sequence),
            ("overlapped", overlapped),
        )
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,1024,2048,4096", help="comma-separated batch sizes")
    parser.add_argument("--data", default="checkerboard,digits", help="comma-separated: checkerboard, digits")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per method (median reported)")
    parser.add_argument("--scipy-max-n", type=int, default=2048, help="largest n at which SciPy is timed")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="where the batches and the cost matrix live (auto, cuda, ...)")
    parser.add_argument("--overlap", type=int, default=None, help="also time a training loop at this batch size")
    parser.add_argument("--overlap-steps", type=int, default=10, help="training steps per overlap measurement")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    sizes = [int(size) for size in args.sizes.split(",")]
    datasets = args.data.split(",")
    generator = torch.Generator().manual_seed(args.seed)
    device = resolve_device(args.device)
    print(
        f"device {device}; torch threads: {torch.get_num_threads()}; POT {ot.__version__} (single-threaded network simplex); rounds {args.rounds}"
    )
    names = ["flowkit", "pot-torchcfm", "pot-exact", "scipy"]
    header = f"{'data':>12} {'dim':>3} {'n':>5} | " + " ".join(f"{name + ' ms':>16}" for name in names)
    header += " | " + " ".join(f"{name + '/fk':>15}" for name in names[1:]) + " | submit ms | cost gap over best"
    print(header)
    for data in datasets:
        for n in sizes:
            result = measure(data, n, args.rounds, args.scipy_max_n, device, generator)
            ms, gap = result["ms"], result["gap"]
            cells = " ".join(f"{ms[name]:16.1f}" if name in ms else f"{'-':>16}" for name in names)
            ratios = " ".join(f"{ms[name] / ms['flowkit']:15.2f}" if name in ms else f"{'-':>15}" for name in names[1:])
            gaps = ", ".join(
                f"{name} {gap[name]:.1e}" + ("" if result["permutation"][name] else " (not a permutation)")
                for name in ms
            )
            print(
                f"{data:>12} {result['dim']:>3} {n:>5} | {cells} | {ratios} | {result['submit_ms']:9.2f} | {gaps}",
                flush=True,
            )
    if args.overlap is not None:
        ms = overlap(args.overlap, args.overlap_steps, device, generator)
        print(
            f"training loop, checkerboard, batch {args.overlap} (ms per step): step {ms['step']:.1f}, "
            f"OT solve {ms['solve']:.1f}, in sequence {ms['sequence']:.1f}, overlapped {ms['overlapped']:.1f} "
            f"(sum {ms['step'] + ms['solve']:.1f}, max {max(ms['step'], ms['solve']):.1f})"
        )


if __name__ == "__main__":
    main()
