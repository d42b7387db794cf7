"""The DeepCluster training loop (Caron et al., ECCV 2018) with the knobs of the Deep Dive study.

One cycle: embed the whole training split -> PCA-whiten -> L2-normalise -> k-means (reseeded
every cycle) -> pseudo-labels -> a *new* head, N(0, 0.01) weights and zero bias -> one pass of SGD
over a sample drawn uniformly over the clusters. From cycle ``halt_clustering`` on, the last
pseudo-labels (and their head) are kept and only the training pass runs, which is what the paper
finds saves time at no cost. ``supervised`` and ``random`` runs share the data, net and schedule,
so they are the comparison's upper and lower anchors.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from lce.errors import LCEError
from lce.progress import get_logger, progress
from lce.threads import cpu_threads
from lce.train.clustering import kmeans, preprocess, uniform_cluster_sample
from lce.train.datasets import TrainingData
from lce.train.metrics import clustering_metrics, nmi
from lce.train.reproducible import deterministic
from lce.zoo.architectures import build_architecture

log = get_logger(__name__)
FEATURE_BATCH = 256


def arch_kwargs(run, in_channels: int) -> dict:
    """Constructor arguments of the run's network, as recorded in the checkpoint spec."""
    kwargs = {"in_channels": in_channels, "sobel": run.sobel, "batch_norm": run.batch_norm}
    if run.arch != "lenet":
        kwargs["width"] = run.width
    return kwargs


def build_net(run, in_channels: int) -> nn.Module:
    """The run's untrained network; its filters depend only on ``run.seed``."""
    torch.manual_seed(run.seed)
    return build_architecture(run.arch, **arch_kwargs(run, in_channels))


@torch.no_grad()
def compute_features(model: nn.Module, images: torch.Tensor, fn: str = "embed") -> np.ndarray:
    """``model.embed`` (or ``trunk``) of every image, in eval mode (no dropout, BN statistics)."""
    model.eval()
    out = [getattr(model, fn)(images[i:i + FEATURE_BATCH])
           for i in range(0, len(images), FEATURE_BATCH)]
    return torch.cat(out).numpy().astype(np.float64)


def new_head(feature_dim: int, k: int) -> nn.Linear:
    """A fresh classifier head: the previous cycle's cluster ids mean nothing now."""
    head = nn.Linear(feature_dim, k)
    head.weight.data.normal_(0, 0.01)
    head.bias.data.zero_()
    return head


@dataclass
class CycleRecord:
    cycle: int
    metrics: dict[str, float]
    seconds: dict[str, float]


@dataclass
class TrainResult:
    model: nn.Module
    cycles: list[CycleRecord] = field(default_factory=list)
    pseudo_labels: np.ndarray | None = None
    branches: dict[str, TrainResult] = field(default_factory=dict)  # halted variants, by key


@dataclass
class _State:
    """Everything a cycle reads and changes. A halted variant shares its continuous twin's first
    h cycles, so it branches off a deep copy of this state taken after them (the copy keeps the
    optimizers pointing at the copied model's parameters)."""
    model: nn.Module
    optimizer: torch.optim.Optimizer
    head_optimizer: torch.optim.Optimizer | None
    rng: np.random.Generator
    pseudo: np.ndarray | None
    result: TrainResult


def _sgd(params, run) -> torch.optim.SGD:
    return torch.optim.SGD(params, lr=run.lr, momentum=run.momentum,
                           weight_decay=run.weight_decay)


def _train_pass(model, optimizers, images, targets, indices, batch_size) -> float:
    """One pass of SGD over ``indices``; the mean cross-entropy."""
    model.train()
    loss_fn, total, seen = nn.CrossEntropyLoss(), 0.0, 0
    for start in range(0, len(indices), batch_size):
        batch = torch.from_numpy(indices[start:start + batch_size])
        if len(batch) < 2:  # batch norm cannot train on a single image
            continue
        loss = loss_fn(model(images[batch]), targets[batch])
        for opt in optimizers:
            opt.zero_grad()
        loss.backward()
        for opt in optimizers:
            opt.step()
        total, seen = total + float(loss.detach()) * len(batch), seen + len(batch)
    return total / max(seen, 1)


