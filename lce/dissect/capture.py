"""Capture the outputs of named layers during one forward pass.

Layers are addressed by their path in ``model.named_modules()`` (``features.14``,
``layer4.2.conv3``), so any module -- nested ones included -- can be dissected, and several layers
cost a single pass over the probe set.
"""

from __future__ import annotations

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
            self.outputs[name] = output.detach()
        return record

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()


def image_batches(probe, batch_size: int) -> Iterator[tuple[range, np.ndarray]]:
    """(index range, uint8 images (B, H, W, 3)) over the probe set in order."""
    for start in range(0, len(probe), batch_size):
        idx = range(start, min(start + batch_size, len(probe)))
        yield idx, np.stack([probe.image(i) for i in idx])


def to_input(images: np.ndarray, mean, std, device) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> normalised float (B, 3, H, W)."""
    x = torch.from_numpy(images).to(device).permute(0, 3, 1, 2).float().div_(255)
    mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(std, device=device).view(1, 3, 1, 1)
    return (x - mean) / std
