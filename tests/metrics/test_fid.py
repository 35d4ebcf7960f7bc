"""FID: the Fréchet distance against closed forms, and the metric through a TorchScript network file."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from flowkit import EvaluationContext, registry
from flowkit.data import bin_centres
from flowkit.exceptions import DataFilesError
from flowkit.metrics import frechet_distance
from flowkit.metrics.fid import FID_NETWORK_ENV, feature_statistics


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    var1, var2 = rng.uniform(0.5, 2, size=5), rng.uniform(0.5, 2, size=5)
    want = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(want, rel=1e-9)
    a = rng.normal(size=(5, 5))
    sigma = a @ a.T + np.eye(5)
    assert frechet_distance(mu1, sigma, mu1, sigma) == pytest.approx(0.0, abs=1e-8)


class PixelFeatures(torch.nn.Module):
    """A stand-in with the Inception file's call signature: uint8 images in, features out."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3 * 4 * 4, 6)

    def forward(self, images: Tensor, return_features: bool = False) -> Tensor:
        return self.proj(images.float().flatten(1) / 255.0)


@pytest.fixture()
def network_file(tmp_path):
    torch.manual_seed(0)
    module = PixelFeatures()
    path = tmp_path / "features.pt"
    torch.jit.script(module).save(str(path))
    return path, module


def images(seed, n=64, shift=0):
    levels = torch.randint(0, 200, (n, 3, 4, 4), generator=torch.Generator().manual_seed(seed)) + shift
    return bin_centres(levels, 256), levels


def test_fid_metric_is_the_frechet_distance_of_the_network_features(network_file, monkeypatch):
    path, module = network_file
    (x, x_levels), (y, y_levels) = images(1), images(2, shift=40)
    monkeypatch.setenv(FID_NETWORK_ENV, str(path))
    value = registry.create("metric", "fid", batch_size=10)(EvaluationContext(samples=x, reference=y))["fid"]
    with torch.no_grad():  # the points map back to exactly these 8-bit levels
        fx, fy = module(x_levels.to(torch.uint8)), module(y_levels.to(torch.uint8))
    assert value == pytest.approx(frechet_distance(*feature_statistics(fx), *feature_statistics(fy)), rel=1e-6)
    same = registry.create("metric", "fid")(EvaluationContext(samples=x, reference=x))["fid"]
    assert abs(same) < 1e-6 < value


def test_fid_without_a_network_is_skipped_with_the_reason_and_a_bad_path_is_named(monkeypatch, tmp_path):
    x, _ = images(1)
    monkeypatch.delenv(FID_NETWORK_ENV, raising=False)
    with pytest.warns(UserWarning, match=f"FID skipped.*{FID_NETWORK_ENV}"):
        assert registry.create("metric", "fid")(EvaluationContext(samples=x, reference=x)) == {}
    with pytest.raises(DataFilesError, match="does not exist"):
        registry.create("metric", "fid", feature_network=str(tmp_path / "nope.pt"))(
            EvaluationContext(samples=x, reference=x)
        )
    (tmp_path / "junk.pt").write_bytes(b"not torchscript")
    with pytest.raises(DataFilesError, match="not a TorchScript module"):
        registry.create("metric", "fid", feature_network=str(tmp_path / "junk.pt"))(
            EvaluationContext(samples=x, reference=x)
        )
    points = torch.randn(10, 2)  # not images: FID does not apply
    assert registry.create("metric", "fid")(EvaluationContext(samples=points, reference=points)) == {}
