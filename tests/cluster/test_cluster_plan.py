"""How ``lce cluster`` splits the stage graph into the probe job, the array and the integrator."""

from __future__ import annotations

import shutil

import pytest
import yaml

from lce.cluster.plan import Task, model_stages, plan_checkout, plan_jobs
from lce.errors import LCEError
from tests.support.cli import REPO
from tests.support.project import MODELS, TRAIN_RUNS, tiny_params


def lab_graph(**extra):
    """Models a and b fetched, c trained here; x is a training run no model uses."""
    graph = {
        "probe": (), "probe-cache": ("probe",),
        "fetch@a": (), "fetch@b": (), "train@c": (), "train@x": (),
        "dissect@a": ("probe", "probe-cache", "fetch@a"),
        "dissect@b": ("probe", "probe-cache", "fetch@b"),
        "dissect@c": ("probe", "probe-cache", "train@c"),
        "bench@a": ("probe", "fetch@a"), "bench@b": ("probe", "fetch@b"),
        "bench@c": ("probe", "train@c"),
        "analyze": ("dissect@a", "dissect@b", "dissect@c", "bench@a", "bench@b", "bench@c"),
        "study": ("train@c", "train@x"),
        "warehouse": ("analyze", "study"),
    }
    graph.update(extra)
    return graph


def by_model(graph):
    """The per-model stages of a lab graph (dissect@<m>, bench@<m>) and their model."""
    return {s: s.partition("@")[2] for s in graph if s.startswith(("dissect@", "bench@"))}


def test_each_model_gets_its_own_branch_and_the_rest_is_shared_or_combining():
    plan = plan_jobs(lab_graph(), by_model(lab_graph()))
    assert plan.prep == ("probe", "probe-cache")
    assert plan.tasks == (
        Task("model", "a", ("dissect@a", "bench@a"), ("fetch@a", "dissect@a", "bench@a")),
        Task("model", "b", ("dissect@b", "bench@b"), ("fetch@b", "dissect@b", "bench@b")),
        Task("model", "c", ("dissect@c", "bench@c"), ("train@c", "dissect@c", "bench@c")),
        Task("train", "x", ("train@x",), ("train@x",)),
    )
    assert plan.combining == ("analyze", "study", "warehouse")
    assert plan.tasks[3].label == "train x"


def test_a_checkpoint_two_models_share_is_computed_once_by_the_probe_job():
    graph = lab_graph(**{"dissect@b": ("probe", "probe-cache", "fetch@a"),
                         "bench@b": ("probe", "fetch@a")})
    del graph["fetch@b"]
    plan = plan_jobs(graph, by_model(graph))
    assert "fetch@a" in plan.prep
    assert [task.stages for task in plan.tasks[:2]] == [("dissect@a", "bench@a"),
                                                       ("dissect@b", "bench@b")]


def test_a_per_item_stage_that_reads_a_model_waits_for_the_integrator():
    graph = lab_graph(**{"export@a": ("dissect@a",)})
    plan = plan_jobs(graph, by_model(graph))
    assert "export@a" in plan.combining
    assert [task.label for task in plan.tasks] == ["model a", "model b", "model c", "train x"]


def test_a_pipeline_without_models_has_nothing_to_spread():
    with pytest.raises(LCEError, match="no per-model stages"):
        plan_jobs({"probe": (), "train@x": ()}, {})


def test_the_repository_pipeline_is_planned_from_its_dvc_yaml(tmp_path):
    """The real dvc.yaml with the tiny sharing configuration, read by DVC itself."""
    shutil.copy(REPO / "dvc.yaml", tmp_path / "dvc.yaml")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(tiny_params()))
    owned = model_stages(tmp_path)
    assert {owned[f"dissect@{m}-synthetic"] for m in MODELS} == set(MODELS)
    assert {owned[f"bench@{m}"] for m in MODELS} == set(MODELS)
    assert not any(s.startswith(("fetch@", "train@", "probe@")) for s in owned)
    (tmp_path / ".dvc").mkdir()
    (tmp_path / ".dvc" / "config").write_text("[core]\n    no_scm = true\n")
    plan = plan_checkout(tmp_path)
    assert [task.label for task in plan.tasks] == [*(f"model {m}" for m in MODELS),
                                                  *(f"train {r}" for r in TRAIN_RUNS)]
    for model, task in zip(MODELS, plan.tasks, strict=False):
        assert {f"fetch@{model}", f"weights@{model}", f"dissect@{model}-synthetic",
                f"bench@{model}"} <= set(task.stages)
        assert set(task.targets) == {f"weights@{model}", f"dissect@{model}-synthetic",
                                     f"bench@{model}"}
    assert {"probe@synthetic", "probe-cache@synthetic"} <= set(plan.prep)
    assert {"analyze", "warehouse", "report", "summary", "study"} <= set(plan.combining)
    every = {*plan.prep, *plan.combining, *(s for task in plan.tasks for s in task.stages)}
    assert len(every) == len(plan.prep) + len(plan.combining) + sum(
        len(task.stages) for task in plan.tasks), "a stage is in two jobs"
