"""The CPU kernel of the tally: PIL's resize of the blocks that can fire, thresholded, counted per
pixel kind and turned into intersections and areas, in compiled loops (numba).

:class:`lce.dissect.tally.IoUTally` does the same with tensor operations on any other device; on
the CPU those spend most of their time moving float64 blocks through memory, in a bincount and in
small indexing operations (about ten passes over every candidate pixel), while these loops keep a
block's values in registers and count a fired pixel with one increment. The arithmetic is the same
sequence of float64 operations as :func:`lce.dissect.resize.block_values` -- numba compiles
without fast-math, so LLVM neither reorders nor fuses them -- so both count the same pixels (tested
against each other and against PIL).

Threads take disjoint ranges of units (:class:`lce.dissect.tally.IoUTally` runs one call per
thread; the loops release the GIL), so each writes only its own units' rows and no counter is
shared; the batch's pixel kinds come in the smallest integer type, so that all its images' kinds
stay in cache while every unit meets them.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def pair_counts(values, threshold, bound, kind, row_start, row_size, row_taps, row_weight,
                col_start, col_size, col_taps, col_weight, across, counts):  # pragma: no cover
    """Add the fired pixels of one map ``values`` (h, w) to ``counts`` (per kind of ``kind``
    (H, W)); only blocks with a tap above ``threshold`` are evaluated. ``across`` is scratch
    space (t, S_c). Returns the fired area."""
    n_ty, n_tx = row_taps.shape[1], col_taps.shape[1]
    sums = np.empty(col_weight.shape[1])
    area = 0
    for gy in range(len(row_start)):
        for gx in range(len(col_start)):
            hot = False
            for t in range(n_ty):
                for tx in range(n_tx):
                    hot |= values[row_taps[gy, t], col_taps[gx, tx]] > threshold
            if not hot:
                continue
            for t in range(n_ty):  # columns pass, rounded to float32 as PIL stores it
                y = row_taps[gy, t]
                for x in range(col_size[gx]):
                    s = 0.0
                    for tx in range(n_tx):
                        s += col_weight[gx, x, tx] * np.float64(values[y, col_taps[gx, tx]])
                    across[t, x] = np.float64(np.float32(s))
            width, first = col_size[gx], col_start[gx]
            for y in range(row_size[gy]):  # rows pass: compared with T's float64 bound
                weight = row_weight[gy, y, 0]
                for x in range(width):
                    sums[x] = weight * across[0, x]
                for t in range(1, n_ty):
                    weight = row_weight[gy, y, t]
                    for x in range(width):
                        sums[x] += weight * across[t, x]
                kinds = kind[row_start[gy] + y]
                for x in range(width):
                    if sums[x] > bound:
                        counts[kinds[first + x]] += 1
                        area += 1
    return area


@numba.njit(cache=True, nogil=True)
def tally_batch_cpu(maps, thresholds, limit, kind, n_kinds, entry_kind, entry_column,
                    category_of, present, row_start, row_size, row_taps, row_weight,
                    col_start, col_size, col_taps, col_weight,
                    intersection, area_lite, area_netdissect, units):  # pragma: no cover
    """Add a batch to the tallies: maps (B, C, h, w) float32, thresholds (C,) float32 and
    limit (C,) float64; per image its pixel kinds (B, H, W) and its (kind, concept column)
    entries (B, E) (padding: the spare column), ``category_of`` per column, ``present`` (B,
    n_cat). Adds to the rows ``units`` = (first, stop) of intersection (C, K + 1), area_lite and
    area_netdissect (C, n_cat)."""
    n_images = maps.shape[0]
    n_cat = area_lite.shape[1]
    counts = np.zeros(n_kinds, dtype=np.int64)
    touched = np.zeros(n_cat + 1, dtype=np.bool_)
    across = np.empty((row_taps.shape[1], col_weight.shape[1]))
    for unit in range(units[0], units[1]):
        threshold, bound = thresholds[unit], limit[unit]
        for image in range(n_images):
            values = maps[image, unit]
            if values.max() <= threshold:
                continue
            counts[:] = 0
            area = pair_counts(values, threshold, bound, kind[image], row_start, row_size,
                               row_taps, row_weight, col_start, col_size, col_taps, col_weight,
                               across, counts)
            if area == 0:
                continue
            touched[:] = False
            for e in range(entry_kind.shape[1]):
                fired = counts[entry_kind[image, e]]
                column = entry_column[image, e]
                intersection[unit, column] += fired
                if fired > 0:
                    touched[category_of[column]] = True
            for k in range(n_cat):
                if touched[k]:
                    area_lite[unit, k] += area
                if present[image, k]:
                    area_netdissect[unit, k] += area


@numba.njit(cache=True, nogil=True)
def pixel_kinds(labels, lookup, base):  # pragma: no cover
    """(kind of each pixel, one pixel of each kind) for label planes (planes, P), a pixel's
    digit on a plane being ``lookup[label]`` in [0, base).

    Kinds are numbered plane by plane -- (kind so far) * base + digit, renumbered in order of
    appearance after each plane -- so the keys stay below P * base whatever the number of planes.
    """
    n_planes, n_pixels = labels.shape
    kind = np.zeros(n_pixels, dtype=np.int64)
    n_kinds = 1 if n_pixels else 0
    for j in range(n_planes):
        table = np.full(n_kinds * base, -1, dtype=np.int64)
        found = 0
        for p in range(n_pixels):
            key = kind[p] * base + lookup[labels[j, p]]
            if table[key] < 0:
                table[key] = found
                found += 1
            kind[p] = table[key]
        n_kinds = found
    first = np.zeros(n_kinds, dtype=np.int64)
    for p in range(n_pixels):
        first[kind[p]] = p  # any pixel of a kind represents it
    return kind, first
