"""Loading a registered segmenter and running it on images, the way Dissect's
``UnifiedParsingSegmenter``, ``SemanticSegmenter`` and ``MergedSegmenter`` do.

Files come from the component's published URL (cached and sha256-recorded by
:func:`lce.zoo.fetch.obtain`, the zoo's one download path) or, offline, from a local directory
holding the component's three files (``sources``: component name -> directory, the analogue of
``fetch.<key>.source``). Weights are read with ``weights_only=True`` and loaded through the zoo's
strict check: a missing, renamed or extra key fails naming it (only BatchNorm's step counters,
absent from files saved by PyTorch 0.4, may be missing).

Input: RGB images in [-1, 1] (Dissect's ``zc`` range), (n, 3, H, W). Output: (n, channels, H/d,
W/d) label numbers of the merged numbering (:mod:`lce.segment.vocab`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from lce.errors import LCEError
from lce.segment import decode
from lce.segment.registry import Component, SegmenterSpec, get_segmenter_spec
from lce.segment.vocab import SemanticVocabulary, UnifiedVocabulary, read_labels_json

# BGR means (0-255) of the unified-parsing training code, as Dissect feeds the model.
UNIFIED_BGR_MEAN = (102.9801, 115.9465, 122.7717)
SEGSIZES = (256,)  # netpqc's segsizes=[256]: one scale, images pooled to 256x256


def component_files(component: Component, sources: dict[str, str] | None = None) -> dict:
    """file name -> local path of ``component``'s files (downloaded and verified if needed)."""
    from lce.zoo.fetch import obtain
    from lce.zoo.spec import ModelSpec

    directory = (sources or {}).get(component.name)
    paths = {}
    for file in component.files:
        if directory:
            path = Path(directory) / file
            if not path.is_file():
                raise LCEError(f"segmenter {component.name}: {path} not found",
                               hint=f"the directory must hold {', '.join(component.files)}")
            paths[file] = path
            continue
        # the zoo's fetch: cached under <cache>/<component>/<file>, sha256 recorded on first use
        spec = ModelSpec(key=component.name, arch=component.kind, method="segmenter",
                         source=component.url(file))
        paths[file] = obtain(spec)[0]
    return paths


def _load(net: torch.nn.Module, path: Path, where: str) -> None:
    from lce.zoo.safe_load import safe_torch_load
    from lce.zoo.state_dict import load_checked

    state = safe_torch_load(path, where)
    if not isinstance(state, dict):
        raise LCEError(f"{where}: {path} is not a state_dict")
    load_checked(net, state, f"{where}: {path} does not fit the published layout",
                 lambda key: key.endswith("num_batches_tracked"),
                 hint="a file of another model, or a renamed key")


def _to_zero_one(images: torch.Tensor) -> torch.Tensor:
    return (images + 1) / 2


def _resized(images: torch.Tensor, size: int) -> torch.Tensor:
    if tuple(images.shape[-2:]) == (size, size):
        return images
    return torch.nn.functional.adaptive_avg_pool2d(images, (size, size))


