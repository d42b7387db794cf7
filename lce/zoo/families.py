"""One remapping function per checkpoint family: published file -> the architecture's own keys.

Each training codebase saves its encoder differently: wrapped in containers (``state_dict``,
``model``, VISSL's ``classy_state_dict``...), behind a prefix (``module.encoder_q.`` for MoCo),
next to heads the architecture lacks (projection heads, prototypes, queues, momentum encoders).
A family knows its layout; a spec may override the containers, prefix and keys to drop. Prefixes
are matched with ``startswith`` only (a substring match would, e.g., strip ``module.`` from inside
``features.module.0``). What a family cannot place is kept under its raw name, so the strict
check in :mod:`lce.zoo.loading` reports it instead of it being silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lce.errors import LCEError
from lce.zoo.spec import ModelSpec


def unwrap(obj, containers: tuple[str, ...], where: str) -> Mapping:
    """Descend into each of ``containers`` that is present, in order; the result must be a
    flat mapping of tensors (re-saved files often drop a container, so none is required)."""
    for name in containers:
        if isinstance(obj, Mapping) and name in obj:
            obj = obj[name]
    if not isinstance(obj, Mapping) or not obj:
        raise LCEError(f"{where}: expected a state_dict (a mapping of tensors), "
                       f"got {type(obj).__name__}")
    import torch

    if not all(isinstance(v, torch.Tensor) for v in obj.values()):
        others = sorted(str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor))
        raise LCEError(f"{where}: the checkpoint has entries that are not tensors: "
                       f"{', '.join(others[:8])}",
                       hint="the file does not have this family's layout: wrong model key or "
                            "wrong file?")
    return obj


def strip_and_drop(state: Mapping, prefix: str, drop: tuple[str, ...]) -> dict:
    """Drop keys starting with any of ``drop``; strip ``prefix`` where a key starts with it."""
    kept = {}
    for key, value in state.items():
        if drop and key.startswith(drop):
            continue
        kept[key.removeprefix(prefix) if prefix else key] = value
    return kept


def rename_sequential_children(state: Mapping, model) -> dict:
    """``0.weight`` -> ``conv1.weight``: a Sequential of the model's children renamed.

    Codebases that wrap a torchvision net as ``nn.Sequential(*net.children())`` (lightly's
    ``backbone``, SeLa's ``features``) save its children by position; the architecture names
    them. Keys whose first part is not a position are left as they are.
    """
    names = [name for name, _ in model.named_children()]
    renamed = {}
    for key, value in state.items():
        head, sep, rest = key.partition(".")
        if head.isdigit() and int(head) < len(names):
            key = f"{names[int(head)]}{sep}{rest}"
        renamed[key] = value
    return renamed


def remap_by_layout(raw, spec: ModelSpec, model) -> dict:
    """Families fully described by containers, prefix and dropped keys (see ``FAMILIES``)."""
    return strip_and_drop(unwrap(raw, spec.containers, spec.key), spec.prefix, spec.drop)


def remap_lightly(raw, spec: ModelSpec, model) -> dict:
    """lightly: ``backbone.`` holds the torchvision children (by position when the backbone is
    ``nn.Sequential(*resnet.children()[:-1])``); projection/prediction heads and momentum copies
    are dropped."""
    state = strip_and_drop(unwrap(raw, spec.containers, spec.key), spec.prefix, spec.drop)
    return rename_sequential_children(state, model)


def remap_selav1(raw, spec: ModelSpec, model) -> dict:
    """SeLa v1 (yukimasano/self-label). The Aug++ files (``resnet50-10x3k_pp.pth``, the one
    registered) hold a plain torchvision ResNet-50 under ``state_dict`` whose ``fc`` is a
    3000-way pseudo-label head, not an ImageNet classifier, so it is dropped (the pseudo-labels
    themselves sit in ``L``, beside the weights). The older ``resnet-10x3k.pth`` layout is read
    too: the torchvision children by position in ``features`` (possibly behind DataParallel's
    ``module.``) and ten clustering heads ``top_layer0..9``, dropped."""
    state = unwrap(raw, spec.containers, spec.key)
    state = {k.removeprefix("module."): v for k, v in state.items()}
    return rename_sequential_children(strip_and_drop(state, spec.prefix, spec.drop), model)


def remap_deepcluster(raw, spec: ModelSpec, model) -> dict:
    """DeepCluster v1 (AlexNet, VGG-16): ``features`` was wrapped in DataParallel, so its keys
    carry a ``.module`` infix; the fixed Sobel layers are kept (they are part of the net) and the
    clustering head ``top_layer`` is dropped."""
    state = strip_and_drop(unwrap(raw, spec.containers, spec.key), spec.prefix, spec.drop)
    return {k.replace("features.module.", "features.", 1) if k.startswith("features.module.")
            else k: v for k, v in state.items()}


@dataclass(frozen=True)
class Family:
    """A checkpoint layout: default containers, prefix and dropped keys, and its remapping."""

    name: str
    description: str
    remap: Callable
    containers: tuple[str, ...] = ()
    prefix: str = ""
    drop: tuple[str, ...] = ()


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("torchvision", "torchvision's own files, and conversions saved in its layout "
           "(SimCLR v1/v2, BYOL; ssl-transfer's prepared files)", remap_by_layout,
           containers=("state_dict",)),
    Family("moco", "facebookresearch/moco, salesforce/PCL: the query encoder under "
           "module.encoder_q.; key encoder, queue and projection MLP (fc) dropped",
           remap_by_layout, containers=("state_dict",), prefix="module.encoder_q.",
           drop=("module.encoder_k.", "module.queue", "module.encoder_q.fc.")),
    Family("pycontrast", "HobbitLong/PyContrast (InsDis, PIRL, InfoMin): model holds "
           "module.encoder. plus heads; the momentum encoder and memory bank sit in other "
           "containers", remap_by_layout, containers=("model",), prefix="module.encoder.",
           drop=("module.head", "module.jigsaw", "module.encoder.fc.")),
    Family("swav", "facebookresearch/swav (SwAV, DeepCluster v2, SeLa v2): a bare "
           "DataParallel state_dict with projection_head and prototypes",
           remap_by_layout, prefix="module.",
           drop=("module.projection_head.", "module.prototypes")),
    Family("vissl", "facebookresearch/vissl model zoo: the trunk under "
           "classy_state_dict.base_model.model.trunk as _feature_blocks.<torchvision name>; "
           "heads sit beside the trunk", remap_by_layout,
           containers=("classy_state_dict", "base_model", "model", "trunk"),
           prefix="_feature_blocks."),
    Family("lightly", "lightly-ai/lightly: backbone. holds the torchvision children",
           remap_lightly, containers=("state_dict",), prefix="backbone.",
           drop=("projection_head", "prediction_head", "backbone_momentum.")),
    Family("selav1", "yukimasano/self-label: a torchvision ResNet under state_dict with a "
           "pseudo-label head fc (Aug++ files), or children by position in features with "
           "clustering heads top_layer0..9 (older files); the heads are dropped", remap_selav1,
           containers=("state_dict",), prefix="features.", drop=("top_layer", "fc.")),
    Family("deepcluster", "facebookresearch/deepcluster v1: features.module. infix, Sobel "
           "input layers kept, clustering head top_layer dropped", remap_deepcluster,
           containers=("state_dict",), drop=("top_layer.",)),
)}


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise LCEError(f"unknown checkpoint family {name!r}",
                       hint=f"known families: {', '.join(FAMILIES)}") from None
