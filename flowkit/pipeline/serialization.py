"""Training state as tensors and plain JSON, for checkpoints that load without unpickling.

:func:`split_optimizer_state` turns ``optimizer.state_dict()`` into a flat ``{key: Tensor}`` map
(per-parameter state such as AdamW's ``exp_avg``, keyed ``"state.<param>.<name>"``), for
safetensors, and a JSON-compatible remainder (hyper-parameters of the parameter groups and any
non-tensor per-parameter values); :func:`join_optimizer_state` inverts it exactly.
:func:`tensors_for_safetensors` prepares a state dict for safetensors (contiguous CPU tensors,
no two sharing memory).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from flowkit.exceptions import CheckpointError

__all__ = ["join_optimizer_state", "split_optimizer_state", "tensors_for_safetensors"]

_TUPLE_MARK = "__tuple__"


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return {_TUPLE_MARK: [_to_json(v) for v in value]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CheckpointError(
        f"optimizer state value of type {type(value).__name__} cannot be stored without pickle; "
        "a checkpoint stores per-parameter tensors and plain values (None, bool, int, float, str, lists, tuples, dicts)"
    )


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_TUPLE_MARK}:
            return tuple(_from_json(v) for v in value[_TUPLE_MARK])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def split_optimizer_state(state_dict: Mapping[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split an optimizer state dict into safetensors tensors and a JSON-compatible dict."""
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for param, entries in state_dict["state"].items():
        for name, value in entries.items():
            if isinstance(value, Tensor):
                tensors[f"state.{param}.{name}"] = value
            else:
                scalars.setdefault(str(param), {})[name] = _to_json(value)
    plain = {
        "param_groups": _to_json(list(state_dict["param_groups"])),
        "params_with_state": [int(p) for p in state_dict["state"]],
        "scalars": scalars,
    }
    return tensors_for_safetensors(tensors), plain


def join_optimizer_state(tensors: Mapping[str, Tensor], plain: Mapping[str, Any]) -> dict[str, Any]:
    """Rebuild the optimizer state dict from :func:`split_optimizer_state`'s two parts."""
    state: dict[int, dict[str, Any]] = {int(p): {} for p in plain["params_with_state"]}
    for key, value in tensors.items():
        _, param, name = key.split(".", 2)
        state[int(param)][name] = value
    for param, entries in plain["scalars"].items():
        state[int(param)].update(_from_json(entries))
    return {"state": state, "param_groups": _from_json(plain["param_groups"])}


def tensors_for_safetensors(tensors: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Detached, contiguous CPU tensors; a tensor sharing memory with an earlier one is copied."""
    out: dict[str, Tensor] = {}
    seen: set[int] = set()
    for key, value in tensors.items():
        value = value.detach().to("cpu").contiguous()  # files hold host memory
        storage = value.untyped_storage().data_ptr()
        if value.numel() and storage in seen:
            value = value.clone()
        seen.add(value.untyped_storage().data_ptr())
        out[key] = value
    return out
