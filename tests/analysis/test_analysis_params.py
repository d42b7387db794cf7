"""The `analysis`, `report` and `imports` sections of params.yaml: defaults and clear errors."""

import pytest
import yaml

from lce.analysis.run import options_from_params
from lce.errors import LCEError
from lce.params import analysis_params, import_params, report_params
from tests.support.cli import REPO


def test_repository_defaults_need_no_reference_data():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert import_params(params) == {"profiles": (), "benchmarks": ()}
    options = options_from_params(params)
    assert options.probe == params["dissect_on"][0] and options.k is None
    assert options.matrix.normalise == "population" and options.n_components == 3
    assert report_params(params).exemplar_images > 0


def test_selection_and_fixed_k():
    params = {"probe": {"name": "synthetic"},
              "analysis": {"models": ["BYOL", "SwAV"], "k": 3, "clustering": "agglomerative"}}
    options = options_from_params(params)
    assert options.models == ("BYOL", "SwAV") and options.probe is None
    assert options.k == 3 and options.clustering == "agglomerative"


@pytest.mark.parametrize(("section", "fragment"), [
    ({"analysis": {"normalise": "zscore"}}, "analysis.normalise"),
    ({"analysis": {"k": "three"}}, "analysis.k: expected int"),
    ({"analysis": {"clusters": 3}}, "analysis.clusters: unknown key"),
    ({"imports": {"profiles": [{"format": "mustapha"}]}}, "imports.profiles[0]: expected"),
    ({"imports": {"profiles": [{"path": "x.csv", "colour": 1}]}},
     "imports.profiles[0].colour: unknown key"),
    ({"imports": {"tables": []}}, "imports.tables: unknown key"),
    ({"report": {"exemplar_units": -1}}, "report: counts"),
])
def test_bad_sections_name_the_key(section, fragment):
    readers = {"analysis": analysis_params, "imports": import_params, "report": report_params}
    (name,) = section
    with pytest.raises(LCEError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        readers[name](section)
