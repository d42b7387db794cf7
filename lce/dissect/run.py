"""Dissect the layers of one model on one probe set: the streaming engine.

Two passes over the probe set, with memory independent of its size:

1. **scan** -- one forward pass captures every requested layer; each batch's maps feed a per-unit
   running top-k (exact thresholds, :mod:`lce.dissect.quantile`) and a per-unit top-images buffer
   (exemplars), and are spilled to a scratch file (:mod:`lce.dissect.spill`).
2. **tally** -- each probe image's concept data is decoded once (:mod:`lce.dissect.concepts`) and
   met with the spilled maps of every layer (:mod:`lce.dissect.tally`); the same masks are also
   met with the maps of a seeded random other image, which gives every unit a null-baseline IoU.

Everything runs on ``settings.device`` (CUDA when available); counts are exact integers, so
results do not depend on the batch size. :mod:`lce.dissect.reference` is the slow oracle it must
match.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from lce.devices import pick_device
from lce.dissect.capture import LayerCapture, as_maps, image_batches, to_input
from lce.dissect.concepts import ConceptIndex, image_concepts
from lce.dissect.methods import resolve_quantile
from lce.dissect.quantile import StreamingTopK, TopImages, topk_size
from lce.dissect.resize import resize
from lce.dissect.results import LayerResult, layer_result
from lce.dissect.spill import ActivationSpill
from lce.dissect.tally import IoUTally
from lce.errors import LCEError
from lce.params import DissectParams
from lce.progress import get_logger, progress

log = get_logger(__name__)


def resolved(settings: DissectParams) -> DissectParams:
    """``settings`` as the engine runs them, resolved here once: the quantile a number (the
    method's own when null, :mod:`lce.dissect.methods`) and the device a real one."""
    return replace(settings, quantile=resolve_quantile(settings.method, settings.quantile,
                                                       "dissect"),
                   device=pick_device(settings.device))


@dataclass
class Dissection:
    layers: dict[str, LayerResult]
    settings: DissectParams  # as run: quantile and device resolved
    seconds: dict[str, float] = field(default_factory=dict)  # time per phase


class Stopwatch(defaultdict):
    """Seconds spent per phase, so the benchmark can say where the time goes."""

    def __init__(self):
        super().__init__(float)

    @contextmanager
    def __call__(self, phase: str):
        start = time.perf_counter()
        yield
        self[phase] += time.perf_counter() - start


class LayerState:
    """What the engine keeps about one layer between and during the passes."""

    def __init__(self, name: str, maps: torch.Tensor, probe, settings: DissectParams, scratch):
        n_units, h, w = maps.shape[1:]
        if settings.method == "dissect":  # threshold over upsampled values
            n_values = sum(r.sh * r.sw for r in probe.records)
        else:
            n_values = len(probe) * h * w
        self.name, self.n_values = name, n_values
        self.spill = ActivationSpill(scratch, name)
        self.topk = StreamingTopK(n_units, topk_size(n_values, settings.quantile), maps.device)
        self.top_images = TopImages(n_units, settings.exemplars, maps.device)
        self.thresholds: torch.Tensor | None = None
        self.tally: IoUTally | None = None
        self.null_tally: IoUTally | None = None


def null_pairing(n: int, seed: int) -> np.ndarray:
    """A seeded random cyclic permutation: image i's maps meet the masks of image pairing[i],
    never its own (for n > 1)."""
    order = np.random.default_rng(seed).permutation(n)
    pairing = np.empty(n, dtype=np.int64)
    pairing[order] = np.roll(order, -1)
    return pairing


def scan(model, probe, layers, mean, std, settings: DissectParams, scratch, clock: Stopwatch):
    """Pass 1: forward the probe set once; stream thresholds, exemplars and the spill."""
    states: dict[str, LayerState] = {}
    with LayerCapture(model, layers) as capture, torch.no_grad(), progress() as bar:
        task = bar.add_task("forward", total=len(probe))
        for idx, images in image_batches(probe, settings.batch_size):
            with clock("forward"):
                model(to_input(images, mean, std, settings.device))
            for name in layers:
                maps = as_maps(name, capture.outputs[name]).float()
                if not torch.isfinite(maps).all():
                    raise LCEError(f"layer {name}: non-finite activations on probe images "
                                   f"{idx.start}-{idx.stop - 1}")
                if name not in states:
                    states[name] = LayerState(name, maps, probe, settings, scratch)
                state = states[name]
                with clock("spill"):
                    state.spill.append(maps.cpu().numpy())
                with clock("thresholds"):
                    state.top_images.update(maps.amax(dim=(2, 3)), idx.start)
                    if settings.method == "dissect":
                        for b, i in enumerate(idx):
                            size = (probe.records[i].sh, probe.records[i].sw)
                            state.topk.update(resize(maps[b:b + 1], size)[0].flatten(1))
                    else:
                        state.topk.update(maps.transpose(0, 1).flatten(1))
            bar.advance(task, len(idx))
    return states


def tally(probe, states: dict[str, LayerState], index: ConceptIndex, settings: DissectParams,
          clock: Stopwatch) -> None:
    """Pass 2: meet every image's concepts with every layer's masks (and the null pairing's)."""
    source = np.argsort(null_pairing(len(probe), settings.null_seed))  # maps shown to image j
    with progress() as bar:
        task = bar.add_task("tally", total=len(probe))
        for start in range(0, len(probe), settings.batch_size):
            stop = min(start + settings.batch_size, len(probe))
            with clock("concepts"):
                sizes = [(probe.records[j].sh, probe.records[j].sw) for j in range(start, stop)]
                concepts = [image_concepts(probe.segmentation(j), probe.image_level, index,
                                           sizes[b]) for b, j in enumerate(range(start, stop))]
            for state in states.values():
                pairs = [(state.tally, state.spill.read(start, stop))]
                if settings.null_baseline:
                    pairs.append((state.null_tally, state.spill.read_images(source[start:stop])))
                with clock("tally"):
                    for counts, maps in pairs:
                        maps = torch.from_numpy(maps).to(settings.device)
                        for size in sorted(set(sizes)):  # images of one mask size at a time
                            same = [b for b, s in enumerate(sizes) if s == size]
                            counts.add_batch(maps[same], [concepts[b] for b in same], size)
            bar.advance(task, stop - start)


def dissect_model(model, probe, layers, mean, std, settings: DissectParams) -> Dissection:
    """Dissect ``layers`` of ``model`` on ``probe``: per layer, the unit profile, the full
    concept-IoU table and the exemplars (see :func:`lce.dissect.results.layer_result`)."""
    if len(probe) == 0:
        raise LCEError("the probe set has no images")
    settings = resolved(settings)
    index = ConceptIndex.from_probe(probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    model = model.to(settings.device).eval()
    clock = Stopwatch()
    scratch_root = settings.scratch or None  # "": the system's temp dir
    with tempfile.TemporaryDirectory(prefix="lce-dissect-", dir=scratch_root) as scratch:
        states = scan(model, probe, list(layers), mean, std, settings, scratch, clock)
        try:
            for state in states.values():
                with clock("thresholds"):
                    thresholds = state.topk.quantiles(state.n_values, settings.quantile)
                state.thresholds = torch.from_numpy(thresholds).to(settings.device)
                state.tally = IoUTally(state.thresholds, index, settings.device)
                state.null_tally = IoUTally(state.thresholds, index, settings.device)
                log.info("layer %s: %d units, maps %dx%d, %d values per unit, %.1f MB spilled",
                         state.name, len(thresholds), *state.spill.shape[1:], state.n_values,
                         state.spill.count * state.spill.image_bytes / 1e6)
            tally(probe, states, index, settings, clock)
        finally:
            for state in states.values():
                state.spill.close()
    results = {name: layer_result(state, index, names, probe, settings)
               for name, state in states.items()}
    log.info("time per phase: %s", ", ".join(f"{k} {v:.1f}s" for k, v in clock.items()))
    return Dissection(results, settings, dict(clock))


def dissect(model, probe, layers, mean, std, settings: DissectParams) -> dict[str, pd.DataFrame]:
    """layer -> unit profile (``unit, threshold, label, category, iou, interpretable, ...``)."""
    return {name: result.profile
            for name, result in dissect_model(model, probe, layers, mean, std,
                                              settings).layers.items()}
