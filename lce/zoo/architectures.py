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


# Architectures of published checkpoints that torchvision lacks (the model zoo's own list).
ZOO_ARCHITECTURES: dict[str, str] = {
    "alexnet_deepcluster": "lce.zoo.nets.deepcluster:alexnet_deepcluster",
    "vgg16_deepcluster": "lce.zoo.nets.deepcluster:vgg16_deepcluster",
}


def build_architecture(name: str, **kwargs):
    """An untrained network of architecture ``name`` (weights are loaded separately)."""
    target = LCE_ARCHITECTURES.get(name) or ZOO_ARCHITECTURES.get(name)
    if target:
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)(**kwargs)
    import torchvision

    try:
        return torchvision.models.get_model(name, weights=None, **kwargs)
    except ValueError:
        own = sorted({**LCE_ARCHITECTURES, **ZOO_ARCHITECTURES})
        raise LCEError(f"unknown architecture {name!r}",
                       hint="use a torchvision.models builder name or one of: "
                            + ", ".join(own)) from None
