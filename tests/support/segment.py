"""Random segmenters in Dissect's published file layout (encoder/decoder state dicts and
labels.json per component), width-reduced so a forward pass is fast on a CPU."""

from __future__ import annotations

import json
from pathlib import Path

import torch

# A tiny unified-parsing vocabulary in the published labels.json shape: 'door' is both an
# object and a part of building (Dissect files it as the object), '-' opens every list.
UNIFIED_LABELS = {
    "object": ["-", "sky", "building", "person", "door", "tree"],
    "material": ["-", "wood", "glass"],
    "scene": ["street", "kitchen"],
    "part": ["-", "window", "door", "head", "arm"],
    "object_part": {"building": ["-", "window", "door"], "person": ["-", "head", "arm"]},
}
COLOR_LABELS = {
    "labels": [{"name": "black", "category": "color"}, {"name": "white", "category": "color"},
               {"name": "red", "category": "color"}],
    "categories": [{"name": "color"}],
    "imageformat": {"byteorder": "RGB", "mean": [0.485, 0.456, 0.406],
                    "stdev": [0.229, 0.224, 0.225]},
}
TEST_SCALE = 16


def write_component(directory: Path, net, labels: dict, epoch: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "labels.json").write_text(json.dumps(labels))
    torch.save(net.encoder.state_dict(), directory / f"encoder_epoch_{epoch}.pth")
    torch.save(net.decoder.state_dict(), directory / f"decoder_epoch_{epoch}.pth")
    return directory


def write_random_netpqc(root: Path, seed: int = 0, scale: int = TEST_SCALE) -> dict[str, str]:
    """Files of a random ``netpqc`` under ``root``; returns the ``sources`` mapping that
    :func:`lce.segment.segmenters.load_segmenter` reads (component name -> directory)."""
    from lce.segment.nets import ColorSegmenterNet, UPerNetResNet50
    from lce.segment.registry import COLOR, UPP
    from lce.segment.vocab import UnifiedVocabulary

    torch.manual_seed(seed)
    classes = UnifiedVocabulary.from_json(UNIFIED_LABELS, "test").classes
    upp = UPerNetResNet50(classes, scale)
    color = ColorSegmenterNet(len(COLOR_LABELS["labels"]), scale)
    for net in (upp, color):  # random BatchNorm statistics too, so predictions vary by pixel
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 2.0)
    return {UPP.name: str(write_component(root / UPP.name, upp, UNIFIED_LABELS, UPP.epoch)),
            COLOR.name: str(write_component(root / COLOR.name, color, COLOR_LABELS,
                                            COLOR.epoch))}
