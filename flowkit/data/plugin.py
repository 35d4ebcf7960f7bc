"""Registers the built-in data sets (kind ``"dataset"``)."""

from flowkit.data.checkerboard import Checkerboard
from flowkit.data.cifar import Cifar10
from flowkit.data.curves import Circles, Moons, Spirals, SwissRoll
from flowkit.data.digits import Digits
from flowkit.data.folder import ImageFolder
from flowkit.data.imagenet import ImageNet32, ImageNet64
from flowkit.data.mixtures import EightGaussians, GaussianMixture
from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_datasets(register: Register) -> None:
    """Register the built-in data sets."""
    register(
        "checkerboard", Checkerboard, description="2D checkerboard on [-4, 4]^2, uniform on 8 squares (exact density)"
    )
    register(
        "8gaussians", EightGaussians, description="2D mixture of 8 Gaussians on a circle (exact density, 8 labels)"
    )
    register("2d-mixture", GaussianMixture, description="2D Gaussian mixture, configurable components (exact density)")
    register("moons", Moons, description="2D two interleaving half circles with Gaussian noise (2 labels)")
    register("circles", Circles, description="2D two concentric circles with Gaussian noise (2 labels)")
    register("spirals", Spirals, description="2D two interleaved spiral arms with Gaussian noise (2 labels)")
    register("swissroll", SwissRoll, description="2D swiss roll with Gaussian noise")
    register("digits", Digits, description="scikit-learn 8x8 digit images, 17 levels, 10 labels (shipped)")
    register(
        "cifar10", Cifar10, description="CIFAR-10 32x32 from the official binary files on disk, 256 levels, 10 labels"
    )
    register(
        "imagenet32",
        ImageNet32,
        description="downsampled ImageNet 32x32 from the official .npz files on disk, 1000 labels",
    )
    register(
        "imagenet64",
        ImageNet64,
        description="downsampled ImageNet 64x64 from the official .npz files on disk, 1000 labels",
    )
    register(
        "image-folder", ImageFolder, description="a folder of PNG/JPEG images, resized and centre-cropped, 256 levels"
    )
