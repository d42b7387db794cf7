"""Dataset-pooled IoU tallies between unit masks and concept masks (NetDissect semantics).

For unit u and concept c of primary category k, pooled over the probe set::

    I[u, c] = sum_i |M_u(i) & L_c(i)|          G[c] = sum_i |L_c(i)|
    IoU[u, c] = I / (A[u, k] + G[c] - I)

where ``M_u(i)`` is the unit's thresholded, bilinearly upsampled map of image i and ``L_c(i)`` the
concept's pixels (the union of its planes; the whole image for image-level concepts). ``A`` is the
unit's fired area summed over

- ``netdissect``: the images that contain category k;
- ``lite`` (NetDissect-Lite's ``tally_units_cat``): the images where at least one fired pixel
  carries a concept of primary category k -- the *whole* fired area of such an image counts, not
  only its labelled pixels; an image-level concept counts as soon as the unit fires at all.

Speed comes from never computing what cannot fire, and from exact arithmetic that needs no second
look. An output value is a convex combination of raw values computed with float64 sums far more
precise than float32, so it exceeds T_u only if a raw value it reads does: pairs (image, unit) and
output blocks (:mod:`lce.dissect.resize`) without such a value are skipped outright, with no
rounding margin. The blocks left are evaluated with PIL's own operations and compared in float64
against the exact rounding boundary of T_u (:func:`lce.dissect.resize.above_threshold`), so
saturated maps (ReLU6: many values equal to T) cost nothing extra. Each fired pixel is counted by
its pixel *kind* (:mod:`lce.dissect.concepts`) -- on the CPU in one compiled loop
(:mod:`lce.dissect.kernel`), elsewhere by tensor operations and one bincount per chunk of blocks
-- and the kinds' incidence turns those counts into intersections and both areas (int64, on the
compute device), for a whole batch of images at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import torch

from lce.dissect.concepts import ConceptIndex, ImageConcepts
from lce.dissect.resize import above_threshold, block_values, taps

DENOMINATORS = ("netdissect", "lite")
# Blocks evaluated at once: their float64 values (blocks x 16 x 16 for 7x7 maps at 112x112) stay
# within the CPU's caches, where the elementwise operations run several times faster.
CHUNK_BLOCKS = 2048


class IoUTally:
    """Accumulates I, G and both areas A over images, then gives the IoU matrix (units x concepts).

    The concept axis has one spare last column, where the padding entries of a batch land;
    :meth:`counts` leaves it out.
    """

    def __init__(self, thresholds: torch.Tensor, index: ConceptIndex, device="cpu"):
        self.index = index
        self.thresholds = thresholds.to(device, torch.float32)
        self.limit = above_threshold(self.thresholds)
        n_units, k, n_cat = len(thresholds), len(index.numbers), len(index.categories)
        zeros = lambda *shape: torch.zeros(shape, dtype=torch.long, device=device)  # noqa: E731
        self.intersection = zeros(n_units, k + 1)
        self.concept_area = zeros(k)
        self.area_netdissect = zeros(n_units, n_cat)
        self.area_lite = zeros(n_units, n_cat)
        # category of each concept column, the spare one in a spare category
        self.category_of = torch.from_numpy(np.append(index.category_of, n_cat)).to(device)

    def add_batch(self, maps: torch.Tensor, concepts: list[ImageConcepts],
                  size: tuple[int, int], compiled: bool | None = None) -> None:
        """Add images with maps (B, units, h, w) float32 and concepts at mask size ``size``.

        On the CPU (or with ``compiled``) the compiled loops of :mod:`lce.dissect.kernel` do the
        whole batch; elsewhere tensor operations on the tallies' device.
        """
        device = self.intersection.device
        n_concepts, n_cat = len(self.index.numbers), self.area_lite.shape[1]
        batch = _BatchConcepts(concepts, n_concepts, device)
        self.concept_area.index_add_(0, batch.columns, batch.areas)
        if compiled if compiled is not None else device.type == "cpu":
            self._add_compiled(maps, batch, size)
            return
        pair_image, pair_unit, per_kind = fired_per_kind(maps, self.thresholds, self.limit,
                                                         batch, size)
        if pair_image.numel() == 0:
            return
        area = per_kind.sum(dim=1)
        # per pair and (kind, concept) entry of its image's incidence: the kind's fired pixels
        fired = per_kind.gather(1, batch.entry_kind[pair_image])  # (F, E)
        column = batch.entry_column[pair_image]
        self.intersection.view(-1).index_add_(
            0, (pair_unit[:, None] * (n_concepts + 1) + column).flatten(), fired.flatten())
        touched = torch.zeros((len(area), n_cat + 1), dtype=torch.long, device=device)
        touched.scatter_add_(1, self.category_of[column], fired)
        self.area_lite.index_add_(0, pair_unit, area[:, None] * (touched[:, :n_cat] > 0))
        self.area_netdissect.index_add_(0, pair_unit,
                                        area[:, None] * batch.present[pair_image])

    def _add_compiled(self, maps: torch.Tensor, batch: _BatchConcepts, size) -> None:
        """The batch through :func:`lce.dissect.kernel.tally_batch_cpu`, its units split over
        torch's number of intra-op threads."""
        from lce.dissect.kernel import tally_batch_cpu

        args = (maps.numpy(), self.thresholds.numpy(), self.limit.numpy(),
                _kernel_kinds(batch, size), batch.n_kinds, batch.entry_kind.numpy(),
                batch.entry_column.numpy(), self.category_of.numpy(), batch.present.numpy(),
                *_axes(maps.shape[2:], size), self.intersection.numpy(), self.area_lite.numpy(),
                self.area_netdissect.numpy())
        n_units, n_threads = maps.shape[1], max(1, torch.get_num_threads())
        bounds = np.linspace(0, n_units, n_threads + 1).astype(np.int64)
        ranges = [np.array(r) for r in zip(bounds[:-1], bounds[1:], strict=True) if r[1] > r[0]]
        if len(ranges) == 1:
            tally_batch_cpu(*args, ranges[0])
            return
        for job in [_threads(len(ranges)).submit(tally_batch_cpu, *args, r) for r in ranges]:
            job.result()

    def counts(self, denominator: str = "netdissect") -> tuple[np.ndarray, np.ndarray]:
        """(intersection, union) as int64 arrays (units x concepts)."""
        area = self.area_netdissect if denominator == "netdissect" else self.area_lite
        return pooled_counts(self.intersection[:, :-1].cpu().numpy(),
                             self.concept_area.cpu().numpy(), area.cpu().numpy(), self.index,
                             denominator)

    def iou(self, denominator: str = "netdissect") -> np.ndarray:
        return iou_from_counts(*self.counts(denominator))


