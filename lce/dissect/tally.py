"""Dataset-pooled IoU tallies between unit masks and concept masks (NetDissect semantics).

For unit u and concept c, pooled over the probe set::

    I[u, c] = sum_i |M_u(i) & L_c(i)|          G[c] = sum_i |L_c(i)|
    IoU[u, c] = I / (A[u, cat(c)] + G[c] - I)

where ``M_u(i)`` is the unit's thresholded, bilinearly upsampled map of image i, ``L_c(i)`` the
concept's pixels and ``A`` the unit's activated area counted over the images that contain the
concept's primary category (``netdissect``) or only on pixels labelled in that category (``lite``).

Speed comes from never computing what cannot fire. The resize only takes convex combinations of
raw values, so an output pixel can exceed T_u only if one of the raw values it reads does (up to a
rounding margin): at q = 0.005 most (image, unit) pairs are skipped outright, and of the rest only
the output blocks next to a hot raw value are resized -- approximately, by small matrix products,
and exactly (:func:`lce.dissect.resize.values_at`, bit-identical to the dense resize) only where
the approximation is within rounding of T_u. Each fired pixel is then counted by its pixel *kind*
(:mod:`lce.dissect.concepts`), and the kinds' incidence matrix turns those counts into
intersections and ``lite`` areas (int64, accumulated on the compute device).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lce.dissect.concepts import ConceptIndex, ImageConcepts
from lce.dissect.resize import taps, values_at

DENOMINATORS = ("netdissect", "lite")
# Relative slack of the "can this fire?" test: resize weights sum to 1 only up to rounding.
MARGIN = 1e-5
# Most output values evaluated at once (bounds the memory of one step).
BLOCK_ELEMENTS = 1 << 22


@dataclass
class FiredPixels:
    """The fired pixels of a batch of images: pairs (image, unit) and (pair, pixel) entries,
    both sorted, so each image's pairs and pixels are contiguous ranges."""

    pair_image: torch.Tensor  # (F,) batch index of the image
    pair_unit: torch.Tensor  # (F,)
    pixel_pair: torch.Tensor  # (nnz,) index into the pairs
    pixel: torch.Tensor  # (nnz,) flat pixel index y * W + x


