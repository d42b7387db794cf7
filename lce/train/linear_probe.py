"""Linear-probe top-1: how linearly separable the true classes are in the frozen trunk features.

The probe is fitted on the training split and scored on the held-out split; the net is frozen,
so the score measures the representation, not the probe (DeepCluster's evaluation protocol,
with a multinomial logistic regression instead of SGD epochs so it is deterministic and fast).
"""

from __future__ import annotations

import numpy as np

from lce.train.datasets import TrainingData
from lce.train.trainer import compute_features


def linear_probe_top1(model, data: TrainingData, max_iter: int = 300) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features = compute_features(model, data.images, fn="trunk")
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, C=0.1))
    probe.fit(features[data.train], data.labels[data.train])
    predicted = probe.predict(features[data.test])
    return float(np.mean(predicted == data.labels[data.test]))
