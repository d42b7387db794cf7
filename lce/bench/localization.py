"""Localization: regress each image's main-object box from frozen features; score box IoU.

Global pooling throws away *where* things are, so the regressor sees the feature map average-
pooled to a coarse ``grid`` x ``grid`` layout instead. A ridge regression (L2 strength chosen on
validation images by their mean box IoU) predicts the normalized corners; the scores are the mean
IoU on held-out images and CorLoc, the fraction of them localized with IoU >= 0.5.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from lce.bench.linear import standardizer
from lce.errors import LCEError


def _area(box: np.ndarray) -> np.ndarray:
    return (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of (N, 4) boxes (y0, x0, y1, x1)."""
    height = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    width = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    intersection = height * width
    return intersection / np.maximum(_area(a) + _area(b) - intersection, 1e-12)


def grid_features(maps: np.ndarray, grid: int) -> np.ndarray:
    """(N, C * grid * grid): each channel average-pooled over a grid x grid layout."""
    pooled = F.adaptive_avg_pool2d(torch.from_numpy(maps), grid)
    return pooled.reshape(len(maps), -1).numpy()


def _as_box(raw: np.ndarray) -> np.ndarray:
    """Predicted corners -> valid boxes: ordered and clipped to the image."""
    raw = np.clip(raw, 0.0, 1.0)
    return np.column_stack([np.minimum(raw[:, 0], raw[:, 2]), np.minimum(raw[:, 1], raw[:, 3]),
                            np.maximum(raw[:, 0], raw[:, 2]), np.maximum(raw[:, 1], raw[:, 3])])


def _ridge(features: np.ndarray, boxes: np.ndarray, alpha: float):
    from sklearn.linear_model import Ridge

    mean, scale = standardizer(features)
    model = Ridge(alpha=alpha).fit((features - mean) / scale, boxes)
    return lambda x: _as_box(model.predict((x - mean) / scale))


def localization_scores(maps: np.ndarray, boxes: np.ndarray, train: np.ndarray, val: np.ndarray,
                        test: np.ndarray, alphas: tuple[float, ...], grid: int) -> dict:
    """{'mean_iou', 'corloc'} on the ``test`` images that have an object."""
    has_box = ~np.isnan(boxes).any(axis=1)
    train, val, test = (idx[has_box[idx]] for idx in (train, val, test))
    if min(len(train), len(val), len(test)) == 0:
        raise LCEError("localization: the train, validation or test images hold no object",
                       hint="raise probe.n_images")
    features = grid_features(maps, grid)
    val_iou = [box_iou(_ridge(features[train], boxes[train], a)(features[val]), boxes[val]).mean()
               for a in alphas]
    both = np.concatenate([train, val])
    regress = _ridge(features[both], boxes[both], alphas[int(np.argmax(val_iou))])
    iou = box_iou(regress(features[test]), boxes[test])
    return {"mean_iou": float(iou.mean()), "corloc": float(np.mean(iou >= 0.5))}
