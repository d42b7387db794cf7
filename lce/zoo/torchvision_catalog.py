"""torchvision's ImageNet classifiers as zoo entries ``<builder name>-imagenet``.

Listed from torchvision itself (its weights enums carry the URL, the input normalization and the
first hex digits of the file's sha256 in the file name), so the list follows the installed
version instead of a copy that goes stale. The classic ``IMAGENET1K_V1`` weights are used: they
are the ones papers of the field dissected.
"""

from __future__ import annotations

import functools
import re

from lce.zoo.catalog import entry
from lce.zoo.spec import ModelSpec

SUFFIX = "-imagenet"
# torch.hub's convention: the file name ends with "-<first hex digits of its sha256>.<ext>".
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")
# What torchvision's builders set themselves when they load ImageNet weights, which building with
# weights=None leaves at the class defaults: both Inception nets were trained on inputs
# re-normalized inside the net (transform_input), and GoogLeNet's auxiliary heads, which its file
# holds untrained, are removed. Inception v3 keeps its (trained) AuxLogits, as torchvision does.
# builder -> (architecture kwargs, raw keys to drop)
_WEIGHTS_BUILD = {
    "googlenet": ({"transform_input": True, "aux_logits": False, "init_weights": False},
                  ("aux1.", "aux2.")),
    "inception_v3": ({"transform_input": True, "init_weights": False}, ()),
}


def _default_layers(name: str) -> tuple[str, ...]:
    """The usual layers to dissect where the family's layout makes them obvious."""
    if name.startswith(("resnet", "resnext", "wide_resnet")):
        return ("layer3", "layer4")
    return ()


@functools.cache
def torchvision_specs() -> dict[str, ModelSpec]:
    import torchvision

    specs = {}
    for name in torchvision.models.list_models(module=torchvision.models):
        weights_enum = torchvision.models.get_model_weights(name)
        weights = getattr(weights_enum, "IMAGENET1K_V1", None)
        if weights is None:
            continue
        transforms = weights.transforms
        mean = tuple(getattr(transforms, "keywords", {}).get("mean", (0.485, 0.456, 0.406)))
        std = tuple(getattr(transforms, "keywords", {}).get("std", (0.229, 0.224, 0.225)))
        digest = _HASH_IN_NAME.search(weights.url)
        arch_kwargs, drop = _WEIGHTS_BUILD.get(name, ({}, ()))
        specs[name + SUFFIX] = entry(
            name + SUFFIX, arch=name, method="supervised", source=weights.url,
            sha256=digest.group(1) if digest else None, arch_kwargs=dict(arch_kwargs), drop=drop,
            mean=mean, std=std,
            layers=_default_layers(name), license="BSD-3-Clause (torchvision)",
            paper=weights.meta.get("recipe", ""),
            notes=f"torchvision {name} {weights_enum.__name__}.IMAGENET1K_V1")
    return specs
