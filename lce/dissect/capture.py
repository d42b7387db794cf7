"""Capture the outputs of named layers during one forward pass.

Layers are addressed by their path in ``model.named_modules()`` (``features.14``,
``layer4.2.conv3``), so any module -- nested ones included -- can be dissected, and several layers
cost a single pass over the probe set. Convolutional layers give maps (N, C, H, W); a vision
transformer's blocks give tokens (N, T, D), which :func:`as_maps` turns into maps on the patch grid.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from lce.errors import LCEError


class LayerCapture:
    """Context manager that records the outputs of ``layers`` on every forward pass."""

    def __init__(self, model: torch.nn.Module, layers: Sequence[str]):
        modules = dict(model.named_modules())
        unknown = [name for name in layers if name not in modules]
        if unknown:
            raise LCEError(f"unknown layer(s) {', '.join(unknown)} in {type(model).__name__}",
                           hint="layer names are paths from model.named_modules()")
        self.model, self.layers = model, list(layers)
        self.outputs: dict[str, torch.Tensor] = {}
        self._handles = []
        for name in self.layers:
            self._handles.append(modules[name].register_forward_hook(self._hook(name)))

    def _hook(self, name: str):
        def record(_module, _inputs, output):
            if isinstance(output, tuple | list):  # e.g. attention blocks returning (x, weights)
                output = output[0]
            # a copy: torchvision's in-place ReLUs (ResNet, VGG, ...) would otherwise overwrite
            # e.g. a batch norm's output, which detach() still shares, before it is read
            self.outputs[name] = output.detach().clone()
        return record

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()


def as_maps(name: str, output: torch.Tensor) -> torch.Tensor:
    """A layer's output as maps (N, C, H, W).

    Token outputs (N, T, D) are laid out on their square patch grid: the g * g patch tokens are the
    last ones (torchvision's ViT and most others put the class token and any register tokens
    first), so the T - g * g leading tokens, g = floor(sqrt(T)), are dropped.
    """
    if output.ndim == 4:
        return output
    if output.ndim == 3:
        n, tokens, dim = output.shape
        grid = math.isqrt(tokens)
        if grid and tokens - grid * grid < grid:  # a few class/register tokens at most
            patches = output[:, tokens - grid * grid:]
            return patches.transpose(1, 2).reshape(n, dim, grid, grid)
    raise LCEError(f"layer {name} gives {tuple(output.shape)}, expected maps (N, C, H, W) or "
                   f"tokens (N, T, D) on a square patch grid",
                   hint="pick a convolutional layer or a transformer block")


def image_batches(probe, batch_size: int) -> Iterator[tuple[range, np.ndarray]]:
    """(index range, uint8 images (B, H, W, 3)) over the probe set in order.

    All images must share one size: a layer's maps are spilled and counted at one resolution.
    """
    shape = None
    for start in range(0, len(probe), batch_size):
        idx = range(start, min(start + batch_size, len(probe)))
        images = [probe.image(i) for i in idx]
        shape = shape or images[0].shape
        for i, image in zip(idx, images, strict=True):
            if image.shape != shape:
                name = getattr(probe.records[i], "image", "") or f"#{i}"
                raise LCEError(f"probe image {name}: shape {image.shape}, expected {shape} like "
                               f"the first image", hint="all probe images must have one size")
        yield idx, np.stack(images)


def to_input(images: np.ndarray, mean, std, device) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> normalised float (B, 3, H, W)."""
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255)
    mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(std, device=device).view(1, 3, 1, 1)
    return (x - mean) / std
