"""Built-in data sets (kind ``"dataset"``) and helpers for quantised data.

Two-dimensional toys: ``checkerboard``, ``8gaussians`` and ``2d-mixture`` (with exact
densities), ``moons``, ``circles``, ``spirals`` and ``swissroll`` (without); ``digits``
(scikit-learn's 8x8 images, shipped with the package); images read from files on disk:
``cifar10`` (official binary batches), ``imagenet32`` / ``imagenet64`` (official ``.npz``) and
``image-folder`` (any PNG / JPEG folder); :class:`TensorData` for a user's own tensors. :func:`dequantize` is the uniform dequantisation used in training on quantised data.
"""

from flowkit.core.quantization import bin_centres, dequantize, quantize
from flowkit.data.checkerboard import Checkerboard
from flowkit.data.cifar import Cifar10, read_cifar10_batch
from flowkit.data.curves import Circles, Moons, NoisyCurve, Spirals, SwissRoll
from flowkit.data.digits import Digits, load_digits_levels
from flowkit.data.files import DATA_ENV
from flowkit.data.folder import ImageFolder
from flowkit.data.imagenet import DownsampledImageNet, ImageNet32, ImageNet64, read_downsampled_imagenet
from flowkit.data.mixtures import EightGaussians, GaussianMixture
from flowkit.data.splits import SPLITS, StoredSplits, split_generator
from flowkit.data.synthetic import SyntheticDataset
from flowkit.data.tensors import TensorData

__all__ = [
    "DATA_ENV",
    "SPLITS",
    "Checkerboard",
    "Cifar10",
    "Circles",
    "Digits",
    "DownsampledImageNet",
    "EightGaussians",
    "GaussianMixture",
    "ImageFolder",
    "ImageNet32",
    "ImageNet64",
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
    "read_cifar10_batch",
    "read_downsampled_imagenet",
    "split_generator",
]
