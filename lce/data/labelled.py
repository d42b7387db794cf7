"""The one registry of labelled image sets that training runs and benchmarks draw from.

Every loader returns ``(images, labels)``: uint8 images (N, H, W) or (N, H, W, 3) and int64
labels. Packaged sets need nothing; the synthetic set is generated from its seed (the probe's
visual domain, labelled by scene or by dominant object); a torchvision-format set is read from
the root a user points to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lce.data.offline import animal_silhouettes, mnist_5k, sklearn_digits
from lce.data.torchvision_formats import TORCHVISION_DATASETS, load_torchvision_root
from lce.errors import LCEError

PACKAGED = {"mnist5k": mnist_5k, "animals": animal_silhouettes, "digits": sklearn_digits}
SYNTHETIC = "synthetic"
DATASETS = (*PACKAGED, SYNTHETIC, *TORCHVISION_DATASETS)


@dataclass(frozen=True)
class SyntheticDraw:
    """Which synthetic images to generate and which of their labels to learn."""
    n_images: int
    image_size: int
    seed: int
    label: str  # "scene" or "object" (the dominant object)


def labelled_images(name: str, synthetic: SyntheticDraw | None = None,
                    root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of dataset ``name`` (see the module docstring)."""
    if name in PACKAGED:
        return PACKAGED[name]()
    if name == SYNTHETIC:
        if synthetic is None:
            raise LCEError("the synthetic dataset needs its n_images, image_size and seed")
        return _synthetic(synthetic)
    if name in TORCHVISION_DATASETS:
        if not root:
            raise LCEError(f"dataset {name}: a torchvision-format root is required")
        return load_torchvision_root(name, root, train=True)
    raise LCEError(f"unknown dataset {name!r}", hint=f"known datasets: {', '.join(DATASETS)}")


def _synthetic(draw: SyntheticDraw) -> tuple[np.ndarray, np.ndarray]:
    from lce.probe.synthetic import SyntheticConfig, generate_training_split

    split = generate_training_split(SyntheticConfig(n_images=draw.n_images,
                                                    image_size=draw.image_size, seed=draw.seed))
    labels = np.asarray(getattr(split, draw.label), dtype=np.int64)
    # an image whose objects were all hidden has object label -1: it has no class to learn or
    # score, so it is left out (n_images counts the images generated)
    keep = labels >= 0
    if not keep.any():
        raise LCEError(f"synthetic label {draw.label}: no image has that label")
    return split.images[keep], labels[keep]
