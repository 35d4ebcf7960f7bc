r"""Gaussian conditional probability paths $x_t = a(t)\, x_1 + s(t)\, \varepsilon$ and their fields.

A Gaussian path is a schedule $a(t), s(t)$ on $t \in [0, 1]$ ($t = 0$ noise, $t = 1$ data) with
$p_t(x \mid x_1) = \mathcal{N}(a(t)\, x_1, s(t)^2 I)$. The standard noise is $\varepsilon = x_0 / \sigma_0$
for a prior draw $x_0 \sim \mathcal{N}(0, \sigma_0^2 I)$ ($\sigma_0$ is ``prior_std``, $1$ except for VE).
Everything follows from the schedule (primes are $d/dt$):

* draw and target: $x_t = a\, x_1 + s\, \varepsilon$, $u_t = a' x_1 + s' \varepsilon$ ($= \frac{d}{dt} x_t$)
* conditional field: $u_t(x \mid x_1) = \frac{s'}{s} (x - a\, x_1) + a' x_1$
* marginal field of an empirical $q = \frac{1}{n} \sum_i \delta(x_1^{(i)})$:
  $u_t(x) = \sum_i w_i(x)\, u_t(x \mid x_1^{(i)})$,
  $w = \operatorname{softmax}_i\bigl(-\lVert x - a\, x_1^{(i)} \rVert^2 / (2 s^2)\bigr)$,
  i.e. the conditional field at the posterior mean $\mathbb{E}[x_1 \mid x_t = x]$
* marginal log-density: $\log p_t(x) = \operatorname{logsumexp}_i \log \mathcal{N}(x; a\, x_1^{(i)}, s^2 I) - \log n$
* conditional noise and score: $(s, \varepsilon)$ of a draw (:meth:`GaussianPath.conditional_noise`),
  $\nabla_x \log p_t(x \mid x_1) = -(x - a\, x_1) / s^2 = -\varepsilon / s$
* parametrisations, with $k = s\, a' - a\, s'$ ($= s^2 \frac{d}{dt}(a / s) > 0$ when the
  signal-to-noise ratio $a / s$ increases):

  ==========================  ========================================================
  $x_1$-prediction            $x_1 = (s\, v - s' x) / k$
  velocity from $x_1$         $v = \frac{s'}{s} (x - a\, x_1) + a' x_1$
  $\varepsilon$-prediction    $\varepsilon = (a' x - a\, v) / k$
  velocity from $\varepsilon$ $v = (a' x - k\, \varepsilon) / a$
  score                       $\mathrm{score} = -\varepsilon / s = (a\, v - a' x) / (k\, s)$
  velocity from score         $v = (a' x + k\, s\, \mathrm{score}) / a$
  ==========================  ========================================================

A new Gaussian path subclasses :class:`GaussianPath` and implements ``a`` and ``s``; the
derivatives default to autograd (:func:`time_derivative`) and may be overridden with closed
forms.

Valid inputs: ``t`` inside :attr:`GaussianPath.time_range` ($[0, 1]$ unless a path is singular
at an endpoint), finite tensors, matching batch sizes and event shapes. Methods that divide by
$s$, $a$ or $k$ raise where that quantity is zero (for example the field at arbitrary
$x$ where $s(1) = 0$) instead of returning infinities. These value checks, like the shape
checks, run while :func:`flowkit.shapes.shape_checks_enabled` is true.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable

import torch
from jaxtyping import Float
from torch import Tensor

from flowkit.core.path import PathSample, ProbabilityPath
from flowkit.exceptions import InvalidParameterError, NonFiniteError
from flowkit.paths.marginal import gaussian_mixture_posterior, log_normalizer
from flowkit.paths.priors import IsotropicGaussian, StandardNormal
from flowkit.shapes import Batch, PerSample, Time, checked, shape_checks_enabled
from flowkit.validation import require_finite, require_int, require_times

__all__ = ["Coefficient", "Data", "GaussianPath", "time_derivative"]

Data = Float[Tensor, "n *dims"]
"""An empirical data set with the event shape of the query points: ``[n, *dims]``."""

Coefficient = Tensor | float
"""A schedule value: a tensor shaped like ``t``, or a Python float where it is constant in ``t``."""


def time_derivative(fn: Callable[[Tensor], Tensor], t: Tensor) -> Tensor:
    r"""$d\, \mathrm{fn}(t) / dt$ of an elementwise function ``fn`` of ``t`` (any shape), by autograd.

    Computed as the vector-Jacobian product with a vector of ones, which for an elementwise
    ``fn`` is the elementwise derivative. Works under ``torch.no_grad`` and
    ``torch.inference_mode``, and stays differentiable when ``t`` requires grad.
    """
    with torch.inference_mode(False), torch.enable_grad():
        leaf = t if t.requires_grad else t.clone().requires_grad_(True)
        out = fn(leaf)
        if not out.requires_grad:
            return torch.zeros_like(t)
        (grad,) = torch.autograd.grad(out, leaf, grad_outputs=torch.ones_like(out), create_graph=t.requires_grad)
    return grad


def _broadcast(t: Tensor, like: Tensor) -> Tensor:
    """``[batch]`` times viewed as ``[batch, 1, ..., 1]`` to broadcast against ``like``."""
    return t.reshape(t.shape[0], *([1] * (like.dim() - 1)))


def _combine(c1: Coefficient, x1: Tensor, c2: Coefficient, x2: Tensor) -> Tensor:
    """``c1 * x1 + c2 * x2`` in as few tensor operations as the coefficient types allow."""
    if isinstance(c2, float):
        return torch.add(x1 if c1 == 1.0 else c1 * x1, x2, alpha=c2)
    if isinstance(c1, float):
        return torch.add(c2 * x2, x1, alpha=c1)
    return torch.addcmul(c1 * x1, c2, x2)


class GaussianPath(ProbabilityPath):
    r"""A conditional path $p_t(x \mid x_1) = \mathcal{N}(a(t)\, x_1, s(t)^2 I)$, prior $\mathcal{N}(0, \sigma_0^2 I)$.

    $\sigma_0$ is :attr:`prior_std`. Subclasses implement :meth:`a` and :meth:`s` (elementwise
    functions of a tensor of times); :meth:`da` and :meth:`ds` default to autograd and
    :meth:`coefficients` to calling all four. See the module docstring for every formula.
    """

    prior_std: float = 1.0
    r"""Standard deviation $\sigma_0$ of the prior $p_0$; the path noise is $\varepsilon = x_0 / \sigma_0$."""

    _time_range_note: str = ""

    # -- the schedule ------------------------------------------------------------------------
    @abstractmethod
    def a(self, t: Tensor) -> Tensor:
        """The mean scale $a(t)$ (elementwise; $a(1) = 1$ for a path that ends at the data)."""

    @abstractmethod
    def s(self, t: Tensor) -> Tensor:
        r"""The standard deviation $s(t) \ge 0$ (elementwise; $s(0) = \sigma_0$, the ``prior_std``)."""

    def da(self, t: Tensor) -> Tensor:
        """$a'(t)$; by autograd through :meth:`a` unless a subclass gives the closed form."""
        return time_derivative(self.a, t)

    def ds(self, t: Tensor) -> Tensor:
        """$s'(t)$; by autograd through :meth:`s` unless a subclass gives the closed form."""
        return time_derivative(self.s, t)

    def coefficients(self, t: Tensor) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient]:
        """$(a, s, a', s')$ at ``t`` (any shape), each a tensor shaped like ``t`` or a constant float.

        Subclasses override this to share work between the four or to return constants.
        """
        return self.a(t), self.s(t), self.da(t), self.ds(t)

    @property  # ProbabilityPath.time_range is a class-attribute default; paths may make it read-only
    def time_range(self) -> tuple[float, float]:  # type: ignore[override]
        """The closed interval of valid times (and the one objectives draw ``t`` from)."""
        return (0.0, 1.0)

    @property
    def prior(self) -> IsotropicGaussian:
        r"""$p_0 = \mathcal{N}(0, \sigma_0^2 I)$ with $\sigma_0$ = :attr:`prior_std`."""
        return StandardNormal() if self.prior_std == 1.0 else IsotropicGaussian(self.prior_std)

    # -- conditional path ------------------------------------------------------------------------
    @checked
    def sample(self, *, x0: Batch, x1: Batch, t: Time, generator: torch.Generator | None = None) -> PathSample:
        r"""$x_t = a\, x_1 + s\, \varepsilon$ and $u_t = a' x_1 + s' \varepsilon$ with $\varepsilon = x_0 / \sigma_0$.

        $u_t$ equals $u_t(x_t \mid x_1)$ and $\frac{d}{dt} x_t$ at fixed $x_0, x_1$; it is computed
        without dividing by $s$, so it stays finite where $s(t) = 0$. The path is deterministic given
        ``x0``; ``generator`` is unused.
        """
        a, s, da, ds = self._prepare("sample", t, x1, x0=x0, x1=x1)
        eps = x0 if self.prior_std == 1.0 else x0 / self.prior_std
        return PathSample(t=t, x0=x0, x1=x1, x_t=_combine(a, x1, s, eps), u_t=_combine(da, x1, ds, eps))

    def conditional_noise(self, sample: PathSample) -> tuple[Tensor, Tensor]:
        r"""$(s(t), \varepsilon)$ of a drawn sample $x_t = a\, x_1 + s\, \varepsilon$, $\varepsilon = x_0 / \sigma_0$.

        $s$ is returned as ``[batch]``, $\varepsilon$ with the shape of ``x0``.
        The conditional score is $\nabla \log p_t(x_t \mid x_1) = -\varepsilon / s$; score-matching
        objectives (``sf2m``) regress onto it in the bounded form $s \cdot \mathrm{score} + \varepsilon$.
        """
        eps = sample.x0 if self.prior_std == 1.0 else sample.x0 / self.prior_std
        return self._flat(self.s(_broadcast(sample.t, eps)), sample.t, eps), eps

    @checked
    def conditional_vector_field(self, *, x: Batch, x1: Batch, t: Time) -> Batch:
        r"""$u_t(x \mid x_1) = \frac{s'}{s} (x - a\, x_1) + a' x_1$; needs $s(t) > 0$."""
        a, s, da, ds = self._prepare("conditional_vector_field", t, x, requires=("s",), x=x, x1=x1)
        return ds / s * (x - a * x1) + da * x1

    @checked
    def conditional_log_prob(self, *, x: Batch, x1: Batch, t: Time) -> PerSample:
        r"""$\log \mathcal{N}(x; a\, x_1, s^2 I)$ summed over the event dimensions; needs $s(t) > 0$."""
        a, s, _, _ = self._prepare("conditional_log_prob", t, x, requires=("s",), x=x, x1=x1)
        sq = (x - a * x1).reshape(x.shape[0], -1).square().sum(dim=1)
        s_flat = self._flat(s, t, x)
        return -0.5 * sq / s_flat.square() + log_normalizer(x[0].numel(), s_flat)

    # -- marginal path of an empirical distribution -------------------------------------------------
    @checked
    def marginal_vector_field(self, *, x: Batch, t: Time, data: Data, chunk_size: int | None = None) -> Batch:
        r"""The exact marginal field $u_t(x) = \sum_i w_i(x)\, u_t(x \mid x_1^{(i)})$ of the data set.

        The data set is the empirical $q = \frac{1}{n} \sum_i \delta(x_1^{(i)})$ and
        $w = \operatorname{softmax}_i\bigl(-\lVert x - a\, x_1^{(i)} \rVert^2 / (2 s^2)\bigr)$; computed as
        the conditional field at the posterior mean $\mathbb{E}[x_1 \mid x]$, streaming over
        ``chunk_size`` data points at a time (see :mod:`flowkit.paths.marginal`). ``data`` is
        ``[n, *dims]`` (the points $x_1^{(i)}$); needs $s(t) > 0$.
        """
        a, s, da, ds = self._prepare("marginal_vector_field", t, x, requires=("s",), x=x, data=data)
        mean, _ = self._posterior(x, t, a, s, data, chunk_size)
        return ds / s * (x - a * mean) + da * mean

    @checked
    def marginal_log_prob(self, *, x: Batch, t: Time, data: Data, chunk_size: int | None = None) -> PerSample:
        r"""$\log p_t(x) = \operatorname{logsumexp}_i \log \mathcal{N}(x; a\, x_1^{(i)}, s^2 I) - \log n$.

        The $x_1^{(i)}$ are the $n$ rows of ``data``; needs $s(t) > 0$.
        """
        a, s, _, _ = self._prepare("marginal_log_prob", t, x, requires=("s",), x=x, data=data)
        _, log_sum = self._posterior(x, t, a, s, data, chunk_size)
        return log_sum - math.log(data.shape[0]) + log_normalizer(x[0].numel(), self._flat(s, t, x))

    # -- parametrisations ---------------------------------------------------------------------------
    @checked
    def x1_to_velocity(self, *, x1: Batch, x: Batch, t: Time) -> Batch:
        r"""Velocity from an $x_1$-prediction (denoiser): $v = \frac{s'}{s} (x - a\, x_1) + a' x_1$; needs $s > 0$."""
        return self.conditional_vector_field(x=x, x1=x1, t=t)

    @checked
    def velocity_to_x1(self, *, velocity: Batch, x: Batch, t: Time) -> Batch:
        r"""$x_1$-prediction from a velocity: $x_1 = (s\, v - s' x) / k$, $k = s\, a' - a\, s'$; needs $k \neq 0$."""
        a, s, da, ds = self._prepare("velocity_to_x1", t, x, requires=("k",), velocity=velocity, x=x)
        return (s * velocity - ds * x) / (s * da - a * ds)

    @checked
    def epsilon_to_velocity(self, *, epsilon: Batch, x: Batch, t: Time) -> Batch:
        r"""Velocity from an $\varepsilon$-prediction: $v = (a' x - k\, \varepsilon) / a$; needs $a(t) \neq 0$."""
        a, s, da, ds = self._prepare("epsilon_to_velocity", t, x, requires=("a",), epsilon=epsilon, x=x)
        return (da * x - (s * da - a * ds) * epsilon) / a

    @checked
    def velocity_to_epsilon(self, *, velocity: Batch, x: Batch, t: Time) -> Batch:
        r"""$\varepsilon$-prediction (standard noise) from a velocity: $\varepsilon = (a' x - a\, v) / k$.

        Needs $k \neq 0$.
        """
        a, s, da, ds = self._prepare("velocity_to_epsilon", t, x, requires=("k",), velocity=velocity, x=x)
        return (da * x - a * velocity) / (s * da - a * ds)

    @checked
    def score_to_velocity(self, *, score: Batch, x: Batch, t: Time) -> Batch:
        r"""Velocity from a score $\nabla_x \log p_t(x)$: $v = (a' x + k\, s\, \mathrm{score}) / a$.

        Needs $a(t) \neq 0$.
        """
        a, s, da, ds = self._prepare("score_to_velocity", t, x, requires=("a",), score=score, x=x)
        return (da * x + (s * da - a * ds) * s * score) / a

    @checked
    def velocity_to_score(self, *, velocity: Batch, x: Batch, t: Time) -> Batch:
        r"""Score from a velocity: $\mathrm{score} = -\varepsilon / s = (a\, v - a' x) / (k\, s)$.

        Needs $s(t) > 0$ and $k \neq 0$.
        """
        a, s, da, ds = self._prepare("velocity_to_score", t, x, requires=("s", "k"), velocity=velocity, x=x)
        return (a * velocity - da * x) / ((s * da - a * ds) * s)

    # -- internals -------------------------------------------------------------------------------
    def _prepare(
        self, where: str, t: Tensor, like: Tensor, *, requires: tuple[str, ...] = (), **tensors: Tensor
    ) -> tuple[Coefficient, Coefficient, Coefficient, Coefficient]:
        """Validate the inputs (while checks are on) and return the coefficients broadcast to ``like``."""
        coefficients = self.coefficients(_broadcast(t, like))
        if shape_checks_enabled():
            self._check(f"{type(self).__name__}.{where}", t, like, coefficients, requires, tensors)
        return coefficients

    def _check(self, where, t, like, coefficients, requires, tensors) -> None:
        require_times(where, t, self.time_range, self._time_range_note)
        require_finite(where, **tensors)
        a, s, da, ds = (torch.as_tensor(c, dtype=like.dtype, device=like.device) for c in coefficients)
        for name, value in zip(("a(t)", "s(t)", "a'(t)", "s'(t)"), (a, s, da, ds)):
            if not bool(torch.isfinite(value).all()):
                raise NonFiniteError(f"{where}: the schedule {name} of {self!r} is not finite at some t in the batch")
        needs = {"s": (s, "s(t) > 0"), "a": (a, "a(t) != 0"), "k": (s * da - a * ds, "k = s a' - a s' != 0")}
        t_column = _broadcast(t, like)
        for key in requires:
            value, requirement = needs[key]
            zero = ((value == 0) if key != "s" else (value <= 0)).expand(t_column.shape)
            if bool(zero.any()):
                t_bad = t_column[zero][:3].tolist()
                raise InvalidParameterError(
                    f"{where} needs {requirement}, which fails for {self!r} at t = "
                    f"{', '.join(f'{v:.6g}' for v in t_bad)}"
                    + (
                        " (the conditional path is a point mass there: its field at arbitrary x is undefined)"
                        if key == "s"
                        else " (the prediction carries no information there)"
                    )
                )

    def _flat(self, value: Coefficient, t: Tensor, like: Tensor) -> Tensor:
        """A coefficient as a ``[batch]`` tensor in ``like``'s dtype and device."""
        return (
            torch.as_tensor(value, dtype=like.dtype, device=like.device).expand(_broadcast(t, like).shape).reshape(-1)
        )

    def _posterior(self, x, t, a, s, data, chunk_size):
        if data.shape[0] == 0:
            raise InvalidParameterError("data must hold at least one point, got an empty tensor")
        require_int("chunk_size", chunk_size, minimum=1, optional=True)
        batch = x.shape[0]
        mean, log_sum = gaussian_mixture_posterior(
            x.reshape(batch, -1),
            self._flat(a, t, x),
            self._flat(s, t, x),
            data.reshape(data.shape[0], -1).to(dtype=x.dtype, device=x.device),
            chunk_size,
        )
        return mean.reshape(x.shape), log_sum
