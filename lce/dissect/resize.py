"""Bilinear resizing of activation maps to mask size, written out so that it can be done sparsely.

The filter is PIL's bilinear resize (``Image.resize(..., BILINEAR)`` on float images): a triangle
filter over source pixel centres, ``align_corners=False``, its support widened by the scale factor
when shrinking (antialiasing), edge windows clipped and renormalised -- the same numbers as
``torch.nn.functional.interpolate(mode="bilinear", align_corners=False, antialias=shrinking)``.

It is separable: along each axis an output index reads a few source indices ("taps") with fixed
weights. The dense :func:`resize` (used by the reference) and the sparse evaluation in
:mod:`lce.dissect.tally` apply the *same* per-element sequence of float operations, so they agree
bit for bit. Consecutive output indices that read the same taps form a *group*; an output block
(row group x column group) can exceed a threshold only if one of its taps does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch


@dataclass(frozen=True)
class Taps:
    """The filter along one axis, from ``n_in`` source to ``n_out`` output indices."""

    index: np.ndarray  # (n_out, t) int64 source index of each tap (padding taps: weight 0)
    weight: np.ndarray  # (n_out, t) float32
    group_start: np.ndarray  # (G,) first output index of each group
    group_size: np.ndarray  # (G,)
    group_reads: np.ndarray  # (G, n_in) bool: the group reads that source index


@lru_cache(maxsize=64)
def taps(n_in: int, n_out: int) -> Taps:
    """PIL's bilinear coefficients (``precompute_coeffs``), computed in float64."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    centers = (np.arange(n_out) + 0.5) * scale
    lo = np.clip(np.floor(centers - support).astype(np.int64), 0, n_in)
    hi = np.clip(np.ceil(centers + support).astype(np.int64), 0, n_in)
    width = int((hi - lo).max())
    index = lo[:, None] + np.arange(width)[None, :]
    inside = index < hi[:, None]
    weight = np.clip(1.0 - np.abs((index + 0.5 - centers[:, None]) / support), 0.0, None)
    weight = np.where(inside, weight, 0.0)
    weight /= weight.sum(axis=1, keepdims=True)
    index = np.where(inside, index, 0)
    first = np.argsort(weight == 0, axis=1, kind="stable")  # real taps first, padding last
    index, weight = np.take_along_axis(index, first, 1), np.take_along_axis(weight, first, 1)
    used = (weight > 0).any(axis=0)  # drop tap slots that are padding for every output
    index, weight = index[:, used], weight[:, used]
    width = int(used.sum())
    reads = np.zeros((n_out, n_in), dtype=bool)
    rows = np.repeat(np.arange(n_out), width)
    reads[rows[weight.ravel() > 0], index.ravel()[weight.ravel() > 0]] = True
    new_group = np.ones(n_out, dtype=bool)
    new_group[1:] = (reads[1:] != reads[:-1]).any(axis=1)
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(starts, n_out))
    return Taps(index, weight.astype(np.float32), starts, sizes, reads[starts])


def filter_columns(maps: torch.Tensor, cols: Taps) -> torch.Tensor:
    """First pass: (N, h, w) -> (N, h, W), each output column the weighted sum of its taps."""
    index = torch.from_numpy(cols.index).to(maps.device)
    weight = torch.from_numpy(cols.weight).to(maps.device)
    out = None
    for t in range(index.shape[1]):  # taps in a fixed order: the same floats everywhere
        term = weight[:, t] * maps[:, :, index[:, t]]
        out = term if out is None else out + term
    return out


def values_at(maps: torch.Tensor, rows: Taps, cols: Taps, which: torch.Tensor,
              row_idx: torch.Tensor, col_idx: torch.Tensor) -> torch.Tensor:
    """Resized values of maps ``which`` (K,) of ``maps`` (N, h, w) at output rows ``row_idx``
    (K, r) and columns ``col_idx`` (K, c), as (K, r, c): the floats :func:`resize` computes."""
    _, h, w = maps.shape
    device = maps.device
    iy = torch.from_numpy(rows.index).to(device)[row_idx]  # (K, r, ty)
    wy = torch.from_numpy(rows.weight).to(device)[row_idx]
    ix = torch.from_numpy(cols.index).to(device)[col_idx]  # (K, c, tx)
    wx = torch.from_numpy(cols.weight).to(device)[col_idx]
    flat = maps.reshape(-1)
    base = (which * (h * w))[:, None, None]
    out = None
    for ty in range(iy.shape[-1]):
        row_base = base + iy[:, :, ty, None] * w  # (K, r, 1)
        across = None
        for tx in range(ix.shape[-1]):
            term = wx[:, None, :, tx] * flat[row_base + ix[:, None, :, tx]]
            across = term if across is None else across + term
        term = wy[:, :, ty, None] * across
        out = term if out is None else out + term
    return out


def resize(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Dense bilinear resize of (N, C, h, w) maps to (N, C, *size), float32.

    Same per-element operations as :func:`filter_rows_at` over all rows and columns.
    """
    n, c, h, w = maps.shape
    rows = taps(h, size[0])
    across = filter_columns(maps.reshape(n * c, h, w).float(), taps(w, size[1]))
    index = torch.from_numpy(rows.index).to(maps.device)
    weight = torch.from_numpy(rows.weight).to(maps.device)
    out = None
    for t in range(index.shape[1]):
        term = weight[:, t, None] * across[:, index[:, t], :]
        out = term if out is None else out + term
    return out.reshape(n, c, *size)
