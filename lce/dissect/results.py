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

from lce.contracts import CONCEPT_IOU, EXEMPLARS, LAYER_KEYS, UNITS
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
    return CONCEPT_IOU.frame({
        "unit": units,
        "concept": np.array([names[int(n)] for n in index.numbers], dtype=object)[columns],
        "iou": iou[units, columns],
        "intersect": intersection[units, columns],
        "union": union[units, columns],
    }, omit=LAYER_KEYS)


def exemplar_table(values: np.ndarray, images: np.ndarray, probe) -> pd.DataFrame:
    n_units, k = values.shape
    paths = np.array([getattr(r, "image", "") for r in probe.records], dtype=object)
    return EXEMPLARS.frame({
        "unit": np.repeat(np.arange(n_units), k),
        "rank": np.tile(np.arange(1, k + 1), n_units),
        "image_index": images.ravel(),
        "image": paths[images.ravel()],
        "activation": values.ravel(),
    }, omit=LAYER_KEYS)


def layer_result(state, index: ConceptIndex, names: dict[int, str], probe,
                 settings) -> LayerResult:
    intersection, union = state.tally.counts(settings.denominator)
    labels = label_units(iou_from_counts(intersection, union), index, names, settings.method)
    columns = {**labels, "threshold": state.thresholds.cpu().numpy(),
               "interpretable": labels["iou"].to_numpy() > settings.iou_cutoff}
    if settings.null_baseline:
        null = state.null_tally.iou(settings.denominator)
        columns["null_iou"] = null.max(axis=1) if null.shape[1] else np.zeros(len(labels))
    frame = UNITS.frame(columns, omit=LAYER_KEYS)
    exemplars = exemplar_table(state.top_images.values.cpu().numpy(),
                               state.top_images.images.cpu().numpy(), probe)
    return LayerResult(frame, concept_table(intersection, union, index, names), exemplars)
