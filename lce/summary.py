"""Per-model headline numbers of a dissection run, as a DVC metrics file.

``dvc exp show`` and ``dvc metrics diff`` compare experiments by the metrics files stages declare;
this summary gives them the figure a sweep over dissection settings is about: how many units of
each model are interpretable. It reads the unit profiles (Parquet) directly, so it needs neither
the warehouse nor the scientific stack.
"""

from __future__ import annotations

from pathlib import Path

from lce.errors import LCEError


def model_summary(units_path: Path) -> dict:
    """Units, interpretable units, their fraction and distinct concepts of one unit profile."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not units_path.is_file():
        raise LCEError(f"{units_path}: file not found (run its dissect@ stage first)")
    table = pq.read_table(units_path, columns=["interpretable", "label"])
    interpretable = table.filter(pc.field("interpretable"))
    units, n_interpretable = table.num_rows, interpretable.num_rows
    labels = {label for label in interpretable.column("label").to_pylist() if label}
    return {
        "units": units,
        "interpretable": n_interpretable,
        "interpretable_fraction": round(n_interpretable / units, 6) if units else 0.0,
        "distinct_concepts": len(labels),
    }


def summarize(dissections: dict[str, Path]) -> dict:
    """``{"models": {key: summary}, "interpretable": total}`` for dissection directories."""
    models = {key: model_summary(Path(path) / "units.parquet")
              for key, path in sorted(dissections.items())}
    return {"models": models,
            "interpretable": sum(m["interpretable"] for m in models.values())}
