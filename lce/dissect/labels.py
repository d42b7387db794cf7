"""Turn an IoU matrix into unit labels: best concept per category, then the best category."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lce.dissect.tally import ConceptIndex

IOU_CUTOFF = 0.04


def label_units(iou: np.ndarray, index: ConceptIndex, names: dict[int, str]) -> pd.DataFrame:
    """One row per unit: ``label, category, iou`` and ``<category>_label, <category>_iou``.

    Ties go to the lower label number / earlier category (argmax order), so labels are stable.
    A unit whose IoUs are all zero gets an empty label.
    """
    n_units = iou.shape[0]
    columns: dict[str, object] = {}
    best_iou = np.zeros((n_units, len(index.categories)))
    best_label = np.full((n_units, len(index.categories)), "", dtype=object)
    for j, category in enumerate(index.categories):
        cols = np.flatnonzero(index.category_of == j)
        if cols.size:
            arg = iou[:, cols].argmax(axis=1)
            best_iou[:, j] = iou[np.arange(n_units), cols[arg]]
            names_j = np.array([names[int(n)] for n in index.numbers[cols]], dtype=object)
            best_label[:, j] = np.where(best_iou[:, j] > 0, names_j[arg], "")
        columns[f"{category}_label"] = best_label[:, j].astype(str)
        columns[f"{category}_iou"] = best_iou[:, j]
    top = best_iou.argmax(axis=1)
    rows = np.arange(n_units)
    frame = pd.DataFrame({
        "unit": np.arange(n_units, dtype=np.int32),
        "label": best_label[rows, top].astype(str),
        "category": np.where(best_iou[rows, top] > 0,
                             np.array(index.categories, dtype=object)[top], "").astype(str),
        "iou": best_iou[rows, top],
    })
    return pd.concat([frame, pd.DataFrame(columns)], axis=1)
