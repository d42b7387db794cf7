"""``lce.analysis.place``: a newcomer projected onto the planted reference population lands with
the models it resembles, and the reference's own analysis is unchanged by its presence."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from lce.analysis.identity import SEED_PAPER_PROBE
from lce.analysis.place import PlaceOptions, place
from lce.analysis.run import AnalysisOptions, run_analysis
from lce.errors import LCEError
from tests.support.placing import newcomer_warehouse
from tests.support.warehouse import CONCEPTS, planted_models


def _units(name: str) -> dict:
    """A planted model's units as a dissection of layer4 (the newcomer copies it)."""
    return {"layer4": [(label if label != "-" else "", CONCEPTS.get(label, "object")
                        if label != "-" else "", iou) for label, iou in planted_models()[name]]}


@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    con = duckdb.connect(str(newcomer_warehouse(tmp_path_factory.mktemp("place"),
                                                _units("VehicleNet2"))), read_only=True)
    yield con, place(con, "newcomer")
    con.close()


def test_the_reference_analysis_is_unchanged_by_the_newcomer(placed, planted):
    _, placement = placed
    alone = run_analysis(planted, AnalysisOptions(probe=SEED_PAPER_PROBE))
    assert placement.reference == alone.models
    assert placement.categories.tolist() == alone.categories.tolist()
    assert np.allclose(placement.projection.coordinates, alone.projection.coordinates)


def test_a_copy_of_a_reference_model_lands_on_it(placed, planted):
    _, placement = placed
    twin = placement.reference.index("resnet50-vehiclenet2")
    assert np.allclose(placement.coordinates, placement.projection.coordinates[twin])
    assert placement.category == placement.categories[twin]
    assert placement.neighbours[0][0] == "resnet50-vehiclenet2"
    assert placement.neighbours[0][2] == pytest.approx(0, abs=1e-9)


def test_contributions_add_up_to_each_coordinate(tmp_path):
    con = duckdb.connect(str(newcomer_warehouse(tmp_path, _units("AnimalNet1"))),
                         read_only=True)
    placement = place(con, "newcomer", PlaceOptions(top=100))
    for c, coordinate in enumerate(placement.coordinates, start=1):
        parts = [row[4] for row in placement.contributions if row[0] == c]
        assert sum(parts) == pytest.approx(coordinate)
    first = [row for row in placement.contributions if row[0] == 1][:2]
    assert abs(first[0][4]) >= abs(first[1][4])


def test_a_newcomer_made_another_way_is_refused(tmp_path):
    con = duckdb.connect(str(newcomer_warehouse(tmp_path, _units("AnimalNet1"),
                                                {"method": "dissect", "quantile": 0.005})),
                         read_only=True)
    with pytest.raises(LCEError, match="quantile 0.005 vs 0.01"):
        place(con, "newcomer")
    with pytest.raises(LCEError, match="one of the reference models"):
        place(con, "AnimalNet1", PlaceOptions(models=("AnimalNet1", "AnimalNet2")))


def test_lce_place_prints_position_neighbours_and_contributions(tmp_path):
    import json

    from tests.support.cli import assert_one_error_line, run_lce

    db = newcomer_warehouse(tmp_path, _units("VehicleNet2"))
    result = run_lce("--db", str(db), "place", "newcomer", "--format", "json", "--top", "2")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    sections = [r["section"] for r in rows]
    assert sections.count("position") == 3 and sections.count("category") == 1
    assert [r["name"] for r in rows if r["section"] == "neighbour"][0] == "resnet50-vehiclenet2"
    assert sections.count("contribution") == 3 * 2
    refused = newcomer_warehouse(tmp_path / "other", _units("VehicleNet2"),
                                 {"method": "netdissect", "quantile": 0.005}, None, 32)
    assert_one_error_line(run_lce("--db", str(refused), "place", "newcomer"),
                          "different probe-set identities")


def test_the_report_marks_placed_models(tmp_path):
    from lce.report.page import build_report

    db = newcomer_warehouse(tmp_path, _units("AnimalNet1"))
    published = [f"{g}Net{i}" for g in ("Animal", "Vehicle", "Nature") for i in (1, 2, 3)]
    with duckdb.connect(str(db), read_only=True) as con:
        page = build_report(con, AnalysisOptions(models=tuple(published),
                                                 probe=SEED_PAPER_PROBE),
                            tmp_path / "out").read_text()
        alone = build_report(con, AnalysisOptions(models=("newcomer", "AnimalNet1")),
                             tmp_path / "alone").read_text()
    section = page[page.index("<h2>Placed models</h2>"):]
    assert "newcomer" in section[:section.index("</table>")]
    assert "AnimalNet1" in section[:section.index("</table>")]  # its nearest published model
    assert "<h2>Placed models</h2>" not in alone  # every dissected model compared: none placed
