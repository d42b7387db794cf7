"""The seed paper's configuration end to end, offline: an image folder labelled by a random
netpqc in the published layout (width-reduced, 1/16 of the channels), checkpoints written in each
of the paper's checkpoint layouts and fetched through a local source (what ``fetch.<key>.source``
does), dissected at ``layer4`` with method dissect, q = 0.01, masks at 56 px; the warehouse holds
them beside the seed paper's 20 published profiles, and ``lce place`` puts each into that
population without moving the published models' categories. A profile made another way (Broden
masks, q = 0.005, another mask size) is refused naming the differences."""

from __future__ import annotations

import json
from dataclasses import astuple

import duckdb
import pytest
import torch
import torchvision

from lce.analysis.identity import SEED_PAPER, SEED_PAPER_PROBE
from lce.analysis.place import PlaceOptions, place
from lce.analysis.run import AnalysisOptions, run_analysis
from lce.dissect.artifact import dissect_to
from lce.params import DissectParams
from lce.presets import SEED_PAPER_MODELS
from lce.probe.broden import BrodenProbe
from lce.segment.probe import SegmentSettings, label_image_folder
from lce.segment.segmenters import load_segmenter
from lce.warehouse.build import DissectionResult, Sources, build_warehouse
from lce.zoo.fetch import FetchOptions, sha256_of
from lce.zoo.loading import materialize
from lce.zoo.registry import get_spec, key_for_name
from tests.support.cli import assert_one_error_line, run_lce
from tests.support.project import copy_project, dvc, stages_ran, tiny_params
from tests.support.segment import TEST_SCALE, write_random_netpqc
from tests.support.warehouse import COMPARED, PAPER_GROUPS

pytestmark = pytest.mark.slow

# One of the paper's 13 ResNet-50s per checkpoint layout they come in (lce zoo show KEY):
# torchvision (Supervised, BYOL), moco (MoCoV1/V2, PCLV1/V2), pycontrast (InsDis, PIRL, InfoMin),
# swav (SwAV, DeepClusterV2, SeLaV2), selav1 (SeLaV1).
NEWCOMERS = {"my-supervised": "resnet50-supervised", "my-mocov2": "resnet50-mocov2",
             "my-infomin": "resnet50-infomin", "my-swav": "resnet50-swav",
             "my-selav1": "resnet50-selav1"}
PAPER = DissectParams(method="dissect", quantile=0.01, device="cpu", null_baseline=False,
                      concept_table=False, exemplars=0, batch_size=8)


def published_file(family: str, state: dict) -> dict:
    """A torchvision ResNet-50 state dict saved as the family's training code saves it."""
    body = {k: v for k, v in state.items() if not k.startswith("fc.")}
    head = torch.zeros(4, 2048)
    if family == "torchvision":
        return state
    if family == "moco":
        return {"state_dict": {**{f"module.encoder_q.{k}": v for k, v in body.items()},
                               "module.encoder_q.fc.0.weight": head,
                               "module.encoder_k.conv1.weight": state["conv1.weight"],
                               "module.queue": torch.zeros(128, 8)}, "epoch": 800}
    if family == "pycontrast":
        return {"model": {**{f"module.encoder.{k}": v for k, v in body.items()},
                          "module.head.fc.weight": head}}
    if family == "swav":
        return {**{f"module.{k}": v for k, v in body.items()},
                "module.projection_head.0.weight": head, "module.prototypes.weight": head}
    if family == "selav1":
        return {"state_dict": {**body, "fc.weight": torch.zeros(3000, 2048),
                               "fc.bias": torch.zeros(3000)}}
    raise AssertionError(family)


def write_images(root, n=4):
    from PIL import Image

    gen = torch.Generator().manual_seed(0)
    for i in range(n):
        folder = root / f"class{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = (torch.rand(240 + 8 * i, 320, 3, generator=gen) * 255).byte().numpy()
        Image.fromarray(pixels).save(folder / f"{i}.jpg")
    return root


