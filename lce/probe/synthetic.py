"""A synthetic Broden-format probe set built from real image material.

Every image is a scene layout (image-level ``scene``) over a background material whose pattern is
also the image-level ``texture``; on it lie 1-3 objects -- real animal silhouettes from
``animal-mnist`` or geometric shapes (:mod:`lce.probe.shapes`) -- each filled with a named colour or
a material (:mod:`lce.probe.materials`). Objects carry ``object`` masks and ``part`` masks on up to
three planes (quadrants ``<object>-t/-b``, ``<object>-l/-r``, and shape-specific parts); every
region carries its ``color`` and ``material`` labels. Masks are drawn at half the image
resolution, as in Broden. Some images lack some categories (a plain sky has no material and no
texture; a material-filled object on a wall has no colour), as real Broden images do.

Label numbers are assigned per category from fixed bases, so some exceed 255 and exercise the
``R + 256 * G`` mask encoding; lists only grow at their end, so numbers stay stable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lce.errors import LCEError
from lce.params import SyntheticProbeParams
from lce.probe.materials import COLORS, MATERIAL_TEXTURE, MATERIALS, TEXTURES, material_patch
from lce.probe.shapes import OBJECTS, SHAPE_PARTS, object_masks, part_names, quadrants
from lce.probe.writer import ProbeSample, write_broden

SCENES = ("field", "indoor", "seaside", "sky", "lake")
PIXEL_CATEGORIES = ["color", "object", "part", "material"]
IMAGE_CATEGORIES = ["scene", "texture"]
CATEGORIES = tuple(PIXEL_CATEGORIES + IMAGE_CATEGORIES)
# First label number of each category; the gaps keep numbers stable when lists grow.
# Parts are labelled only on objects at least this fraction of the image wide: annotators of real
# segmentations skip the parts of small objects, and it leaves some images without parts.
PART_MIN_SIZE = 0.4
LABEL_BASES = {"color": 1, "object": 20, "part": 60, "scene": 200, "material": 260, "texture": 300}

_DEFAULTS = SyntheticProbeParams()


@dataclass(frozen=True)
class SyntheticOptions:
    """What to generate. Empty concept tuples mean "all"; subsets restrict the random choices
    (a scene still brings its own sky or water). The defaults are those of a ``synthetic``
    probe set in params.yaml (:class:`lce.params.SyntheticProbeParams`), stated there once."""

    n_images: int = _DEFAULTS.n_images
    image_size: int = _DEFAULTS.image_size
    seed: int = _DEFAULTS.seed
    max_objects: int = _DEFAULTS.max_objects
    train_fraction: float = 0.0
    categories: tuple[str, ...] = CATEGORIES
    objects: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    scenes: tuple[str, ...] = ()

    def validate(self, where: str = "probe") -> SyntheticOptions:
        """Reject unknown names and impossible sizes with the offending key in the message."""
        if self.n_images < 0 or self.max_objects < 1:
            raise LCEError(f"{where}: n_images must be >= 0 and max_objects >= 1")
        if self.image_size < 16 or self.image_size % 2:
            raise LCEError(f"{where}.image_size: must be an even number >= 16")
        for key, known in (("categories", CATEGORIES), ("objects", OBJECTS),
                           ("materials", MATERIALS), ("colors", tuple(COLORS)),
                           ("scenes", SCENES)):
            unknown = sorted(set(getattr(self, key)) - set(known))
            if unknown:
                raise LCEError(f"{where}.{key}: unknown name {unknown[0]!r}",
                               hint=f"known: {', '.join(known)}")
        if not self.categories:
            raise LCEError(f"{where}.categories: must name at least one category")
        return self


def concept_table() -> dict[str, dict[str, int]]:
    """Category -> {concept name: label number}."""
    names = {"color": list(COLORS), "object": list(OBJECTS), "part": part_names(),
             "material": list(MATERIALS), "scene": list(SCENES), "texture": list(TEXTURES)}
    return {c: {n: LABEL_BASES[c] + k for k, n in enumerate(ns)} for c, ns in names.items()}


class _Canvas:
    """An image being drawn and its label planes at half resolution."""

    def __init__(self, size: int):
        self.size, m = size, size // 2
        self.image = np.zeros((size, size, 3), dtype=np.uint8)
        self.planes = {name: np.zeros((m, m), np.int32)
                       for name in ("color", "material", "object", "part_tb", "part_lr",
                                    "part_shape")}

    def band(self, top: int, bottom: int, pixels, color: int = 0, material: int = 0) -> None:
        """Paint image rows [top, bottom) and label the matching mask rows."""
        self.image[top:bottom] = pixels[top:bottom] if np.ndim(pixels) == 3 else pixels
        rows = slice(top // 2, bottom // 2)
        self.planes["color"][rows] = color
        self.planes["material"][rows] = material


def _choices(subset: tuple[str, ...], everything) -> tuple[str, ...]:
    return subset or tuple(everything)


def _draw_scene(canvas: _Canvas, scene: str, config: SyntheticOptions, table,
                rng: np.random.Generator) -> str | None:
    """Paint the scene layout; return the background material (None for a plain sky)."""
    s = canvas.size
    materials = _choices(config.materials, MATERIALS)
    if scene == "sky":  # a plain sky gradient: no material, no texture
        shade = np.linspace(0.75, 1.1, s)[:, None, None]
        sky = np.clip(np.array(COLORS["blue"]) * shade, 0, 255).astype(np.uint8)
        canvas.band(0, s, np.broadcast_to(sky, (s, s, 3)), color=table["color"]["blue"])
        return None
    background = "waves" if scene == "lake" else materials[rng.integers(len(materials))]
    canvas.band(0, s, material_patch(background, s, rng),
                material=table["material"][background])
    if scene == "indoor":  # a wall of the background material over a floor of another one
        floor = materials[rng.integers(len(materials))]
        top = int(s * rng.uniform(0.65, 0.8)) // 2 * 2
        canvas.band(top, s, material_patch(floor, s, rng), material=table["material"][floor])
        return background
    horizon = int(s * rng.uniform(0.25, 0.55)) // 2 * 2
    sky = "white" if scene == "field" else "blue"
    canvas.band(0, horizon, COLORS[sky], color=table["color"][sky])
    if scene == "seaside":  # a band of plain sea between the sky and the beach
        bottom = min(s, horizon + s // 5) // 2 * 2
        sea = (np.array(COLORS["blue"]) * rng.uniform(0.6, 0.9)).astype(np.uint8)
        canvas.band(horizon, bottom, sea, color=table["color"]["blue"])
    return background


def _draw_object(canvas: _Canvas, config: SyntheticOptions, table,
                 rng: np.random.Generator) -> None:
    s, m = canvas.size, canvas.size // 2
    objects = _choices(config.objects, OBJECTS)
    name = objects[rng.integers(len(objects))]
    size = int(rng.integers(s // 4, int(s * 0.7)))
    y, x = rng.integers(0, s - size + 1, 2)
    shape, special = object_masks(name, size, rng)
    full = np.zeros((s, s), bool)
    full[y:y + size, x:x + size] = shape
    colors = _choices(config.colors, COLORS)
    if rng.random() < 0.6:
        fill_name = colors[rng.integers(len(colors))]
        fill = np.broadcast_to(np.array(COLORS[fill_name], np.uint8), (s, s, 3))
    else:
        materials = _choices(config.materials, MATERIALS)
        fill_name = materials[rng.integers(len(materials))]
        fill = material_patch(fill_name, s, rng)
    canvas.image[full] = fill[full]

    def half(mask: np.ndarray) -> np.ndarray:
        # a mask pixel is on when most of its 2x2 block is on
        return mask.reshape(m, 2, m, 2).mean(axis=(1, 3)) >= 0.5

    small = half(full)
    p = canvas.planes
    p["object"][small] = table["object"][name]
    p["color"][small] = table["color"].get(fill_name, 0)
    p["material"][small] = table["material"].get(fill_name, 0)
    for plane in ("part_tb", "part_lr", "part_shape"):
        p[plane][small] = 0  # an object on top hides the parts below it
    if size < PART_MIN_SIZE * s:
        return
    quads = quadrants(small)
    for q, plane in (("t", "part_tb"), ("b", "part_tb"), ("l", "part_lr"), ("r", "part_lr")):
        p[plane][quads[q]] = table["part"][f"{name}-{q}"]
    if special is not None:
        full[:] = False
        full[y:y + size, x:x + size] = special
        p["part_shape"][half(full) & small] = table["part"][f"{name}-{SHAPE_PARTS[name]}"]


def _sample(config: SyntheticOptions, index: int, table) -> ProbeSample:
    rng = np.random.default_rng([config.seed, index])
    canvas = _Canvas(config.image_size)
    scenes = _choices(config.scenes, SCENES)
    scene = scenes[rng.integers(len(scenes))]
    background = _draw_scene(canvas, scene, config, table, rng)
    for _ in range(int(rng.integers(1, config.max_objects + 1))):
        _draw_object(canvas, config, table, rng)

    p = canvas.planes
    planes = {"color": [p["color"]], "object": [p["object"]], "material": [p["material"]],
              "part": [p["part_tb"], p["part_lr"]] + ([p["part_shape"]]
                                                      if p["part_shape"].any() else [])}
    labels = {"scene": [table["scene"][scene]]}
    if background is not None:
        labels["texture"] = [table["texture"][MATERIAL_TEXTURE[background]]]
    split = "train" if rng.random() < config.train_fraction else "val"
    wanted = set(config.categories)
    return ProbeSample(
        image=canvas.image, split=split,
        planes={k: v for k, v in planes.items() if k in wanted and v[0].any()},
        image_labels={k: v for k, v in labels.items() if k in wanted},
    )


def generate(root, config: SyntheticOptions, on_image=None):
    """Write a synthetic Broden-format probe set to ``root``; deterministic for ``config``.

    ``on_image`` (optional) is called after each image, e.g. to advance a progress bar.
    """
    config.validate()
    table = concept_table()
    names = {n: name for cat in table.values() for name, n in cat.items()}

    def samples():
        for i in range(config.n_images):
            yield _sample(config, i, table)
            if on_image is not None:
                on_image()

    return write_broden(root, samples(), names,
                        [c for c in PIXEL_CATEGORIES if c in config.categories],
                        [c for c in IMAGE_CATEGORIES if c in config.categories])


@dataclass(frozen=True)
class TrainingSplit:
    """Labelled images of the probe's visual domain, for training and benchmarking models."""

    images: np.ndarray  # (N, S, S, 3) uint8
    scene: np.ndarray  # (N,) int64 index into scene_names
    object: np.ndarray  # (N,) int64 index into object_names: the largest object of the image
    scene_names: tuple[str, ...]
    object_names: tuple[str, ...]


