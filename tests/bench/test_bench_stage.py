"""The `bench@<model>` stage end to end on a tiny probe set, plus its params and data helpers."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from lce.bench.datasets import classification_dataset, stratified_subset
from lce.bench.features import FrozenFeatures
from lce.bench.probe_targets import image_split, label_map, load_targets, main_object_box
from lce.errors import LCEError
from lce.params import BenchParams, bench_params, model_params
from lce.validation import check_bench
from tests.support.cli import REPO, cli_env

TINY_BENCH = {
    "seed": 0, "device": "cpu", "batch_size": 32, "input_size": 32, "max_images": 300,
    "synthetic_images": 60, "test_fraction": 0.3, "val_fraction": 0.2, "c_grid": [0.01, 1],
    "linear_datasets": ["digits", "synthetic-scenes"], "fewshot_datasets": ["mnist5k"],
    "ways": 5, "shots": [1, 5], "queries": 5, "episodes": 600,
    "dense_categories": ["object", "material"], "label_size": 16, "pixels_per_image": 32,
    "box_grid": 2, "box_alphas": [1, 100],
}


def test_bench_params_defaults_and_types():
    settings = bench_params({"bench": {"c_grid": [1, 10]}})
    assert settings.c_grid == (1.0, 10.0) and settings.shots == (1, 5, 20)
    assert bench_params({"bench": {}}) == BenchParams()


def test_benchmark_layer_is_a_per_model_setting():
    models = model_params({"models": {
        "m": {"weights": "w", "layers": ["features.17", "features.18"],
              "bench_layer": "features.14"},
        "n": {"weights": "w", "layers": ["layer3", "layer4"]}}})
    assert models["m"].benchmark_layer == "features.14"
    assert models["n"].benchmark_layer == "layer4"
    with pytest.raises(LCEError, match=r"models\.m\.bench_layer: expected str"):
        model_params({"models": {"m": {"weights": "w", "layers": ["a"], "bench_layer": 3}}},
                     "params.yaml")


@pytest.mark.parametrize("section, message", [
    ({"shots": [1, "five"]}, "bench.shots: expected a non-empty list of positive integers"),
    ({"c_grid": [1, 0.1]}, "bench.c_grid: must be ascending"),
    ({"linear_datasets": ["cifar"]}, "bench.linear_datasets: unknown dataset 'cifar'"),
    ({"test_fraction": 0.6, "val_fraction": 0.5}, "must be positive and sum to less than 1"),
    ({"episodes": 0}, "bench.episodes: must be at least 1"),
    ({"layers": {"m": "features.14"}}, "bench.layers: unknown key"),
    ({"epsiodes": 600}, "bench.epsiodes: unknown key"),
])
def test_bench_params_errors_name_the_key(section, message):
    with pytest.raises(LCEError, match=message):
        check_bench(bench_params({"bench": section}, "params.yaml"), "params.yaml")


def test_classification_datasets_are_seeded_stratified_subsets():
    images, labels = classification_dataset("digits", 500, seed=0)
    assert images.shape == (len(labels), 8, 8) and images.dtype == np.uint8
    assert abs(len(labels) - 500) <= 10 and images.max() == 255
    assert len(np.unique(labels)) == 10
    again, _ = classification_dataset("digits", 500, seed=0)
    assert np.array_equal(images, again)
    counts = np.bincount(labels[stratified_subset(labels, 100, np.random.default_rng(0))])
    assert counts.min() >= 9 and counts.max() <= 11
    with pytest.raises(LCEError, match="unknown benchmark dataset 'cifar'"):
        classification_dataset("cifar", 10, seed=0)


def test_frozen_features_pool_grayscale_inputs_and_name_unknown_layers():
    import torch

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU())
    extractor = FrozenFeatures(net, "0", (0.5,) * 3, (0.25,) * 3, batch_size=3)
    gray = np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    assert extractor.pooled(gray, size=16).shape == (7, 4)
    assert extractor.maps(gray, size=16).shape == (7, 4, 16, 16)
    with pytest.raises(LCEError, match="unknown layer"):
        FrozenFeatures(net, "features.18", (0.5,) * 3, (0.25,) * 3)


def test_label_maps_merge_planes_and_main_object_is_the_largest_region():
    planes = np.zeros((2, 8, 8), np.int32)
    planes[0, :4, :4] = 5
    planes[1, 2:6, 2:6] = 6  # under plane 0 where they overlap
    merged = label_map(planes, 4)
    assert merged.tolist() == [[5, 5, 0, 0], [5, 5, 6, 0], [0, 6, 6, 0], [0, 0, 0, 0]]
    objects = np.zeros((10, 10), np.int32)
    objects[0:2, 0:2] = 3  # a small region of the most frequent label ...
    objects[5:9, 4:10] = 3  # ... and its largest one
    objects[0:3, 6:10] = 4
    assert main_object_box(objects).tolist() == pytest.approx([0.5, 0.4, 0.9, 1.0])
    assert np.isnan(main_object_box(np.zeros((4, 4), np.int32))).all()


def test_probe_targets_and_split(tiny_probe):
    from lce.probe.broden import BrodenProbe

    probe = BrodenProbe(tiny_probe)
    targets = load_targets(probe, ("object", "material"), 16)
    assert targets.images.shape == (12, 64, 64, 3)
    assert targets.labels["object"].shape == (12, 16, 16)
    names = {probe.concepts[n].category for n in np.unique(targets.labels["object"]) if n}
    assert names == {"object"}
    boxes = targets.boxes[~np.isnan(targets.boxes).any(axis=1)]
    assert len(boxes) and (boxes[:, 2:] > boxes[:, :2]).all()
    train, val, test = image_split(12, 0.3, 0.2, seed=0)
    assert (len(train), len(val), len(test)) == (6, 2, 4)
    assert sorted(np.concatenate([train, val, test])) == list(range(12))
    with pytest.raises(LCEError, match="no pixel-level category 'scene'"):
        load_targets(probe, ("scene",), 16)
    with pytest.raises(LCEError, match="too small to split"):
        image_split(2, 0.3, 0.2, seed=0)


@pytest.fixture(scope="module")
def bench_project(tiny_probe, tmp_path_factory):
    """A directory laid out like the repository: tiny probe, a random MobileNetV2 checkpoint."""
    from lce.zoo.loading import materialize
    from lce.zoo.registry import get_spec

    root = tmp_path_factory.mktemp("bench-project")
    shutil.copytree(tiny_probe, root / "data/probe/synthetic")
    materialize(get_spec("mobilenetv2-random"), root / "data/models/random", seed=0)
    return root


def run_stage(project, bench: dict, **model):
    params = {"models": {"random": {"weights": "data/models/random", "layers": ["features.18"],
                                    **model}},
              "probes": {"synthetic": {"kind": "synthetic"}}, "dissect_on": ["synthetic"],
              "bench": bench}
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    return subprocess.run([sys.executable, str(REPO / "stages/bench.py"), "random"], cwd=project,
                          capture_output=True, text=True, env=cli_env(), timeout=300)


@pytest.mark.slow
def test_bench_stage_writes_all_four_task_families_deterministically(bench_project):
    import pandas as pd

    result = run_stage(bench_project, TINY_BENCH)
    assert result.returncode == 0, result.stderr
    out = bench_project / "data/bench/random"
    first = (out / "scores.parquet").read_bytes()
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == ["model", "task", "dataset", "metric", "value",
                                    "higher_is_better", "source"]
    assert set(scores["task"]) == {"many-shot", "few-shot", "dense", "localization"}
    assert set(scores["source"]) == {"measured"} and set(scores["model"]) == {"random"}
    keys = set(zip(scores["task"], scores["dataset"], scores["metric"], strict=True))
    assert {("many-shot", "digits", "top1-accuracy"),
            ("many-shot", "synthetic-scenes", "top1-accuracy"),
            ("few-shot", "mnist5k", "5-shot-accuracy"), ("few-shot", "mnist5k", "1-shot-ci95"),
            ("dense", "probe-object", "mean-iou"), ("dense", "probe-material", "mean-iou"),
            ("localization", "probe-object", "mean-iou"),
            ("localization", "probe-object", "corloc")} <= keys
    assert len(scores) == 2 + 4 + 2 + 2
    assert scores["value"].between(0, 1).all()
    assert (scores["higher_is_better"] == ~scores["metric"].str.contains("ci95")).all()
    assert '"layer": "features.18"' in (out / "meta.json").read_text()

    again = run_stage(bench_project, TINY_BENCH)
    assert again.returncode == 0, again.stderr
    assert (out / "scores.parquet").read_bytes() == first


@pytest.mark.slow
def test_bench_stage_bad_input_is_one_error_line(bench_project):
    result = run_stage(bench_project, TINY_BENCH, bench_layer="layer4")
    assert result.returncode == 1
    assert "Error: unknown layer(s) layer4 in MobileNetV2" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_stage(bench_project, {**TINY_BENCH, "shots": [0]})
    assert result.returncode == 1 and "Error: params.yaml: bench.shots" in result.stderr
