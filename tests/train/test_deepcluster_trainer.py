"""The DeepCluster loop on small real data: a new head every cycle, halting freezes the labels,
training improves NMI over the random start, artifacts are deterministic and dissectable."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from lce.errors import LCEError
from lce.params import DeepClusterRun, deepcluster_runs
from lce.train.clustering import kmeans
from lce.train.datasets import load_training_data
from lce.train.run import execute_run
from lce.train.trainer import new_head, train
from lce.validation import check_runs
from lce.zoo.checkpoint import load_checkpoint

MNIST = DeepClusterRun(key="tiny", dataset="mnist5k", n_images=1000, k=10, cycles=5,
                       pca_dims=32, lr=0.05, batch_size=32, labelled=100)


def test_new_head_is_gaussian_0_01_with_zero_bias():
    torch.manual_seed(0)
    head = new_head(200, 50)
    assert head.weight.shape == (50, 200)
    assert float(head.weight.detach().std()) == pytest.approx(0.01, rel=0.05)
    assert float(head.bias.detach().abs().max()) == 0.0


@pytest.fixture(scope="module")
def mnist_data():
    return load_training_data(MNIST)


def watch(run, data):
    seen = []

    def on_cycle(cycle, model, labels):
        seen.append((cycle, model.top_layer, labels.copy()))

    result = train(run, data, on_cycle)
    return result, seen


def test_head_is_recreated_every_cycle_and_training_improves_nmi(mnist_data):
    result, seen = watch(MNIST, mnist_data)
    heads = [head for _, head, _ in seen]
    assert len({id(h) for h in heads}) == MNIST.cycles
    assert all(h.out_features == MNIST.k for h in heads)
    nmi = [rec.metrics["nmi_labels"] for rec in result.cycles]
    assert (nmi[-1] + nmi[-2]) / 2 > nmi[0] + 0.03, nmi
    assert "nmi_prev" not in result.cycles[0].metrics
    assert all(0 <= rec.metrics["nmi_prev"] <= 1 for rec in result.cycles[1:])


def test_halt_freezes_labels_and_head_and_skips_clustering(mnist_data):
    run = replace(MNIST, cycles=4, halt_clustering=2)
    result, seen = watch(run, mnist_data)
    labels = [lab for _, _, lab in seen]
    np.testing.assert_array_equal(labels[2], labels[1])
    np.testing.assert_array_equal(labels[3], labels[1])
    assert seen[3][1] is seen[1][1] and seen[1][1] is not seen[0][1]
    assert [rec.metrics["halted"] for rec in result.cycles] == [0, 0, 1, 1]
    assert [("cluster_s" in rec.seconds) for rec in result.cycles] == [True, True, False, False]
    assert result.cycles[3].metrics["nmi_prev"] == pytest.approx(1.0)


TINY_SYNTH = DeepClusterRun(key="syn", dataset="synthetic", n_images=48, image_size=32,
                            arch="small_alexnet", width=8, batch_norm=True, k=4, cycles=2,
                            pca_dims=8, labelled=10, batch_size=16)


def test_artifacts_are_deterministic_and_the_checkpoint_dissects_at_probe_size(tmp_path):
    execute_run(TINY_SYNTH, tmp_path / "a")
    execute_run(TINY_SYNTH, tmp_path / "b")
    for name in ("metrics.parquet", "model/model.pt", "model/spec.json", "run.json",
                 "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    metrics = pd.read_parquet(tmp_path / "a" / "metrics.parquet")
    assert list(metrics.columns) == ["run", "cycle", "metric", "value"]
    assert not metrics.duplicated(["run", "cycle", "metric"]).any()
    top1 = metrics[metrics["metric"] == "linear_top1"]
    assert list(top1["cycle"]) == [1] and 0 <= top1["value"].iloc[0] <= 1
    params = json.loads((tmp_path / "a" / "run.json").read_text())
    assert params["method"] == "deepcluster" and params["k"] == 4 and "key" not in params
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["cycles"] == 2 and "linear_top1" in summary

    model, spec = load_checkpoint(tmp_path / "a" / "model")
    assert spec.method == "deepcluster" and spec.source == "trained:syn"
    assert len(spec.mean) == 3 and spec.layers == ("features.relu5",)
    with torch.no_grad():
        out = model.features(torch.zeros(2, 3, 224, 224))
    assert out.shape[:2] == (2, 16) and out.shape[-1] > 1


def test_kmeans_is_reseeded_every_cycle_and_counts_empty_clusters(monkeypatch):
    import lce.train.trainer as trainer

    calls = []

    def recording_kmeans(*args, **kwargs):
        clustering = kmeans(*args, **kwargs)
        calls.append((args[3], clustering.n_empty))
        return clustering

    monkeypatch.setattr(trainer, "kmeans", recording_kmeans)
    data = load_training_data(TINY_SYNTH)
    seeds = {}
    for seed in (0, 1):
        calls.clear()
        result = train(replace(TINY_SYNTH, seed=seed, cycles=4, halt_clustering=3), data)
        seeds[seed] = [s for s, _ in calls]
        assert len(set(seeds[seed])) == 3  # three clusterings before the halt, three seeds
        logged = [rec.metrics.get("clusters_empty") for rec in result.cycles]
        assert logged == [float(n) for _, n in calls] + [None]  # nothing counted when halted
    assert not set(seeds[0]) & set(seeds[1])  # and they differ between init seeds


def _fake_split(objects):
    from lce.probe.synthetic import TrainingSplit

    n = len(objects)
    images = np.arange(n * 32 * 32 * 3, dtype=np.uint8).reshape(n, 32, 32, 3)
    return TrainingSplit(images, np.zeros(n, np.int64), np.array(objects, np.int64),
                         ("room",), ("cat", "dog", "cow"))


def test_object_labels_drop_images_without_objects(monkeypatch):
    import lce.probe.synthetic as synthetic

    objects = [-1, 0, 1, 2] * 12
    monkeypatch.setattr(synthetic, "generate_training_split", lambda config: _fake_split(objects))
    run = replace(TINY_SYNTH, synthetic_label="object", method="supervised", cycles=1, k=3)
    data = load_training_data(run)
    assert len(data.labels) == 36 and data.labels.min() == 0
    assert np.isfinite(train(run, data).cycles[0].metrics["loss"])
    monkeypatch.setattr(synthetic, "generate_training_split", lambda config: _fake_split([-1] * 8))
    with pytest.raises(LCEError, match="synthetic label object: no image has that label"):
        load_training_data(run)


def test_supervised_and_random_anchors(tmp_path):
    supervised = execute_run(replace(TINY_SYNTH, key="sup", method="supervised"), tmp_path / "s")
    random = execute_run(replace(TINY_SYNTH, key="rnd", method="random", cycles=0),
                         tmp_path / "r")
    assert supervised["cycles"] == 2 and random["cycles"] == 0
    metrics = pd.read_parquet(tmp_path / "r" / "metrics.parquet")
    assert metrics[["cycle", "metric"]].values.tolist() == [[0, "linear_top1"]]
    assert load_checkpoint(tmp_path / "s" / "model")[1].method == "supervised"


def _params(runs, defaults=None):
    return {"deepcluster": {"defaults": defaults or {}, "runs": runs}}


def test_runs_inherit_defaults_and_bad_entries_name_the_key():
    runs = deepcluster_runs(_params({"a": {"k": 20}, "b": None}, {"k": 5, "lr": 0.1}))
    assert runs["a"].k == 20 and runs["a"].lr == 0.1 and runs["b"].k == 5
    assert runs["a"].kmeans_backend == "sklearn"  # faiss only when asked, never when installed
    cases = [
        (_params({"a": {"kk": 3}}), "deepcluster.runs.a.kk: unknown key"),
        (_params({"a": {"k": "many"}}), "deepcluster.runs.a.k: expected int"),
        (_params({"a": {"k": 1}}), "deepcluster.runs.a.k: must be at least 2"),
        (_params({"a.b": {}}), "deepcluster.runs.a.b: keys must not contain dots"),
        (_params({"a": {"dataset": "cifar10"}}), "deepcluster.runs.a.data_root: required"),
        (_params({"a": {"kmeans_backend": "auto"}}),
         "deepcluster.runs.a.kmeans_backend: must be sklearn or faiss"),
        (_params({"a": {}}, {"lr": "fast"}), "deepcluster.defaults.lr: expected float"),
        ({"deepcluster": {"defaults": {}}}, "missing or invalid section 'deepcluster.runs'"),
    ]
    for params, message in cases:
        with pytest.raises(LCEError, match=message.replace(".", r"\.")):
            check_runs(deepcluster_runs(params))
