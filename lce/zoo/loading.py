"""Turn a registered spec into a verified model: obtain its file, read it safely, remap its keys
with its family, load it through the strict check of ``lce.zoo.state_dict``, and materialize it as
a normalized checkpoint (``lce.zoo.checkpoint``).

The only keys a fetched file may lack are the classifier's (self-supervised checkpoints have none)
and BatchNorm's step counters (files saved before PyTorch 0.4.1 lack them).
"""

from __future__ import annotations

from pathlib import Path

from lce.zoo.architectures import build_architecture
from lce.zoo.checkpoint import save_checkpoint
from lce.zoo.families import get_family
from lce.zoo.fetch import FetchOptions, obtain, sha256_of
from lce.zoo.registry import ModelSpec
from lce.zoo.safe_load import safe_torch_load
from lce.zoo.state_dict import load_checked

__all__ = ["build_model", "load_state", "materialize", "sha256_of"]

# Top-level modules that are a classifier head in torchvision's nets; a network whose names differ
# says so with a ``head_modules`` attribute.
HEAD_MODULES = ("fc", "classifier", "head", "heads", "AuxLogits", "aux1", "aux2")


def load_state(model, state: dict, where: str) -> tuple[str, ...]:
    """Load ``state`` into ``model``; return the (allowed) missing classifier keys."""
    head_names = getattr(model, "head_modules", HEAD_MODULES)
    heads = tuple(f"{name}." for name, _ in model.named_children() if name in head_names)

    def may_be_missing(key: str) -> bool:
        return key.endswith("num_batches_tracked") or bool(heads) and key.startswith(heads)

    allowed = load_checked(model, state, f"{where}: checkpoint does not fit the architecture",
                           may_be_missing,
                           hint="wrong model key or file, or the family's prefix did not match")
    return tuple(k for k in allowed if not k.endswith("num_batches_tracked"))


def build_model(spec: ModelSpec, seed: int = 0, options: FetchOptions = FetchOptions()):
    """An eval-mode model for ``spec`` (random specs are initialised with ``seed``)."""
    model, _, _ = _build(spec, seed, options)
    return model


def _build(spec: ModelSpec, seed: int, options: FetchOptions):
    """(model, missing classifier keys, source sha256)."""
    import torch

    torch.manual_seed(seed)
    model = build_architecture(spec.arch, **spec.arch_kwargs)
    if spec.source == "random" and not options.source:
        return model.eval(), (), ""
    path, digest = obtain(spec, options)
    raw = safe_torch_load(path, f"model {spec.key}")
    state = get_family(spec.family).remap(raw, spec, model)
    missing = load_state(model, state, f"model {spec.key}: {path}")
    return model.eval(), missing, digest


def materialize(spec: ModelSpec, directory: str | Path, seed: int = 0,
                options: FetchOptions = FetchOptions()):
    """Write ``spec``'s weights as a normalized checkpoint in ``directory``.

    The state_dict keeps the architecture's own keys; a classifier the source lacks is left out
    (and listed in the spec) rather than saved with random weights that would look trained.
    """
    model, missing, digest = _build(spec, seed, options)
    state = {k: v for k, v in model.state_dict().items() if k not in set(missing)}
    source = options.source or spec.source
    if source == "random":
        source = f"random(seed={seed})"
    return save_checkpoint(directory, state, {
        "key": spec.key, "arch": spec.arch, "arch_kwargs": spec.arch_kwargs,
        "method": spec.method, "source": source,
        "mean": spec.mean, "std": spec.std, "layers": spec.layers, "missing_keys": missing,
        "source_sha256": digest,
    })
