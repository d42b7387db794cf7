"""A Broden-format probe directory from an image folder and a registered segmenter.

Dissect's way of making concept masks (docs/DESIGN.md §6, "The seed paper's own dissection
setting"): every image is resized to 256x256 and centre-cropped to 224x224 (the images the
models then see, written as PNG so the engine reads exactly these pixels), and the segmenter
predicts its multi-label masks at 224 / ``downsample`` = 56x56. The masks are filed by category
(object: the object channel; part: the part channel and the two quadrant channels; material;
color) as Broden mask planes, and :func:`lce.probe.writer.write_broden` derives the label tables
from what was predicted, so the probe cache, the dissection engine and the warehouse read the
result like any Broden set. Label 0 is no prediction and never a concept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from lce.analysis.identity import PROBE_NOTE
from lce.errors import LCEError
from lce.io import check_replaceable
from lce.probe.writer import ProbeSample, write_broden

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass(frozen=True)
class SegmentSettings:
    """Dissect's ``places`` preprocessing and ``segment_batch(..., downsample=4)``."""

    resize: int = 256
    crop: int = 224
    downsample: int = 4
    batch_size: int = 16
    split: str = "val"


def list_images(images_dir: str | Path) -> list[Path]:
    """Every image below ``images_dir`` (an ImageFolder's class folders or a plain directory),
    sorted by relative path so the probe's order does not depend on the file system."""
    root = Path(images_dir)
    if not root.is_dir():
        raise LCEError(f"{root}: not a directory of images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                   and p.is_file() and not any(part.startswith(".") for part in
                                               p.relative_to(root).parts))
    if not files:
        raise LCEError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) found")
    return files


def preprocess(path: Path, settings: SegmentSettings) -> np.ndarray:
    """``Resize((resize, resize))`` (bilinear, as torchvision on PIL images), then
    ``CenterCrop(crop)`` (torchvision's rounding of the offsets): (crop, crop, 3) uint8."""
    try:
        with Image.open(path) as img:
            img = img.convert("RGB").resize((settings.resize, settings.resize),
                                            Image.Resampling.BILINEAR)
    except OSError as exc:
        raise LCEError(f"{path}: cannot read image ({exc})") from None
    top = int(round((settings.resize - settings.crop) / 2.0))
    return np.asarray(img)[top:top + settings.crop, top:top + settings.crop].copy()


def _samples(files: list[Path], segmenter, settings: SegmentSettings,
             on_image: Callable[[int], None] | None) -> Iterator[ProbeSample]:
    import torch

    channels = segmenter.channel_categories
    categories = segmenter.spec.categories
    for start in range(0, len(files), settings.batch_size):
        images = np.stack([preprocess(p, settings) for p in files[start:start +
                                                                  settings.batch_size]])
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255 * 2 - 1
        masks = segmenter.segment(x, settings.downsample).cpu().numpy()
        for image, mask in zip(images, masks, strict=True):
            planes = {cat: [mask[c].astype(np.int64) for c, ch in enumerate(channels)
                            if ch == cat] for cat in categories}
            yield ProbeSample(image=image, split=settings.split, planes=planes)
            if on_image:
                on_image(1)


def label_image_folder(images_dir: str | Path, out_dir: str | Path, segmenter,
                       settings: SegmentSettings = SegmentSettings(),
                       on_image: Callable[[int], None] | None = None,
                       images: str | None = None) -> Path:
    """Write the Broden-format probe of ``images_dir`` labelled by ``segmenter`` (a loaded
    :class:`lce.segment.segmenters.Segmenter`) at ``out_dir``, atomically; ``on_image`` is
    called once per image written (progress). The directory records its image set (``images``,
    default the folder's name: say ``places365-val`` for Dissect's Places365 validation set)
    and labeller in :data:`lce.analysis.identity.PROBE_NOTE`: half of its profiles' identity."""
    check_replaceable(out_dir, [images_dir])
    files = list_images(images_dir)
    names = {number: name for number, (name, _) in enumerate(segmenter.labels) if number}
    note = {"images": images or Path(images_dir).resolve().name,
            "labeller": segmenter.spec.key}
    return write_broden(out_dir, _samples(files, segmenter, settings, on_image), names,
                        list(segmenter.spec.categories), [],
                        notes={PROBE_NOTE: json.dumps(note, sort_keys=True) + "\n"})


def check_segmented_probe(settings, where: str) -> None:
    """The params check of a ``segmented`` probe set (before anything runs): its image folder
    holds images and its segmenter is registered."""
    from lce.segment.registry import get_segmenter_spec

    get_segmenter_spec(settings.segmenter)
    list_images(settings.source)


def build_segmented_probe(settings, out: Path, where: str) -> None:
    """``probe@<name>`` of kind ``segmented`` (:class:`lce.params.SegmentedProbeParams`)."""
    from lce.devices import pick_device
    from lce.progress import progress
    from lce.segment.registry import get_segmenter_spec
    from lce.segment.segmenters import load_segmenter

    spec = get_segmenter_spec(settings.segmenter)
    sources = ({c.name: str(Path(settings.files) / c.name) for c in spec.components}
               if settings.files else None)
    segmenter = load_segmenter(spec.key, sources, settings.scale,
                               pick_device(settings.device, f"{where}.device"))
    bar = progress()
    task = bar.add_task("segment", total=len(list_images(settings.source)))
    with bar:
        label_image_folder(settings.source, out, segmenter,
                           SegmentSettings(batch_size=settings.batch_size),
                           on_image=lambda n: bar.advance(task, n),
                           images=settings.images or None)
