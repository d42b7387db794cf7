"""Build a registered model: architecture from torchvision, weights verified and loaded strictly."""

from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path

from lce.errors import LCEError
from lce.zoo.registry import ModelSpec


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def resolve_source(spec: ModelSpec) -> Path:
    """The local file holding a spec's weights."""
    if spec.source.startswith("package:"):
        package, _, rel = spec.source.removeprefix("package:").partition("/")
        try:
            path = Path(str(importlib.resources.files(package).joinpath(rel)))
        except ModuleNotFoundError:
            raise LCEError(f"model {spec.key}: package {package!r} is not installed",
                           hint="run `make install`") from None
    else:
        path = Path(spec.source)
    if not path.is_file():
        raise LCEError(f"model {spec.key}: weights file {path} not found")
    return path


def build_model(spec: ModelSpec, seed: int = 0):
    """An eval-mode torchvision model for ``spec`` (random specs are seeded by ``seed``)."""
    import torch
    import torchvision

    torch.manual_seed(seed)
    model = torchvision.models.get_model(spec.arch, weights=None)
    if spec.source != "random":
        path = resolve_source(spec)
        if spec.sha256 and (actual := sha256_of(path)) != spec.sha256:
            raise LCEError(f"model {spec.key}: {path} has sha256 {actual}, expected {spec.sha256}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise LCEError(f"model {spec.key}: checkpoint does not fit {spec.arch}: "
                           f"missing {result.missing_keys[:5]}, "
                           f"unexpected {result.unexpected_keys[:5]}")
    return model.eval()
