"""Device resolution, autocast contexts and torch.compile, exercised on CPU."""

from __future__ import annotations

import pytest
import torch

from flowkit import device as fdevice
from flowkit.device import autocast_context, default_precision, maybe_compile, module_device, resolve_device
from flowkit.exceptions import InvalidParameterError
from flowkit.models import MLPVectorField, guided


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(fdevice, "_mps_available", lambda: False)


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch, no_accelerator):
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(fdevice, "_mps_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_explicit_devices(no_accelerator):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(InvalidParameterError, match="CUDA is not available"):
        resolve_device("cuda:0")
    with pytest.raises(InvalidParameterError, match="MPS is not available"):
        resolve_device("mps")
    with pytest.raises(InvalidParameterError, match="accepted: 'auto', 'cpu'"):
        resolve_device("gpu")


def test_precision_defaults_to_fp32_on_cpu():
    assert default_precision("cpu") == "fp32"
    with autocast_context("cpu", "auto"):
        assert not torch.is_autocast_enabled("cpu")


def test_bf16_autocast_on_cpu_runs_a_model_in_bfloat16():
    torch.manual_seed(0)
    model = MLPVectorField(dim=4, width=32, depth=2, num_classes=3).eval()  # no condition dropout
    t, x, y = torch.rand(16), torch.randn(16, 4), torch.randint(0, 3, (16,))
    reference = model(t, x, y)
    hidden_dtypes = []
    handle = model.hidden[0].register_forward_hook(lambda m, i, out: hidden_dtypes.append(out.dtype))
    with autocast_context("cpu", "bf16"):
        assert torch.is_autocast_enabled("cpu")
        out = model(t, x, y)
        guided_out = guided(model, 2.0)(t, x, y)
    handle.remove()
    assert hidden_dtypes == [torch.bfloat16, torch.bfloat16]  # the matrix products ran in bf16
    assert out.dtype == x.dtype == guided_out.dtype  # the output follows x
    # bfloat16 keeps 8 significant bits: relative error of order 2^-8 per operation
    assert (out - reference).abs().max() <= 0.05 * reference.abs().max()
    out.square().mean().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in model.parameters())


def test_unsupported_precisions_are_refused(monkeypatch):
    with pytest.raises(InvalidParameterError, match="accepted: 'auto', 'fp32', 'tf32', 'bf16', 'fp16'"):
        autocast_context("cpu", "fp8")
    with pytest.raises(InvalidParameterError, match="autocast is not available on meta"):
        autocast_context("meta", "bf16")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    with pytest.raises(InvalidParameterError, match="'bf16' is not supported by this CUDA GPU"):
        autocast_context("cuda", "bf16")


def test_module_device_follows_parameters():
    assert module_device(torch.nn.Linear(2, 2)) == torch.device("cpu")
    assert module_device(torch.nn.ReLU()) == torch.device("cpu")


def test_compile_is_off_by_default_on_cpu():
    model = MLPVectorField(dim=2, width=8, depth=1)
    assert maybe_compile(model) is model
    assert maybe_compile(model, enabled=False) is model
    with pytest.raises(InvalidParameterError, match="enabled"):
        maybe_compile(model, enabled="yes")


def _tiny_model_and_inputs():
    torch.manual_seed(0)
    return MLPVectorField(dim=2, width=8, depth=1), torch.rand(8), torch.randn(8, 2)


@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_inductor_compiled_tiny_model_matches_eager():
    """Inductor on CPU (C++ kernels built with the system compiler), the whole forward as one graph.

    Inference only: a cold inductor build of the backward graph as well doubles the cost of this
    test on a busy 2-core machine; the backward graph is captured by the next test, and
    benchmarks/gpu_check.py trains through inductor end to end on CUDA.
    """
    model, t, x = _tiny_model_and_inputs()
    compiled = maybe_compile(model, enabled=True, fullgraph=True)
    assert compiled.num_classes is None  # attribute access reaches the wrapped model
    with torch.no_grad():
        torch.testing.assert_close(compiled(t, x), model(t, x))


def test_compiled_graph_captures_forward_and_backward():
    """Dynamo + AOTAutograd capture forward and joint backward graphs (fullgraph: no graph break,
    so the shape checks are skipped while tracing) and reproduce eager values and gradients."""
    model, t, x = _tiny_model_and_inputs()
    compiled = maybe_compile(model, enabled=True, backend="aot_eager", fullgraph=True)
    eager = model(t, x)
    eager_grads = torch.autograd.grad(eager.square().sum(), list(model.parameters()))
    out = compiled(t, x)
    torch.testing.assert_close(out, eager)
    grads = torch.autograd.grad(out.square().sum(), list(model.parameters()))
    for g, e in zip(grads, eager_grads):
        torch.testing.assert_close(g, e)


def test_tf32_sets_the_matmul_precision_inside_the_block_only_on_cuda():
    before = torch.get_float32_matmul_precision()
    context = autocast_context(torch.device("cuda"), "tf32")
    for _ in range(2):  # reusable across training steps, like torch.autocast
        with context:
            assert torch.get_float32_matmul_precision() == "high"
        assert torch.get_float32_matmul_precision() == before
    with autocast_context("cpu", "tf32"):  # no TF32 on the CPU: plain float32
        assert torch.get_float32_matmul_precision() == before


def test_the_unet_gives_the_same_field_in_channels_last_layout():
    from flowkit import registry

    torch.manual_seed(0)
    model = registry.create("model", "unet", channels=3, image_size=8, base_channels=16, channel_mult=(1, 2))
    x, t = torch.randn(4, 3, 8, 8), torch.rand(4)
    with torch.no_grad():
        reference = model(t, x)
        model.to(memory_format=torch.channels_last)
        out = model(t, x.contiguous(memory_format=torch.channels_last))
    assert out.is_contiguous()
    torch.testing.assert_close(out, reference, rtol=1e-4, atol=1e-5)
