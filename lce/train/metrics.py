"""Per-cycle clustering diagnostics the paper follows: NMI between successive pseudo-labels
(stability), NMI with the true labels (what the clusters capture), the entropy of the true labels
inside each cluster (purity) and the cluster sizes (how degenerate the partition is)."""

from __future__ import annotations

import numpy as np


def nmi(a: np.ndarray, b: np.ndarray) -> float:
    """Normalized mutual information (arithmetic normalisation, as scikit-learn and the paper)."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(a, b))


def cluster_label_entropy(assignments: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Entropy (bits) of the true labels inside each non-empty cluster, in cluster order.

    0 for a pure cluster; log2(C) when a cluster holds all C classes equally.
    """
    entropies = []
    for cluster in np.unique(assignments):
        counts = np.unique(labels[assignments == cluster], return_counts=True)[1]
        p = counts / counts.sum()
        entropies.append(float(-(p * np.log2(p)).sum()) + 0.0)
    return np.array(entropies)


def clustering_metrics(assignments: np.ndarray, labels: np.ndarray, k: int,
                       previous: np.ndarray | None) -> dict[str, float]:
    """The per-cycle metrics of one clustering, keyed by their metric name in metrics.parquet.

    The sizes are those after empty clusters were refilled; how many k-means left empty is the
    trainer's ``clusters_empty``, which only the clustering step itself can count.
    """
    sizes = np.bincount(assignments, minlength=k)
    entropy = cluster_label_entropy(assignments, labels)
    metrics = {
        "nmi_labels": nmi(assignments, labels),
        "entropy_mean": float(entropy.mean()),
        "entropy_min": float(entropy.min()),
        "entropy_max": float(entropy.max()),
        "cluster_size_min": float(sizes.min()),
        "cluster_size_max": float(sizes.max()),
        "cluster_size_std": float(sizes.std()),
    }
    if previous is not None:
        metrics["nmi_prev"] = nmi(assignments, previous)
    return metrics
