"""Frozen features of a model: one layer's output, pooled per image or kept as a spatial map.

Benchmarks never train the backbone, so a model is only ever run forward here. Small grayscale
datasets (28x28 digits and silhouettes) are resized to a common input size and replicated to three
channels, so every model sees them the way it sees RGB photos, just smaller -- which keeps a
MobileNetV2 pass over thousands of images at seconds on a laptop CPU.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from lce.dissect.capture import LayerCapture, to_input


def as_rgb(images: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W) grayscale or (N, H, W, 3) RGB -> (N, H, W, 3) RGB."""
    images = np.asarray(images, dtype=np.uint8)
    if images.ndim == 3:
        images = np.repeat(images[..., None], 3, axis=3)
    return images


class FrozenFeatures:
    """Runs ``model`` in inference mode and returns the output of ``layer``."""

    def __init__(self, model: torch.nn.Module, layer: str, mean, std, device: str = "cpu",
                 batch_size: int = 64):
        self.model = model.eval().to(device)
        self.layer, self.mean, self.std = layer, mean, std
        self.device, self.batch_size = device, batch_size
        with LayerCapture(model, [layer]):  # fails early, naming the layer, if it is unknown
            pass

    def _batches(self, images: np.ndarray, size: int | None):
        images = as_rgb(images)
        with LayerCapture(self.model, [self.layer]) as capture, torch.inference_mode():
            for start in range(0, len(images), self.batch_size):
                x = to_input(images[start:start + self.batch_size], self.mean, self.std,
                             self.device)
                if size is not None and x.shape[-1] != size:
                    x = F.interpolate(x, size=(size, size), mode="bilinear",
                                      align_corners=False, antialias=True)
                self.model(x)
                yield capture.outputs[self.layer].float()

    def pooled(self, images: np.ndarray, size: int | None = None, on_batch=None) -> np.ndarray:
        """(N, C) global-average-pooled features; ``size`` resizes the inputs first."""
        out = []
        for fmap in self._batches(images, size):
            out.append(fmap.mean(dim=(2, 3)).cpu().numpy())
            if on_batch:
                on_batch(len(fmap))
        return np.concatenate(out).astype(np.float32)

    def maps(self, images: np.ndarray, size: int | None = None, on_batch=None) -> np.ndarray:
        """(N, C, h, w) feature maps at the layer's own resolution."""
        out = []
        for fmap in self._batches(images, size):
            out.append(fmap.cpu().numpy())
            if on_batch:
                on_batch(len(fmap))
        return np.concatenate(out).astype(np.float32)
