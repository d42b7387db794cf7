"""Turn a registered spec into weights: resolve its source, verify it, load it strictly, and
materialize it as a normalized checkpoint (``lce.zoo.checkpoint``)."""

from __future__ import annotations

import hashlib
import importlib.resources
from pathlib import Path

from lce.errors import LCEError
from lce.zoo.architectures import build_architecture
from lce.zoo.registry import ModelSpec


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
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
    """An eval-mode model for ``spec`` (random specs are initialised with ``seed``)."""
    import torch

    torch.manual_seed(seed)
    model = build_architecture(spec.arch)
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


def materialize(spec: ModelSpec, directory: str | Path, seed: int = 0):
    """Write ``spec``'s weights as a normalized checkpoint in ``directory``."""
    from lce.zoo.checkpoint import save_checkpoint

    model = build_model(spec, seed)
    source = f"random(seed={seed})" if spec.source == "random" else spec.source
    return save_checkpoint(directory, model.state_dict(), {
        "key": spec.key, "arch": spec.arch, "method": spec.method, "source": source,
        "mean": spec.mean, "std": spec.std, "layers": spec.layers,
    })
