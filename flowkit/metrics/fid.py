"""Fréchet Inception Distance between generated and held-out images (``fid``).

Both image sets go through an Inception feature network given as a file on disk (nothing is
downloaded); with ``mu``, ``Sigma`` the mean and covariance of the ``2048``-dimensional features,

    FID = |mu_s - mu_r|^2 + Tr(Sigma_s + Sigma_r - 2 (Sigma_s Sigma_r)^{1/2})

(Heusel et al., 2017), the matrix square root by :func:`scipy.linalg.sqrtm` (its tiny imaginary
part from rounding is dropped). The network is a TorchScript file called as
``net(images, return_features=True)`` on ``uint8`` images ``[n, 3, H, W]`` returning ``[n, F]``
features: the format of the ``inception-2015-12-05.pt`` file that StyleGAN / EDM and clean-fid
use (the TensorFlow FID Inception ported to TorchScript; it resizes to 299x299 itself). Its path
is the ``feature_network`` parameter or the environment variable :data:`FID_NETWORK_ENV`
(``FLOWKIT_FID_NETWORK``); without either, the metric reports nothing and warns why (a suite's
summary then says FID was skipped). Data that are not RGB images ``[n, 3, H, W]`` get no value. Points on ``[-1, 1]`` become 8-bit levels with
:func:`flowkit.data.quantize` (bin centres of 256 levels map back exactly).

The value compares ``n`` samples with ``n`` held-out images, so it is FID at that size (biased
upward for small ``n``; the literature's figure uses 50,000 samples against the training set).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping

import attrs
import numpy as np
import torch
from torch import Tensor

from flowkit.core import Metric
from flowkit.core.quantization import quantize
from flowkit.exceptions import DataFilesError, ShapeError
from flowkit.hookspecs import Register, hookimpl
from flowkit.metrics._inputs import check_points, require_context
from flowkit.validation import field_validator, require_instance, require_int

FID_NETWORK_ENV = "FLOWKIT_FID_NETWORK"
"""Environment variable naming the TorchScript Inception file used when ``feature_network`` is unset."""

FID_SKIPPED = (
    f"FID skipped: no Inception feature network; set {FID_NETWORK_ENV} to a TorchScript Inception file "
    "(e.g. inception-2015-12-05.pt, as used by StyleGAN / EDM / clean-fid), flowkit downloads nothing"
)


def feature_statistics(features: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[F]`` and unbiased covariance ``[F, F]`` of ``features`` ``[n, F]`` (float64)."""
    values = features.detach().double().cpu().numpy()
    return values.mean(axis=0), np.cov(values, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    r"""The squared 2-Wasserstein distance of $\mathcal{N}(\mu_1, S_1)$ and $\mathcal{N}(\mu_2, S_2)$.

    $\lVert \mu_1 - \mu_2 \rVert^2 + \operatorname{Tr}\bigl(S_1 + S_2 - 2 (S_1 S_2)^{1/2}\bigr)$, with $\mu_1$, $S_1$,
    $\mu_2$, $S_2$ = ``mu1``, ``sigma1``, ``mu2``, ``sigma2``.
    """
    import scipy.linalg  # imported on first use: scipy's import is slow

    root = scipy.linalg.sqrtm(sigma1 @ sigma2)
    root = np.real(root)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(root))


@functools.lru_cache(maxsize=2)
def _load_network(path: str, device: str) -> torch.jit.ScriptModule:
    if not os.path.isfile(path):
        raise DataFilesError(
            f"FID feature network {path!r} does not exist; give the path of a TorchScript Inception file"
        )
    try:
        with warnings.catch_warnings():  # TorchScript is deprecated in torch; the Inception files are TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            network = torch.jit.load(path, map_location=device)
    except (RuntimeError, ValueError) as exc:
        raise DataFilesError(f"{path} is not a TorchScript module (torch.jit.load failed: {exc})") from None
    return network.eval()


def _as_images(name: str, points: Tensor) -> Tensor:
    if points.ndim != 4 or points.shape[1] != 3:
        raise ShapeError(f"metric 'fid': {name} must be RGB images [n, 3, H, W], got {list(points.shape)}")
    return quantize(points, 256).to(torch.uint8)


@attrs.frozen
class FrechetInceptionDistance(Metric):
    """``{"fid": FID}`` of samples vs reference through a TorchScript Inception (lower is better).

    ``feature_network``: the file (default: ``$FLOWKIT_FID_NETWORK``); ``batch_size`` images per call.
    """

    feature_network: str | None = attrs.field(
        default=None, validator=field_validator(require_instance, kind=str, accepted="a file path", optional=True)
    )
    batch_size: int = attrs.field(default=250, validator=field_validator(require_int, minimum=1))

    def __call__(self, context: object) -> Mapping[str, float]:
        """FID of ``context.samples`` against ``context.reference`` (nothing, with a warning, without a network)."""
        context = require_context(context, "fid")
        samples = check_points("samples", context.samples, "fid", min_points=2)
        reference = check_points("reference", context.reference, "fid", min_points=2)
        if reference.ndim != 4 or reference.shape[1] != 3:  # not RGB images: FID does not apply
            return {}
        path = self.feature_network or os.environ.get(FID_NETWORK_ENV)
        if not path:
            warnings.warn(FID_SKIPPED, stacklevel=2)
            return {}
        samples, reference = _as_images("samples", samples), _as_images("reference", reference)
        network = _load_network(str(path), str(samples.device))
        stats = [feature_statistics(self._features(network, images)) for images in (samples, reference)]
        return {"fid": frechet_distance(*stats[0], *stats[1])}

    def _features(self, network: torch.jit.ScriptModule, images: Tensor) -> Tensor:
        with torch.no_grad():
            return torch.cat([network(batch, return_features=True) for batch in images.split(self.batch_size)])


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register ``fid``."""
    register(
        "fid",
        FrechetInceptionDistance,
        description="Frechet Inception Distance through a TorchScript Inception file on disk ($FLOWKIT_FID_NETWORK)",
    )
