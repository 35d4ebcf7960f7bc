r"""The source distribution $p_0$ of a flow: something to sample from and to score.

A :class:`Prior` draws $x_0 \sim p_0$ and evaluates $\log p_0(x_0)$ summed over the event
dimensions. Paths own their prior (``path.prior``); the likelihood engine accepts any object
with ``log_prob(x0)``, including a path (whose prior it uses) or a ``torch.distributions``
object.

:meth:`Prior.sample` handles the arguments of every prior in one place: it checks the shape
``[batch, *dims]`` and puts the draws on the generator's device when no device is given, and
hands the result, a :class:`DrawRequest`, to the prior's :meth:`Prior.draw`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import attrs
import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError

__all__ = ["DrawRequest", "Prior"]


def _full_shape(shape: Sequence[int]) -> tuple[int, ...]:
    try:
        full = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        full = ()
    if len(full) < 2 or any(n < 0 for n in full):
        raise InvalidParameterError(
            f"shape must be [batch, *dims] with at least one event dimension (non-negative integers), got {shape!r}"
        )
    return full


@attrs.frozen
class DrawRequest:
    """What to draw: the full ``shape`` ``[batch, *dims]``, on ``device``, in ``dtype``, from ``generator``.

    The shape is checked on construction (at least one event dimension, no negative size); with
    ``device=None`` and a ``generator`` the draws go to the generator's device.
    """

    shape: tuple[int, ...] = attrs.field(converter=_full_shape)
    device: torch.device | str | None = None
    dtype: torch.dtype | None = None
    generator: torch.Generator | None = None

    def __attrs_post_init__(self) -> None:
        if self.device is None and self.generator is not None:
            object.__setattr__(self, "device", self.generator.device)

    def randn(self) -> Tensor:
        """Standard normal numbers of the requested shape, device and dtype."""
        return torch.randn(self.shape, device=self.device, dtype=self.dtype, generator=self.generator)

    def rand(self) -> Tensor:
        """Uniform numbers in ``[0, 1)`` of the requested shape, device and dtype."""
        return torch.rand(self.shape, device=self.device, dtype=self.dtype, generator=self.generator)


class Prior(ABC):
    """A source distribution ``p0`` over events of a fixed shape; subclasses implement :meth:`draw`."""

    def sample(
        self,
        shape: Sequence[int],
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        r"""Draw $x_0 \sim p_0$ with the full tensor shape ``shape`` (``[batch, *dims]``).

        ``device`` defaults to the generator's device (else the default device).
        """
        return self.draw(DrawRequest(shape, device, dtype, generator))

    @abstractmethod
    def draw(self, request: DrawRequest) -> Tensor:
        """The draws :meth:`sample` asks for (shape checked, device resolved)."""

    @abstractmethod
    def log_prob(self, x0: Tensor) -> Tensor:
        r"""$\log p_0(x_0)$ in nats, summed over all but the first dimension: shape ``[batch]``."""
