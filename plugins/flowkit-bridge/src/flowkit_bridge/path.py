"""The Brownian-bridge conditional probability path (Schrodinger-bridge CFM, Tong et al., 2023).

Conditioned on both endpoints ``z = (x0, x1)`` the path is Gaussian::

    p_t(x | x0, x1) = N(mu_t, s_t^2 I),   mu_t = t x1 + (1 - t) x0,   s_t = sigma sqrt(t (1 - t)),

drawn as ``x_t = mu_t + s_t eps`` with ``eps ~ N(0, I)``: a Brownian bridge with diffusion
``sigma`` pinned at ``x0`` (t = 0) and ``x1`` (t = 1). The conditional field that generates it is
the Gaussian-path field ``u_t(x | z) = mu_t' + (s_t' / s_t) (x - mu_t)`` with ``mu_t' = x1 - x0``
and ``s_t' / s_t = d/dt log s_t = (1 - 2t) / (2 t (1 - t))``::

    u_t(x | x0, x1) = x1 - x0 + (1 - 2t) / (2 t (1 - t)) * (x - t x1 - (1 - t) x0).

At the drawn point ``x - mu_t = s_t eps``, so the target equals ``d/dt x_t`` with ``eps`` fixed::

    u_t(x_t | x0, x1) = x1 - x0 + s_t' eps,   s_t' = sigma (1 - 2t) / (2 sqrt(t (1 - t))).

flowkit evaluates this second form: the first one divides the cancellation error of
``x_t - mu_t`` by ``t (1 - t)`` and loses all accuracy near the endpoints.

Valid times are ``0 <= t <= 1``. At ``t = 0`` and ``t = 1`` the path is the point mass at ``x0``,
resp. ``x1`` (``s_t = 0``): ``x_t`` is that endpoint exactly and the field, defined on the support
where ``x - mu_t = 0``, is ``u_t = x1 - x0``. Inside ``(0, 1)`` the noise term ``s_t' eps`` is
finite for every representable ``t`` but unbounded: ``|s_t'| ~ sigma / (2 sqrt(t))`` near 0 (and
symmetrically near 1). Its per-dimension variance ``sigma^2 (1 - 2t)^2 / (4 t (1 - t))`` has a
logarithmically divergent integral over ``t``, so regression targets drawn with ``t`` very close
to an endpoint are rare but large. No value returned is NaN.
"""

from __future__ import annotations

import torch

from flowkit import InvalidParameterError, PathSample, ProbabilityPath, StandardNormal
from flowkit.core import Batch, Time, checked, require_float, shape_checks_enabled


def _validate_times(t: torch.Tensor) -> None:
    if not bool(((t >= 0) & (t <= 1)).all()):
        raise InvalidParameterError(
            f"t must lie in [0, 1] for the bridge path; got values from {t.min().item()} to {t.max().item()}"
            + (" (NaN present)" if bool(t.isnan().any()) else "")
        )


