"""A synthetic Broden-format probe set built from real image material.

Every image is a scene layout (image-level ``scene``) over a background material whose pattern is
also the image-level ``texture``; on it lie 1-3 objects -- real animal silhouettes from
``animal-mnist`` or geometric shapes -- each filled with a named colour or a material. Objects
carry ``object`` masks, quadrant ``part`` masks on two planes (``<object>-t/-b`` and
``<object>-l/-r``, as in the Dissect segmenter), and every region carries its ``color`` and
``material`` labels. Masks are
drawn at half the image resolution, as in Broden.

Label numbers are assigned per category from fixed bases, so some exceed 255 and exercise the
``R + 256 * G`` mask encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from lce.data.offline import ANIMAL_CLASSES, SKIMAGE_TEXTURES, animal_silhouettes, skimage_texture
from lce.probe.writer import ProbeSample, write_broden

COLORS = {
    "red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 220), "yellow": (235, 215, 40),
    "orange": (240, 140, 30), "purple": (140, 60, 180), "pink": (240, 140, 190),
    "white": (245, 245, 245), "black": (20, 20, 20), "gray": (128, 128, 128),
    "brown": (130, 80, 40),
}
SHAPES = ("circle", "square", "triangle", "ring", "cross")
PROCEDURAL_MATERIALS = ("stripes", "dots", "checker", "noise")
MATERIALS = SKIMAGE_TEXTURES + PROCEDURAL_MATERIALS
SCENES = ("field", "indoor", "seaside", "sky")
TEXTURES = ("banded", "dotted", "chequered", "speckled", "brickwork", "grassy", "pebbly")
MATERIAL_TEXTURE = dict(zip(("stripes", "dots", "checker", "noise", "brick", "grass", "gravel"),
                            TEXTURES, strict=True))
PIXEL_CATEGORIES = ["color", "object", "part", "material"]
IMAGE_CATEGORIES = ["scene", "texture"]
# First label number of each category; the gaps keep numbers stable when lists grow.
LABEL_BASES = {"color": 1, "object": 20, "part": 60, "material": 150, "scene": 200, "texture": 300}


@dataclass(frozen=True)
class SyntheticConfig:
    n_images: int = 200
    image_size: int = 112
    seed: int = 0
    max_objects: int = 3
    train_fraction: float = 0.0


def concept_table() -> dict[str, dict[str, int]]:
    """Category -> {concept name: label number}."""
    objects = list(SHAPES) + list(ANIMAL_CLASSES)
    parts = [f"{o}-{q}" for o in objects for q in "tblr"]
    names = {"color": list(COLORS), "object": objects, "part": parts, "material": list(MATERIALS),
             "scene": list(SCENES), "texture": list(TEXTURES)}
    return {c: {n: LABEL_BASES[c] + k for k, n in enumerate(ns)} for c, ns in names.items()}


def _material_patch(name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A (size, size, 3) uint8 patch of a material: a random crop of a real photo or a pattern."""
    if name in SKIMAGE_TEXTURES:
        photo = skimage_texture(name)
        h, w = photo.shape[:2]
        crop = min(h, w, max(size, int(size * rng.uniform(1.0, 2.0))))
        y, x = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
        patch = Image.fromarray(photo[y:y + crop, x:x + crop]).resize((size, size),
                                                                      Image.BILINEAR)
        return np.asarray(patch)
    yy, xx = np.mgrid[0:size, 0:size]
    period = int(rng.integers(6, 14))
    fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    if name == "stripes":
        on = ((xx + yy * rng.choice([0, 1])) // (period // 2)) % 2 == 0
    elif name == "dots":
        on = ((xx % period - period / 2) ** 2 + (yy % period - period / 2) ** 2) < (period / 3) ** 2
    elif name == "checker":
        on = ((xx // period) + (yy // period)) % 2 == 0
    else:  # noise
        return rng.integers(0, 256, (size, size, 3)).astype(np.uint8)
    return np.where(on[..., None], fg, bg).astype(np.uint8)


def _shape_mask(shape: str, size: int) -> np.ndarray:
    yy, xx = (np.mgrid[0:size, 0:size] + 0.5) / size * 2 - 1
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


def _object_mask(name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    if name in SHAPES:
        return _shape_mask(name, size)
    images, labels = animal_silhouettes()
    pool = np.flatnonzero(labels == ANIMAL_CLASSES.index(name))
    silhouette = images[rng.choice(pool)]
    return np.asarray(Image.fromarray(silhouette).resize((size, size), Image.BILINEAR)) > 127


def _quadrants(mask: np.ndarray) -> dict[str, np.ndarray]:
    """Top/bottom and left/right halves of an object's own extent."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return {q: np.zeros_like(mask) for q in "tblr"}
    cy, cx = (ys.min() + ys.max()) / 2, (xs.min() + xs.max()) / 2
    yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    return {"t": mask & (yy < cy), "b": mask & (yy >= cy), "l": mask & (xx < cx),
            "r": mask & (xx >= cx)}


def _sample(config: SyntheticConfig, index: int, table) -> ProbeSample:
    rng = np.random.default_rng([config.seed, index])
    s, m = config.image_size, config.image_size // 2
    image = np.zeros((s, s, 3), dtype=np.uint8)
    color = np.zeros((m, m), np.int32)
    material = np.zeros((m, m), np.int32)
    objects = np.zeros((m, m), np.int32)
    parts_tb = np.zeros((m, m), np.int32)
    parts_lr = np.zeros((m, m), np.int32)

    scene = SCENES[rng.integers(len(SCENES))]
    background = MATERIALS[rng.integers(len(MATERIALS))]
    image[:] = _material_patch(background, s, rng)
    material[:] = table["material"][background]
    if scene in ("seaside", "sky", "field"):
        # the upper band is a plain coloured sky (white/blue/gray), a real colour region
        horizon = int(s * rng.uniform(0.3, 0.6))
        sky = {"seaside": "blue", "sky": "blue", "field": "white"}[scene]
        image[:horizon] = COLORS[sky]
        material[: horizon // 2] = 0
        color[: horizon // 2] = table["color"][sky]
        if scene == "seaside":
            band = slice(horizon, min(s, horizon + s // 5))
            image[band] = (np.array(COLORS["blue"]) * rng.uniform(0.6, 0.9)).astype(np.uint8)
            material[band.start // 2:band.stop // 2] = 0
            color[band.start // 2:band.stop // 2] = table["color"]["blue"]

    names = list(SHAPES) + list(ANIMAL_CLASSES)
    for _ in range(int(rng.integers(1, config.max_objects + 1))):
        name = names[rng.integers(len(names))]
        size = int(rng.integers(s // 4, int(s * 0.7)))
        y, x = rng.integers(0, s - size + 1, 2)
        mask = _object_mask(name, size, rng)
        full = np.zeros((s, s), bool)
        full[y:y + size, x:x + size] = mask
        if rng.random() < 0.6:
            fill_name = list(COLORS)[rng.integers(len(COLORS))]
            fill = np.broadcast_to(np.array(COLORS[fill_name], np.uint8), (s, s, 3))
        else:
            fill_name = MATERIALS[rng.integers(len(MATERIALS))]
            fill = _material_patch(fill_name, s, rng)
        image[full] = fill[full]
        # masks at half resolution: a mask pixel is on when most of its 2x2 block is on
        small = full.reshape(m, 2, m, 2).mean(axis=(1, 3)) >= 0.5
        objects[small] = table["object"][name]
        color[small] = table["color"].get(fill_name, 0)
        material[small] = table["material"].get(fill_name, 0)
        quads = _quadrants(small)
        for q, plane in (("t", parts_tb), ("b", parts_tb), ("l", parts_lr), ("r", parts_lr)):
            plane[small] = np.where(quads[q][small], table["part"][f"{name}-{q}"], plane[small])

    planes = {"color": [color], "object": [objects], "material": [material]}
    if objects.any():
        planes["part"] = [parts_tb, parts_lr]
    split = "train" if rng.random() < config.train_fraction else "val"
    return ProbeSample(
        image=image, split=split, planes={k: v for k, v in planes.items() if v[0].any()},
        image_labels={"scene": [table["scene"][scene]],
                      "texture": [table["texture"][MATERIAL_TEXTURE[background]]]},
    )


def generate(root, config: SyntheticConfig):
    """Write a synthetic Broden-format probe set to ``root``; deterministic for ``config``."""
    table = concept_table()
    names = {n: name for cat in table.values() for name, n in cat.items()}
    samples = (_sample(config, i, table) for i in range(config.n_images))
    return write_broden(root, samples, names, PIXEL_CATEGORIES, IMAGE_CATEGORIES)


@dataclass(frozen=True)
class TrainingSplit:
    """Labelled images of the probe's visual domain, for training and benchmarking models."""

    images: np.ndarray  # (N, S, S, 3) uint8
    scene: np.ndarray  # (N,) int64 index into scene_names
    object: np.ndarray  # (N,) int64 index into object_names: the largest object of the image
    scene_names: tuple[str, ...]
    object_names: tuple[str, ...]


def generate_training_split(config: SyntheticConfig) -> TrainingSplit:
    """A training split drawn like the probe set but from a disjoint seed stream."""
    table = concept_table()
    object_names = tuple(table["object"])
    object_number = {n: k for k, n in enumerate(table["object"].values())}
    scene_number = {n: k for k, n in enumerate(table["scene"].values())}
    train_config = SyntheticConfig(n_images=config.n_images, image_size=config.image_size,
                                   seed=config.seed + 1_000_003, max_objects=config.max_objects)
    images, scenes, objects = [], [], []
    for i in range(config.n_images):
        sample = _sample(train_config, i, table)
        plane = sample.planes["object"][0] if "object" in sample.planes else np.zeros(1, int)
        numbers, counts = np.unique(plane[plane > 0], return_counts=True)
        images.append(sample.image)
        scenes.append(scene_number[sample.image_labels["scene"][0]])
        objects.append(object_number[int(numbers[counts.argmax()])] if numbers.size else -1)
    return TrainingSplit(np.stack(images), np.array(scenes), np.array(objects),
                         tuple(table["scene"]), object_names)
