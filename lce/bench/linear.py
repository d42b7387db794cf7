"""Many-shot linear classification: logistic regression on frozen, pooled features.

The protocol of Ericsson et al. (after Kornblith et al.): standardize the features, choose the
L2 regularisation ``C`` from a grid by accuracy on a validation split carved out of the training
data, refit on training + validation with that ``C``, and report top-1 accuracy on a test split
the tuning never saw.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from lce.errors import LCEError


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def stratified_split(labels: np.ndarray, test_fraction: float, val_fraction: float,
                     seed: int) -> Split:
    """Seeded train/val/test indices; each class is divided in the same proportions."""
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        n_test = int(round(len(members) * test_fraction))
        n_val = int(round(len(members) * val_fraction))
        parts["test"].append(members[:n_test])
        parts["val"].append(members[n_test:n_test + n_val])
        parts["train"].append(members[n_test + n_val:])
    return Split(**{k: np.sort(np.concatenate(v)).astype(np.int64) for k, v in parts.items()})


class LinearProbe:
    """A logistic regression on standardized features, usable as an affine map on raw ones."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, c: float):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        self.mean = features.mean(axis=0)
        self.scale = features.std(axis=0)
        self.scale[self.scale < 1e-8] = 1.0  # constant features (dead units) carry nothing
        with warnings.catch_warnings():
            # a capped iteration count is part of the protocol; a probe short of full
            # convergence is still a valid (and deterministic) measurement
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model = LogisticRegression(C=c, max_iter=300).fit(
                (features - self.mean) / self.scale, labels)
        self.classes = self.model.classes_

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.model.predict((features - self.mean) / self.scale)

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """(W (K, D), b (K,)) with ``argmax(W x + b)`` the class index of raw feature ``x``."""
        weight = self.model.coef_ / self.scale
        bias = self.model.intercept_ - weight @ self.mean
        if len(self.classes) == 2:  # sklearn keeps one score for two classes: make it two
            weight, bias = np.concatenate([-weight, weight]) / 2, np.array([-bias[0], bias[0]]) / 2
        return weight, bias


def tuned_probe(features: np.ndarray, labels: np.ndarray, train: np.ndarray, val: np.ndarray,
                c_grid: tuple[float, ...]) -> LinearProbe:
    """A probe with C chosen by accuracy on rows ``val``, refit on rows ``train`` + ``val``."""
    if len(np.unique(labels[train])) < 2:
        raise LCEError("linear probe: the training split holds fewer than two classes",
                       hint="use more images (bench.max_images, probe.n_images)")
    accuracies = [np.mean(LinearProbe(features[train], labels[train], c).predict(features[val])
                          == labels[val]) for c in c_grid]
    best_c = c_grid[int(np.argmax(accuracies))]  # ties go to the first, most regularised C
    both = np.concatenate([train, val])
    return LinearProbe(features[both], labels[both], best_c)


def linear_accuracy(features: np.ndarray, labels: np.ndarray, c_grid: tuple[float, ...],
                    test_fraction: float, val_fraction: float, seed: int) -> float:
    """Top-1 test accuracy of the tuned logistic-regression probe."""
    split = stratified_split(labels, test_fraction, val_fraction, seed)
    probe = tuned_probe(features, labels, split.train, split.val, c_grid)
    return float(np.mean(probe.predict(features[split.test]) == labels[split.test]))
