"""Turn a registered spec into a verified model: obtain its file, read it safely, remap its keys
with its family, load non-strictly and then *check* the result, and materialize it as a
normalized checkpoint (``lce.zoo.checkpoint``).

Silently half-loaded weights are the classic failure of this field (a prefix that did not match
leaves a random network that still runs), so the only keys allowed to be missing are the
classifier's (self-supervised checkpoints have none) and BatchNorm's step counters (files saved
before PyTorch 0.4.1 lack them); anything unexpected, missing or of the wrong shape fails with the
offending keys listed.
"""

from __future__ import annotations

from pathlib import Path

from lce.errors import LCEError
from lce.zoo.architectures import build_architecture
from lce.zoo.families import get_family
from lce.zoo.fetch import FetchOptions, obtain, sha256_of
from lce.zoo.registry import ModelSpec
from lce.zoo.safe_load import safe_torch_load

__all__ = ["build_model", "load_state", "materialize", "sha256_of"]

# Top-level modules that are a classifier head in torchvision's nets; a network whose names differ
# says so with a ``head_modules`` attribute.
HEAD_MODULES = ("fc", "classifier", "head", "heads", "AuxLogits", "aux1", "aux2")


def _listing(keys: list[str], limit: int = 6) -> str:
    more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def check_shapes(model, state: dict, where: str) -> None:
    """Fail naming the keys whose tensors do not fit ``model`` (``load_state_dict`` would raise
    a bare RuntimeError even when not strict)."""
    expected = model.state_dict()
    wrong_shape = [f"{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}"
                   for k, v in state.items() if k in expected and v.shape != expected[k].shape]
    if wrong_shape:
        raise LCEError(f"{where}: tensors of the wrong shape: {_listing(wrong_shape)}",
                       hint="the checkpoint is of another architecture or width")


def load_state(model, state: dict, where: str) -> tuple[str, ...]:
    """Load ``state`` into ``model``; return the (allowed) missing classifier keys."""
    check_shapes(model, state, where)
    result = model.load_state_dict(state, strict=False)
    head_names = getattr(model, "head_modules", HEAD_MODULES)
    heads = tuple(f"{name}." for name, _ in model.named_children() if name in head_names)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    head_missing = tuple(k for k in missing if heads and k.startswith(heads))
    problems = []
    if result.unexpected_keys:
        problems.append(f"unexpected keys {_listing(sorted(result.unexpected_keys))}")
    if missing_body := sorted(set(missing) - set(head_missing)):
        problems.append(f"missing keys {_listing(missing_body)}")
    if problems:
        raise LCEError(f"{where}: checkpoint does not fit the architecture: "
                       + "; ".join(problems),
                       hint="wrong model key or file, or the family's prefix did not match")
    return head_missing


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
    from lce.zoo.checkpoint import save_checkpoint

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
