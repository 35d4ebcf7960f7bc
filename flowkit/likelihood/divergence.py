r"""The divergence of a vector field from vector-Jacobian products with probe vectors.

With $J(x) = \partial v / \partial x$ the per-sample Jacobian of $v(t, \cdot)$ and probes $p_1, \dots, p_K$ (each
shaped like $x$):

$$
\operatorname{div} v(t, x) \approx \sum_k p_k^\top J(x)\, p_k
$$

- exact: the $D$ standard basis vectors $p_k = e_k$ give $\sum_k J_{kk} = \operatorname{tr} J$;
- Hutchinson (1989): $p_k = \varepsilon_k / \sqrt{K}$ with $\mathbb{E}[\varepsilon \varepsilon^\top] = I$ (Rademacher
  $\pm 1$ or standard Gaussian entries) gives an unbiased estimate, the mean of $\varepsilon_k^\top J \varepsilon_k$.
  With $S = (J + J^\top) / 2$ its variance is $2 \sum_{i \neq j} S_{ij}^2 / K$ for Rademacher and
  $2 \lVert S \rVert_F^2 / K$ for Gaussian probes.

All $K$ products $p_k^\top J$ come from one forward pass of the field and one vectorised
backward pass (``torch.func.vjp`` under ``torch.func.vmap``), in chunks of ``chunk_size`` probes
on CPU (:func:`default_chunk_size`); there is no Python loop over dimensions. Because ``torch.func`` transforms
ignore an outer ``torch.no_grad()``, the divergence is available in evaluation code, and the
result stays differentiable (to any order) with respect to parameters and inputs when gradients
are enabled.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from flowkit.exceptions import ShapeError
from flowkit.validation import require_choice

__all__ = ["basis_probes", "default_chunk_size", "hutchinson_probes", "velocity_and_divergence"]

PROBE_DISTRIBUTIONS = ("rademacher", "gaussian")
CPU_ROWS_PER_PASS = 8192


def basis_probes(like: Tensor) -> Tensor:
    r"""The $D$ standard basis vectors for a batch shaped like ``like`` (``[B, *dims]``).

    Returns ``[D, B, *dims]`` as an expanded view of a $D \times D$ identity (no $D^2 B$ memory).
    """
    batch, dims = like.shape[0], like.shape[1:]
    num = int(torch.Size(dims).numel())
    eye = torch.eye(num, dtype=like.dtype, device=like.device)
    return eye.reshape(num, 1, *dims).expand(num, batch, *dims)


def hutchinson_probes(like: Tensor, num: int, distribution: str, generator: torch.Generator | None = None) -> Tensor:
    r"""``num`` random probes per sample, ``[num, B, *dims]``, scaled by $1 / \sqrt{\texttt{num}}$.

    Rademacher entries are $\pm 1$ with equal probability; Gaussian entries are $\mathcal{N}(0, 1)$.
    They are drawn on ``generator``'s device (``like``'s device without one) and moved to
    ``like``'s device and dtype.
    """
    shape = (num, *like.shape)
    device = generator.device if generator is not None else like.device
    if require_choice("probe_distribution", distribution, PROBE_DISTRIBUTIONS) == "rademacher":
        draws = torch.randint(0, 2, shape, generator=generator, device=device).mul_(2).sub_(1)
    else:
        draws = torch.randn(shape, generator=generator, device=device, dtype=like.dtype)
    return draws.to(device=like.device, dtype=like.dtype).div_(num**0.5)


def default_chunk_size(num_probes: int, batch: int, device: torch.device) -> int | None:
    """Probes per vectorised backward pass when the caller does not choose (``None``: all).

    On accelerators all probes go in one pass. On CPU, passes of at most ``8192 / batch`` probes
    keep the ``probes x batch x width`` intermediates cache-sized: measured with
    ``benchmarks/likelihood.py`` (d=64, 1,000 points, width 256), one pass over all 64 probes was
    1.6x slower than passes of 8, which run at the speed of a per-dimension loop.
    """
    if device.type != "cpu" or num_probes * batch <= CPU_ROWS_PER_PASS:
        return None
    return max(1, CPU_ROWS_PER_PASS // batch)


def velocity_and_divergence(
    field: Callable[[Tensor, Tensor], Tensor],
    t: Tensor,
    x: Tensor,
    probes: Tensor,
    *,
    chunk_size: int | None = None,
) -> tuple[Tensor, Tensor]:
    r"""$\bigl(v(t, x), \sum_k p_k^\top J(x)\, p_k\bigr)$ for ``x`` ``[B, *dims]`` and ``probes`` ``[K, B, *dims]``.

    Returns the velocity (shaped like ``x``) and the divergence estimate ``[B]``. ``chunk_size``
    is the number of probes per vectorised backward pass (``None``: :func:`default_chunk_size`).
    """
    # torch.func.vjp returns (output, pullback) without has_aux; its stub types the result as 2- or 3-tuple
    velocity, pullback = torch.func.vjp(lambda y: field(t, y), x)  # type: ignore[misc]
    if not isinstance(velocity, Tensor) or velocity.shape != x.shape:
        got = tuple(velocity.shape) if isinstance(velocity, Tensor) else type(velocity).__name__
        raise ShapeError(
            f"the vector field returned {got} for x of shape {tuple(x.shape)}; it must return dx/dt shaped like x"
        )

    def quadratic_form(probe: Tensor) -> Tensor:  # p^T J p per sample, [B]
        (row,) = pullback(probe)
        return (row * probe).reshape(probe.shape[0], -1).sum(1)

    if chunk_size is None:
        chunk_size = default_chunk_size(probes.shape[0], x.shape[0], x.device)
    divergence = torch.func.vmap(quadratic_form, chunk_size=chunk_size)(probes).sum(0)
    return velocity, divergence
