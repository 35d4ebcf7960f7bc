r"""Log-likelihoods of flows by the instantaneous change of variables.

For $dx/dt = v(t, x)$ carrying $p_0$ at $t = 0$ to $p_1$ at $t = 1$ (Chen et al., 2018):

$$
\frac{d}{dt} \log p_t(x_t) = -\operatorname{div} v(t, x_t) \quad\Longrightarrow\quad
\log p_1(x_1) = \log p_0(x_0) - \int_0^1 \operatorname{div} v(t, x_t)\, dt
$$

The engine integrates the augmented state $z = [\operatorname{flatten}(x), l]$ with
$dz/dt = [v(t, x), \operatorname{div} v(t, x)]$, a ``[batch, D + 1]`` tensor, so any registered solver (built-in or
third-party) integrates it unchanged. With $\Delta l = l(t_{\mathrm{end}}) - l(t_{\mathrm{start}})$:

- :func:`log_prob` integrates from $t = 1$ (the data ``x``) back to $t = 0$:
  $\log p_1(x) = \log p_0(x(0)) + \Delta l$;
- :func:`sample_with_log_prob` integrates from $t = 0$ (prior draws $x_0$) to $t = 1$ and returns
  $x_1$ with $\log p_1(x_1) = \log p_0(x_0) - \Delta l$ in the same single solve.

The divergence is exact (trace of the Jacobian) or Hutchinson's estimate with ``probes`` probes
drawn once per solve (:mod:`flowkit.likelihood.divergence`). Log-densities are in nats.
"""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor

from flowkit import registry
from flowkit.core.solver import ODESolver, VectorField
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError
from flowkit.likelihood.divergence import (
    PROBE_DISTRIBUTIONS,
    basis_probes,
    hutchinson_probes,
    velocity_and_divergence,
)
from flowkit.shapes import Batch, PerSample, checked
from flowkit.validation import require_choice, require_int

__all__ = ["log_prob", "sample_with_log_prob"]

DIVERGENCES = ("exact", "hutchinson")


class AugmentedField:
    r"""The augmented field $dz/dt = [\operatorname{flatten}(v(t, x)), \operatorname{div} v(t, x)]$.

    The state $z = [\operatorname{flatten}(x), l]$ has shape ``[B, D + 1]``."""

    def __init__(self, field: VectorField, event_shape: torch.Size, probes: Tensor, chunk_size: int | None) -> None:
        self.field = field
        self.event_shape = event_shape
        self.probes = probes
        self.chunk_size = chunk_size

    def __call__(self, t: Tensor, z: Tensor) -> Tensor:
        batch = z.shape[0]
        x = z[:, :-1].reshape(batch, *self.event_shape)
        velocity, divergence = velocity_and_divergence(self.field, t, x, self.probes, chunk_size=self.chunk_size)
        return torch.cat([velocity.reshape(batch, -1), divergence.unsqueeze(1)], dim=1)


def prior_log_prob(prior: Any, x0: Tensor) -> Tensor:
    r"""$\log p_0(x_0)$ per sample, ``[batch]``, from anything with a ``log_prob`` method.

    Accepted results: ``[batch]`` (a flowkit :class:`~flowkit.Prior`, a path, a
    ``torch.distributions`` object whose event covers all data dimensions, e.g.
    ``MultivariateNormal`` on ``[batch, D]`` or ``Independent(Normal(...), len(dims))``), or one
    value per element shaped like ``x0`` (e.g. ``torch.distributions.Normal(0., 1.)``), which is
    read as independent dimensions and summed.
    """
    value = prior.log_prob(x0)
    if not isinstance(value, Tensor):
        raise ShapeError(f"prior.log_prob returned {type(value).__name__}; expected a tensor of shape [batch]")
    if value.shape == x0.shape[:1]:
        return value
    if value.shape == x0.shape:
        return value.reshape(x0.shape[0], -1).sum(1)
    raise ShapeError(
        f"prior.log_prob returned shape {tuple(value.shape)} for x0 of shape {tuple(x0.shape)}; accepted: "
        f"[batch] = {tuple(x0.shape[:1])} (log-density of each sample) or the shape of x0 (independent "
        "dimensions, summed)"
    )


def _solver(solver: ODESolver | str) -> ODESolver:
    if isinstance(solver, str):
        return registry.create("solver", solver)
    if isinstance(solver, ODESolver):
        return solver
    raise InvalidParameterError(
        f"solver must be an ODESolver or a registered solver name ({', '.join(registry.names('solver'))}), "
        f"got {type(solver).__name__}"
    )


def _probes(
    x: Tensor,
    divergence: str,
    probes: int,
    probe_distribution: str,
    generator: torch.Generator | None,
) -> Tensor:
    require_choice("divergence", divergence, DIVERGENCES)
    require_choice("probe_distribution", probe_distribution, PROBE_DISTRIBUTIONS)
    require_int("probes", probes, minimum=1)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise InvalidParameterError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if divergence == "exact":
        if probes != 1:
            raise InvalidParameterError(
                f"probes={probes} applies to divergence='hutchinson' only; the exact divergence uses none"
            )
        return basis_probes(x)
    return hutchinson_probes(x, probes, probe_distribution, generator)


@attrs.frozen
class _Options:
    """The options :func:`log_prob` and :func:`sample_with_log_prob` share, in their signature's order."""

    prior: Any
    solver: ODESolver | str
    divergence: str
    probes: int
    probe_distribution: str
    generator: torch.Generator | None
    enable_grad: bool
    chunk_size: int | None


