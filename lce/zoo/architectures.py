"""Architectures by name: LCE's own small networks first, then every torchvision builder.

LCE's own networks (trained here, e.g. by DeepCluster) are listed as ``module:callable`` strings
and imported only when asked for, so loading a torchvision model never imports the trainers.
"""

from __future__ import annotations

import importlib

from lce.errors import LCEError

# name -> "module:callable"; each callable takes keyword arguments and returns an nn.Module.
LCE_ARCHITECTURES: dict[str, str] = {
    "lenet": "lce.train.nets:LeNet",
    "small_alexnet": "lce.train.nets:SmallAlexNet",
    "small_resnet": "lce.train.nets:SmallResNet",
}


def build_architecture(name: str, **kwargs):
    """An untrained network of architecture ``name`` (weights are loaded separately)."""
    if name in LCE_ARCHITECTURES:
        module, _, attr = LCE_ARCHITECTURES[name].partition(":")
        return getattr(importlib.import_module(module), attr)(**kwargs)
    import torchvision

    try:
        return torchvision.models.get_model(name, weights=None, **kwargs)
    except ValueError:
        raise LCEError(f"unknown architecture {name!r}",
                       hint="use a torchvision.models builder name or one of: "
                            + ", ".join(sorted(LCE_ARCHITECTURES))) from None
