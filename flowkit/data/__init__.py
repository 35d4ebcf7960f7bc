"""Built-in data sets (kind ``"dataset"``) and helpers for quantised data.

Two-dimensional toys: ``checkerboard``, ``8gaussians`` and ``2d-mixture`` (with exact
densities), ``moons``, ``circles``, ``spirals`` and ``swissroll`` (without); ``digits``
(scikit-learn's 8x8 images, shipped with the package); :class:`TensorData` for a user's own
tensors. :func:`dequantize` is the uniform dequantisation used in training on quantised data.
"""

from flowkit.data.checkerboard import Checkerboard
from flowkit.data.curves import Circles, Moons, NoisyCurve, Spirals, SwissRoll
from flowkit.data.digits import Digits, load_digits_levels
from flowkit.data.mixtures import EightGaussians, GaussianMixture
from flowkit.data.quantization import bin_centres, dequantize, quantize
from flowkit.data.splits import SPLITS, StoredSplits, split_generator
from flowkit.data.synthetic import SyntheticDataset
from flowkit.data.tensors import TensorData

__all__ = [
    "SPLITS",
    "Checkerboard",
    "Circles",
    "Digits",
    "EightGaussians",
    "GaussianMixture",
    "Moons",
    "NoisyCurve",
    "Spirals",
    "StoredSplits",
    "SwissRoll",
    "SyntheticDataset",
    "TensorData",
    "bin_centres",
    "dequantize",
    "load_digits_levels",
    "quantize",
    "split_generator",
]
