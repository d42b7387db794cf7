"""Dissect the layers of one model on one probe set.

Reference-grade first version: activations of the probe set are held in memory, the threshold is
``numpy.quantile`` over each unit's raw activations, and the tally runs image by image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from lce.dissect.capture import LayerCapture, image_batches, to_input
from lce.dissect.labels import IOU_CUTOFF, label_units
from lce.dissect.tally import ConceptIndex, IoUTally, image_concept_masks, upsample
from lce.progress import get_logger, progress

log = get_logger(__name__)


@dataclass(frozen=True)
class DissectConfig:
    quantile: float = 0.005
    denominator: str = "netdissect"
    iou_cutoff: float = IOU_CUTOFF
    batch_size: int = 32
    device: str = "cpu"


def collect_activations(model, probe, layers, mean, std, config: DissectConfig):
    """Raw activations of every layer over the probe set: layer -> (N, C, h, w) float32."""
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    model = model.to(config.device)
    with LayerCapture(model, layers) as capture, torch.no_grad(), progress() as bar:
        task = bar.add_task("forward", total=len(probe))
        for idx, images in image_batches(probe, config.batch_size):
            model(to_input(images, mean, std, config.device))
            for name in layers:
                out = capture.outputs[name]
                if out.ndim != 4:
                    raise ValueError(f"layer {name} gives {tuple(out.shape)}, expected (N,C,H,W)")
                chunks[name].append(out.float().cpu().numpy())
            bar.advance(task, len(idx))
    return {name: np.concatenate(parts) for name, parts in chunks.items()}


def unit_thresholds(acts: np.ndarray, quantile: float) -> np.ndarray:
    """T_u = the (1 - q) quantile of unit u's raw activations over all images and positions."""
    per_unit = acts.transpose(1, 0, 2, 3).reshape(acts.shape[1], -1)
    return np.quantile(per_unit, 1 - quantile, axis=1).astype(np.float32)


def tally_layer(acts: np.ndarray, thresholds: np.ndarray, probe, index: ConceptIndex,
                description: str = "tally") -> IoUTally:
    tally = IoUTally(acts.shape[1], index)
    t = torch.from_numpy(thresholds).view(1, -1, 1, 1)
    with progress() as bar:
        task = bar.add_task(description, total=len(probe))
        for i in range(len(probe)):
            rec = probe.records[i]
            up = upsample(torch.from_numpy(acts[i:i + 1]), (rec.sh, rec.sw))
            masks = (up > t)[0].reshape(acts.shape[1], -1).numpy()
            concept = image_concept_masks(probe.segmentation(i), probe.image_level, index,
                                          rec.sh * rec.sw)
            tally.add(masks, *concept)
            bar.advance(task)
    return tally


def dissect(model, probe, layers, mean, std, config: DissectConfig) -> dict[str, pd.DataFrame]:
    """layer -> unit profile (``unit, threshold, label, category, iou, interpretable, ...``)."""
    index = ConceptIndex.from_probe(probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    activations = collect_activations(model, probe, layers, mean, std, config)
    profiles = {}
    for name, acts in activations.items():
        log.info("layer %s: %d units, maps %dx%d", name, acts.shape[1], *acts.shape[2:])
        thresholds = unit_thresholds(acts, config.quantile)
        tally = tally_layer(acts, thresholds, probe, index, f"tally {name}")
        frame = label_units(tally.iou(config.denominator), index, names)
        frame.insert(1, "threshold", thresholds)
        frame.insert(frame.columns.get_loc("iou") + 1, "interpretable",
                     frame["iou"].to_numpy() > config.iou_cutoff)
        profiles[name] = frame
    return profiles
