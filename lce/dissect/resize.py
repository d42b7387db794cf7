"""Bilinear resizing of activation maps to mask size, bit-identical to PIL's, and done sparsely.

The filter is PIL's bilinear resize (``Image.resize(..., BILINEAR)`` on mode ``F`` images, which
NetDissect and NetDissect-Lite use): a triangle filter over source pixel centres,
``align_corners=False``, its support widened by the scale factor when shrinking (antialiasing),
edge windows clipped and renormalised. PIL's arithmetic is matched exactly, because a pixel whose
value lands one float32 ulp above or below the threshold flips the mask: the coefficients are
computed in float64 as ``precompute_coeffs`` computes them, each output is a float64 sum of
``float64(weight) * float64(value)`` in ascending source order, and the result is rounded to
float32 after each pass -- columns (horizontal) first, then rows. That is the order of PIL's
``ImagingResampleInner`` and what Pillow 13 does whenever the rows grow or keep their number -- the
dissection's case, maps upsampled to the masks (tested against PIL). For some resizes that shrink
the rows (always when the columns grow at the same time) Pillow 13 was seen to do the rows pass
first, so there the two can differ by a float32 ulp.

It is separable: along each axis an output index reads a few source indices ("taps") with fixed
weights. Consecutive output indices that read the same taps form a *group*; an output block
(row group x column group) reads one source patch, so it can exceed a threshold only if a value
of that patch does (:mod:`lce.dissect.tally` skips every other block without evaluating it).
Taps of weight 0 are dropped (adding ``0 * v`` leaves a float64 sum unchanged) and each axis is
padded to a fixed tap count with weight-0 taps at the end, so blocks of every group are
evaluated by the same vectorised operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch


@dataclass(frozen=True)
class Taps:
    """The filter along one axis, from ``n_in`` source to ``n_out`` output indices."""

    index: np.ndarray  # (n_out, t) int64 source index of each tap, ascending (padding: weight 0)
    weight: np.ndarray  # (n_out, t) float64, PIL's normalised coefficients
    group_start: np.ndarray  # (G,) first output index of each group
    group_size: np.ndarray  # (G,)
    group_reads: np.ndarray  # (G, n_in) bool: the group reads that source index
    group_weight: np.ndarray  # (G, S, t) float64 weights of the group's outputs (S = max size;
    #                           rows past the group's size are 0)


def pil_coefficients(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(first source index (n_out,), weights (n_out, t)) of PIL's bilinear filter.

    The operations of PIL's ``precompute_coeffs`` in its order, in float64: the window
    ``[trunc(c - s + 0.5), trunc(c + s + 0.5))`` clipped to the source, the tap weights
    ``1 - |((x + xmin) - c + 0.5) / filterscale|`` (multiplied by ``1 / filterscale``), then each
    divided by their sequential sum.
    """
    scale = float(n_in) / n_out
    filterscale = max(scale, 1.0)
    support = 1.0 * filterscale  # the bilinear filter's support is 1
    inverse = 1.0 / filterscale
    center = (np.arange(n_out) + 0.5) * scale
    xmin = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n_in) - xmin
    width = int(xmax.max())
    x = np.arange(width)
    t = np.abs(((x[None, :] + xmin[:, None]) - center[:, None] + 0.5) * inverse)
    weight = np.where((t < 1.0) & (x[None, :] < xmax[:, None]), 1.0 - t, 0.0)
    total = np.zeros(n_out)
    for k in range(width):  # sequential, as PIL sums
        total = total + weight[:, k]
    weight = np.where(total[:, None] != 0.0, weight / np.where(total == 0, 1, total)[:, None],
                      weight)
    return xmin, weight


