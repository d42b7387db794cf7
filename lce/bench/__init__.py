"""Downstream benchmarks measured on frozen features (Ericsson et al., CVPR 2021, at small scale).

Four task families, every score one row of the benchmark contract (docs/DESIGN.md §4): many-shot
linear classification (:mod:`lce.bench.linear`), few-shot classification
(:mod:`lce.bench.fewshot`), dense per-pixel segmentation (:mod:`lce.bench.dense`) and main-object
localization (:mod:`lce.bench.localization`); :mod:`lce.bench.run` runs them all for one model.
"""
