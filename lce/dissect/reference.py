"""The straightforward dissection: the test oracle and the benchmark's baseline, never the stage.

Everything is done the obvious way, so that its correctness can be read off the code: all
activations of a layer are held in memory, the threshold is ``numpy.quantile`` over them, and for
every image and every unit the map is upsampled, thresholded and the labels under the mask are
counted with ``numpy.bincount``. The engine must reproduce these counts exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lce.dissect.concepts import ConceptIndex
from lce.dissect.resize import resize
from lce.dissect.tally import iou_from_counts, pooled_counts


def unit_thresholds(acts: np.ndarray, quantile: float) -> np.ndarray:
    """T_u = the (1 - q) quantile of unit u's raw activations over all images and positions."""
    per_unit = acts.transpose(1, 0, 2, 3).reshape(acts.shape[1], -1)
    return np.quantile(per_unit, 1 - quantile, axis=1).astype(np.float32)


def first_planes(planes: np.ndarray) -> np.ndarray:
    """Planes (m, P) with a label zeroed where an earlier plane already holds it at that pixel,
    so that bincounts over all planes count each (pixel, label) once -- the union of planes."""
    out = planes.copy()
    for k in range(1, len(planes)):
        out[k][(planes[:k] == planes[k]).any(axis=0)] = 0
    return out


@dataclass
class ReferenceCounts:
    """Pooled counts of one layer, as numpy int64 arrays."""

    index: ConceptIndex
    intersection: np.ndarray  # (units, K)
    concept_area: np.ndarray  # (K,)
    area_netdissect: np.ndarray  # (units, categories)
    area_lite: np.ndarray  # (units, categories)

    def counts(self, denominator: str = "netdissect"):
        area = self.area_netdissect if denominator == "netdissect" else self.area_lite
        return pooled_counts(self.intersection, self.concept_area, area, self.index, denominator)

    def iou(self, denominator: str = "netdissect") -> np.ndarray:
        return iou_from_counts(*self.counts(denominator))


def reference_tally(acts: np.ndarray, thresholds: np.ndarray, probe,
                    index: ConceptIndex) -> ReferenceCounts:
    """Count, for every image and unit, the labels under the unit's mask with ``bincount``."""
    n_units, k, n_cat = acts.shape[1], len(index.numbers), len(index.categories)
    counts = ReferenceCounts(index, np.zeros((n_units, k), np.int64), np.zeros(k, np.int64),
                             np.zeros((n_units, n_cat), np.int64),
                             np.zeros((n_units, n_cat), np.int64))
    size = max(int(index.numbers.max(initial=0)) + 1, 1)
    for i in range(len(probe)):
        rec = probe.records[i]
        n_pixels = rec.sh * rec.sw
        seg = probe.segmentation(i)
        image_numbers = np.zeros(0, np.int64)  # image-level concepts: the whole image
        pixel_planes, present = [np.zeros((0, n_pixels), np.int32)], {}
        for category in index.categories:
            data = seg.get(category, np.zeros(0, np.int32))
            if category in probe.image_level:
                numbers = np.intersect1d(data, index.numbers)
                image_numbers = np.union1d(image_numbers, numbers)
                present[category] = numbers.size > 0
            else:
                planes = data.reshape(len(data), n_pixels)
                pixel_planes.append(planes)
                present[category] = bool((planes > 0).any())
        # a concept's pixels are the union of every plane carrying it, in any category
        planes = first_planes(np.concatenate(pixel_planes))
        planes[np.isin(planes, image_numbers)] = 0
        image_columns = index.columns(image_numbers)
        counts.concept_area[image_columns] += n_pixels
        for plane in planes:
            counts.concept_area += np.bincount(plane, minlength=size)[:size][index.numbers]
        for u in range(n_units):
            up = resize(torch.from_numpy(acts[i, u][None, None]), (rec.sh, rec.sw))
            mask = (up > torch.tensor(thresholds[u])).flatten().numpy()
            fired = int(mask.sum())
            here = np.zeros(k, np.int64)  # this image's intersections
            here[image_columns] += fired
            for plane in planes:
                here += np.bincount(plane[mask], minlength=size)[:size][index.numbers]
            counts.intersection[u] += here
            for j, category in enumerate(index.categories):
                if present[category]:
                    counts.area_netdissect[u, j] += fired
                # Lite: the whole fired area, once a fired pixel carries a concept of category j
                if (here[index.category_of == j] > 0).any():
                    counts.area_lite[u, j] += fired
    return counts
