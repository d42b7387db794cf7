"""Objects of the synthetic probe and their parts.

Objects are real animal silhouettes from ``animal-mnist`` (10 classes) or geometric shapes. Every
object has four generic parts, the top/bottom and left/right halves of its own extent -- the
``<object>-t/-b/-l/-r`` quadrant parts of the Dissect segmenter the seed paper used -- and each
geometric shape one part of its own (a circle's rim, a square's corners, ...). Parts overlap (a
pixel is both "top" and "left"), which is why the ``part`` category is written on several planes.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image

from lce.data.offline import ANIMAL_CLASSES, animal_silhouettes

SHAPES = ("circle", "square", "triangle", "ring", "cross")
OBJECTS = SHAPES + ANIMAL_CLASSES
QUADRANTS = ("t", "b", "l", "r")
# The part each shape has beyond its quadrants, on the third part plane.
SHAPE_PARTS = {"circle": "rim", "square": "corner", "triangle": "apex", "ring": "inner-edge",
               "cross": "center"}


@cache
def _unit_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of a size x size patch in [-1, 1]^2 (y down, x right)."""
    yy, xx = (np.mgrid[0:size, 0:size] + 0.5) / size * 2 - 1
    return yy, xx


def shape_mask(shape: str, size: int) -> np.ndarray:
    yy, xx = _unit_grid(size)
    r = np.hypot(xx, yy)
    if shape == "circle":
        return r < 0.9
    if shape == "square":
        return (np.abs(xx) < 0.8) & (np.abs(yy) < 0.8)
    if shape == "triangle":
        return (yy < 0.8) & (yy > -0.9 + 2 * np.abs(xx))
    if shape == "ring":
        return (r < 0.95) & (r > 0.55)
    return (np.abs(xx) < 0.3) | (np.abs(yy) < 0.3)  # cross


def shape_part_mask(shape: str, size: int) -> np.ndarray:
    """The shape-specific part of ``shape`` (a subset of :func:`shape_mask`)."""
    yy, xx = _unit_grid(size)
    r = np.hypot(xx, yy)
    region = {
        "circle": r > 0.65,
        "square": (np.abs(xx) > 0.4) & (np.abs(yy) > 0.4),
        "triangle": yy < -0.2,
        "ring": r < 0.7,
        "cross": (np.abs(xx) < 0.3) & (np.abs(yy) < 0.3),
    }[shape]
    return region & shape_mask(shape, size)


@cache
def _silhouette_pools() -> dict[str, np.ndarray]:
    images, labels = animal_silhouettes()
    return {name: images[labels == k] for k, name in enumerate(ANIMAL_CLASSES)}


def object_masks(name: str, size: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """(object mask, shape-specific part mask or None) of one object of ``size`` pixels."""
    if name in SHAPES:
        return shape_mask(name, size), shape_part_mask(name, size)
    pool = _silhouette_pools()[name]
    silhouette = pool[rng.integers(len(pool))]
    if rng.random() < 0.5:
        silhouette = silhouette[:, ::-1]  # animals face either way
    resized = Image.fromarray(np.ascontiguousarray(silhouette)).resize((size, size),
                                                                       Image.BILINEAR)
    return np.asarray(resized) > 127, None


def quadrants(mask: np.ndarray) -> dict[str, np.ndarray]:
    """Top/bottom and left/right halves of an object's own extent."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return {q: np.zeros_like(mask) for q in QUADRANTS}
    cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
    yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    return {"t": mask & (yy < cy), "b": mask & (yy >= cy), "l": mask & (xx < cx),
            "r": mask & (xx >= cx)}


def part_names() -> list[str]:
    """Every part concept, quadrants first (their label numbers predate the shape parts)."""
    quadrant_parts = [f"{o}-{q}" for o in OBJECTS for q in QUADRANTS]
    return quadrant_parts + [f"{shape}-{part}" for shape, part in SHAPE_PARTS.items()]
