"""Test doubles for the dissection tests: in-memory probes and a model that emits planted maps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from lce.probe.broden import Concept


@dataclass
class Rec:
    sh: int
    sw: int
    image: str = ""


@dataclass
class MemoryProbe:
    """A Broden-interface probe held in memory; image i is a flat grey of value i, so that
    :class:`PlantedMaps` can tell which image it is looking at."""

    segs: list
    size: tuple = (4, 4)
    categories: list = field(default_factory=lambda: ["object", "scene"])
    image_level: set = field(default_factory=lambda: {"scene"})
    concepts: dict = field(default_factory=lambda: {
        1: Concept(1, "box", "object"), 2: Concept(2, "ball", "object"),
        300: Concept(300, "beach", "scene")})

    def __len__(self):
        return len(self.segs)

    @property
    def records(self):
        return [Rec(*self.size, f"img/{i}.png") for i in range(len(self.segs))]

    def image(self, i):
        return np.full((8, 8, 3), i, dtype=np.uint8)

    def segmentation(self, i):
        return self.segs[i]


class PlantedMaps(torch.nn.Module):
    """Emits ``maps[i]`` for probe image i from its submodule ``block.layer`` (a nested path).

    Inputs must be normalised with mean 0 and std 1, so pixel values are i / 255.
    """

    MEAN, STD = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)

    def __init__(self, maps: np.ndarray):
        super().__init__()
        self.register_buffer("maps", torch.from_numpy(np.ascontiguousarray(maps, np.float32)))
        self.block = torch.nn.Sequential()
        self.block.add_module("layer", torch.nn.Identity())

    def forward(self, x):
        index = (x[:, 0, 0, 0] * 255).round().long()
        return self.block.layer(self.maps[index])


def hand_probe() -> MemoryProbe:
    """Two 4x4 images: image 0 has a 2x2 box and the scene 'beach', image 1 has no label."""
    obj0 = np.zeros((1, 4, 4), np.int32)
    obj0[0, :2, :2] = 1
    return MemoryProbe([
        {"object": obj0, "scene": np.array([300], np.int32)},
        {"object": np.zeros((0, 4, 4), np.int32), "scene": np.array([], np.int32)},
    ])


class IndexedImages:
    """A real probe whose images are replaced by flat greys of value i, for :class:`PlantedMaps`."""

    def __init__(self, probe):
        self.probe = probe

    def __getattr__(self, name):
        return getattr(self.probe, name)

    def __len__(self):
        return len(self.probe)

    def image(self, i):
        return np.full((8, 8, 3), i, dtype=np.uint8)
