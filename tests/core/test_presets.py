"""``lce preset seed-paper``: the seed paper's entries merged into params.yaml, everything else
(values, comments, layout) kept; refused inputs leave the file as it was."""

from __future__ import annotations

import shutil

import yaml

from lce.analysis.identity import SEED_PAPER, SEED_PAPER_PROBE
from lce.presets import SEED_PAPER_MODELS, apply_entries, dissection_key
from tests.support.cli import REPO, assert_one_error_line, run_lce

TOUCHED = {"probes", "dissect_on", "fetch", "models", "dissect", "imports", "analysis"}


def _params(tmp_path):
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    return tmp_path / "params.yaml"


def test_the_repository_params_round_trip_byte_for_byte(tmp_path):
    path = _params(tmp_path)
    assert apply_entries(path, {}) == []
    assert path.read_bytes() == (REPO / "params.yaml").read_bytes()


def test_seed_paper_entries_are_merged_and_nothing_else_moves(tmp_path, shared_data):
    path = _params(tmp_path)
    profiles = shared_data / "mustapha2022" / "models_dissect_profiles_raw.csv"
    result = run_lce("preset", "seed-paper", "--images", "data/places365_val",
                     "--profiles", str(profiles), "--models", "MoCoV2,BYOL",
                     "--source", "BYOL=downloads/byol.pth", "--params", str(path))
    assert result.returncode == 0, result.stderr
    before = yaml.safe_load((REPO / "params.yaml").read_text())
    after = yaml.safe_load(path.read_text())
    assert {k: v for k, v in after.items() if k not in TOUCHED} == \
        {k: v for k, v in before.items() if k not in TOUCHED}
    assert after["probes"]["synthetic"] == before["probes"]["synthetic"]
    assert after["probes"][SEED_PAPER_PROBE] == {
        "kind": "segmented", "source": "data/places365_val", "segmenter": SEED_PAPER.labeller,
        "images": SEED_PAPER.images, "device": "auto"}
    assert after["dissect_on"] == [*before["dissect_on"], SEED_PAPER_PROBE]
    assert after["dissect"] == before["dissect"] | {
        "method": "dissect", "quantile": SEED_PAPER.quantile, "null_baseline": False}
    assert after["fetch"]["mocov2-lce"] == {"zoo": "resnet50-mocov2"}
    assert after["fetch"]["byol-lce"] == {"zoo": "resnet50-byol",
                                          "source": "downloads/byol.pth"}
    assert after["models"]["mocov2-lce"] == {"weights": "data/models/mocov2-lce",
                                             "layers": ["layer4"]}
    assert set(after["models"]) == set(before["models"]) | {"mocov2-lce", "byol-lce"}
    assert after["imports"]["profiles"] == [{"path": str(profiles), "format": "mustapha"}]
    assert after["imports"]["benchmarks"] == []
    assert after["analysis"]["models"] == list(SEED_PAPER_MODELS)
    assert after["analysis"]["probe"] == SEED_PAPER_PROBE
    # the file's comments stay where they were
    assert "# LCE pipeline parameters: one section per stage." in path.read_text()
    assert "  denominator: netdissect   # or `lite` (NetDissect-Lite's union)" in path.read_text()


def test_refused_presets_leave_the_file_as_it_was(tmp_path):
    path = _params(tmp_path)
    original = path.read_bytes()
    for args, fragment in (
            ((), "BYOL: the published checkpoint cannot be loaded as it is"),
            (("--models", "MoCoV2", "--profiles", "nowhere.csv"),
             "imports.profiles[0].path: nowhere.csv: file not found"),
            (("--models", "MoCoV2", "--source", "SwAV=x.pth"),
             "--source SwAV: not one of the models to dissect"),
            (("--models", "MoCoV2", "--source", "MoCoV2"), "expected MODEL=FILE"),
            (("--models", "MoCoV2,,SwAV"), "an empty name"),
            (("--models", "NoSuchModel"), "unknown model key 'NoSuchModel'")):
        result = run_lce("preset", "seed-paper", "--images", "imgs", "--params", str(path), *args)
        assert_one_error_line(result, fragment)
        assert path.read_bytes() == original
    assert not list(tmp_path.glob(".params.yaml.*"))  # no temporary file left


def test_published_names_and_their_keys():
    assert dissection_key("MoCoV2") == "mocov2-lce" and dissection_key("SeLaV1") == "selav1-lce"
    assert len(SEED_PAPER_MODELS) == 13
