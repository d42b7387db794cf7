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


def dataset_problem(name: str, root: str | Path | None, n_images: int) -> tuple[str, str] | None:
    """(setting, what is wrong) when dataset ``name`` cannot be drawn as asked, else None; the
    early params check and :func:`labelled_images` apply the same rules."""
    if name not in DATASETS:
        return "dataset", f"must be one of {', '.join(DATASETS)}, got {name!r}"
    if name in TORCHVISION_DATASETS and not root:
        return "data_root", f"required for dataset {name}"
    if name == SYNTHETIC and n_images <= 0:
        return "n_images", "required (> 0) for the synthetic dataset"
    return None


def labelled_images(name: str, synthetic: SyntheticDraw | None = None,
                    root: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of dataset ``name`` (see the module docstring)."""
    problem = dataset_problem(name, root, synthetic.n_images if synthetic else 0)
    if problem:
        raise LCEError(f"dataset {name}: {problem[0]}: {problem[1]}")
    if name in PACKAGED:
        return PACKAGED[name]()
    if name == SYNTHETIC:
        return _synthetic(synthetic)
    return load_torchvision_root(name, root, train=True)


def _synthetic(draw: SyntheticDraw) -> tuple[np.ndarray, np.ndarray]:
    from lce.probe.synthetic import SyntheticOptions, generate_training_split

    split = generate_training_split(SyntheticOptions(n_images=draw.n_images,
                                                    image_size=draw.image_size, seed=draw.seed))
    labels = np.asarray(getattr(split, draw.label), dtype=np.int64)
    # an image whose objects were all hidden has object label -1: it has no class to learn or
    # score, so it is left out (n_images counts the images generated)
    keep = labels >= 0
    if not keep.any():
        raise LCEError(f"synthetic label {draw.label}: no image has that label")
    return split.images[keep], labels[keep]
