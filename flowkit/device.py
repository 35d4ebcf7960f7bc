"""Device and precision dispatch: pick the device, autocast to a lower precision, compile.

- :func:`resolve_device` turns ``"auto"`` into the best available device (CUDA, then Apple's
  MPS, then CPU), and checks that an explicitly requested one is available.
- :func:`autocast_context` runs a block under ``torch.autocast`` in ``"bf16"`` or ``"fp16"``
  (matrix products and convolutions in the low precision, reductions and the parameters in
  float32), runs float32 matrix products and convolutions on TF32 tensor cores for ``"tf32"``
  (CUDA only; elsewhere the same as fp32), or does nothing for ``"fp32"``. ``"auto"`` is bf16 on CUDA devices that support it
  and fp32 elsewhere, so mixed precision is off by default on CPU. Training in fp16 needs a
  gradient scaler (``torch.amp.GradScaler``); bf16 does not.
- :func:`maybe_compile` wraps a module with ``torch.compile`` when asked to; ``"auto"``
  compiles on CUDA only, so compilation is off by default on CPU.

Nothing here hard-codes a device: components follow the device and dtype of the model's
parameters (:func:`module_device`).
"""

from __future__ import annotations

import contextlib
import warnings
from contextlib import AbstractContextManager
from typing import Literal, TypeVar, cast

import torch
from torch import nn

from flowkit.exceptions import InvalidParameterError

__all__ = [
    "PRECISIONS",
    "autocast_context",
    "default_precision",
    "maybe_compile",
    "module_device",
    "place_model",
    "resolve_device",
    "synchronize",
]

PRECISIONS: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "tf32": torch.float32,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}
"""The precision names accepted by :func:`autocast_context` and the dtype each computes in."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _parse_device(device: str | torch.device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise InvalidParameterError(
            f"unknown device {device!r}; accepted: 'auto', 'cpu', 'cuda', 'cuda:N', 'mps' or a torch.device"
        ) from None


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The :class:`torch.device` for ``device``: ``"auto"`` picks CUDA, then MPS, then CPU.

    An explicit device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, a ``torch.device``) is
    returned as is after checking that it exists on this machine.
    """
    if isinstance(device, str) and device.strip().lower() == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    resolved = _parse_device(device)
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidParameterError(f"device {device!r} requested but CUDA is not available; use 'auto' or 'cpu'")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise InvalidParameterError(
                f"device {device!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    if resolved.type == "mps" and not _mps_available():
        raise InvalidParameterError(f"device {device!r} requested but MPS is not available; use 'auto' or 'cpu'")
    return resolved


def default_precision(device: str | torch.device) -> str:
    """``"bf16"`` on a CUDA device with bfloat16 support, ``"fp32"`` elsewhere."""
    device = _parse_device(device)
    if device.type == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return "bf16"
    return "fp32"


def autocast_context(
    device: str | torch.device, precision: str = "fp32", *, cache_enabled: bool = True
) -> AbstractContextManager[None]:
    """A context that autocasts the operations on ``device`` to ``precision``.

    ``precision`` is ``"fp32"`` (no autocast), ``"tf32"`` (float32 tensors, matrix products and
    convolutions on TF32 tensor cores: a 10-bit mantissa inside the products, float32
    accumulation), ``"bf16"``, ``"fp16"`` or ``"auto"``
    (:func:`default_precision`). A precision the device does not support raises
    :class:`InvalidParameterError` (e.g. bf16 on a CUDA GPU without bfloat16, or any device type
    without autocast). ``cache_enabled=False`` turns off autocast's cache of cast weights, as CUDA
    graph capture requires.
    """
    device = _parse_device(device)
    if precision == "auto":
        precision = default_precision(device)
    if precision not in PRECISIONS:
        raise InvalidParameterError(
            f"unknown precision {precision!r}; accepted: 'auto', {', '.join(map(repr, PRECISIONS))}"
        )
    if precision == "fp32" or (precision == "tf32" and device.type != "cuda"):
        return contextlib.nullcontext()
    if precision == "tf32":
        return _TF32Matmuls()
    if not torch.amp.is_autocast_available(device.type):
        raise InvalidParameterError(f"precision {precision!r}: autocast is not available on {device.type}; use 'fp32'")
    if device.type == "cuda" and precision == "bf16" and not torch.cuda.is_bf16_supported():
        raise InvalidParameterError("precision 'bf16' is not supported by this CUDA GPU; use 'fp16' or 'fp32'")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = torch.autocast(device.type, dtype=PRECISIONS[precision], cache_enabled=cache_enabled)
    # torch disables autocast with a warning (instead of raising) for an unsupported dtype.
    refused = [w for w in caught if "autocast" in str(w.message).lower()]
    if refused:
        raise InvalidParameterError(
            f"precision {precision!r} is not supported on {device.type} by this torch: {refused[0].message}"
        )
    return context


class _TF32Matmuls:
    """Float32 matrix products on TF32 tensor cores inside the block (convolutions already are, by
    cuDNN's default); the previous setting comes back on exit. Reusable, like ``torch.autocast``."""

    def __enter__(self) -> None:
        self._previous = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high")

    def __exit__(self, *exc_info: object) -> None:
        torch.set_float32_matmul_precision(self._previous)


def synchronize(device: torch.device) -> None:
    """Wait for the work queued on ``device`` (CUDA); a no-op elsewhere, where calls are synchronous."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def module_device(module: nn.Module) -> torch.device:
    """The device of ``module``'s first parameter (or buffer); CPU for a module with neither."""
    for tensor in (*module.parameters(), *module.buffers()):
        return tensor.device
    return torch.device("cpu")


_ModuleT = TypeVar("_ModuleT", bound=nn.Module)


def place_model(model: _ModuleT, device: torch.device) -> _ModuleT:
    """Move ``model`` to ``device``, in the memory format it prefers there.

    A model with ``prefers_channels_last = True`` (the U-Net) gets its 4-d weights in the
    channels-last format on CUDA, where convolutions in that layout run on the tensor cores
    without transposes.
    """
    model = model.to(device)
    if device.type == "cuda" and getattr(model, "prefers_channels_last", False):
        # Module.to(memory_format=...) is documented and works; torch's overloads of Module.to omit it
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model


def maybe_compile(model: nn.Module, enabled: bool | Literal["auto"] = "auto", **compile_options) -> nn.Module:
    """``torch.compile(model, dynamic=False, **compile_options)`` if ``enabled``, else ``model`` itself.

    Shapes are static unless ``dynamic=True`` is passed: each new batch size compiles anew.
    Compiling with a symbolic batch size crashed in inductor's autotuning of a fused GroupNorm
    backward kernel (``CUDA error: misaligned address``, H200, torch 2.11, bf16 U-Net), so it is
    not the default. ``enabled="auto"`` compiles only a model whose parameters are on CUDA. The compiled module
    shares parameters with ``model`` (train through either, save ``model``'s state dict) and
    forwards attribute access, e.g. ``num_classes``, to it.
    """
    if enabled == "auto":
        enabled = module_device(model).type == "cuda"
    if not isinstance(enabled, bool):
        raise InvalidParameterError(f"enabled must be True, False or 'auto', got {enabled!r}")
    if not enabled:
        return model
    # torch.compile of an nn.Module returns an OptimizedModule (an nn.Module); its stub says Callable
    return cast(nn.Module, torch.compile(model, **{"dynamic": False, **compile_options}))