def dissect_as_the_stage_does(out, key, weights, probe, probe_name, settings):
    """The dissect stage's artifact of ``key`` at layer4 (:func:`lce.dissect.artifact.dissect_to`,
    what ``dissect@`` and ``lce dissect`` write)."""
    dissect_to(out / key, key, weights, ["layer4"], probe, probe_name, settings)
    return DissectionResult(out / key)


@pytest.fixture(scope="module")
def paper_run(shared_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("paper")
    segmenter = load_segmenter("netpqc", write_random_netpqc(root / "segmodel"),
                               scale=TEST_SCALE)
    # the probe directory records its image set (as Places365 val would be named) and labeller
    probe_dir = label_image_folder(write_images(root / "images"), root / "probe", segmenter,
                                   SegmentSettings(batch_size=4), images=SEED_PAPER.images)
    probe = BrodenProbe(probe_dir)
    results = []
    torch.manual_seed(0)
    weights = torchvision.models.resnet50().state_dict()
    for key, zoo in NEWCOMERS.items():
        spec = get_spec(zoo)
        source = root / "downloads" / f"{key}.pth"
        source.parent.mkdir(exist_ok=True)
        torch.save(published_file(spec.family, weights), source)
        # a registered sha256 (torchvision's) is of the published file: a local source pins its
        # own, as fetch.<key>.sha256 does
        materialize(spec, root / "models" / key,
                    options=FetchOptions(source=str(source), sha256=sha256_of(source)))
        results.append(dissect_as_the_stage_does(root / "dissect", key, root / "models" / key,
                                                 probe, SEED_PAPER_PROBE, PAPER))
    imports = ({"path": str(shared_data / "mustapha2022" / "models_dissect_profiles_raw.csv"),
                "format": "mustapha"},)
    db = build_warehouse(root / "lce.duckdb", sources=Sources(
        probes=((SEED_PAPER_PROBE, probe),), results=tuple(results), profile_imports=imports))
    alone = build_warehouse(root / "paper.duckdb", sources=Sources(profile_imports=imports))
    return root, db, alone


def test_each_newcomer_is_placed_in_the_published_population(paper_run):
    _, db, alone = paper_run
    with duckdb.connect(str(alone), read_only=True) as con:
        published = run_analysis(con, AnalysisOptions(models=tuple(COMPARED)))
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT model) FROM layers WHERE probe = ?",
                           [SEED_PAPER_PROBE]).fetchone()[0] == 20 + len(NEWCOMERS)
        for key in NEWCOMERS:
            placement = place(con, key, PlaceOptions(models=tuple(COMPARED)))
            assert placement.reference == published.models
            # the published categories are unchanged by the newcomers (and are the paper's)
            assert placement.categories.tolist() == published.categories.tolist()
            assert 1 <= placement.category <= placement.k == 3
            assert len(placement.coordinates) == 3 and placement.neighbours
    groups = [{m for m, c in zip(published.models, published.categories, strict=True) if c == g}
              for g in (1, 2, 3)]
    names = {f"resnet50-{n.lower()}" for group in PAPER_GROUPS for n in group}
    assert set().union(*groups) == names


def test_the_same_weights_in_every_layout_give_the_same_profile(paper_run):
    db = paper_run[1]
    with duckdb.connect(str(db), read_only=True) as con:
        profiles = {key: con.execute("SELECT label, iou FROM units WHERE model = ? ORDER BY unit",
                                     [key]).fetchall() for key in NEWCOMERS}
    first = profiles.pop("my-supervised")
    assert all(p == first for p in profiles.values())