@lru_cache(maxsize=64)
def taps(n_in: int, n_out: int) -> Taps:
    """The taps of one axis: PIL's coefficients, weight-0 taps dropped, padded at the end."""
    xmin, weight = pil_coefficients(n_in, n_out)
    index = xmin[:, None] + np.arange(weight.shape[1])[None, :]
    real = weight > 0
    order = np.argsort(~real, axis=1, kind="stable")  # real taps first, in ascending order
    index, weight = np.take_along_axis(index, order, 1), np.take_along_axis(weight, order, 1)
    width = int(real.sum(axis=1).max())
    index, weight = index[:, :width], weight[:, :width]
    last = np.take_along_axis(index, (real.sum(axis=1, keepdims=True) - 1), 1)
    index = np.where(weight > 0, index, last)  # padding taps read the last real one, weight 0
    reads = np.zeros((n_out, n_in), dtype=bool)
    np.put_along_axis(reads, index, True, axis=1)
    new_group = np.ones(n_out, dtype=bool)
    new_group[1:] = (reads[1:] != reads[:-1]).any(axis=1)
    starts = np.flatnonzero(new_group)
    sizes = np.diff(np.append(starts, n_out))
    group_weight = np.zeros((len(starts), int(sizes.max()), width))
    for g, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        if (index[start:start + size] != index[start]).any():
            raise AssertionError("outputs of a group must read the same taps")  # by construction
        group_weight[g, :size] = weight[start:start + size]
    return Taps(index, weight, starts, sizes, reads[starts], group_weight)


def filter_axis(values: torch.Tensor, axis: Taps, dim: int) -> torch.Tensor:
    """One pass along ``dim`` of float32 ``values``: float64 sums in tap order, then float32."""
    index = torch.from_numpy(axis.index).to(values.device)
    weight = torch.from_numpy(axis.weight).to(values.device)
    shape = [1] * values.dim()
    shape[dim] = -1
    out = None
    for t in range(index.shape[1]):
        term = weight[:, t].view(shape) * values.index_select(dim, index[:, t]).double()
        out = term if out is None else out + term
    return out.float()


def resize(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Dense bilinear resize of (N, C, h, w) maps to (N, C, *size), float32, as PIL computes it:
    the columns pass first, then the rows pass, each rounded to float32."""
    h, w = maps.shape[2:]
    across = filter_axis(maps.float(), taps(w, size[1]), dim=3)
    return filter_axis(across, taps(h, size[0]), dim=2)


def block_values(patch: torch.Tensor, row_weight: torch.Tensor,
                 col_weight: torch.Tensor) -> torch.Tensor:
    """The float64 sums of the rows pass over whole blocks, before the final float32 rounding.

    ``patch`` (K, ty, tx) float32: each block's source values (the taps of its row group and
    column group); ``row_weight`` (K, S_r, ty) and ``col_weight`` (K, S_c, tx) float64: the
    weights of its outputs. Returns (K, S_r, S_c) float64: the same per-element operations as
    :func:`resize`, so ``result.float()`` is PIL's value bit for bit.
    """
    source = patch.double()
    across = None  # columns pass: (K, ty, S_c), rounded to float32 like PIL's temporary image
    for tx in range(source.shape[2]):
        term = col_weight[:, None, :, tx] * source[:, :, tx, None]
        across = term if across is None else across + term
    across = across.float().double()
    out = torch.mul(row_weight[:, :, 0, None], across[:, None, 0, :])
    for ty in range(1, source.shape[1]):
        out += row_weight[:, :, ty, None] * across[:, None, ty, :]
    return out


def above_threshold(thresholds: torch.Tensor) -> torch.Tensor:
    """Per float32 threshold T, the float64 D with ``float32(d) > T`` exactly when ``d > D``.

    ``float32(d)`` rounds to nearest, ties to even: it exceeds T when d passes the midpoint m
    between T and the next float32, and also at d = m when that next float32 is the even one
    (T's last mantissa bit is 1). Comparing the float64 sums against D saves rounding them all.
    """
    t = thresholds.detach().cpu().numpy().astype(np.float32)
    up = np.nextafter(t, np.float32(np.inf))
    mid = (t.astype(np.float64) + up.astype(np.float64)) / 2  # exact in float64
    odd = (t.view(np.int32) & 1).astype(bool)
    limit = np.where(odd, np.nextafter(mid, -np.inf), mid)
    return torch.from_numpy(limit).to(thresholds.device)