def _per_sample(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``[batch]`` values viewed as ``[batch, 1, ..., 1]`` in ``like``'s dtype, to broadcast over ``like``."""
    return values.to(like.dtype).reshape(values.shape[0], *([1] * (like.dim() - 1)))


class BrownianBridgePath(ProbabilityPath):
    """The Brownian bridge ``x_t = t x1 + (1 - t) x0 + sigma sqrt(t (1 - t)) eps`` between ``x0`` and ``x1``.

    Its conditional target is ``u_t(x_t | x0, x1) = x1 - x0 + sigma (1 - 2t) / (2 sqrt(t (1 - t))) eps``
    (see the module docstring for the derivation and the behaviour at ``t = 0`` and ``t = 1``,
    where the noise vanishes and ``u_t = x1 - x0``). The prior ``p0`` is ``N(0, I)``.

    Parameters:
        sigma: the bridge's noise scale (diffusion coefficient), a finite number ``> 0``.
    """

    def __init__(self, sigma: float = 1.0) -> None:
        self.sigma = require_float(
            "sigma",
            sigma,
            above=0.0,
            note="the bridge's noise scale; for sigma = 0, the straight path without noise, use the path 'ot' "
            "with sigma_min=0",
        )
        self._prior = StandardNormal()

    def __repr__(self) -> str:
        return f"BrownianBridgePath(sigma={self.sigma!r})"

    @property
    def prior(self) -> StandardNormal:
        """The source distribution ``p0 = N(0, I)``."""
        return self._prior

    @checked
    def std(self, t: Time) -> Time:
        """``s_t = sigma sqrt(t (1 - t))``: zero at both endpoints, largest (``sigma / 2``) at ``t = 1/2``."""
        return self.sigma * torch.sqrt(t * (1 - t))

    @checked
    def std_derivative(self, t: Time) -> Time:
        """``s_t' = sigma (1 - 2t) / (2 sqrt(t (1 - t)))`` inside ``(0, 1)``, and 0 at ``t = 0`` and ``t = 1``.

        The value at the endpoints is the convention under which the target there is ``x1 - x0``
        (the noise term multiplies a point mass, see the module docstring).
        """
        root = torch.sqrt(t * (1 - t))
        interior = root > 0
        safe_root = torch.where(interior, root, torch.ones_like(root))
        return torch.where(interior, self.sigma * (1 - 2 * t) / (2 * safe_root), torch.zeros_like(t))

    @checked
    def interpolate(self, t: Time, x0: Batch, x1: Batch, noise: Batch) -> Batch:
        """``x_t = t x1 + (1 - t) x0 + s_t noise`` for a given standard-normal ``noise``."""
        t_b = _per_sample(t, x1)
        return t_b * x1 + (1 - t_b) * x0 + _per_sample(self.std(t), x1) * noise

    @checked
    def velocity(self, t: Time, x0: Batch, x1: Batch, noise: Batch) -> Batch:
        """``d/dt x_t = x1 - x0 + s_t' noise`` with ``noise`` fixed, which is ``u_t(x_t | x0, x1)``."""
        return x1 - x0 + _per_sample(self.std_derivative(t), x1) * noise

    def conditional_noise(self, sample: PathSample) -> tuple[torch.Tensor, torch.Tensor]:
        """``(s_t, eps)`` with ``x_t = mu_t + s_t eps``: ``s_t`` as ``[batch]``, ``eps = (x_t - mu_t) / s_t``.

        The conditional score is ``grad log p_t(x_t | x0, x1) = -eps / s_t`` (used by score + flow
        matching, ``sf2m``); where ``s_t = 0`` (the endpoints) ``eps`` is 0.
        """
        std = self.std(sample.t)
        mean = self.interpolate(sample.t, sample.x0, sample.x1, torch.zeros_like(sample.x1))
        std_b = _per_sample(std, sample.x1)
        safe = torch.where(std_b > 0, std_b, torch.ones_like(std_b))
        return std.to(sample.x1.dtype), torch.where(std_b > 0, (sample.x_t - mean) / safe, torch.zeros_like(sample.x_t))

    @checked
    def sample(self, *, x0: Batch, x1: Batch, t: Time, generator: torch.Generator | None = None) -> PathSample:
        """Draw ``x_t ~ N(t x1 + (1 - t) x0, sigma^2 t (1 - t) I)`` and its target ``u_t(x_t | x0, x1)``.

        ``t`` must lie in ``[0, 1]``: while shape checks are on (:func:`flowkit.shape_checks`)
        other values raise :class:`~flowkit.InvalidParameterError`. ``generator`` seeds
        the bridge noise ``eps``, drawn in ``x1``'s dtype on ``x1``'s device.
        """
        if shape_checks_enabled():
            _validate_times(t)
        noise = torch.randn(x1.shape, generator=generator, device=x1.device, dtype=x1.dtype)
        return PathSample(
            t=t,
            x0=x0,
            x1=x1,
            x_t=self.interpolate(t, x0, x1, noise),
            u_t=self.velocity(t, x0, x1, noise),
        )
