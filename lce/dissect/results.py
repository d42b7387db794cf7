"""Assemble one layer's tallies into the tables a dissection writes (their columns and types are
declared in :mod:`lce.contracts`; these are one layer's rows, without ``model`` and ``layer``):

- the unit profile (``UNITS``): the best label of every unit, its null-baseline IoU and the best
  ``<category>_label, <category>_iou`` of every category;
- the full concept-IoU table (``CONCEPT_IOU``): one row per (unit, concept) with iou > 0 and its
  exact counts;
- the exemplars (``EXEMPLARS``): the top images of every unit by maximum activation.

``null_iou`` is the best IoU the unit reaches, by the same labelling rule, when its maps are paired
with the masks of other images (a seeded random permutation): what chance alone gives a unit of
that size and threshold, to judge the fixed 0.04 cut-off against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lce.dissect.concepts import ConceptIndex
from lce.dissect.labels import label_units
from lce.dissect.tally import iou_from_counts


@dataclass
class LayerResult:
    profile: pd.DataFrame
    concept_iou: pd.DataFrame
    exemplars: pd.DataFrame


def concept_table(intersection: np.ndarray, union: np.ndarray, index: ConceptIndex,
                  names: dict[int, str]) -> pd.DataFrame:
    iou = iou_from_counts(intersection, union)
    units, columns = np.nonzero(iou > 0)
    return pd.DataFrame({
        "unit": units.astype(np.int32),
        "concept": np.array([names[int(n)] for n in index.numbers], dtype=object)[columns]
        .astype(str),
        "iou": iou[units, columns],
        "intersect": intersection[units, columns].astype(np.int64),
        "union": union[units, columns].astype(np.int64),
    })


def exemplar_table(values: np.ndarray, images: np.ndarray, probe) -> pd.DataFrame:
    n_units, k = values.shape
    paths = np.array([getattr(r, "image", "") for r in probe.records], dtype=object)
    return pd.DataFrame({
        "unit": np.repeat(np.arange(n_units, dtype=np.int32), k),
        "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), n_units),
        "image_index": images.ravel().astype(np.int64),
        "image": paths[images.ravel()].astype(str),
        "activation": values.ravel().astype(np.float32),
    })


def layer_result(state, index: ConceptIndex, names: dict[int, str], probe,
                 settings) -> LayerResult:
    intersection, union = state.tally.counts(settings.denominator)
    frame = label_units(iou_from_counts(intersection, union), index, names, settings.method)
    frame.insert(1, "threshold", state.thresholds.cpu().numpy().astype(np.float32))
    at = frame.columns.get_loc("iou") + 1
    frame.insert(at, "interpretable", frame["iou"].to_numpy() > settings.iou_cutoff)
    if settings.null_baseline:
        null = state.null_tally.iou(settings.denominator)
        best = null.max(axis=1) if null.shape[1] else np.zeros(len(frame))
        frame.insert(at + 1, "null_iou", best.astype(np.float64))
    exemplars = exemplar_table(state.top_images.values.cpu().numpy(),
                               state.top_images.images.cpu().numpy(), probe)
    return LayerResult(frame, concept_table(intersection, union, index, names), exemplars)