def _flow_log_prob(field: VectorField, start: Tensor, *, forward: bool, options: _Options) -> tuple[Tensor, Tensor]:
    r"""Solve the augmented ODE from ``start`` to the other end; return $(\mathrm{end}, \log p_1(x_1))$.

    ``forward``: ``start`` is $x_0$ and the solve runs from $t = 0$ to $t = 1$
    ($\log p_1 = \log p_0(x_0) - \Delta l$); otherwise ``start`` is $x_1$ and it runs back from $t = 1$ to
    $t = 0$ ($\log p_1 = \log p_0(\mathrm{end}) + \Delta l$).
    """
    if not callable(field):
        raise InvalidParameterError(f"field must be callable as field(t, x), got {type(field).__name__}")
    prior, chunk_size = options.prior, options.chunk_size
    if not callable(getattr(prior, "log_prob", None)):
        raise InvalidParameterError(
            f"prior must have a log_prob(x0) method (a flowkit Prior, a path, or a torch.distributions object), "
            f"got {type(prior).__name__}"
        )
    require_int("chunk_size", chunk_size, minimum=1, optional=True)
    ode_solver = _solver(options.solver)
    probe_vectors = _probes(start, options.divergence, options.probes, options.probe_distribution, options.generator)
    if not bool(torch.isfinite(start).all()):
        raise NonFiniteError("the input points contain NaN or infinite values")
    batch = start.shape[0]
    augmented = AugmentedField(field, start.shape[1:], probe_vectors, chunk_size)
    z = torch.cat([start.reshape(batch, -1), start.new_zeros(batch, 1)], dim=1)
    t0, t1 = (0.0, 1.0) if forward else (1.0, 0.0)
    solution = ode_solver.solve(augmented, z, t0=t0, t1=t1, enable_grad=options.enable_grad)
    end, delta = solution.x[:, :-1].reshape(start.shape), solution.x[:, -1]
    with torch.set_grad_enabled(options.enable_grad):
        if forward:
            return end, prior_log_prob(prior, start) - delta
        return end, prior_log_prob(prior, end) + delta


@checked
def log_prob(
    field: VectorField,
    x: Batch,
    *,
    prior: Any,
    solver: ODESolver | str,
    divergence: str = "exact",
    probes: int = 1,
    probe_distribution: str = "rademacher",
    generator: torch.Generator | None = None,
    enable_grad: bool = False,
    chunk_size: int | None = None,
) -> PerSample:
    r"""The log-density in nats of each sample of ``x`` (``[batch, *dims]``) under the flow of ``field``.

    $\log p_1(x) = \log p_0(x_0) - \int_0^1 \operatorname{div} v(t, x_t)\, dt$, integrating $x_t$ and the divergence
    from $t = 1$ ($x_1 = x$) back to $t = 0$ in one solve of the augmented state.

    - ``field``: ``field(t, x)`` with ``t`` of shape ``[batch]`` (a
      :class:`~flowkit.VectorFieldModel` or any function); a conditional model can be passed as
      ``lambda t, x: model(t, x, y)``. Samples must not interact (no batch statistics).
    - ``prior``: anything with ``log_prob(x0)`` (see :func:`prior_log_prob`): a flowkit
      :class:`~flowkit.Prior`, a path (its prior), or a ``torch.distributions`` object.
    - ``solver``: an :class:`~flowkit.ODESolver` or a registered solver name.
    - ``divergence``: ``"exact"`` (trace of the Jacobian, ``D`` vector-Jacobian products in one
      vectorised pass) or ``"hutchinson"`` (``probes`` random ``probe_distribution`` probes,
      ``"rademacher"`` or ``"gaussian"``, drawn once per call from ``generator``).
    - ``enable_grad``: keep the graph so the result can be differentiated (maximum-likelihood
      training); otherwise the result is detached. Works under ``torch.no_grad()``.
    - ``chunk_size``: probes per vectorised backward pass; ``None`` picks one
      (:func:`~flowkit.likelihood.divergence.default_chunk_size`: all at once on accelerators,
      cache-sized passes on CPU). Smaller passes lower the peak memory of the exact divergence,
      which grows as $\texttt{chunk\_size} \times \mathrm{batch} \times \mathrm{activations}$.
    """
    options = _Options(prior, solver, divergence, probes, probe_distribution, generator, enable_grad, chunk_size)
    return _flow_log_prob(field, x, forward=False, options=options)[1]


@checked
def sample_with_log_prob(
    field: VectorField,
    x0: Batch,
    *,
    prior: Any,
    solver: ODESolver | str,
    divergence: str = "exact",
    probes: int = 1,
    probe_distribution: str = "rademacher",
    generator: torch.Generator | None = None,
    enable_grad: bool = False,
    chunk_size: int | None = None,
) -> tuple[Batch, PerSample]:
    r"""Push prior draws ``x0`` to $x_1$ and return $(x_1, \log p_1(x_1))$ from one forward solve.

    $\log p_1(x_1) = \log p_0(x_0) - \int_0^1 \operatorname{div} v(t, x_t)\, dt$, integrating from $t = 0$ to $t = 1$.
    The arguments are those of :func:`log_prob`; ``x0`` should be a draw from ``prior``.
    """
    options = _Options(prior, solver, divergence, probes, probe_distribution, generator, enable_grad, chunk_size)
    return _flow_log_prob(field, x0, forward=True, options=options)
