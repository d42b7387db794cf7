"""Dense prediction: a per-pixel linear probe on upsampled frozen features, scored by mIoU.

The probe is trained on feature vectors bilinearly interpolated at a seeded sample of labelled
pixel positions of the training images. Unlabelled pixels (label 0) are no class: as in the usual
segmentation protocol (VOC's and ADE20K's ignore index), they are never trained on and never
scored, so the mIoU is over concept classes only -- otherwise a probe would be rewarded for
recognising "whatever nobody annotated". Because bilinear upsampling and a linear classifier are
both linear (and the interpolation weights sum to one), classifying upsampled features equals
upsampling the class scores computed at the layer's own resolution -- so held-out images are
scored in full at ``label_size`` without ever materializing upsampled feature maps.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from lce.bench.linear import tuned_probe
from lce.errors import LCEError


def sample_pixels(maps: np.ndarray, labels: np.ndarray, per_image: int, seed: int):
    """(features, labels, image) at ``per_image`` seeded labelled positions of each image.

    Positions are drawn (with replacement) among the image's labelled pixels, at pixel centres
    of the (L, L) label grid; an image without any is skipped. Interpolation follows
    ``F.interpolate(mode='bilinear', align_corners=False)``, the same rule as :func:`predict`.
    """
    size = labels.shape[-1]
    rng = np.random.default_rng(seed)
    labelled = [np.flatnonzero(image) for image in labels.reshape(len(labels), -1)]
    images = np.array([i for i, where in enumerate(labelled) if len(where)], dtype=np.int64)
    if not len(images):
        raise LCEError("dense benchmark: the training images have no labelled pixels",
                       hint="use more probe images (bench.max_images, probe.n_images)")
    flat = np.stack([rng.choice(labelled[i], per_image) for i in images])
    rows, cols = np.divmod(flat, size)
    grid = np.stack([(cols + 0.5) / size * 2 - 1, (rows + 0.5) / size * 2 - 1], axis=-1)
    sampled = F.grid_sample(torch.from_numpy(maps[images]),
                            torch.from_numpy(grid[:, :, None]).float(),
                            mode="bilinear", padding_mode="border", align_corners=False)
    features = sampled[..., 0].permute(0, 2, 1).reshape(len(images) * per_image, -1).numpy()
    return (features, labels[images[:, None], rows, cols].reshape(-1),
            images.repeat(per_image))


def predict(maps: np.ndarray, weight: np.ndarray, bias: np.ndarray, size: int,
            batch: int = 16) -> np.ndarray:
    """(N, size, size) class indices: scores at feature resolution, upsampled, argmax."""
    w, b = torch.from_numpy(weight).float(), torch.from_numpy(bias).float()
    out = []
    for start in range(0, len(maps), batch):
        scores = torch.einsum("kc,nchw->nkhw", w, torch.from_numpy(maps[start:start + batch]))
        scores = scores + b.view(1, -1, 1, 1)
        scores = F.interpolate(scores, size=(size, size), mode="bilinear", align_corners=False)
        out.append(scores.argmax(dim=1).numpy())
    return np.concatenate(out)


def mean_iou(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Dataset-level mIoU: per-class IoU over all pixels together, averaged over the classes
    present in the ground truth or the prediction."""
    n = int(max(truth.max(), predicted.max())) + 1
    confusion = np.bincount(truth.ravel() * n + predicted.ravel(), minlength=n * n).reshape(n, n)
    intersection = np.diag(confusion).astype(np.float64)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - intersection
    return float(np.mean(intersection[union > 0] / union[union > 0]))


def dense_miou(maps: np.ndarray, labels: np.ndarray, train: np.ndarray, val: np.ndarray,
               test: np.ndarray, c_grid: tuple[float, ...], pixels_per_image: int,
               seed: int) -> float:
    """mIoU on images ``test`` of a per-pixel probe tuned on ``val`` and trained on ``train``.

    ``maps`` are (N, C, h, w) features, ``labels`` (N, L, L) label numbers (0 = unlabelled,
    ignored in training and scoring). Test labels never seen in training count as a class the
    probe cannot predict, so they lower the score instead of vanishing from it.
    """
    fit = np.concatenate([train, val])
    features, numbers, image = sample_pixels(maps[fit], labels[fit], pixels_per_image, seed)
    classes = np.unique(numbers)
    targets = np.searchsorted(classes, numbers)
    rows_train, rows_val = np.flatnonzero(image < len(train)), np.flatnonzero(image >= len(train))
    probe = tuned_probe(features, targets, rows_train, rows_val, c_grid)
    predicted = classes[probe.classes[predict(maps[test], *probe.affine(), labels.shape[-1])]]
    labelled = labels[test] != 0
    if not labelled.any():
        raise LCEError("dense benchmark: the held-out images have no labelled pixels",
                       hint="use more probe images or a larger test_fraction")
    truth, predicted = labels[test][labelled], predicted[labelled]
    everything = np.union1d(classes, truth)
    return mean_iou(np.searchsorted(everything, truth), np.searchsorted(everything, predicted))
