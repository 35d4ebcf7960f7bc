r"""Solve the next batch's exact-OT assignment on a worker thread while the device trains.

:class:`HostAssignmentPrefetcher` wraps a coupling whose assignment runs on the host
(``runs_on_host = True``, e.g. :class:`~flowkit.couplings.ExactOTCoupling`). ``submit(x0, x1)``
queues the cost matrix $C_{ij} = \lVert x_0^{(i)} - x_1^{(j)} \rVert^2$ on the batch's device, starts its copy to
pinned host memory (``non_blocking`` on CUDA) and hands the solve to one worker thread; it
returns a :class:`concurrent.futures.Future` at once. The future's result is the optimal
permutation $\pi$ (``[n]`` ``int64`` on the host, pinned when the batch is on CUDA), the same
as ``coupling.assignment(x0, x1)``: ``(x0[pi], x1)`` is the OT pairing. The solver releases the
GIL, so the training thread keeps launching device work meanwhile.

A trainer submits batch $k + 1$ before training on batch $k$::

    with HostAssignmentPrefetcher(coupling) as prefetcher:
        x0, x1 = draw()
        pending = prefetcher.submit(x0, x1)
        for step in range(steps):
            x0_next, x1_next = draw()
            pending_next = prefetcher.submit(x0_next, x1_next)  # solved while this step trains
            perm = pending.result()  # waits only when the host is slower than a step
            train_step(x0[perm.to(x0.device, non_blocking=True)], x1)
            x0, x1, pending = x0_next, x1_next, pending_next

Submitted tensors must not be modified in place until their future is done. Solves run one
at a time in submission order; an error in a solve (non-finite input, ...) is raised by
``future.result()``. ``close()`` (or leaving the ``with`` block) waits for queued solves and
stops the thread.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol, TypeGuard

from torch import Tensor

from flowkit.core.coupling import Coupling
from flowkit.couplings.exact_ot import StagedCost
from flowkit.exceptions import InvalidParameterError, SolverError
from flowkit.shapes import Batch, checked

__all__ = ["HostAssignmentPrefetcher"]


class _HostSolvedCoupling(Protocol):
    """What the prefetcher calls on a coupling solved on the host (:class:`~flowkit.couplings.ExactOTCoupling`)."""

    def stage_cost(self, x0: Tensor, x1: Tensor) -> StagedCost: ...

    def solve(self, cost: Tensor) -> Tensor: ...


def _is_host_solved(coupling: Coupling) -> TypeGuard[_HostSolvedCoupling]:
    return bool(getattr(coupling, "runs_on_host", False)) and all(
        callable(getattr(coupling, name, None)) for name in ("stage_cost", "solve")
    )


def _solve(coupling: _HostSolvedCoupling, staged: StagedCost, pin: bool) -> Tensor:
    perm = coupling.solve(staged.wait())
    return perm.pin_memory() if pin else perm


class HostAssignmentPrefetcher:
    """One worker thread that solves a host-side coupling's assignments ahead of their use.

    Parameters:
        coupling: a coupling with ``runs_on_host = True`` that provides ``stage_cost(x0, x1)``
            and ``solve(cost)`` (as :class:`~flowkit.couplings.ExactOTCoupling` does).
    """

    def __init__(self, coupling: Coupling):
        if not _is_host_solved(coupling):
            raise InvalidParameterError(
                f"HostAssignmentPrefetcher needs a coupling solved on the host (runs_on_host = True, with "
                f"stage_cost and solve), such as registry.create('coupling', 'ot'); got {coupling!r}"
            )
        self.coupling = coupling
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowkit-ot")
        self._closed = False

    @checked
    def submit(self, x0: Batch, x1: Batch) -> Future[Tensor]:
        """Queue the assignment of ``(x0, x1)``; the future yields ``pi`` with ``(x0[pi], x1)`` the OT pairs."""
        if self._closed:
            raise SolverError("HostAssignmentPrefetcher.submit: the prefetcher is closed; create a new one")
        staged = self.coupling.stage_cost(x0, x1)
        return self._executor.submit(_solve, self.coupling, staged, x0.device.type == "cuda")

    def close(self) -> None:
        """Wait for the queued solves, then stop the worker thread (further ``submit`` calls fail)."""
        self._closed = True
        self._executor.shutdown(wait=True)

    def __enter__(self) -> HostAssignmentPrefetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
