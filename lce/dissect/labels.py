"""Turn an IoU matrix into unit labels: best concept per category, then the best category.

NetDissect labels a unit in two steps: the best concept within each category (ties to the lower
label number), then the category whose best is highest -- ties to the *later* category, in the
probe's category order, as NetDissect-Lite's ``score_pciou.argsort(axis=0)[::-1]`` picks it, so
that labels equal Lite's even on ties (they do happen: an image-level scene and texture label that
always occur together score the same). Dissect (Bau et al., PNAS 2020) takes the argmax over all
concepts at once (ties to the lower label number). Both agree except on ties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lce.contracts import NO_LABEL
from lce.dissect.concepts import ConceptIndex


def label_units(iou: np.ndarray, index: ConceptIndex, names: dict[int, str],
                method: str = "netdissect") -> pd.DataFrame:
    """One row per unit: ``label, category, iou`` and ``<category>_label, <category>_iou``.

    Ties go to the lower label number within a category and to the later category across
    categories (see the module docstring). A unit whose IoUs are all zero gets no label
    (:data:`~lce.contracts.NO_LABEL`), and so does a category none of whose concepts it overlaps.
    """
    n_units = iou.shape[0]
    rows = np.arange(n_units)
    columns: dict[str, object] = {}
    best_iou = np.zeros((n_units, len(index.categories)))
    best_label = np.full((n_units, len(index.categories)), NO_LABEL, dtype=object)
    concept_names = np.array([names[int(n)] for n in index.numbers], dtype=object)
    for j, category in enumerate(index.categories):
        cols = np.flatnonzero(index.category_of == j)
        if cols.size:
            arg = iou[:, cols].argmax(axis=1)
            best_iou[:, j] = iou[rows, cols[arg]]
            best_label[:, j] = np.where(best_iou[:, j] > 0, concept_names[cols[arg]], NO_LABEL)
        columns[f"{category}_label"] = best_label[:, j].astype(str)
        columns[f"{category}_iou"] = best_iou[:, j]
    if method == "dissect" and iou.shape[1]:
        best = iou.argmax(axis=1)
        top_iou, top_cat = iou[rows, best], index.category_of[best]
        top_label = np.where(top_iou > 0, concept_names[best], NO_LABEL)
    else:
        top_cat = best_iou.shape[1] - 1 - best_iou[:, ::-1].argmax(axis=1)  # the last best
        top_iou, top_label = best_iou[rows, top_cat], best_label[rows, top_cat]
    frame = pd.DataFrame({
        "unit": rows.astype(np.int32),
        "label": top_label.astype(str),
        "category": np.where(top_iou > 0, np.array(index.categories, dtype=object)[top_cat],
                             NO_LABEL).astype(str),
        "iou": top_iou.astype(np.float64),
    })
    return pd.concat([frame, pd.DataFrame(columns)], axis=1)
