"""Plot data for ``dvc plots show`` / ``dvc plots diff`` (the top-level ``plots:`` of dvc.yaml).

DVC draws CSV/JSON/TSV/YAML series, not Parquet. Its built-in templates colour series by
revision only, and a directory of files becomes one plot per file, so every run's curve would get
a plot of its own. Instead each figure is one CSV with a column to colour by (``run``,
``category``), drawn by the project's templates in ``.dvc/plots/`` (colour by that column, dash or
shape by revision, so ``dvc plots diff`` still tells experiments apart). The files sit inside the
stages' existing output directories, so DVC caches and restores them with the rest.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lce.io import atomic_path

CURVES = ("nmi_labels", "nmi_prev", "loss")   # NMI against labels, between cycles, loss


def _write_csv(path: Path, columns: tuple, rows: list[tuple]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def write_training_curves(metrics, directory: str | Path) -> list[Path]:
    """``metrics`` (``run, cycle, metric, value``, all runs) as ``<metric>.csv`` (``run, cycle,
    <metric>``) for each of :data:`CURVES`; a cycle without the metric (``nmi_prev`` at cycle 0)
    has no row, so no line drops to zero."""
    written = []
    for metric in CURVES:
        chosen = metrics[metrics["metric"] == metric].sort_values(["run", "cycle"])
        rows = [(str(run), int(cycle), float(value)) for run, cycle, value
                in zip(chosen["run"], chosen["cycle"], chosen["value"], strict=True)]
        written.append(_write_csv(Path(directory) / f"{metric}.csv", ("run", "cycle", metric),
                                  rows))
    return written


def write_lce_scatter(coordinate_rows: list[tuple], path: str | Path) -> Path:
    """``LCEAnalysis.coordinate_rows`` (model, category, pc1, pc2, pc3) as one CSV; a component
    the data lacks is an empty cell."""
    rows = [tuple("" if v is None else v for v in row) for row in coordinate_rows]
    return _write_csv(Path(path), ("model", "category", "pc1", "pc2", "pc3"), rows)
