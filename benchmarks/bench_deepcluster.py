"""DeepCluster speed on this machine: one cycle on MNIST-5k with LeNet (target < 10 s), split
into its phases, plus the two time savers the Deep Dive paper studies, measured in the same run:
fitting k-means on part of the points, and halting the re-clustering.

Run: .venv/bin/python benchmarks/bench_deepcluster.py
"""

from __future__ import annotations

import resource
import time
from dataclasses import replace

import torch

from lce.params import DeepClusterRun
from lce.train.datasets import load_training_data
from lce.train.trainer import train

TARGET_S = 10.0


def timed_train(run, data):
    start = time.perf_counter()
    result = train(run, data)
    return time.perf_counter() - start, result


def main() -> None:
    # nearly all 5,000 digits in the training split: the cycle sees the whole dataset
    run = DeepClusterRun(key="bench", dataset="mnist5k", arch="lenet", k=10, pca_dims=32,
                         cycles=1, holdout=0.01)
    start = time.perf_counter()
    data = load_training_data(run)
    load_s = time.perf_counter() - start
    print(f"torch threads: {torch.get_num_threads()}; training images: {len(data.train)}; "
          f"data load {load_s:.2f} s")

    for label in ("cold (first in the process: imports, allocator warm-up)", "warm"):
        seconds, result = timed_train(run, data)
        phases = result.cycles[0].seconds
        verdict = "OK" if seconds < TARGET_S else "OVER TARGET"
        print(f"one cycle, LeNet, K=10, {label}: {seconds:.2f} s (target < {TARGET_S:.0f} s: "
              f"{verdict}); " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))

    for k in (50, 100):
        seconds_k, _ = timed_train(replace(run, k=k), data)
        print(f"one cycle, LeNet, K={k}: {seconds_k:.2f} s")

    partial_s, partial = timed_train(replace(run, k=100, kmeans_fraction=0.2), data)
    full_s, full = timed_train(replace(run, k=100), data)
    part, whole = partial.cycles[0].seconds["cluster_s"], full.cycles[0].seconds["cluster_s"]
    print(f"k-means on 20% of the points (K=100): clustering {part:.2f} s vs {whole:.2f} s on "
          f"all (ratio {part / whole:.2f}); cycle {partial_s:.2f} s vs {full_s:.2f} s")

    cont_s, _ = timed_train(replace(run, k=100, cycles=4), data)
    halt_s, _ = timed_train(replace(run, k=100, cycles=4, halt_clustering=1), data)
    print(f"4 cycles K=100: continuous {cont_s:.2f} s, halted from cycle 1 {halt_s:.2f} s "
          f"(ratio {halt_s / cont_s:.2f})")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
