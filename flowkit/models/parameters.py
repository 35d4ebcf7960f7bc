"""Parameter counting: ``count_parameters(model) = sum of numel(p)`` over a module's parameters."""

from __future__ import annotations

from torch import nn

__all__ = ["count_parameters"]


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """The number of scalar parameters of ``model`` (only those with ``requires_grad`` if ``trainable_only``).

    Buffers (such as fixed Fourier frequencies) are not parameters and are not counted; a
    parameter shared by several submodules is counted once.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
