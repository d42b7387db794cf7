"""Labelled image datasets for the classification benchmarks, all available offline.

Each loader returns ``(images, labels)`` with images uint8 (N, H, W) or (N, H, W, 3) and labels
int64 in 0..K-1. ``classification_dataset`` draws a seeded, class-stratified subset, so a larger
dataset (10,000 silhouettes) costs no more than a small one and every model sees the same images.
"""

from __future__ import annotations

import numpy as np

from lce.errors import LCEError


def _mnist5k(n_synthetic: int, seed: int):
    from lce.data.offline import mnist_5k

    return mnist_5k()


def _animals(n_synthetic: int, seed: int):
    from lce.data.offline import animal_silhouettes

    return animal_silhouettes()


def _digits(n_synthetic: int, seed: int):
    from sklearn.datasets import load_digits

    digits = load_digits()
    # 8x8 images with intensities 0..16: stretch to the 0..255 range of the other datasets
    images = np.clip(digits.images * (255 / 16), 0, 255).round().astype(np.uint8)
    return images, digits.target.astype(np.int64)


def _synthetic(label: str):
    def load(n_synthetic: int, seed: int):
        from lce.probe.synthetic import SyntheticConfig, generate_training_split

        split = generate_training_split(SyntheticConfig(n_images=n_synthetic, image_size=64,
                                                        seed=seed))
        labels = np.asarray(getattr(split, label), dtype=np.int64)
        keep = labels >= 0  # images without any object have no dominant-object label
        _, labels = np.unique(labels[keep], return_inverse=True)
        return split.images[keep], labels.astype(np.int64)
    return load


LOADERS = {
    "mnist5k": _mnist5k,
    "animals": _animals,
    "digits": _digits,
    "synthetic-scenes": _synthetic("scene"),
    "synthetic-objects": _synthetic("object"),
}


def stratified_subset(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of about ``n`` items with every class kept in its original proportion."""
    if n >= len(labels):
        return np.arange(len(labels))
    chosen = []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        take = max(1, round(n * len(members) / len(labels)))
        chosen.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(chosen))


def classification_dataset(name: str, max_images: int, seed: int, n_synthetic: int = 1000):
    """(images, labels) of dataset ``name``, a seeded stratified subset of ``max_images``."""
    if name not in LOADERS:
        raise LCEError(f"unknown benchmark dataset {name!r}",
                       hint=f"known datasets: {', '.join(LOADERS)}")
    images, labels = LOADERS[name](n_synthetic, seed)
    keep = stratified_subset(labels, max_images, np.random.default_rng([seed, len(labels)]))
    return images[keep], labels[keep]
