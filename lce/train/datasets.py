"""The labelled image sets a run trains on, as normalised tensors with a fixed held-out split.

DeepCluster never sees the labels of the training split; they only score the clusters (NMI,
entropy) and fit the linear probe, which is evaluated on the held-out split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lce.data.labelled import SyntheticDraw, labelled_images
from lce.errors import LCEError


@dataclass(frozen=True)
class TrainingData:
    images: torch.Tensor  # (N, C, S, S) float32, normalised with mean/std
    labels: np.ndarray  # (N,) int64
    train: np.ndarray  # indices of the (unlabelled) training split
    test: np.ndarray  # indices of the held-out split
    labelled: np.ndarray  # a labelled subset of ``train`` for the cheap selection signals
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def channels(self) -> int:
        return self.images.shape[1]


def raw_dataset(run) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images (N, H, W[, 3]), int64 labels) of the run's dataset, before resizing."""
    return labelled_images(run.dataset, SyntheticDraw(run.n_images, run.image_size, run.data_seed,
                                                      run.synthetic_label), run.data_root)


def load_training_data(run) -> TrainingData:
    images, labels = raw_dataset(run)
    rng = np.random.default_rng(run.data_seed)
    if run.n_images and run.n_images < len(images):
        keep = np.sort(rng.choice(len(images), run.n_images, replace=False))
        images, labels = images[keep], labels[keep]
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div_(255)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    if x.shape[-1] != run.image_size or x.shape[-2] != run.image_size:
        x = torch.nn.functional.interpolate(x, size=(run.image_size, run.image_size),
                                            mode="bilinear", align_corners=False, antialias=True)
    order = rng.permutation(len(x))
    n_test = max(1, int(round(len(x) * run.holdout)))
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])
    if len(train) < run.k:
        raise LCEError(f"dataset {run.dataset}: {len(train)} training images, fewer than k={run.k}")
    # rounded first, so the spec.json a dissection reads normalises exactly as training did
    mean = tuple(round(float(v), 6) for v in x[train].mean(dim=(0, 2, 3)))
    std = tuple(round(max(float(v), 1e-6), 6) for v in x[train].std(dim=(0, 2, 3)))
    x = (x - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)
    labelled = np.sort(rng.permutation(train)[:run.labelled])
    return TrainingData(x.contiguous(), np.asarray(labels, dtype=np.int64), train, test, labelled,
                        mean, std)