def test_lce_place_on_the_paper_warehouse(paper_run):
    db = paper_run[1]
    result = run_lce("--db", str(db), "place", "my-mocov2", "--models", ",".join(COMPARED),
                     "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["section"] for r in rows} == {"position", "category", "neighbour", "contribution"}


def test_a_profile_made_another_way_is_refused(paper_run, tiny_probe, shared_data):
    root = paper_run[0]
    # Broden-format masks (the synthetic set: 32 px masks), method netdissect, q = 0.005
    broden = dissect_as_the_stage_does(
        root / "other", "my-broden", root / "models" / "my-supervised", BrodenProbe(tiny_probe),
        SEED_PAPER_PROBE, DissectParams(method="netdissect", quantile=0.005, device="cpu",
                                        null_baseline=False, concept_table=False, exemplars=0))
    db = build_warehouse(root / "mixed.duckdb", sources=Sources(
        probes=((SEED_PAPER_PROBE, BrodenProbe(tiny_probe)),), results=(broden,),
        profile_imports=({"path": str(shared_data / "mustapha2022" /
                                      "models_dissect_profiles_raw.csv"), "format": "mustapha"},)))
    result = run_lce("--db", str(db), "categorize")
    assert_one_error_line(result, "different probe-set identities")
    line = result.stderr.splitlines()[0]
    for difference in ("labeller masks vs netpqc", "method netdissect vs dissect",
                       "quantile 0.005 vs 0.01", "mask_size 32 vs 56"):
        assert difference in line



def test_the_preset_runs_the_paper_configuration_under_dvc(tmp_path, shared_data):
    """The seed paper's configuration as a user runs it: ``lce preset seed-paper`` (here with
    local files: an image folder tracked with ``dvc add``, a random width-reduced netpqc, two
    checkpoints in their published layouts, BYOL's as its converted file) and ``dvc repro`` in a
    copy of the project. The segmenter labels the folder once, both models are dissected at
    layer4 beside the 20 published profiles, the analysis compares the paper's 13 and places the
    newcomers, and ``lce place`` answers from the built warehouse."""
    project = copy_project(tmp_path / "project", tiny_params())
    write_images(project / "data" / "places_val", n=8)
    dvc("add", "data/places_val", cwd=project)
    write_random_netpqc(project / "segmodel")
    torch.manual_seed(0)
    state = torchvision.models.resnet50().state_dict()
    (project / "downloads").mkdir()
    for name in ("MoCoV2", "BYOL"):
        family = get_spec(key_for_name(name)).family
        torch.save(published_file(family, state), project / "downloads" / f"{name}.pth")
    data = shared_data / "mustapha2022"
    preset = run_lce("preset", "seed-paper", "--images", "data/places_val",
                     "--models", "MoCoV2,BYOL", "--source", "MoCoV2=downloads/MoCoV2.pth",
                     "--source", "BYOL=downloads/BYOL.pth", "--segmenter-files", "segmodel",
                     "--scale", str(TEST_SCALE), "--device", "cpu",
                     "--profiles", str(data / "models_dissect_profiles_raw.csv"),
                     "--benchmarks", str(data / "models_performance_on_tasks.csv"), cwd=project)
    assert preset.returncode == 0, preset.stderr

    ran = stages_ran(dvc("repro", cwd=project, timeout=1500).stdout)
    newcomers = ("mocov2-lce", "byol-lce")
    assert {f"probe@{SEED_PAPER_PROBE}", f"probe-cache@{SEED_PAPER_PROBE}", "analyze",
            "warehouse", "report", *(f"fetch@{key}" for key in newcomers),
            *(f"dissect@{key}-{SEED_PAPER_PROBE}" for key in newcomers)} <= ran
    with duckdb.connect(str(project / "warehouse" / "lce.duckdb"), read_only=True) as con:
        on_probe = {m for (m,) in con.execute(
            "SELECT DISTINCT model FROM layers WHERE probe = ?", [SEED_PAPER_PROBE]).fetchall()}
        identities = con.execute(
            "SELECT DISTINCT images, labeller, method, quantile, mask_size FROM identities "
            "WHERE probe = ?", [SEED_PAPER_PROBE]).fetchall()
        compared = con.execute("SELECT count(*) FROM model_categories").fetchone()[0]
    assert len(on_probe) >= 20 + len(newcomers) and set(newcomers) <= on_probe
    assert identities == [astuple(SEED_PAPER)]  # one population
    assert compared == len(SEED_PAPER_MODELS)
    assert all(key in (project / "data" / "report" / "index.html").read_text()
               for key in newcomers)  # the report marks the placed models

    placed = run_lce("place", "mocov2-lce", "--models", ",".join(COMPARED), "--format", "json",
                     cwd=project)
    assert placed.returncode == 0, placed.stderr
    rows = json.loads(placed.stdout)
    assert {r["section"] for r in rows} == {"position", "category", "neighbour", "contribution"}