class _BatchConcepts:
    """A batch's :class:`ImageConcepts` as tensors: pixel kinds (B, P + 1; the last pixel is
    padding, of the spare kind ``n_kinds``), each image's kind-concept incidence as padded
    (kind, concept column) entries (padding: kind 0 and the spare column), the concepts' areas
    and the categories present."""

    def __init__(self, concepts: list[ImageConcepts], n_concepts: int, device):
        self.n_kinds = max(len(c.kinds) for c in concepts)
        n_pixels = max(len(c.kind) for c in concepts)
        kind = np.full((len(concepts), n_pixels + 1), self.n_kinds, dtype=np.int64)
        entries = [np.nonzero(image.kinds) for image in concepts]
        width = max(1, max(len(rows) for rows, _ in entries))
        entry_kind = np.zeros((len(concepts), width), dtype=np.int64)
        entry_column = np.full((len(concepts), width), n_concepts, dtype=np.int64)
        for b, (image, (rows, cols)) in enumerate(zip(concepts, entries, strict=True)):
            kind[b, :len(image.kind)] = image.kind
            entry_kind[b, :len(rows)], entry_column[b, :len(rows)] = rows, image.columns[cols]
        as_tensor = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        self.kind, self.entry_kind, self.entry_column = map(as_tensor, (kind, entry_kind,
                                                                        entry_column))
        self.columns = as_tensor(np.concatenate([c.columns for c in concepts]).astype(np.int64))
        self.areas = as_tensor(np.concatenate([c.areas for c in concepts]).astype(np.int64))
        self.present = as_tensor(np.stack([c.present for c in concepts])).long()


def _axes(shape: tuple[int, int], size: tuple[int, int]) -> tuple:
    """The kernels' per-axis arguments: group start, size, taps and weights, rows then columns."""
    out = ()
    for axis in (taps(shape[0], size[0]), taps(shape[1], size[1])):
        out += (axis.group_start, axis.group_size, axis.index[axis.group_start],
                axis.group_weight)
    return out


def _kernel_kinds(batch: _BatchConcepts, size) -> np.ndarray:
    """The kernels' view of a batch's pixel kinds: (B, H, W) in the smallest unsigned type that
    holds them, so that all the batch's kinds stay in cache while every unit meets them."""
    kind = batch.kind[:, :-1].cpu().numpy().reshape(-1, *size)
    for dtype in (np.uint8, np.uint16, np.uint32):
        if batch.n_kinds - 1 <= np.iinfo(dtype).max:
            return kind.astype(dtype)
    return kind


@lru_cache(maxsize=4)
def _threads(n: int) -> ThreadPoolExecutor:
    """A pool of ``n`` threads for the compiled loops (kept: starting threads per batch costs)."""
    return ThreadPoolExecutor(n, thread_name_prefix="lce-tally")


def _block_pixels(rows, cols, size: tuple[int, int]) -> np.ndarray:
    """(Gy * Gx, S_r * S_c) flat pixel index of every block's padded pixels; padding -> P."""
    def span(axis):
        offset = np.arange(axis.group_weight.shape[1])
        return axis.group_start[:, None] + offset, offset[None, :] < axis.group_size[:, None]
    y, y_ok = span(rows)
    x, x_ok = span(cols)
    flat = y[:, None, :, None] * size[1] + x[None, :, None, :]
    ok = y_ok[:, None, :, None] & x_ok[None, :, None, :]
    return np.where(ok, flat, size[0] * size[1]).reshape(len(y) * len(x), -1)


