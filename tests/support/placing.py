"""A warehouse holding the planted seed-paper-format imports (tests/support/warehouse.py) plus
one model dissected by the pipeline on their probe ``places365-netpqc``, for the identity and
placement tests."""

from __future__ import annotations

import json
from pathlib import Path

from lce.analysis.identity import SEED_PAPER_PROBE
from tests.support.warehouse import write_dissection, write_mustapha_profiles

# How a dissection made like the seed paper's records itself (meta.json of dissect@<model>).
PAPER_DISSECT = {"method": "dissect", "quantile": 0.01}
PAPER_PROBE_SET = {"images": "places365-val", "labeller": "netpqc"}


def newcomer_warehouse(directory: Path, units: dict, dissect: dict = PAPER_DISSECT,
                       probe_identity: dict | None = PAPER_PROBE_SET, mask_px: int = 56,
                       model: str = "newcomer") -> Path:
    """The planted imports + ``model`` (layer -> [(label, category, iou)]) dissected with
    ``dissect`` settings on a probe set whose masks are ``mask_px`` wide."""
    from lce.probe.broden import BrodenProbe
    from lce.probe.synthetic import SyntheticOptions, generate
    from lce.warehouse.build import Sources, build_warehouse

    probe_dir = generate(directory / "probe", SyntheticOptions(n_images=2,
                                                               image_size=2 * mask_px))
    result = write_dissection(directory / "dissect", model, units, SEED_PAPER_PROBE)
    meta = json.loads((result.path / "meta.json").read_text())
    meta["dissect"] = dissect
    if probe_identity:
        meta["probe_identity"] = probe_identity
    (result.path / "meta.json").write_text(json.dumps(meta))
    return build_warehouse(directory / "lce.duckdb", sources=Sources(
        probes=((SEED_PAPER_PROBE, BrodenProbe(probe_dir)),), results=(result,),
        profile_imports=({"path": str(write_mustapha_profiles(directory / "p.csv")),
                          "format": "mustapha"},)))
