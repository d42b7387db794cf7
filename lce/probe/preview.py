"""A picture of a probe set: images next to their concept masks, each label in its own colour.

It lets a reader see at a glance what the masks of a probe set look like (and catch a generator
that draws masks off its objects). Each row is one image: the image, then one panel per pixel
category (every plane of a category overlaid, later planes on top), captioned with the
image-level labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CAPTION = 14  # pixels of caption under each panel


def label_colors(labels: np.ndarray) -> np.ndarray:
    """A fixed, well-spread RGB colour per label number (0 -> black)."""
    labels = labels.astype(np.uint64)
    hashed = (labels * np.uint64(2654435761)) % np.uint64(1 << 24)
    rgb = np.stack([(hashed >> np.uint64(s)) & np.uint64(255) for s in (16, 8, 0)], axis=-1)
    rgb = (rgb.astype(np.uint16) // 2 + 100).astype(np.uint8)  # bright, never black
    rgb[labels == 0] = 0
    return rgb


def _panel(planes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    merged = np.zeros(planes.shape[1:], dtype=np.int64)
    for plane in planes:
        merged = np.where(plane > 0, plane, merged)
    colored = Image.fromarray(label_colors(merged))
    return np.asarray(colored.resize(size, Image.NEAREST))


def render_preview(probe, indices: list[int], path: str | Path) -> Path:
    """Write a PNG grid of ``probe``'s images ``indices`` and their coloured masks to ``path``
    (under LCE's output rules: :func:`lce.io.output_file`)."""
    from lce.io import output_file

    columns = ["image"] + probe.pixel_categories
    first = probe.records[indices[0]]
    h, w = first.ih, first.iw
    sheet = Image.new("RGB", (w * len(columns), (h + CAPTION) * len(indices) + CAPTION),
                      "white")
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(columns):
        draw.text((c * w + 3, 1), name, fill="black")
    names = {n: concept.name for n, concept in probe.concepts.items()}
    for r, i in enumerate(indices):
        y = CAPTION + r * (h + CAPTION)
        seg = probe.segmentation(i)
        image = Image.fromarray(probe.image(i)).resize((w, h))
        sheet.paste(image, (0, y))
        for c, category in enumerate(probe.pixel_categories, start=1):
            sheet.paste(Image.fromarray(_panel(seg[category], (w, h))) if seg[category].size
                        else Image.new("RGB", (w, h)), (c * w, y))
        caption = "  ".join(f"{cat}: {', '.join(names.get(int(n), str(n)) for n in seg[cat])}"
                            for cat in sorted(probe.image_level) if seg[cat].size)
        draw.text((3, y + h + 1), caption, fill="black")
    with output_file(path, "wb") as fh:
        sheet.save(fh, format="PNG")
    return Path(path)