class UnifiedParsing:
    """The unified-parsing component: object, material and part scores -> 5 (or 3) channels."""

    def __init__(self, component: Component, files: dict, scale: int = 1):
        from lce.segment.nets import UPerNetResNet50

        where = f"segmenter {component.name}"
        self.vocab = UnifiedVocabulary.from_json(read_labels_json(files["labels.json"]), where)
        self.quadrants = component.quadrants
        self.labels, self.translation = self.vocab.numbering(self.quadrants)
        self.owners = self.vocab.owner_numbers()
        self.net = UPerNetResNet50(self.vocab.classes, scale)
        _load(self.net.encoder, files[component.files[0]], where)
        _load(self.net.decoder, files[component.files[1]], where)
        self.net.eval()

    @property
    def channel_categories(self) -> tuple[str, ...]:
        return decode.UNIFIED_CHANNELS if self.quadrants else decode.UNIFIED_CHANNELS[:3]

    @torch.no_grad()
    def segment(self, images: torch.Tensor, downsample: int) -> torch.Tensor:
        x = _to_zero_one(images).flip(1) * 255  # the model was trained on BGR 0-255
        x = x - torch.tensor(UNIFIED_BGR_MEAN, dtype=x.dtype, device=x.device)[None, :, None,
                                                                                  None]
        size = (images.shape[2] // downsample, images.shape[3] // downsample)
        scores = {"object": 0, "material": 0, "part": 0}
        for s in SEGSIZES:
            out = self.net(_resized(x, s), size)
            scores["object"] = scores["object"] + out["object"].softmax(1)
            scores["material"] = scores["material"] + out["material"].softmax(1)
            scores["part"] = scores["part"] + out["part"]
        parts, head = [], 0
        for _, part_list in self.vocab.object_parts:  # one softmax per owner's part list
            parts.append(scores["part"][:, head:head + len(part_list)].softmax(1))
            head += len(part_list)
        return decode.unified_masks(scores["object"], scores["material"], parts,
                                    self.vocab.n_objects, self.owners, self.translation,
                                    self.quadrants)


class SemanticSegmenter:
    """A CSAIL semantic segmenter (Dissect's colour model): one channel per label category."""

    def __init__(self, component: Component, files: dict, scale: int = 1):
        from lce.segment.nets import ColorSegmenterNet

        where = f"segmenter {component.name}"
        self.vocab = SemanticVocabulary.from_json(read_labels_json(files["labels.json"]), where)
        self.labels, self.external = self.vocab.numbering()
        self.net = ColorSegmenterNet(len(self.vocab.channel_names), scale)
        _load(self.net.encoder, files[component.files[0]], where)
        _load(self.net.decoder, files[component.files[1]], where)
        self.net.eval()

    @property
    def channel_categories(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.vocab.categories)

    @torch.no_grad()
    def segment(self, images: torch.Tensor, downsample: int) -> torch.Tensor:
        x = _to_zero_one(images)
        if self.vocab.bgr:
            x = x.flip(1)
        mean = torch.tensor(self.vocab.mean, dtype=x.dtype, device=x.device)[None, :, None, None]
        std = torch.tensor(self.vocab.std, dtype=x.dtype, device=x.device)[None, :, None, None]
        x = (x - mean) / std
        size = (images.shape[2] // downsample, images.shape[3] // downsample)
        score = 0
        for s in self.vocab.segsizes:
            raw = self.net(_resized(x, s), size)
            soft = torch.empty_like(raw)
            for name, _ in self.vocab.categories:  # one softmax per category
                idx = [i for i, c in enumerate(self.vocab.channel_categories) if c == name]
                soft[:, idx] = raw[:, idx].softmax(1)
            score = score + soft
        return decode.semantic_masks(score, self.vocab.channel_categories, self.external,
                                     self.vocab.categories, self.vocab.channel_names)


_KINDS = {"unified": UnifiedParsing, "semantic": SemanticSegmenter}


@dataclass
class Segmenter:
    """A registered segmenter: its components merged (Dissect's ``MergedSegmenter``)."""

    spec: SegmenterSpec
    components: list
    device: str = "cpu"

    @property
    def offsets(self) -> list[int]:
        offsets, total = [], 0
        for component in self.components:
            offsets.append(total)
            total += len(component.labels)
        return offsets

    @property
    def labels(self) -> list[tuple[str, str]]:
        """(name, category) of every label number; 0 and each component's ``-`` = no label."""
        return [label for c in self.components for label in c.labels]

    @property
    def channel_categories(self) -> tuple[str, ...]:
        return tuple(cat for c in self.components for cat in c.channel_categories)

    def segment(self, images: torch.Tensor, downsample: int = 4) -> torch.Tensor:
        images = images.to(self.device)
        return decode.merge([c.segment(images, downsample) for c in self.components],
                            self.offsets)


def load_segmenter(key: str, sources: dict[str, str] | None = None, scale: int = 1,
                   device: str = "cpu") -> Segmenter:
    """The registered segmenter ``key``, its files fetched (or read from ``sources``) and loaded
    strictly; ``scale`` > 1 builds the width-reduced variant (tests, offline runs)."""
    spec = get_segmenter_spec(key)
    components = []
    for component in spec.components:
        loaded = _KINDS[component.kind](component, component_files(component, sources), scale)
        loaded.net.to(device)
        components.append(loaded)
    return Segmenter(spec, components, device)
