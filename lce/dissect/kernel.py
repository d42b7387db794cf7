"""The CPU kernel of the tally: PIL's resize of the blocks that can fire, thresholded and counted
per pixel kind, in one compiled loop (numba).

:func:`lce.dissect.tally.fired_per_kind` does the same with tensor operations on any device; on
the CPU those spend most of their time moving float64 blocks through memory and in a bincount
(about ten passes over every candidate pixel), while this loop keeps a block's values in registers
and counts a fired pixel with one increment. The arithmetic is the same sequence of float64
operations as :func:`lce.dissect.resize.block_values` -- numba compiles without fast-math, so
LLVM neither reorders nor fuses them -- so both give the same counts, bit for bit (tested).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, nogil=True)
def fired_per_kind_cpu(maps, thresholds, limit, pair_image, pair_unit, kind,
                       row_start, row_size, row_taps, row_weight,
                       col_start, col_size, col_taps, col_weight, out):  # pragma: no cover
    """``out[f, k]`` = fired pixels of kind k of pair f (``out`` zeroed by the caller).

    maps (B, C, h, w) float32; thresholds (C,) float32 and limit (C,) float64 (T's float64
    bound); kind (B, H, W) int64; per axis: group start and size, group taps (G, t) and weights
    (G, S, t) float64. A block is evaluated only when one of its taps exceeds T.
    """
    n_ty, n_tx = row_taps.shape[1], col_taps.shape[1]
    for f in numba.prange(len(pair_image)):
        image, unit = pair_image[f], pair_unit[f]
        threshold, bound = thresholds[unit], limit[unit]
        values = maps[image, unit]
        across = np.empty((n_ty, col_weight.shape[1]), dtype=np.float64)
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
                for y in range(row_size[gy]):  # rows pass: compared with T's float64 bound
                    row = row_start[gy] + y
                    for x in range(col_size[gx]):
                        s = 0.0
                        for t in range(n_ty):
                            s += row_weight[gy, y, t] * across[t, x]
                        if s > bound:
                            out[f, kind[image, row, col_start[gx] + x]] += 1
