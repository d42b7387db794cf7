"""Exact per-unit top quantiles from a stream of activations, in memory independent of the stream.

``numpy.quantile(a, 1 - q)`` (linear interpolation) depends only on the two order statistics
around position ``(1 - q) * (n - 1)``: both lie among the ``k ~ q * n + 2`` largest values. So a
running top-k per unit -- k fixed once n is known -- holds everything the exact threshold needs,
and the quantile is then taken by numpy itself on a surrogate array that keeps those top values and
replaces all smaller ones by the smallest kept value, which leaves those order statistics intact.
"""

from __future__ import annotations

import math

import numpy as np
import torch

# Largest surrogate block handed to numpy at once (elements), bounding the quantile step's memory.
SURROGATE_BLOCK = 1 << 24


def topk_size(n: int, quantile: float) -> int:
    """How many of the n largest values determine ``numpy.quantile(a, 1 - quantile)``."""
    lower = math.floor((1.0 - quantile) * (n - 1))
    return min(n, n - lower + 2)  # +2: margin for rounding in numpy's virtual index


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
        top = self.values.cpu().numpy()
        k = top.shape[1]
        rows_per_block = max(1, SURROGATE_BLOCK // n)
        out = np.empty(top.shape[0], dtype=np.float32)
        for start in range(0, top.shape[0], rows_per_block):
            block = top[start:start + rows_per_block]
            surrogate = np.empty((block.shape[0], n), dtype=np.float32)
            surrogate[:, :n - k] = block.min(axis=1, keepdims=True)
            surrogate[:, n - k:] = block
            out[start:start + len(block)] = np.quantile(surrogate, 1.0 - quantile, axis=1)
        return out


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
