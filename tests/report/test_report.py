"""The HTML report: content, self-containment, exemplar strips, and rendering in a real browser."""

import base64
import io
import re
import shutil
import subprocess

import duckdb
import numpy as np
import pytest

from lce.analysis.run import AnalysisOptions
from lce.report.exemplars import candidate_images, exemplar_strips, overlay, top_images
from lce.report.page import ReportOptions, build_report
from tests.support.cli import run_lce
from tests.support.warehouse import duplicate_names_warehouse, planted_warehouse

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if shutil.os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    con = duckdb.connect(str(planted_warehouse(root / "wh")), read_only=True)
    path = build_report(con, AnalysisOptions(where="display_name <> 'Blank'"), root / "out",
                        ReportOptions(landscapes=3))
    con.close()
    return path


def test_report_has_every_figure_and_is_self_contained(report):
    page = report.read_text()
    for heading in ("Models and categories", "The embedding", "What the components mean",
                    "Components and benchmarks", "Performance landscapes", "Concepts per model",
                    "Unit exemplars"):
        assert heading in page
    # scatter + elbow, category loadings, top loadings, 2 heat-maps, landscapes, 9 histograms
    assert page.count("<svg") == 2 + 1 + 1 + 2 + 1 + 9
    assert "k = 3 (elbow" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)   # nothing fetched from outside
    assert "many-shot/Cars/top1-accuracy" in page


def test_a_name_in_two_categories_is_told_apart(tmp_path):
    con = duckdb.connect(str(duplicate_names_warehouse(tmp_path / "wh", dissected=False)),
                         read_only=True)
    page = build_report(con, AnalysisOptions(), tmp_path / "out",
                        ReportOptions(landscapes=0, exemplar_units=0)).read_text()
    con.close()
    naming = page[page.index("What the components mean"):page.index("<svg", page.index(
        "What the components mean"))]
    assert "food (material) (" in naming and "food (object) (" in naming   # top loadings
    histograms = page[page.index("Concepts per model"):]
    assert histograms.count("food (material)") >= 2 and "food (object)" in histograms


def test_exemplar_helpers_pick_the_strongest_images_and_mark_the_mask():
    acts = np.zeros((4, 3, 3))
    acts[2, 1, 1], acts[0, 0, 0] = 5.0, 2.0
    assert top_images(acts, 2).tolist() == [2, 0]
    image = np.full((2, 2, 3), 200, np.uint8)
    mask = np.array([[True, False], [False, False]])
    out = overlay(image, mask)
    assert out[0, 0].sum() > out[1, 1].sum()   # inside the mask stays bright


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory):
    """MobileNetV2 with its seeded random weights, materialized once for the exemplar tests
    (they only read it)."""
    from lce.zoo.loading import materialize
    from lce.zoo.registry import get_spec

    path = tmp_path_factory.mktemp("checkpoint") / "ckpt"
    materialize(get_spec("mobilenetv2-random"), path)
    return path


def test_exemplar_strips_from_a_real_checkpoint(tiny_probe, random_checkpoint):
    from PIL import Image

    from lce.probe.broden import BrodenProbe

    strips = exemplar_strips(random_checkpoint, BrodenProbe(tiny_probe),
                             [("features.14", 3, "dog", 0.1, 0.0),
                              ("features.14", 7, None, 0.05, 0.0)], n_images=3)
    assert [(s.unit, s.label) for s in strips] == [(3, "dog"), (7, None)]
    png = Image.open(io.BytesIO(base64.b64decode(strips[0].png_base64)))
    assert png.size == (3 * 116, 112)


def test_candidate_images_are_the_stored_top_images_of_the_units():
    import pandas as pd

    table = pd.DataFrame({"layer": ["l"] * 6 + ["m"] * 3, "unit": [0, 0, 0, 1, 1, 1, 0, 0, 0],
                          "rank": [1, 2, 3] * 3, "image_index": [5, 2, 9, 2, 7, 1, 4, 4, 4]})
    units = [("l", 0, "a", 0.2, 1.0), ("l", 1, "b", 0.1, 1.0)]
    assert candidate_images(table, units, 2) == [2, 5, 7]
    assert candidate_images(table, units, 3) == [1, 2, 5, 7, 9]
    assert candidate_images(table, units, 4) is None   # fewer ranks stored than asked for
    assert candidate_images(table, [("l", 2, "c", 0.1, 1.0)], 2) is None   # unit not stored


def test_exemplar_strips_from_candidates_equal_those_of_the_whole_probe(tiny_probe,
                                                                        random_checkpoint):
    import torch

    from lce.dissect.capture import LayerCapture, image_batches, to_input
    from lce.probe.broden import BrodenProbe
    from lce.zoo.checkpoint import load_checkpoint

    probe = BrodenProbe(tiny_probe)
    units = [("features.14", 3, "dog", 0.1, 0.0), ("features.14", 7, None, 0.05, 0.0)]
    model, spec = load_checkpoint(random_checkpoint)
    with LayerCapture(model, ["features.14"]) as capture, torch.no_grad():
        maps = []
        for _, images in image_batches(probe, 8):
            model(to_input(images, spec.mean, spec.std, "cpu"))
            maps.append(capture.outputs["features.14"][:, [3, 7]].float())
    maps = torch.cat(maps).numpy()
    top = sorted({int(i) for u in range(2) for i in top_images(maps[:, u], 3)})
    assert len(top) < len(probe)
    whole = exemplar_strips(random_checkpoint, probe, units, n_images=3)
    subset = exemplar_strips(random_checkpoint, probe, units, n_images=3, candidates=top)
    assert [s.png_base64 for s in subset] == [s.png_base64 for s in whole]


def test_lce_report_command(tmp_path):
    db = planted_warehouse(tmp_path / "wh")
    result = run_lce("--db", str(db), "report", "--output", str(tmp_path / "site"), "--where",
                     "display_name <> 'Blank'", "--k", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "k = 2 (fixed" in (tmp_path / "site" / "index.html").read_text()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_report_renders_in_headless_chromium(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--window-size=1280,1800"]
    dom = subprocess.run([*common, "--dump-dom", report.as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == report.read_text().count("<svg")
    subprocess.run([*common, f"--screenshot={shot}", report.as_uri()], capture_output=True,
                   timeout=120, check=True)
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (1800, 1280)
    assert (pixels < 128).mean() > 0.005    # text and plots were drawn, not a blank page
