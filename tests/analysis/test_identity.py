"""Probe-set identities: the imported seed-paper profiles say how they were made, a dissection
made the same way joins their population, and one made otherwise is refused naming the fields."""

from __future__ import annotations

import duckdb
import pytest

from lce.analysis.identity import SEED_PAPER, SEED_PAPER_PROBE, Identity, model_identities
from lce.analysis.run import AnalysisOptions, run_analysis
from lce.errors import LCEError
from tests.support.placing import newcomer_warehouse
from tests.support.warehouse import planted_models

NEWCOMER = {"layer4": [("dog", "object", 0.2), ("dog", "object", 0.1), ("car", "object", 0.3),
                       ("sky-t", "part", 0.09), ("red", "color", 0.05)]}


def _connect(path):
    return duckdb.connect(str(path), read_only=True)


def test_imported_seed_paper_profiles_carry_the_papers_identity(planted):
    models = [r[0] for r in planted.execute("SELECT model FROM models").fetchall()]
    found = model_identities(planted, models, SEED_PAPER_PROBE)
    assert list(found) == [SEED_PAPER] and len(found[SEED_PAPER]) == len(planted_models())
    assert Identity("places365-val", "netpqc", "dissect", 0.01, 56) == SEED_PAPER


def test_a_dissection_with_the_same_identity_joins_the_population(tmp_path):
    con = _connect(newcomer_warehouse(tmp_path, NEWCOMER))
    result = run_analysis(con, AnalysisOptions(probe=SEED_PAPER_PROBE))
    assert "newcomer" in result.models and len(result.models) == len(planted_models()) + 1
    # the newcomer's quadrant label is a part concept of the population: it counts in the divisor
    parts = [j for j, c in enumerate(result.matrix.categories) if c == "part"]
    assert "sky-t" in [result.matrix.concepts[j] for j in parts]
    assert {result.matrix.divisor[j] for j in parts} == {len(parts)}


def test_a_profile_made_another_way_is_refused_naming_the_differences(tmp_path):
    broden_way = {"method": "netdissect", "quantile": 0.005}
    con = _connect(newcomer_warehouse(tmp_path, NEWCOMER, broden_way, None, 32))
    with pytest.raises(LCEError) as err:
        run_analysis(con, AnalysisOptions(probe=SEED_PAPER_PROBE))
    message = str(err.value)
    assert "\n" not in message and "different probe-set identities" in message
    for difference in ("labeller masks vs netpqc", "method netdissect vs dissect",
                       "quantile 0.005 vs 0.01", "mask_size 32 vs 56"):
        assert difference in message
