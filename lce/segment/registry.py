"""Registered segmenters, like the zoo's checkpoints: published URLs, a sha256 recorded at first
download (Dissect publishes none), a strict key check and ``weights_only`` loading.

Each *component* is one published model directory of Dissect
(``https://dissect.csail.mit.edu/models/segmodel/<name>/``: ``encoder_epoch_E.pth``,
``decoder_epoch_E.pth``, ``labels.json``); a *segmenter* merges components in order, as Dissect's
``MergedSegmenter`` does. Pure data: listing them needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from lce.errors import LCEError

DISSECT_MODELS = "https://dissect.csail.mit.edu/models/segmodel"


@dataclass(frozen=True)
class Component:
    name: str       # Dissect's directory name, also the cache folder
    kind: str       # "unified" (UPerNet-ResNet50 unified parsing) or "semantic" (colour model)
    epoch: int
    quadrants: bool = False  # segdiv='quad'
    paper: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        return (f"encoder_epoch_{self.epoch}.pth", f"decoder_epoch_{self.epoch}.pth",
                "labels.json")

    def url(self, file: str) -> str:
        return f"{DISSECT_MODELS}/{self.name}/{file}"


UPP = Component("upp-resnet50-upernet", "unified", 40, quadrants=True,
                paper="Xiao et al., Unified Perceptual Parsing for Scene Understanding, ECCV 2018")
COLOR = Component("color-resnet18dilated-ppm_deepsup", "semantic", 20,
                  paper="Bau et al., Understanding the role of individual units, PNAS 2020")


@dataclass(frozen=True)
class SegmenterSpec:
    key: str
    components: tuple[Component, ...]
    categories: tuple[str, ...]   # the probe categories its masks fill, in Broden column order
    description: str


SEGMENTERS: dict[str, SegmenterSpec] = {s.key: s for s in (
    SegmenterSpec("netpqc", (UPP, COLOR), ("object", "part", "material", "color"),
                  "Dissect's default: unified parsing with all parts and quadrant labels "
                  "(segsizes=[256], all_parts=True, segdiv='quad') merged with the colour "
                  "segmenter"),
    SegmenterSpec("netpq", (UPP,), ("object", "part", "material"),
                  "unified parsing with all parts and quadrant labels, no colours"),
)}


def get_segmenter_spec(key: str) -> SegmenterSpec:
    try:
        return SEGMENTERS[key]
    except KeyError:
        raise LCEError(f"unknown segmenter {key!r}",
                       hint=f"registered segmenters: {', '.join(SEGMENTERS)}") from None
