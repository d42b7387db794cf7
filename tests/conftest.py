"""Shared fixtures: tiny probe sets, a built warehouse, and a way to run the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import SHARED_DATA


@pytest.fixture(scope="session")
def tiny_probe(tmp_path_factory) -> Path:
    """A 12-image synthetic probe set at 64 px (masks 32x32)."""
    from lce.probe.synthetic import SyntheticOptions, generate

    root = tmp_path_factory.mktemp("probe") / "probe"
    generate(root, SyntheticOptions(n_images=12, image_size=64, seed=3))
    return root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data (reference data) is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def dissection_results(tiny_probe, tmp_path_factory):
    """Real dissection outputs (units.parquet + meta.json) of two small models on the tiny probe."""
    from lce.contracts import UNITS
    from lce.dissect.run import dissect
    from lce.io import write_json
    from lce.params import DissectParams
    from lce.probe.broden import BrodenProbe
    from lce.warehouse.build import DissectionResult
    from lce.zoo.loading import build_model
    from lce.zoo.registry import get_spec

    probe = BrodenProbe(tiny_probe)
    root = tmp_path_factory.mktemp("dissect")
    results = []
    for key in ("mobilenetv2-imagenet", "mobilenetv2-random"):
        spec = get_spec(key)
        profiles = dissect(build_model(spec), probe, ["features.14"], spec.mean, spec.std,
                           DissectParams())
        frame = profiles["features.14"]
        frame.insert(0, "layer", "features.14")
        frame.insert(0, "model", key)
        UNITS.write(frame, root / key / UNITS.artifact)
        write_json({"model": key, "arch": spec.arch, "method": spec.method,
                    "source": spec.source, "probe": "tiny"}, root / key / "meta.json")
        results.append(DissectionResult(root / key))
    return results


@pytest.fixture(scope="session")
def warehouse_db(tiny_probe, dissection_results, tmp_path_factory) -> Path:
    from lce.probe.broden import BrodenProbe
    from lce.warehouse.build import build_warehouse

    path = tmp_path_factory.mktemp("wh") / "lce.duckdb"
    return build_warehouse(path, BrodenProbe(tiny_probe), "tiny", dissection_results)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A read-only connection to the planted warehouse of ``tests/support/warehouse.py`` (known
    categories), shared by the analysis and report tests of a module."""
    import duckdb

    from tests.support.warehouse import planted_warehouse

    con = duckdb.connect(str(planted_warehouse(tmp_path_factory.mktemp("planted"))),
                         read_only=True)
    yield con
    con.close()