def generate_training_split(config: SyntheticOptions, on_image=None) -> TrainingSplit:
    """A training split drawn like the probe set but from a disjoint seed stream.

    The object label is the object covering most mask pixels (-1 if every object was hidden).
    """
    config.validate()
    table = concept_table()
    object_names = tuple(table["object"])
    object_number = {n: k for k, n in enumerate(table["object"].values())}
    scene_number = {n: k for k, n in enumerate(table["scene"].values())}
    train_config = SyntheticOptions(
        n_images=config.n_images, image_size=config.image_size, seed=config.seed + 1_000_003,
        max_objects=config.max_objects, objects=config.objects, materials=config.materials,
        colors=config.colors, scenes=config.scenes)
    images = np.zeros((config.n_images, config.image_size, config.image_size, 3), np.uint8)
    scenes = np.zeros(config.n_images, np.int64)
    objects = np.full(config.n_images, -1, np.int64)
    for i in range(config.n_images):
        sample = _sample(train_config, i, table)
        plane = sample.planes["object"][0] if "object" in sample.planes else np.zeros(1, int)
        numbers, counts = np.unique(plane[plane > 0], return_counts=True)
        images[i] = sample.image
        scenes[i] = scene_number[sample.image_labels["scene"][0]]
        if numbers.size:
            objects[i] = object_number[int(numbers[counts.argmax()])]
        if on_image is not None:
            on_image()
    return TrainingSplit(images, scenes, objects, tuple(table["scene"]), object_names)


def config_from_params(params: SyntheticProbeParams,
                       where: str = "params.yaml: probes.synthetic") -> SyntheticOptions:
    """The generator configuration of a ``synthetic`` probe set of params.yaml; empty lists mean
    "all"."""
    config = SyntheticOptions(
        n_images=params.n_images, image_size=params.image_size,
        seed=params.seed, max_objects=params.max_objects,
        categories=tuple(params.categories) or CATEGORIES, objects=tuple(params.objects),
        materials=tuple(params.materials), colors=tuple(params.colors),
        scenes=tuple(params.scenes))
    return config.validate(where)
