"""Surface material of the synthetic probe: named colours, real photos and procedural patterns.

Real material comes from scikit-image's bundled photos (brick, grass, gravel): a random crop,
rescaled, so two patches of one material differ as they would in photographs. The procedural
materials (stripes, dots, checker, noise, waves, wood) cover the kinds of periodic and stochastic
surfaces that low-level units are known to pick up. Every image-level ``texture`` concept names
the pattern of one material, as Broden's DTD textures name the look of a surface.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from PIL import Image

from lce.data.offline import SKIMAGE_TEXTURES, skimage_texture

COLORS = {
    "red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 220), "yellow": (235, 215, 40),
    "orange": (240, 140, 30), "purple": (140, 60, 180), "pink": (240, 140, 190),
    "white": (245, 245, 245), "black": (20, 20, 20), "gray": (128, 128, 128),
    "brown": (130, 80, 40),
}
PROCEDURAL_MATERIALS = ("stripes", "dots", "checker", "noise", "waves", "wood")
MATERIALS = SKIMAGE_TEXTURES + PROCEDURAL_MATERIALS
# The look of each material as an image-level texture name (Broden's textures come from DTD).
MATERIAL_TEXTURE = {"brick": "brickwork", "grass": "grassy", "gravel": "pebbly",
                    "stripes": "banded", "dots": "dotted", "checker": "chequered",
                    "noise": "speckled", "waves": "wavy", "wood": "grainy"}
# Append-only: a texture's label number is its position, so new names go at the end.
TEXTURES = ("banded", "dotted", "chequered", "speckled", "brickwork", "grassy", "pebbly", "wavy",
            "grainy")


@cache
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size]
    return yy, xx


def _two_tone(on: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    return np.where(on[..., None], fg, bg).astype(np.uint8)


def material_patch(name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A (size, size, 3) uint8 patch of a material: a random crop of a real photo or a pattern."""
    if name in SKIMAGE_TEXTURES:
        photo = skimage_texture(name)
        h, w = photo.shape[:2]
        crop = min(h, w, max(size, int(size * rng.uniform(1.0, 2.0))))
        y, x = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
        patch = Image.fromarray(photo[y:y + crop, x:x + crop]).resize((size, size),
                                                                      Image.BILINEAR)
        return np.asarray(patch)
    yy, xx = _grid(size)
    period = int(rng.integers(6, 14))
    if name == "stripes":
        return _two_tone(((xx + yy * rng.choice([0, 1])) // (period // 2)) % 2 == 0, rng)
    if name == "dots":
        return _two_tone(((xx % period - period / 2) ** 2 + (yy % period - period / 2) ** 2)
                         < (period / 3) ** 2, rng)
    if name == "checker":
        return _two_tone(((xx // period) + (yy // period)) % 2 == 0, rng)
    if name == "waves":
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(yy * (2 * np.pi / period) + 2.5 * np.sin(xx * (2 * np.pi / (3 * period))
                                                               + phase))
        base = np.array([30, 90, 170]) + rng.integers(-20, 21, 3)
        return np.clip(base + 45 * wave[..., None], 0, 255).astype(np.uint8)
    if name == "wood":
        cx, cy = rng.uniform(-size, 2 * size, 2)
        rings = np.sin(np.hypot(xx - cx, (yy - cy) * 0.25) * (2 * np.pi / period))
        base = np.array([150, 100, 55]) + rng.integers(-20, 21, 3)
        return np.clip(base + 35 * rings[..., None], 0, 255).astype(np.uint8)
    # noise
    return rng.integers(0, 256, (size, size, 3)).astype(np.uint8)