def fired_pixels(maps: torch.Tensor, thresholds: torch.Tensor,
                 size: tuple[int, int]) -> FiredPixels:
    """Where the masks ``resize(maps) > thresholds`` of (B, C, h, w) maps are set.

    Each block that can fire is resized approximately by two small matrix products (its source
    patch between the row and column weights); only pixels within rounding slack of T_u are then
    evaluated exactly, so the result is the dense resize's, bit for bit.
    """
    device = maps.device
    h, w = maps.shape[2:]
    rows, cols = taps(h, size[0]), taps(w, size[1])
    slack = MARGIN * (thresholds.abs()[None] + maps.abs().amax(dim=(2, 3)))
    hot = maps > (thresholds[None] - slack)[..., None, None]
    pair_image, pair_unit = torch.nonzero(hot.any(dim=3).any(dim=2), as_tuple=True)
    empty = torch.zeros(0, dtype=torch.long, device=device)
    if pair_image.numel() == 0:
        return FiredPixels(pair_image, pair_unit, empty, empty)
    pair_maps = maps[pair_image, pair_unit].float()  # (F, h, w)
    pair_t, pair_slack = thresholds[pair_unit], slack[pair_image, pair_unit]
    reads_r = torch.from_numpy(rows.group_reads).to(device).float()
    reads_c = torch.from_numpy(cols.group_reads).to(device).float()
    blocks = (reads_r @ hot[pair_image, pair_unit].float() @ reads_c.T) > 0  # (F, Gy, Gx)
    pairs, gy, gx = torch.nonzero(blocks, as_tuple=True)
    max_r, max_c = int(rows.group_size.max()), int(cols.group_size.max())
    step = max(1, BLOCK_ELEMENTS // (max_r * max_c))
    fired_pair, fired_pixel = [], []
    for s in range(0, pairs.numel(), step):
        p = pairs[s:s + step]
        row_idx, row_ok = _block_span(rows, gy[s:s + step], max_r, device)
        col_idx, col_ok = _block_span(cols, gx[s:s + step], max_c, device)
        above = (_block_values(pair_maps, rows, cols, p, row_idx, col_idx)
                 - pair_t[p][:, None, None].double())
        margin = pair_slack[p]
        candidate = (above > -margin[:, None, None]) & row_ok[:, :, None] & col_ok[:, None, :]
        k, i, j = torch.nonzero(candidate, as_tuple=True)
        fired = above[k, i, j] > margin[k]
        unsure = torch.nonzero(~fired).flatten()  # within rounding of T: decide exactly
        exact = values_at(pair_maps, rows, cols, p[k[unsure]], row_idx[k[unsure], i[unsure], None],
                          col_idx[k[unsure], j[unsure], None])
        fired[unsure] = exact.flatten() > pair_t[p[k[unsure]]]
        fired_pair.append(p[k[fired]])
        fired_pixel.append(row_idx[k[fired], i[fired]] * size[1] + col_idx[k[fired], j[fired]])
    # blocks come in pair order and pixels in block order: the entries are already sorted
    return FiredPixels(pair_image, pair_unit, torch.cat(fired_pair), torch.cat(fired_pixel))


def _block_span(axis, group: torch.Tensor, width: int, device):
    """Output indices (K, width) of each block's group along one axis, and which are real."""
    start = torch.from_numpy(axis.group_start).to(device)[group]
    count = torch.from_numpy(axis.group_size).to(device)[group]
    offset = torch.arange(width, device=device)
    return start[:, None] + offset.clamp(max=count[:, None] - 1), offset[None, :] < count[:, None]


def _block_values(maps, rows, cols, which, row_idx, col_idx) -> torch.Tensor:
    """Resized values of whole blocks, up to rounding: row weights @ source patch @ column
    weights. All outputs of a block read the same taps, so the patch is the first row's. In
    float64, so that reduced-precision matmul settings (TF32 on CUDA) cannot widen the error."""
    device = maps.device
    iy = torch.from_numpy(rows.index).to(device)[row_idx[:, 0]]  # (K, ty)
    ix = torch.from_numpy(cols.index).to(device)[col_idx[:, 0]]  # (K, tx)
    wy = torch.from_numpy(rows.weight).to(device, torch.float64)[row_idx]  # (K, r, ty)
    wx = torch.from_numpy(cols.weight).to(device, torch.float64)[col_idx]  # (K, c, tx)
    patch = maps[which[:, None, None], iy[:, :, None], ix[:, None, :]].double()  # (K, ty, tx)
    return wy @ patch @ wx.transpose(1, 2)


class IoUTally:
    """Accumulates I, G and A over images, then gives the IoU matrix (units x concepts)."""

    def __init__(self, n_units: int, index: ConceptIndex, device="cpu"):
        self.index = index
        k, n_cat = len(index.numbers), len(index.categories)
        self.intersection = torch.zeros((n_units, k), dtype=torch.long, device=device)
        self.concept_area = torch.zeros(k, dtype=torch.long, device=device)
        self.area_netdissect = torch.zeros((n_units, n_cat), dtype=torch.long, device=device)
        self.area_lite = torch.zeros((n_units, n_cat), dtype=torch.long, device=device)

    def add_batch(self, fired: FiredPixels, concepts: list[ImageConcepts]) -> None:
        """Add a batch of images: their fired pixels and their concepts."""
        device = self.intersection.device
        n_pairs = fired.pair_image.numel()
        area = torch.bincount(fired.pixel_pair, minlength=n_pairs)
        pair_bounds = torch.searchsorted(
            fired.pair_image, torch.arange(len(concepts) + 1, device=device)).tolist()
        pixel_bounds = torch.searchsorted(
            fired.pixel_pair, torch.tensor(pair_bounds, device=device)).tolist()
        for b, image in enumerate(concepts):
            k = len(image.columns)
            columns = torch.from_numpy(image.columns).to(device)
            self.concept_area.index_add_(0, columns, torch.from_numpy(image.areas).to(device))
            lo, hi = pair_bounds[b], pair_bounds[b + 1]
            if lo == hi:
                continue
            units = fired.pair_unit[lo:hi]
            plo, phi = pixel_bounds[b], pixel_bounds[b + 1]
            kinds = torch.from_numpy(image.kinds).to(device, torch.float64)
            kind = torch.from_numpy(image.kind).to(device)[fired.pixel[plo:phi]]
            per_kind = torch.bincount((fired.pixel_pair[plo:phi] - lo) * len(kinds) + kind,
                                      minlength=(hi - lo) * len(kinds))
            # exact: integer sums far below 2**53
            overlap = (per_kind.view(hi - lo, -1).double() @ kinds).round().long()
            flat = (units[:, None] * self.intersection.shape[1] + columns[None, :]).flatten()
            self.intersection.view(-1).index_add_(0, flat, overlap[:, :k].flatten())
            self.area_lite.index_add_(0, units, overlap[:, k:])
            present = torch.from_numpy(image.present).to(device).long()
            self.area_netdissect.index_add_(0, units, area[lo:hi, None] * present[None, :])

    def counts(self, denominator: str = "netdissect") -> tuple[np.ndarray, np.ndarray]:
        """(intersection, union) as int64 arrays (units x concepts)."""
        area = self.area_netdissect if denominator == "netdissect" else self.area_lite
        return pooled_counts(self.intersection.cpu().numpy(), self.concept_area.cpu().numpy(),
                             area.cpu().numpy(), self.index, denominator)

    def iou(self, denominator: str = "netdissect") -> np.ndarray:
        return iou_from_counts(*self.counts(denominator))


def pooled_counts(intersection, concept_area, area, index: ConceptIndex, denominator: str):
    """(I, A + G - I) from pooled counts; ``area`` is the chosen denominator's (units x cats)."""
    if denominator not in DENOMINATORS:
        raise ValueError(f"denominator must be one of {DENOMINATORS}")
    return intersection, area[:, index.category_of] + concept_area[None, :] - intersection


def iou_from_counts(intersection: np.ndarray, union: np.ndarray) -> np.ndarray:
    return np.where(union > 0, intersection / np.maximum(union, 1), 0.0)
