"""Trainers for models that no zoo publishes: DeepCluster (Caron et al., ECCV 2018) and the
hyper-parameter study of Mustapha, Khreich, Masri, "A Deep Dive into Deep Cluster" (2207.11839)."""
