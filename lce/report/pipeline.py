"""Report settings from params.yaml: exemplar counts and where the checkpoints and probe are."""

from __future__ import annotations

from pathlib import Path

from lce.params import DISSECT_ROOT, PROBE_ROOT, dissect_on, model_params, report_params
from lce.report.page import ReportOptions


def report_options_from_params(params: dict) -> ReportOptions:
    r = report_params(params)
    models = model_params(params) if isinstance(params.get("models"), dict) else {}
    # exemplar strips show each model's units on the build's reference probe set
    reference = dissect_on(params)[0] if isinstance(params.get("dissect_on"), list) else ""
    probe_dir = PROBE_ROOT / reference
    return ReportOptions(
        exemplar_units=r.exemplar_units, exemplar_images=r.exemplar_images,
        landscapes=r.landscapes,
        checkpoints={key: Path(m.weights) for key, m in models.items()},
        exemplar_tables={key: DISSECT_ROOT / key / reference / "exemplars.parquet"
                         for key in models},
        probe_dir=probe_dir if reference and probe_dir.is_dir() else None)
