"""Labelled image datasets for the classification benchmarks, all available offline.

Each loader returns ``(images, labels)`` with images uint8 (N, H, W) or (N, H, W, 3) and labels
int64 in 0..K-1. ``classification_dataset`` draws a seeded, class-stratified subset, so a larger
dataset (10,000 silhouettes) costs no more than a small one and every model sees the same images.
"""

from __future__ import annotations

import numpy as np

from lce.data.labelled import SYNTHETIC, SyntheticDraw, labelled_images
from lce.errors import LCEError

# Benchmark dataset name -> (registry name, synthetic label). The synthetic sets are drawn at
# 64 px from the benchmark's seed, with labels renumbered 0..K-1 (object classes can be missing).
BENCH_DATASETS = {
    "mnist5k": ("mnist5k", None),
    "animals": ("animals", None),
    "digits": ("digits", None),
    "synthetic-scenes": (SYNTHETIC, "scene"),
    "synthetic-objects": (SYNTHETIC, "object"),
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
    if name not in BENCH_DATASETS:
        raise LCEError(f"unknown benchmark dataset {name!r}",
                       hint=f"known datasets: {', '.join(BENCH_DATASETS)}")
    source, label = BENCH_DATASETS[name]
    images, labels = labelled_images(source, SyntheticDraw(n_synthetic, 64, seed, label)
                                     if label else None)
    if label:
        _, labels = np.unique(labels, return_inverse=True)
        labels = labels.astype(np.int64)
    keep = stratified_subset(labels, max_images, np.random.default_rng([seed, len(labels)]))
    return images[keep], labels[keep]