def fired_per_kind(maps: torch.Tensor, thresholds: torch.Tensor, limit: torch.Tensor,
                   batch: _BatchConcepts, size: tuple[int, int]):
    """For every pair (image, unit) that can fire: its fired pixels per kind of its image, by
    tensor operations on the maps' device (the CPU runs :mod:`lce.dissect.kernel` instead).

    Returns ``(pair_image, pair_unit, per_kind)``, per_kind (F, n_kinds) int64. ``maps`` are
    (B, units, h, w); a pixel fires when PIL's resized value exceeds T_u (``limit``: its float64
    rounding boundary).
    """
    device = maps.device
    h, w = maps.shape[2:]
    rows, cols = taps(h, size[0]), taps(w, size[1])
    pair_image, pair_unit = torch.nonzero(maps.flatten(2).amax(dim=2) > thresholds,
                                          as_tuple=True)
    if pair_image.numel() == 0:
        return pair_image, pair_unit, torch.zeros((0, batch.n_kinds), dtype=torch.long,
                                                  device=device)
    reads_r = torch.from_numpy(rows.group_reads).to(device).float()
    reads_c = torch.from_numpy(cols.group_reads).to(device).float()
    hot = (maps[pair_image, pair_unit] > thresholds[pair_unit, None, None]).float()
    blocks = (reads_r @ hot @ reads_c.T) > 0  # (F, Gy, Gx)
    return pair_image, pair_unit, _blocks_per_kind(maps, limit, pair_image, pair_unit, blocks,
                                                   batch, rows, cols, size)


def _blocks_per_kind(maps, limit, pair_image, pair_unit, blocks, batch, rows, cols, size):
    """The tensor-operation evaluation of :func:`fired_per_kind`, in chunks of blocks."""
    device = maps.device
    n_images, n_units, h, w = maps.shape
    n_kinds = batch.n_kinds + 1  # with the padding kind
    per_kind = torch.zeros((pair_image.numel(), n_kinds), dtype=torch.long, device=device)
    n_gx = blocks.shape[2]
    n_gy_gx = blocks.shape[1] * n_gx
    pairs, gy, gx = torch.nonzero(blocks, as_tuple=True)  # in pair order
    row_taps = torch.from_numpy(rows.index[rows.group_start]).to(device)  # (Gy, ty)
    col_taps = torch.from_numpy(cols.index[cols.group_start]).to(device)  # (Gx, tx)
    row_weight = torch.from_numpy(rows.group_weight).to(device)
    col_weight = torch.from_numpy(cols.group_weight).to(device)
    # each block's pixel kinds, doubled: a pixel's bincount key is 2 * (slot of its pair's kind)
    # plus 1 when it fires, so one bincount over all candidates counts the fired ones
    block_kind = (2 * batch.kind[:, torch.from_numpy(_block_pixels(rows, cols, size))
                                 .to(device)]).int().flatten(0, 1)  # (B * Gy * Gx, S)
    flat = maps.reshape(-1)
    pair_base = (pair_image * n_units + pair_unit) * (h * w)
    pair_limit = limit[pair_unit]
    for s in range(0, pairs.numel(), CHUNK_BLOCKS):
        p, by, bx = pairs[s:s + CHUNK_BLOCKS], gy[s:s + CHUNK_BLOCKS], gx[s:s + CHUNK_BLOCKS]
        source = (pair_base[p, None, None] + row_taps[by][:, :, None] * w
                  + col_taps[bx][:, None, :])
        values = block_values(flat[source], row_weight[by], col_weight[bx])
        fired = values.view(len(p), -1) > pair_limit[p, None]
        first = int(p[0])
        slot = (2 * n_kinds * (p - first)).int()[:, None]
        key = block_kind.index_select(0, (pair_image[p] * n_gy_gx + by * n_gx + bx)) + slot
        found = torch.bincount((key + fired).view(-1),
                               minlength=(int(p[-1]) - first + 1) * n_kinds * 2)
        per_kind[first:first + found.numel() // (2 * n_kinds)] += found.view(-1, n_kinds, 2)[..., 1]
    return per_kind[:, :-1]


def pooled_counts(intersection, concept_area, area, index: ConceptIndex, denominator: str):
    """(I, A + G - I) from pooled counts; ``area`` is the chosen denominator's (units x cats)."""
    if denominator not in DENOMINATORS:
        raise ValueError(f"denominator must be one of {DENOMINATORS}")
    return intersection, area[:, index.category_of] + concept_area[None, :] - intersection


def iou_from_counts(intersection: np.ndarray, union: np.ndarray) -> np.ndarray:
    return np.where(union > 0, intersection / np.maximum(union, 1), 0.0)
