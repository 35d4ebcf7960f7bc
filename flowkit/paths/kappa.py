r"""Schedulers $\kappa(t)$ shared by the mixture path (discrete) and the geodesic path (Riemannian).

A scheduler is an increasing map of $[0, 1]$ onto $[0, 1]$ with $\kappa(0) = 0$ and
$\kappa(1) = 1$: on a mixture path the probability that a position of $x_t$ already shows its
data token, on a geodesic path the fraction of the geodesic from $x_0$ to $x_1$ travelled.

* ``polynomial``: $\kappa(t) = t^n$, $\kappa'(t) = n\, t^{n-1}$ ($n > 0$; $n = 1$ is linear);
* ``cosine``: $\kappa(t) = \sin^2(\pi t / 2)$, $\kappa'(t) = \frac{\pi}{2} \sin(\pi t)$.

The CTMC rates of a mixture path scale with the jump coefficient
$\kappa'(t) / (1 - \kappa(t))$ (:meth:`KappaScheduler.jump_coefficient`), infinite at $t = 1$.
Both paths take ``scheduler=`` (a name or a :class:`KappaScheduler`) and, for the polynomial
one, ``exponent=`` (:func:`scheduler_from`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_choice, require_float

__all__ = ["KAPPA_SCHEDULERS", "CosineKappa", "KappaScheduler", "PolynomialKappa", "kappa_scheduler", "scheduler_from"]


class KappaScheduler(ABC):
    r"""$\kappa(t)$ and $\kappa'(t)$ elementwise on a tensor of times."""

    name: str

    @abstractmethod
    def kappa(self, t: Tensor) -> Tensor:
        r"""$\kappa(t)$, with $\kappa(0) = 0$ and $\kappa(1) = 1$."""

    @abstractmethod
    def dkappa(self, t: Tensor) -> Tensor:
        r"""$\kappa'(t)$."""

    def jump_coefficient(self, t: Tensor) -> Tensor:
        r"""$\kappa'(t) / (1 - \kappa(t))$ (``inf`` where $\kappa(t) = 1$)."""
        return self.dkappa(t) / (1.0 - self.kappa(t))

    def parameters(self) -> dict[str, Any]:
        """The keyword parameters that rebuild this scheduler with :func:`kappa_scheduler`."""
        return {}


class PolynomialKappa(KappaScheduler):
    r"""$\kappa(t) = t^n$ with $n$ = ``exponent``."""

    name = "polynomial"

    def __init__(self, exponent: float = 1.0):
        self.exponent = require_float("exponent", exponent, above=0.0)

    def kappa(self, t: Tensor) -> Tensor:
        return t.pow(self.exponent)

    def dkappa(self, t: Tensor) -> Tensor:
        if self.exponent == 1.0:
            return torch.ones_like(t)
        return self.exponent * t.pow(self.exponent - 1.0)

    def parameters(self) -> dict[str, Any]:
        return {"exponent": self.exponent}

    def __repr__(self) -> str:
        return f"PolynomialKappa(exponent={self.exponent})"


class CosineKappa(KappaScheduler):
    r"""$\kappa(t) = \sin^2(\pi t / 2)$."""

    name = "cosine"

    def kappa(self, t: Tensor) -> Tensor:
        return torch.sin(0.5 * math.pi * t).square()

    def dkappa(self, t: Tensor) -> Tensor:
        return 0.5 * math.pi * torch.sin(math.pi * t)

    def __repr__(self) -> str:
        return "CosineKappa()"


KAPPA_SCHEDULERS: dict[str, type[KappaScheduler]] = {"polynomial": PolynomialKappa, "cosine": CosineKappa}
"""The schedulers by name; a plugin may add its own class here before building a path."""


def kappa_scheduler(name: str, **params: Any) -> KappaScheduler:
    """The scheduler called ``name`` built with ``params`` (e.g. ``kappa_scheduler("polynomial", exponent=2)``)."""
    cls = KAPPA_SCHEDULERS[require_choice("scheduler", name, KAPPA_SCHEDULERS)]
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidParameterError(f"scheduler {name!r}: {exc}") from None


def scheduler_from(scheduler: KappaScheduler | str, exponent: float = 1.0) -> KappaScheduler:
    """A path's scheduler from its parameters: a :class:`KappaScheduler` as given, or the one named
    ``scheduler``, with ``exponent`` as the polynomial's $n$ (an exponent other than 1 for another
    scheduler is an :class:`InvalidParameterError`)."""
    if scheduler != "polynomial" and exponent != 1.0:
        raise InvalidParameterError(
            f"exponent={exponent!r} applies to the 'polynomial' scheduler only, not to {scheduler!r}"
        )
    if isinstance(scheduler, KappaScheduler):
        return scheduler
    return kappa_scheduler(scheduler, **({"exponent": exponent} if scheduler == "polynomial" else {}))
