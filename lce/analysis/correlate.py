"""Reading the components: correlations with profile summaries and with benchmark scores, and the
performance landscape over the first two components.

Benchmarks are wide per model (one column per task/dataset/metric); a model measured by this
pipeline and also published keeps the measured value, since that is the one made with the same
code as the rest of the warehouse.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np

from lce.analysis.matrix import ConceptMatrix
from lce.analysis.stats import pearson, spearman


def profile_variables(matrix: ConceptMatrix) -> dict[str, np.ndarray]:
    """Per-model ``units_<category>`` (interpretable units) and ``concepts_<category>`` (distinct
    concepts): the summaries the paper names its components with."""
    categories = np.array(matrix.categories)
    variables = {}
    for category in sorted(set(matrix.categories)):
        columns = matrix.counts[:, categories == category]
        variables[f"units_{category}"] = columns.sum(axis=1)
        variables[f"concepts_{category}"] = (columns > 0).sum(axis=1).astype(float)
    return variables


def benchmark_table(con: duckdb.DuckDBPyConnection, models: list[str],
                    task: str | None = None) -> dict[str, dict[str, float]]:
    """``task/dataset/metric`` -> {model: value} for the given models (scores only: the
    few-shot confidence half-widths stored beside them are left out)."""
    rows = con.execute("""
        SELECT task || '/' || dataset || '/' || metric AS variable, model, value
        FROM benchmarks WHERE list_contains($models, model)
          AND ($task IS NULL OR task = $task)
          AND metric NOT LIKE '%-ci95'  -- a confidence half-width is not a performance
        QUALIFY row_number() OVER (PARTITION BY model, task, dataset, metric
                                   ORDER BY source = 'measured' DESC, value) = 1
        ORDER BY variable, model
    """, {"models": models, "task": task}).fetchall()
    table: dict[str, dict[str, float]] = {}
    for variable, model, value in rows:
        table.setdefault(variable, {})[model] = value
    return table


def _finite(x):
    return None if x is None or not math.isfinite(x) else float(x)


def correlation(x: np.ndarray, y: np.ndarray) -> tuple:
    """(n, pearson r, p, spearman rho, p); undefined (fewer than 3 models, a constant) -> None."""
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return n, None, None, None, None
    r, p = pearson(x, y)
    rho, p_rho = spearman(x, y)
    return n, _finite(r), _finite(p), _finite(rho), _finite(p_rho)


def correlate_components(coordinates: np.ndarray, models: list[str], kind: str,
                         variables: dict[str, dict[str, float] | np.ndarray]) -> list[tuple]:
    """Rows ``(component, kind, variable, n, r, p, rho, p)`` over the models having the variable."""
    rows = []
    row_of = {m: i for i, m in enumerate(models)}
    for variable, values in variables.items():
        if isinstance(values, dict):
            present = [m for m in models if m in values]
            idx = [row_of[m] for m in present]
            y = np.array([values[m] for m in present], dtype=float)
        else:
            idx, y = list(range(len(models))), np.asarray(values, dtype=float)
        for c in range(coordinates.shape[1]):
            rows.append((c + 1, kind, variable, *correlation(coordinates[idx, c], y)))
    return rows


def landscape(points: np.ndarray, values: np.ndarray, grid: int = 60, neighbours: int = 5):
    """Distance-weighted k-NN regression of a benchmark over (PC1, PC2): (xs, ys, Z)."""
    from sklearn.neighbors import KNeighborsRegressor

    model = KNeighborsRegressor(n_neighbors=min(neighbours, len(points)), weights="distance")
    model.fit(points, values)
    pad = 0.15 * (np.ptp(points, axis=0) + 1e-9)
    xs = np.linspace(points[:, 0].min() - pad[0], points[:, 0].max() + pad[0], grid)
    ys = np.linspace(points[:, 1].min() - pad[1], points[:, 1].max() + pad[1], grid)
    gx, gy = np.meshgrid(xs, ys)
    z = model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(grid, grid)
    return xs, ys, z


def benchmark_directions(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """``task/dataset/metric`` -> higher_is_better."""
    return dict(con.execute("""
        SELECT DISTINCT task || '/' || dataset || '/' || metric, higher_is_better
        FROM benchmarks""").fetchall())