def train(run, data: TrainingData, on_cycle: Callable | None = None,
          branches: Sequence = ()) -> TrainResult:
    """Train the run's network on the training split; ``on_cycle(cycle, model, labels)`` is called
    after every cycle (tests use it to watch heads and pseudo-labels).

    ``branches``: halted variants of this continuous run (``replace(run, key=...,
    halt_clustering=h)``, 0 < h < cycles). Each is continued from a copy of the state after the
    h cycles it shares with ``run`` instead of being trained again from cycle 0, and returned in
    ``result.branches[key]``: the same numbers as training it alone (a test checks the bytes),
    for the cost of its cycles from h on.
    """
    for branch in branches:
        h = branch.halt_clustering
        if run.halt_clustering or not 0 < h < run.cycles or \
                replace(branch, key=run.key, halt_clustering=0) != run:
            raise LCEError(f"{branch.key}: not a halted variant of the continuous run {run.key} "
                           f"(halt_clustering must be in 1..{run.cycles - 1}, the rest equal)")
    with cpu_threads(1), deterministic():
        return _train(run, data, on_cycle, branches)


def _train(run, data: TrainingData, on_cycle: Callable | None, branches: Sequence) -> TrainResult:
    model = build_net(run, data.channels)
    result = TrainResult(model)
    if run.method == "random":
        return result
    images = data.images[torch.from_numpy(data.train)]
    labels = data.labels[data.train]
    labelled = np.searchsorted(data.train, data.labelled)
    state = _State(model, _sgd([p for p in model.parameters() if p.requires_grad], run), None,
                   np.random.default_rng([run.seed, run.data_seed]), None, result)
    if run.method == "supervised":
        model.top_layer = new_head(model.feature_dim, int(data.labels.max()) + 1)
        state.head_optimizer = _sgd(model.top_layer.parameters(), run)
    forks = {}
    with progress() as bar:
        task = bar.add_task(f"{run.key or 'train'}", total=run.cycles)
        for cycle in range(run.cycles):
            for branch in branches:
                if branch.halt_clustering == cycle:
                    forks[branch.key] = copy.deepcopy(state)
            _cycle(run, cycle, state, images, labels, labelled)
            if on_cycle is not None:
                on_cycle(cycle, model, state.pseudo)
            bar.advance(task)
        for branch in branches:
            fork = forks.pop(branch.key)
            for cycle in range(branch.halt_clustering, run.cycles):
                _cycle(branch, cycle, fork, images, labels, labelled)
            result.branches[branch.key] = fork.result
    return result


def _cycle(run, cycle: int, state: _State, images, labels, labelled) -> None:
    """One cycle of ``run`` on ``state``: re-cluster unless halted, then one training pass."""
    seconds, metrics = {}, {}
    if run.method == "supervised":
        targets, indices = labels, state.rng.permutation(len(images))
    else:
        halted = bool(run.halt_clustering) and cycle >= run.halt_clustering
        if not halted:
            clustering, state.head_optimizer = _recluster(state.model, images, run, cycle,
                                                          seconds)
            state.pseudo = clustering.assignments
        pseudo = state.pseudo
        metrics = clustering_metrics(pseudo, labels, run.k,
                                     state.result.pseudo_labels if cycle else None)
        if not halted:  # what k-means left empty, counted before the refill
            metrics["clusters_empty"] = float(clustering.n_empty)
        metrics["nmi_labelled"] = nmi(pseudo[labelled], labels[labelled])
        metrics["halted"] = float(halted)
        targets = pseudo
        indices = uniform_cluster_sample(pseudo, len(images), state.rng)
    start = time.perf_counter()
    metrics["loss"] = _train_pass(state.model, [state.optimizer, state.head_optimizer], images,
                                  torch.from_numpy(targets), indices, run.batch_size)
    seconds["train_s"] = time.perf_counter() - start
    state.result.pseudo_labels = state.pseudo
    state.result.cycles.append(CycleRecord(cycle, metrics, seconds))
    log.info("%s cycle %d: %s", run.key, cycle,
             ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())))


def _recluster(model, images, run, cycle: int, seconds: dict):
    """Cluster the current features; attach a new head; return the clustering and the head's
    optimizer."""
    model.top_layer = None
    start = time.perf_counter()
    features = compute_features(model, images)
    seconds["features_s"] = time.perf_counter() - start
    start = time.perf_counter()
    seed = run.seed * 10_007 + cycle  # k-means is reseeded every cycle
    x = preprocess(features, run.pca_dims, seed)
    clustering = kmeans(x, run.k, run.kmeans_iter, seed, run.kmeans_fraction, run.kmeans_backend)
    seconds["cluster_s"] = time.perf_counter() - start
    model.top_layer = new_head(model.feature_dim, run.k)
    return clustering, _sgd(model.top_layer.parameters(), run)
