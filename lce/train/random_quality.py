"""Quality of the random initial filters: how well k-means on an *untrained* network's features
already separates the true classes, per init seed and K.

The Deep Dive paper finds that DeepCluster's convergence and accuracy depend on the interplay of
this initial quality with K; these numbers are the "initial quality" side of that interplay.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lce.train.clustering import kmeans, preprocess
from lce.train.datasets import load_training_data
from lce.train.metrics import cluster_label_entropy, nmi
from lce.train.trainer import build_net, compute_features

SILHOUETTE_SAMPLE = 2000
QUALITY_COLUMNS = ["setting", "seed", "k", "nmi", "nmi_labelled", "entropy_mean", "inertia",
                   "silhouette"]


def data_and_net(run) -> tuple:
    """What makes two runs' linear-probe scores comparable: the same images, labels, split and
    network (the method and its own knobs aside)."""
    return (run.dataset, run.data_root, run.n_images, run.synthetic_label, run.image_size,
            run.data_seed, run.holdout, run.arch, run.width, run.sobel, run.batch_norm)


def setting_of(run) -> tuple:
    """What the initial clusters depend on besides the seed: data, net, preprocessing."""
    return (*data_and_net(run), run.pca_dims, run.labelled)


def setting_name(run) -> str:
    return f"{run.dataset}/{run.arch}"


def random_filter_quality(run, ks, seeds) -> list[dict]:
    """One row per (seed, K): NMI with the labels (all / labelled subset), per-cluster label
    entropy, k-means inertia and silhouette of the untrained network's clusters."""
    from sklearn.metrics import silhouette_score

    data = load_training_data(run)
    images, labels = data.images[data.train], data.labels[data.train]
    labelled = np.searchsorted(data.train, data.labelled)
    rows = []
    for seed in seeds:
        features = compute_features(build_net(replace(run, seed=seed), data.channels), images)
        x = preprocess(features, run.pca_dims, seed)
        for k in ks:
            if k > len(x):
                continue
            clusters = kmeans(x, k, run.kmeans_iter, seed * 10_007, run.kmeans_fraction,
                              run.kmeans_backend)
            entropy = cluster_label_entropy(clusters.assignments, labels)
            silhouette = silhouette_score(x, clusters.assignments,
                                          sample_size=min(SILHOUETTE_SAMPLE, len(x)),
                                          random_state=seed)
            rows.append({"setting": setting_name(run), "seed": seed, "k": k,
                         "nmi": nmi(clusters.assignments, labels),
                         "nmi_labelled": nmi(clusters.assignments[labelled], labels[labelled]),
                         "entropy_mean": float(entropy.mean()), "inertia": clusters.inertia,
                         "silhouette": float(silhouette)})
    return rows
