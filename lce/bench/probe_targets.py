"""Dense and localization targets from a Broden probe set, and its seeded image split.

Segmentation targets are one label map per category at a fixed ``label_size`` (nearest-neighbour
from the mask resolution, so label numbers stay labels); where an image has several planes of a
category the first labelled plane wins, as in Broden's own overlap order. The *main object* of an
image is the largest connected region of its most frequent object label, the box a detector
would be asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lce.errors import LCEError


@dataclass(frozen=True)
class ProbeTargets:
    images: np.ndarray  # (N, H, W, 3) uint8
    labels: dict[str, np.ndarray]  # category -> (N, L, L) int32 label numbers, 0 = unlabelled
    boxes: np.ndarray  # (N, 4) float (y0, x0, y1, x1) in [0, 1]; NaN when no object


def merge_planes(planes: np.ndarray) -> np.ndarray:
    """(P, sh, sw) label planes -> one (sh, sw) map, the first nonzero plane winning."""
    merged = np.zeros(planes.shape[1:], dtype=np.int32)
    for plane in planes[::-1]:
        merged = np.where(plane > 0, plane, merged)
    return merged


def label_map(planes: np.ndarray, size: int) -> np.ndarray:
    """(P, sh, sw) label planes -> merged (size, size) map, resized nearest-neighbour."""
    merged = merge_planes(planes)
    rows = ((np.arange(size) + 0.5) * merged.shape[0] / size).astype(int)
    cols = ((np.arange(size) + 0.5) * merged.shape[1] / size).astype(int)
    return merged[np.ix_(rows, cols)]


def main_object_box(objects: np.ndarray) -> np.ndarray:
    """Normalized (y0, x0, y1, x1) of the main object in a label map; NaN if there is none."""
    from scipy import ndimage

    numbers, counts = np.unique(objects[objects > 0], return_counts=True)
    if numbers.size == 0:
        return np.full(4, np.nan)
    regions, n = ndimage.label(objects == numbers[counts.argmax()])
    largest = 1 + int(np.argmax(np.bincount(regions.ravel())[1:]))
    ys, xs = np.nonzero(regions == largest)
    h, w = objects.shape
    return np.array([ys.min() / h, xs.min() / w, (ys.max() + 1) / h, (xs.max() + 1) / w])


def load_targets(probe, categories: tuple[str, ...], label_size: int,
                 on_image=None) -> ProbeTargets:
    """Images, label maps of ``categories`` and main-object boxes of every probe image."""
    missing = [c for c in (*categories, "object") if c not in probe.pixel_categories]
    if missing:
        raise LCEError(f"{probe.root}: probe set has no pixel-level category {missing[0]!r}",
                       hint=f"its pixel-level categories: {', '.join(probe.pixel_categories)}")
    images, boxes = [], []
    labels = {c: [] for c in categories}
    for i in range(len(probe)):
        image = probe.image(i)
        if images and image.shape != images[0].shape:
            raise LCEError(f"{probe.root / 'index.csv'}: row {probe.records[i].row}: image is "
                           f"{image.shape[0]}x{image.shape[1]}, the first image "
                           f"{images[0].shape[0]}x{images[0].shape[1]}",
                           hint="dense benchmarks need probe images of one size")
        segmentation = probe.segmentation(i)
        images.append(image)
        for category in categories:
            labels[category].append(label_map(segmentation[category], label_size))
        boxes.append(main_object_box(merge_planes(segmentation["object"])))
        if on_image:
            on_image()
    return ProbeTargets(np.stack(images), {c: np.stack(v) for c, v in labels.items()},
                        np.stack(boxes))


def image_split(n_images: int, test_fraction: float, val_fraction: float, seed: int):
    """Seeded (train, val, test) image indices of a probe set."""
    order = np.random.default_rng(seed).permutation(n_images)
    n_test = int(round(n_images * test_fraction))
    n_val = int(round(n_images * val_fraction))
    if min(n_test, n_val, n_images - n_test - n_val) < 1:
        raise LCEError(f"probe set of {n_images} images is too small to split into train, "
                       "validation and test images", hint="raise probe.n_images")
    return (np.sort(order[n_test + n_val:]), np.sort(order[n_test:n_test + n_val]),
            np.sort(order[:n_test]))
