"""Published model names (``MoCoV2(R)``, ``SwAV``) -> zoo keys (``resnet50-mocov2``).

Imported tables name models the way their paper does; the warehouse keys them like the zoo so that
an imported profile, a measured benchmark and a dissected checkpoint of the same model meet on one
key. The display name is kept beside it for users who think in the paper's names.
"""

from __future__ import annotations

import re

from lce.errors import LCEError

# Fallback until ``lce.zoo.registry.key_for_name`` is available on every branch: the same mapping.
_PUBLISHED = {
    "BYOL": "resnet50-byol", "DeepClusterV2": "resnet50-deepclusterv2",
    "InfoMin": "resnet50-infomin", "InsDis": "resnet50-insdis", "MoCoV1": "resnet50-mocov1",
    "MoCoV2": "resnet50-mocov2", "PCLV1": "resnet50-pclv1", "PCLV2": "resnet50-pclv2",
    "PIRL": "resnet50-pirl", "SeLaV1": "resnet50-selav1", "SeLaV2": "resnet50-selav2",
    "SimCLRV1": "resnet50-simclrv1", "SimCLRV2": "resnet50-simclrv2",
    "Supervised": "resnet50-supervised", "SwAV": "resnet50-swav",
}


def display_name(name: str) -> str:
    """The paper's name without the architecture suffix: ``MoCoV2(R)`` -> ``MoCoV2``."""
    return re.sub(r"\s*\([A-Za-z0-9]+\)\s*$", "", name.strip())


def _registry_key(name: str) -> str | None:
    try:
        from lce.zoo.registry import key_for_name
    except ImportError:
        return None
    try:
        return key_for_name(name)
    except (LCEError, KeyError):
        return None


def model_key(name: str, arch_prefix: str = "resnet50") -> str:
    """The zoo key of a published model name; unknown names get ``<arch>-<slug>``.

    Names the zoo does not know (the paper's SwAV variants, its random baseline) still need a
    stable dot-free key, so they are slugged under the architecture every model of the table has.
    """
    display = display_name(name)
    known = _registry_key(display) or _PUBLISHED.get(display)
    if known:
        return known
    if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", display):
        return display  # already a key
    slug = re.sub(r"[^a-z0-9]+", "-", display.lower()).strip("-")
    if not slug:
        raise LCEError(f"cannot make a model key from name {name!r}")
    return f"{arch_prefix}-{slug}"
