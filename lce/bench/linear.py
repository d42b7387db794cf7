"""Many-shot linear classification: logistic regression on frozen, pooled features.

The protocol of Ericsson et al. (after Kornblith et al.): standardize the features, choose the
L2 regularisation ``C`` from a grid by accuracy on a validation split carved out of the training
data, refit on training + validation with that ``C``, and report top-1 accuracy on a test split
the tuning never saw.
"""

from __future__ import annotations

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


def standardizer(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, scale) per feature; constant features (dead units) get scale 1 and stay at zero.

    "Constant" is judged relative to the largest spread: an untrained deep network's features
    can all be ~1e-9 in size and still carry information.
    """
    mean = features.mean(axis=0, dtype=np.float64)
    scale = features.std(axis=0, dtype=np.float64)
    scale[scale <= scale.max(initial=0.0) * 1e-6] = 1.0
    return mean, scale


def _softmax_regression(features, targets, n_classes: int, c: float, init, max_iter: int):
    """(D + 1, K) weights minimizing mean cross-entropy + ||W||^2 / (2 C N), by L-BFGS.

    The objective is scikit-learn's ``LogisticRegression(C)`` divided by ``C * N``, so C means
    the same; torch's L-BFGS is used because scipy's costs far more per step at this size.
    """
    import torch

    weights = (torch.zeros(features.shape[1] + 1, n_classes, dtype=features.dtype)
               if init is None else init.clone()).requires_grad_(True)
    penalty = 1.0 / (2.0 * c * len(features))
    optimizer = torch.optim.LBFGS([weights], max_iter=max_iter, history_size=10,
                                  tolerance_grad=1e-6, tolerance_change=1e-10,
                                  line_search_fn="strong_wolfe")

    def objective():
        optimizer.zero_grad()
        logits = features @ weights[:-1] + weights[-1]
        loss = torch.nn.functional.cross_entropy(logits, targets)
        loss = loss + penalty * weights[:-1].pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    return weights.detach()


class LinearProbe:
    """A multinomial logistic regression on standardized features, usable as an affine map on
    raw ones.

    Refitting with a larger ``C`` starts from the previous solution (a warm-started
    regularisation path), which is how the C grid costs little more than one fit.
    """

    MAX_ITER = 100  # a capped, fixed iteration budget keeps the probe's cost and result fixed

    def __init__(self, features: np.ndarray, labels: np.ndarray):
        import torch

        self.mean, self.scale = standardizer(features)
        self.classes, targets = np.unique(labels, return_inverse=True)
        self._features = torch.from_numpy(self._standardize(features))
        self._targets = torch.from_numpy(targets.astype(np.int64))
        self._weights = None

    def _standardize(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale).astype(np.float32)

    def fit(self, c: float) -> LinearProbe:
        self._weights = _softmax_regression(self._features, self._targets, len(self.classes), c,
                                            self._weights, self.MAX_ITER)
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        weight, bias = self.affine()
        return self.classes[np.argmax(features @ weight.T + bias, axis=1)]

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """(W (K, D), b (K,)) with ``argmax(W x + b)`` the class index of raw feature ``x``."""
        weights = self._weights.numpy().astype(np.float64)
        weight = (weights[:-1] / self.scale[:, None]).T
        return weight, weights[-1] - weight @ self.mean


def tuned_probe(features: np.ndarray, labels: np.ndarray, train: np.ndarray, val: np.ndarray,
                c_grid: tuple[float, ...]) -> LinearProbe:
    """A probe with C chosen by accuracy on rows ``val``, refit on rows ``train`` + ``val``."""
    if len(np.unique(labels[train])) < 2:
        raise LCEError("linear probe: the training split holds fewer than two classes",
                       hint="use more images (bench.max_images, probe.n_images)")
    path = LinearProbe(features[train], labels[train])
    accuracies = [np.mean(path.fit(c).predict(features[val]) == labels[val]) for c in c_grid]
    best_c = c_grid[int(np.argmax(accuracies))]  # ties go to the first, most regularised C
    both = np.concatenate([train, val])
    return LinearProbe(features[both], labels[both]).fit(best_c)


def linear_accuracy(features: np.ndarray, labels: np.ndarray, c_grid: tuple[float, ...],
                    test_fraction: float, val_fraction: float, seed: int) -> float:
    """Top-1 test accuracy of the tuned logistic-regression probe."""
    split = stratified_split(labels, test_fraction, val_fraction, seed)
    probe = tuned_probe(features, labels, split.train, split.val, c_grid)
    return float(np.mean(probe.predict(features[split.test]) == labels[split.test]))
