"""Report settings from params.yaml: exemplar counts and where the checkpoints and probe are."""

from __future__ import annotations

from pathlib import Path

from lce.params import model_params, report_params
from lce.report.page import ReportOptions

PROBE_DIR = Path("data/probe")
DISSECT_DIR = Path("data/dissect")  # each model's exemplars.parquet: its units' top images


def report_options_from_params(params: dict) -> ReportOptions:
    r = report_params(params)
    models = model_params(params) if isinstance(params.get("models"), dict) else {}
    return ReportOptions(
        exemplar_units=r.exemplar_units, exemplar_images=r.exemplar_images,
        landscapes=r.landscapes,
        checkpoints={key: Path(m.weights) for key, m in models.items()},
        exemplar_tables={key: DISSECT_DIR / key / "exemplars.parquet" for key in models},
        probe_dir=PROBE_DIR if PROBE_DIR.is_dir() else None)
