"""A Broden-format probe set written by hand in NetDissect's exact dialect, not through
``lce.probe.writer``: what ``broden1_224`` looks like, shrunk to five images.

The dialect it covers: images in their source subfolders (``ade20k/``, ``pascal/``,
``opensurfaces/``, ``dtd/``), JPEG images and PNG masks at half their size (``ih/iw``,
``sh/sw``), a ``split`` column, several ``;``-separated mask files in one cell (two ``part``
planes), label numbers above 255 encoded as ``R + 256 * G``, image-level ``scene`` and
``texture`` numbers (two textures on one image), images lacking categories (a ``dtd`` image has
no mask at all), ``label.csv`` with ``syns`` and a label filed under two categories
(``object(1);part(1)``), ``c_<category>.csv`` with ``code,number,name,frequency,coverage`` and
``category.csv`` with ``name,first,last,count,frequency`` (first/last are local codes).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE, MASK = 16, 8  # image and mask sizes (masks at half resolution, as in Broden)
CATEGORIES = ["color", "object", "part", "material", "scene", "texture"]
# number -> (name, {category: coverage}, syns); numbers above 255 need the G channel
LABELS = {
    1: ("black", {"color": 0.30}, ""),
    2: ("red", {"color": 0.20}, "reddish"),
    300: ("person", {"object": 0.40}, "person;individual;someone"),
    301: ("wall", {"object": 0.35}, ""),
    302: ("door", {"object": 0.25, "part": 0.10}, "door;doorway"),  # primary: object
    400: ("head", {"part": 0.15}, ""),
    401: ("leg", {"part": 0.12}, ""),
    510: ("wood", {"material": 0.20}, "wood;timber"),
    512: ("street", {"scene": 1.0}, ""),
    600: ("banded", {"texture": 1.0}, ""),
    601: ("striped", {"texture": 1.0}, ""),
}


def _half(a: int, b: int) -> np.ndarray:
    """An 8x8 plane: label ``a`` on the top half, ``b`` on the bottom half (0: unlabelled)."""
    plane = np.zeros((MASK, MASK), dtype=np.int64)
    plane[: MASK // 2], plane[MASK // 2:] = a, b
    return plane


# image -> split, {pixel category: [planes]}, {image-level category: [numbers]}
ROWS = {
    "ade20k/ADE_train_00000001.jpg": ("train", {
        "color": [_half(1, 2)], "object": [_half(300, 302)],
        "part": [_half(400, 302), _half(0, 401)]}, {"scene": [512]}),
    "pascal/2008_000001.jpg": ("val", {
        "color": [_half(2, 0)], "object": [_half(300, 301)], "part": [_half(400, 0)]}, {}),
    "opensurfaces/100.jpg": ("train", {"color": [_half(1, 1)], "material": [_half(510, 0)]},
                             {}),
    "dtd/banded_0002.jpg": ("val", {}, {"texture": [600, 601]}),
    "ade20k/ADE_train_00000002.jpg": ("val", {
        "object": [_half(301, 301)], "material": [_half(0, 510)]}, {"scene": [512]}),
}


def mask_name(image: str, category: str, k: int, planes: int) -> str:
    stem = image.rsplit(".", 1)[0]
    return f"{stem}_{category}" + (f"_{k + 1}" if planes > 1 else "") + ".png"


def encode(plane: np.ndarray) -> np.ndarray:
    """Broden's mask encoding, done here by hand: R = n % 256, G = n // 256."""
    rgb = np.zeros(plane.shape + (3,), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1] = plane % 256, plane // 256
    return rgb


def _write(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_netdissect_probe(root: Path, seed: int = 0) -> Path:
    """Write the fixture to ``root`` (images are seeded noise) and return ``root``."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    index = []
    for image, (split, pixel, image_level) in ROWS.items():
        path = root / "images" / image
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (IMAGE, IMAGE, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path, quality=95)
        cells = {}
        for category, planes in pixel.items():
            names = [mask_name(image, category, k, len(planes)) for k in range(len(planes))]
            for name, plane in zip(names, planes, strict=True):
                Image.fromarray(encode(plane)).save(root / "images" / name)
            cells[category] = ";".join(names)
        for category, numbers in image_level.items():
            cells[category] = ";".join(str(n) for n in numbers)
        index.append([image, split, IMAGE, IMAGE, MASK, MASK,
                      *(cells.get(c, "") for c in CATEGORIES)])
    _write(root / "index.csv", ["image", "split", "ih", "iw", "sh", "sw", *CATEGORIES], index)
    _write(root / "label.csv", ["number", "name", "category", "frequency", "coverage", "syns"],
           [[n, name, ";".join(f"{c}(1)" for c in cats), len(cats), max(cats.values()), syns]
            for n, (name, cats, syns) in LABELS.items()])
    category_rows = []
    for category in CATEGORIES:
        members = [(n, name, cats[category]) for n, (name, cats, _) in LABELS.items()
                   if category in cats]
        _write(root / f"c_{category}.csv", ["code", "number", "name", "frequency", "coverage"],
               [[code, n, name, 1, coverage]
                for code, (n, name, coverage) in enumerate(members, start=1)])
        category_rows.append([category, 1, len(members), len(members), len(members)])
    _write(root / "category.csv", ["name", "first", "last", "count", "frequency"],
           category_rows)
    return root


def primary_categories() -> dict[int, str]:
    """Each label's primary category: the one with the largest coverage."""
    return {n: max(cats, key=cats.get) for n, (_, cats, _) in LABELS.items()}
