"""From segmenter scores to Dissect's multi-label masks (n, channels, h, w) of label numbers.

Kept apart from the networks so the rules can be tested on planted predictions: argmax per
task, materials and parts translated into the merged numbering (:mod:`lce.segment.vocab`), a part
trusted only where its owner object is predicted, and ``segdiv='quad'``: each connected region of
one object label (8-connected) is cut at the middle of its bounding box into top/bottom (channel 3)
and left/right (channel 4) halves that carry ``<object>-t/-b`` and ``-l/-r``; pixels of regions
that got no quadrant label are 0 there.

One quirk is kept on purpose, because the published profiles were made with it: Dissect visits
the regions of an image as ``range(1, num)`` of scikit-image's labelling, so the *last* region of
each image gets no quadrant labels. Changing it would change the labeller's identity.
"""

from __future__ import annotations

import numpy as np
import torch

# Channels of the unified-parsing masks with quadrants: object, material, part, t/b, l/r.
UNIFIED_CHANNELS = ("object", "material", "part", "part", "part")


def unified_masks(object_score: torch.Tensor, material_score: torch.Tensor,
                  part_scores: list[torch.Tensor], n_objects: int, owners: list[int],
                  translation: list[list[int]], quadrants: bool = True) -> torch.Tensor:
    """(n, 5, h, w) masks (3 without quadrants) from per-task scores (n, classes, h, w); the
    part scores are one tensor per object with parts (in ``owners`` order)."""
    mult = 5 if quadrants else 1
    n, _, h, w = object_score.shape
    segs = torch.zeros(n, 5 if quadrants else 3, h, w, dtype=torch.long,
                       device=object_score.device)
    segs[:, 0] = object_score.argmax(1)
    material = material_score.argmax(1)
    segs[:, 1] = torch.where(material == 0, 0, material + n_objects * mult)
    for owner, numbers, scores in zip(owners, translation, part_scores, strict=True):
        part = torch.as_tensor(numbers, device=segs.device)[scores.argmax(1)]
        where = segs[:, 0] == owner
        segs[:, 2][where] = part[where]
    if quadrants:
        segs[:, 3:] = torch.as_tensor(expand_quadrants(segs[:, 0].cpu().numpy(), n_objects),
                                      device=segs.device)
    return segs


def expand_quadrants(objects: np.ndarray, n_objects: int) -> np.ndarray:
    """(n, 2, h, w): the t/b and l/r channels of object masks (n, h, w), label j of object j
    becoming ``j + N`` (top), ``j + 3N`` (bottom), ``j + 2N`` (left), ``j + 4N`` (right)."""
    from scipy.ndimage import find_objects
    from skimage.measure import label as regions

    out = np.repeat(objects[:, None].astype(np.int64), 2, axis=1)
    for i in range(len(objects)):
        labelled, count = regions(objects[i], background=0, connectivity=2, return_num=True)
        # each region's bounding box (find_objects: one slice pair per label, in label order);
        # Dissect's range(1, num) leaves out the last region (above)
        for region, (rows, cols) in enumerate(find_objects(labelled)[:max(count - 1, 0)],
                                              start=1):
            mask = labelled[rows, cols] == region
            # the middle of the box, (top + bottom + 1) // 2, relative to the box
            vmid = (rows.stop - 1 - rows.start + 1) // 2
            hmid = (cols.stop - 1 - cols.start + 1) // 2
            y = np.arange(mask.shape[0])[:, None]
            x = np.arange(mask.shape[1])[None, :]
            out[i, 0, rows, cols] += mask * n_objects * np.where(y < vmid, 1, 3)
            out[i, 1, rows, cols] += mask * n_objects * np.where(x < hmid, 2, 4)
    out[out <= n_objects] = 0
    return out


def semantic_masks(score: torch.Tensor, channel_categories: tuple[str, ...],
                   external: list[int], categories: tuple[tuple[str, str | None], ...],
                   channel_names: tuple[str, ...]) -> torch.Tensor:
    """(n, categories, h, w): per category, the argmax over its channels, as external label
    numbers; a category with a ``mask`` label is kept only where that label wins its own
    category (Dissect's ``SemanticSegmenter``)."""
    indexes = {name: [i for i, c in enumerate(channel_categories) if c == name]
               for name, _ in categories}
    winners = {name: score[:, idx].argmax(1) for name, idx in indexes.items()}
    table = torch.as_tensor(external, device=score.device)
    out = []
    for name, mask_label in categories:
        seg = table[torch.as_tensor(indexes[name], device=score.device)[winners[name]]]
        if mask_label is not None:
            channel = channel_names.index(mask_label)
            owner = channel_categories[channel]
            seg = seg * (winners[owner] == indexes[owner].index(channel)).long()
        out.append(seg)
    return torch.stack(out, 1)


def merge(masks: list[torch.Tensor], offsets: list[int]) -> torch.Tensor:
    """Concatenate component masks in one numbering: component i's labels shifted by its
    offset, its 0 (no prediction) kept 0."""
    return torch.cat([torch.where(m == 0, 0, m + off) for m, off in
                      zip(masks, offsets, strict=True)], 1)
