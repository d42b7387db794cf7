"""Registered models: one :class:`ModelSpec` per pretrained checkpoint, looked up by key or by
the name published tables use.

Keys are what ``params.yaml`` names (``fetch.<key>.zoo``); display names and aliases let
importers of published results (whose model columns say ``MoCoV2(R)``) find the same entry. The
curated entries live in :mod:`lce.zoo.catalog`; torchvision's ImageNet architectures
(``<builder>-imagenet``) are listed lazily from torchvision so that ``lce zoo show KEY`` for a
curated key does not import it.
"""

from __future__ import annotations

import re

from lce.errors import LCEError
from lce.zoo.catalog import CURATED
from lce.zoo.spec import IMAGENET_MEAN, IMAGENET_STD, ModelSpec

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "REGISTRY", "ModelSpec", "all_specs", "get_spec",
           "key_for_name", "normalize_name"]

REGISTRY: dict[str, ModelSpec] = {spec.key: spec for spec in CURATED}


def all_specs() -> dict[str, ModelSpec]:
    """Curated entries first, then torchvision's ImageNet architectures."""
    from lce.zoo.torchvision_catalog import torchvision_specs

    return {**REGISTRY, **{k: v for k, v in torchvision_specs().items() if k not in REGISTRY}}


def get_spec(key: str) -> ModelSpec:
    if key in REGISTRY:
        return REGISTRY[key]
    from lce.zoo.torchvision_catalog import SUFFIX, torchvision_specs

    if key.endswith(SUFFIX) and key in (specs := torchvision_specs()):
        return specs[key]
    close = [k for k in REGISTRY if key.split("-")[0] in k][:8]
    hint = ("registered models include: " + ", ".join(close) if close else
            "list the registered models with: lce zoo list")
    raise LCEError(f"unknown model key {key!r}", hint=hint)


_PUBLISHED_SUFFIX = re.compile(r"\(r\)$")


def normalize_name(name: str) -> str:
    """``MoCoV2(R)``, ``moco-v2`` and ``MOCO_V2`` all become ``mocov2``."""
    name = _PUBLISHED_SUFFIX.sub("", name.strip().lower())
    return re.sub(r"[^a-z0-9]", "", name)


def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in REGISTRY.values():
        for name in spec.names:
            owner = index.setdefault(normalize_name(name), spec.key)
            if owner != spec.key:
                raise AssertionError(f"name {name!r} of {spec.key} is also {owner}'s")
    return index


_NAMES = _name_index()


def key_for_name(name: str) -> str | None:
    """The zoo key of a published model name (case-insensitive, ``(R)`` suffix tolerated)."""
    return _NAMES.get(normalize_name(name))
