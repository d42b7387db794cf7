"""Trainers for models that no zoo publishes: DeepCluster (Caron et al., ECCV 2018) and the
hyper-parameter study of Mustapha, Khreich, Masri, "A Deep Dive into Deep Cluster" (2207.11839)."""

from lce.train.reproducible import pin_kernel_dispatch

pin_kernel_dispatch()   # before torch loads: see lce.train.reproducible
