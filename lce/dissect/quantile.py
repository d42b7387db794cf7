"""Exact per-unit top quantiles from a stream of activations, in memory independent of the stream.

``numpy.quantile(a, p)`` with its default ``linear`` method reads only two order statistics of the
n values: those at ``floor(g)`` and ``floor(g) + 1``, g = (n - 1) * p, interpolated by the
fractional part of g. For p = 1 - q both lie among the ``k ~ q * n + 1`` largest values, so a
running top-k per unit -- k fixed once n is known -- holds all the exact threshold needs, and
:meth:`StreamingTopK.quantiles` repeats numpy's arithmetic on them, for any n, without ever
materialising an array of n values (on full Broden a 56x56 layer has ~10^8 values per unit).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def virtual_index(n: int, quantile: float) -> tuple[int, float]:
    """(floor(g), g - floor(g)) for g = (n - 1) * (1 - quantile), computed as numpy computes it."""
    g = (n - 1) * (1.0 - quantile)  # float64, like numpy's (n - 1) * q for a Python float q
    lower = math.floor(g)
    return lower, g - lower


def topk_size(n: int, quantile: float) -> int:
    """How many of the n largest values determine ``numpy.quantile(a, 1 - quantile)``."""
    lower, _ = virtual_index(n, quantile)
    return n - lower  # order statistics lower .. n - 1


def top_quantile(top: np.ndarray, n: int, quantile: float) -> np.ndarray:
    """``numpy.quantile(a, 1 - quantile, axis=1)`` from the ``topk_size(n, quantile)`` largest
    values of each row of a (float32, any order), with numpy's ``linear`` arithmetic: the
    neighbours' difference scaled by the fractional index in float32, and taken from the upper
    neighbour when that fraction is at least 0.5."""
    lower, gamma = virtual_index(n, quantile)
    k = n - lower
    if top.shape[1] != k:
        raise ValueError(f"need the {k} largest of {n} values per row, got {top.shape[1]}")
    top = top.astype(np.float32, copy=False)
    if lower >= n - 1:  # numpy takes the maximum
        return top.max(axis=1)
    below, above = np.partition(top, 1, axis=1)[:, :2].T  # order statistics lower, lower + 1
    diff = above - below
    if gamma >= 0.5:
        return above - diff * (1 - gamma)
    return below + diff * gamma


class StreamingTopK:
    """The k largest values of every row (unit), updated batch by batch on any device."""

    def __init__(self, n_rows: int, k: int, device="cpu"):
        self.k = k
        self.values = torch.full((n_rows, 0), -math.inf, device=device)

    def update(self, batch: torch.Tensor) -> None:
        """Merge ``batch`` (rows, m) into the kept values."""
        merged = torch.cat([self.values, batch.float()], dim=1)
        if merged.shape[1] > self.k:
            merged = merged.topk(self.k, dim=1, sorted=False).values
        self.values = merged

    def quantiles(self, n: int, quantile: float) -> np.ndarray:
        """``numpy.quantile(all_n_values_of_row, 1 - quantile)`` for every row, float32."""
        return top_quantile(self.values.cpu().numpy(), n, quantile)


class TopImages:
    """The k images with the largest maximum activation per unit (the unit's exemplars)."""

    def __init__(self, n_units: int, k: int, device="cpu"):
        self.k = k
        self.values = torch.empty((n_units, 0), device=device)
        self.images = torch.empty((n_units, 0), dtype=torch.long, device=device)

    def update(self, maxima: torch.Tensor, first_image: int) -> None:
        """``maxima``: (B, units) per-image maximum of each unit, for images first_image..+B."""
        index = torch.arange(first_image, first_image + maxima.shape[0], device=maxima.device)
        values = torch.cat([self.values, maxima.T.float()], dim=1)
        images = torch.cat([self.images, index.expand(maxima.shape[1], -1)], dim=1)
        # stable ordering: larger value first, then the earlier image
        order = torch.argsort(images, dim=1)
        values, images = values.gather(1, order), images.gather(1, order)
        order = torch.argsort(values, dim=1, descending=True, stable=True)[:, :self.k]
        self.values, self.images = values.gather(1, order), images.gather(1, order)
