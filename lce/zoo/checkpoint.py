"""The normalized checkpoint every model is materialized as: ``model.pt`` + ``spec.json``.

``model.pt`` is a plain state_dict in the architecture's own key layout (no wrappers, no heads that
the architecture lacks), so it loads strictly with ``weights_only=True``; ``spec.json`` says which
architecture it fits, where it came from, its sha256 and the input normalization. Fetched zoo
models, seeded random models and models trained here all share this one format, which is what
``dissect@``/``bench@`` stages read and what a team shares through its DVC remote.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lce.errors import LCEError
from lce.io import atomic_path, write_json
from lce.zoo.architectures import build_architecture
from lce.zoo.registry import IMAGENET_MEAN, IMAGENET_STD

WEIGHTS_FILE = "model.pt"
SPEC_FILE = "spec.json"


@dataclass(frozen=True)
class CheckpointSpec:
    key: str
    arch: str
    method: str
    source: str
    sha256: str
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    arch_kwargs: dict = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    missing_keys: tuple[str, ...] = ()  # classifier keys the source did not provide
    source_sha256: str = ""  # of the file the weights were read from ("" for random weights)

    @classmethod
    def read(cls, directory: Path) -> CheckpointSpec:
        path = Path(directory) / SPEC_FILE
        if not path.is_file():
            raise LCEError(f"{path}: file not found (is {directory} a model checkpoint?)")
        try:
            data = json.loads(path.read_text())
            data["mean"], data["std"] = tuple(data["mean"]), tuple(data["std"])
            data["layers"] = tuple(data.get("layers", ()))
            data["missing_keys"] = tuple(data.get("missing_keys", ()))
            return cls(**data)
        except (ValueError, TypeError, KeyError) as exc:
            raise LCEError(f"{path}: invalid checkpoint spec ({exc})") from None


def save_checkpoint(directory: str | Path, state_dict: dict, spec_fields: dict) -> CheckpointSpec:
    """Write ``model.pt`` and ``spec.json`` atomically; the spec records the file's sha256."""
    import torch

    from lce.zoo.fetch import sha256_of

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / WEIGHTS_FILE
    # torch.save names the zip archive after the file; saving through a buffer keeps the bytes
    # independent of the temporary file name, so the same weights give the same sha256.
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu().contiguous() for k, v in state_dict.items()}, buffer)
    with atomic_path(weights) as tmp:
        tmp.write_bytes(buffer.getvalue())
    spec = CheckpointSpec(sha256=sha256_of(weights), **spec_fields)
    write_json(asdict(spec), directory / SPEC_FILE)
    return spec


def load_checkpoint(directory: str | Path):
    """(eval-mode model, spec) from a normalized checkpoint directory, verified and strict."""
    from lce.zoo.fetch import sha256_of
    from lce.zoo.safe_load import safe_torch_load
    from lce.zoo.state_dict import load_checked

    directory = Path(directory)
    spec = CheckpointSpec.read(directory)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise LCEError(f"{weights}: file not found")
    if (actual := sha256_of(weights)) != spec.sha256:
        raise LCEError(f"{weights}: sha256 {actual} does not match spec.json ({spec.sha256})")
    model = build_architecture(spec.arch, **spec.arch_kwargs)
    state = safe_torch_load(weights, f"checkpoint {directory}")
    load_checked(model, state, f"{weights}: does not fit {spec.arch}",
                 set(spec.missing_keys).__contains__)
    return model.eval(), spec
