"""Dataset-pooled IoU tallies between unit masks and concept masks (NetDissect semantics).

For unit u and concept c, pooled over the probe set::

    I[u, c] = sum_i |M_u(i) & L_c(i)|          G[c] = sum_i |L_c(i)|
    IoU[u, c] = I / (A[u, cat(c)] + G[c] - I)

where ``M_u(i)`` is the unit's thresholded, bilinearly upsampled map of image i, ``L_c(i)`` the
concept's pixels (union of every plane carrying label c; the whole image for image-level
concepts) and ``A`` the unit's activated area counted over the images that contain the concept's
primary category (``netdissect``) or only on pixels labelled in that category (``lite``).
Counts are int64: a large probe set overflows int32 pixel totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

DENOMINATORS = ("netdissect", "lite")


@dataclass
class ConceptIndex:
    """Concept numbers in column order, and each concept's primary category index."""

    numbers: np.ndarray  # (K,) label numbers, sorted
    categories: list[str]
    category_of: np.ndarray  # (K,) index into ``categories``

    @classmethod
    def from_probe(cls, probe) -> ConceptIndex:
        numbers = np.array(sorted(probe.concepts), dtype=np.int64)
        cats = list(probe.categories)
        category_of = np.array([cats.index(probe.concepts[n].category) for n in numbers])
        return cls(numbers, cats, category_of)

    def columns(self, labels: np.ndarray) -> np.ndarray:
        """Column index of each label number (labels must be known concepts)."""
        return np.searchsorted(self.numbers, labels)


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize (align_corners=False) of (N, C, h, w) maps, like PIL's float resize.

    PIL's bilinear filter widens its support when shrinking, i.e. it antialiases; so does this.
    """
    shrinking = size[0] < maps.shape[-2] or size[1] < maps.shape[-1]
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=False,
                         antialias=shrinking)


def image_concept_masks(segmentation: dict[str, np.ndarray], image_level: set[str],
                        index: ConceptIndex, n_pixels: int):
    """The concepts present in one image as (columns (k,), pixel masks (k, P) bool),
    plus per-category presence (n_cat,) bool and labelled-pixel masks (n_cat, P) bool."""
    n_cat = len(index.categories)
    present = np.zeros(n_cat, dtype=bool)
    labelled = np.zeros((n_cat, n_pixels), dtype=bool)
    masks: dict[int, np.ndarray] = {}
    known = set(index.numbers.tolist())
    for j, category in enumerate(index.categories):
        data = segmentation.get(category)
        if data is None or data.size == 0:
            continue
        if category in image_level:
            numbers = [n for n in np.unique(data).tolist() if n in known]
            if numbers:
                present[j] = True
                labelled[j] = True
            for n in numbers:
                masks[n] = np.ones(n_pixels, dtype=bool)
            continue
        planes = data.reshape(data.shape[0], -1)
        labelled[j] = (planes > 0).any(axis=0)
        present[j] = labelled[j].any()
        for n in np.unique(planes).tolist():
            if n in known:
                hit = (planes == n).any(axis=0)
                masks[n] = masks[n] | hit if n in masks else hit
    numbers = np.array(sorted(masks), dtype=np.int64)
    pixel_masks = (np.stack([masks[n] for n in numbers]) if len(numbers)
                   else np.zeros((0, n_pixels), bool))
    return index.columns(numbers), pixel_masks, present, labelled


class IoUTally:
    """Accumulates I, G and A over images, then gives the IoU matrix (units x concepts)."""

    def __init__(self, n_units: int, index: ConceptIndex):
        self.index = index
        k, n_cat = len(index.numbers), len(index.categories)
        self.intersection = np.zeros((n_units, k), dtype=np.int64)
        self.concept_area = np.zeros(k, dtype=np.int64)
        self.area_netdissect = np.zeros((n_units, n_cat), dtype=np.int64)
        self.area_lite = np.zeros((n_units, n_cat), dtype=np.int64)

    def add(self, unit_masks: np.ndarray, columns, concept_masks, present, labelled) -> None:
        """Add one image: ``unit_masks`` (C, P) bool, the rest from ``image_concept_masks``."""
        m = torch.from_numpy(unit_masks).float()
        if len(columns):
            inter = m @ torch.from_numpy(concept_masks).float().T
            self.intersection[:, columns] += inter.round().long().numpy()
            self.concept_area[columns] += concept_masks.sum(axis=1)
        fired = unit_masks.sum(axis=1).astype(np.int64)
        self.area_netdissect += np.outer(fired, present)
        lite = m @ torch.from_numpy(labelled).float().T
        self.area_lite += lite.round().long().numpy()

    def iou(self, denominator: str = "netdissect") -> np.ndarray:
        if denominator not in DENOMINATORS:
            raise ValueError(f"denominator must be one of {DENOMINATORS}")
        area = self.area_netdissect if denominator == "netdissect" else self.area_lite
        union = area[:, self.index.category_of] + self.concept_area[None, :] - self.intersection
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, self.intersection / np.maximum(union, 1), 0.0)
