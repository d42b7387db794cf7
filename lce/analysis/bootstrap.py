"""How firm an LCE is: a bootstrap over each model's units.

A model's row of the concept matrix is a tally over its units, so it is a sample: another draw of
units from the same network (another layer width, another probe run) would count slightly
differently. Each replicate resamples, within every model, as many units as it has, with
replacement — all its units, interpretable or not, so the number of interpretable units varies
too. Drawing units uniformly and tallying their concepts is one multinomial draw per model over
(its concepts, "no concept"), so all replicates are drawn at once without touching a unit table.

Each replicate then goes through the paper's recipe again (:func:`lce.analysis.matrix.normalised`
with the full data's divisors), a PCA, and the categorization with the same ``k``, clustering and
seed as the full data. Two choices matter:

- **Divisors stay fixed.** ``population`` divides by the number of distinct concepts of a
  category in the reference population, which includes models outside the comparison that are not
  resampled; the divisor describes the probe's vocabulary, not the model being measured.
- **Axes are aligned by orthogonal Procrustes.** A replicate's PCA may flip a component's sign or
  swap two components of similar variance; its top components are rotated (the orthogonal matrix
  ``R`` minimising ``||R V_b - V||`` for the full data's loadings ``V``) onto the full data's
  before projecting, so a coordinate interval measures the model's position, not the arbitrary
  orientation of each replicate's axes.

Categories are compared without matching labels across replicates: two models are co-assigned in
a replicate when they share a category there, whatever it is numbered.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from lce.analysis.embedding import cluster
from lce.analysis.matrix import ConceptMatrix, normalised
from lce.analysis.stats import kmeans_stack, ranks

CHUNK = 200          # replicates drawn per batch at most
BATCH_CELLS = 2**24  # and at most this many matrix cells (128 MiB of floats) in one batch
LEVEL = 0.95         # the intervals' coverage


@dataclass
class LCEBootstrap:
    replicates: int
    coassignment: np.ndarray     # models x models: fraction of replicates sharing a category
    stability: np.ndarray        # per model, see :func:`stability`
    lower: np.ndarray            # models x components: 2.5th percentile of the coordinate
    upper: np.ndarray            # models x components: 97.5th percentile
    correlations: dict           # (component, variable) -> (r lo, r hi, rho lo, rho hi)

    def coordinate_rows(self, rows: list[tuple]) -> list[tuple]:
        """``LCEAnalysis.coordinate_rows`` with each model's stability after its category and
        each coordinate followed by its interval: (model, category, stability, pc1, pc1_lo,
        pc1_hi, ...), None where the data has fewer components."""
        out = []
        for i, (model, category, *pcs) in enumerate(rows):
            row = [model, category, float(self.stability[i])]
            for c, pc in enumerate(pcs):
                row += ([pc, float(self.lower[i, c]), float(self.upper[i, c])]
                        if pc is not None else [None, None, None])
            out.append(tuple(row))
        return out

    def correlation_rows(self, rows: list[tuple]) -> list[tuple]:
        """Correlation rows (component, kind, variable, ...) with the percentile intervals of r
        and rho appended (None where the bootstrap has none: profile variables, too few models)."""
        return [(*row, *self.correlations.get((row[0], row[2]), (None,) * 4)) for row in rows]


COORDINATE_COLUMNS = ["model", "category", "stability"] + [
    f"pc{c}{end}" for c in (1, 2, 3) for end in ("", "_lo", "_hi")]
INTERVAL_COLUMNS = ["pearson_lo", "pearson_hi", "spearman_lo", "spearman_hi"]


def unit_totals(con: duckdb.DuckDBPyConnection, matrix: ConceptMatrix,
                layers: tuple[str, ...] = ()) -> np.ndarray:
    """Every unit of each model on the matrix's probe (and ``layers``): the resampled pool."""
    rows = dict(con.execute(
        "SELECT model, count(*) FROM units WHERE probe = $probe AND list_contains($models, model)"
        + (" AND list_contains($layers, layer)" if layers else "") + " GROUP BY model",
        {"probe": matrix.probe, "models": matrix.models}
        | ({"layers": list(layers)} if layers else {})).fetchall())
    return np.array([rows.get(m, 0) for m in matrix.models], dtype=np.int64)


def aligned_coordinates(values: np.ndarray, loadings: np.ndarray):
    """PC coordinates of a stack of matrices (replicates x models x concepts) on their own PCAs:
    (the top components rotated onto the reference ``loadings`` (components x concepts) by
    orthogonal Procrustes, B x models x components; every component unrotated, B x models x
    rank). The second has the pairwise distances of the matrices themselves, in at most
    models - 1 dimensions instead of one per concept: k-means on it is k-means on the matrix."""
    centred = values - values.mean(axis=1, keepdims=True)
    k = loadings.shape[0]
    vt = np.linalg.svd(centred, full_matrices=False)[2]              # (B, models, concepts)
    u, _, wt = np.linalg.svd(loadings @ vt[:, :k].transpose(0, 2, 1))   # (B, k, k)
    rotated = (u @ wt) @ vt[:, :k]
    return centred @ rotated.transpose(0, 2, 1), centred @ vt.transpose(0, 2, 1)


def stability(categories: np.ndarray, coassignment: np.ndarray, alone: np.ndarray) -> np.ndarray:
    """Model i's stability: the mean, over the other members j of i's full-data category, of the
    fraction of replicates in which i and j share a category. 1.0: its category never loses or
    splits it; near 0.5 for a model that joins its own group in half the replicates. A model
    alone in its full-data category has no members to keep: its stability is the fraction of
    replicates in which it is alone again (``alone``)."""
    same = categories[:, None] == categories[None, :]
    np.fill_diagonal(same, False)
    members = same.sum(axis=1)
    kept = np.divide((coassignment * same).sum(axis=1), members,
                     out=np.zeros(len(categories)), where=members > 0)
    return np.where(members > 0, kept, alone)


def _rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row of ``x`` (replicates x n) with ``y`` (n)."""
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean()
    scale = np.sqrt((x * x).sum(axis=1) * (y @ y))
    return np.divide(x @ y, scale, out=np.full(len(x), np.nan), where=scale > 0)


def correlation_intervals(coords: np.ndarray, models: list[str],
                          variables: dict[str, dict[str, float]]) -> dict:
    """Percentile intervals of each component's Pearson r and Spearman rho with each benchmark
    over the replicates: how much of a correlation the embedding's own noise could move."""
    row_of = {m: i for i, m in enumerate(models)}
    tails = 100 * (1 - LEVEL) / 2
    out = {}
    for variable, scores in variables.items():
        present = [m for m in models if m in scores]
        if len(present) < 3:
            continue
        idx = [row_of[m] for m in present]
        y = np.array([scores[m] for m in present], dtype=float)
        for c in range(coords.shape[2]):
            x = coords[:, idx, c]
            r = _rowwise_pearson(x, y)
            rho = _rowwise_pearson(x.argsort(axis=1).argsort(axis=1) + 1.0, ranks(y))
            if np.isnan(r).all():
                continue
            lo_r, hi_r = np.nanpercentile(r, [tails, 100 - tails])
            lo_s, hi_s = np.nanpercentile(rho, [tails, 100 - tails])
            out[(c + 1, variable)] = (float(lo_r), float(hi_r), float(lo_s), float(hi_s))
    return out


def bootstrap(matrix: ConceptMatrix, totals: np.ndarray, loadings: np.ndarray,
              categories: np.ndarray, k: int, normalise: str, clustering: str, seed: int,
              replicates: int, benchmarks: dict | None = None) -> LCEBootstrap:
    """``replicates`` unit-bootstrap replicates of the analysis of ``matrix`` (seeded by
    ``seed``, as the clustering is); ``totals`` from :func:`unit_totals`."""
    rng = np.random.default_rng(seed)
    n_models = len(matrix.models)
    divisor = matrix.divisor if matrix.divisor is not None else np.ones(matrix.counts.shape[1])
    safe = np.maximum(totals, 1)[:, None]
    pvals = np.column_stack([matrix.counts / safe,
                             np.clip(1 - matrix.counts.sum(axis=1) / safe[:, 0], 0, 1)])
    pvals /= pvals.sum(axis=1, keepdims=True)
    coassignment = np.zeros((n_models, n_models))
    alone = np.zeros(n_models)
    coords = []
    # a batch holds its counts (models x concepts) and k-means' 10 runs (models x models each)
    cells = n_models * max(matrix.counts.shape[1] + 1, 10 * n_models)
    chunk = max(1, min(CHUNK, BATCH_CELLS // cells))
    for start in range(0, replicates, chunk):
        size = min(chunk, replicates - start)
        counts = rng.multinomial(totals, pvals, size=(size, n_models))[..., :-1].astype(float)
        values = normalised(counts, divisor, normalise)
        aligned, full = aligned_coordinates(values, loadings)
        coords.append(aligned)
        labels = (kmeans_stack(full, k, seed)[0] if clustering == "kmeans" else
                  np.stack([cluster(replicate, k, clustering, seed) for replicate in values]))
        shared = labels[:, :, None] == labels[:, None, :]
        coassignment += shared.sum(axis=0)
        alone += (shared.sum(axis=2) == 1).sum(axis=0)
    coassignment /= replicates
    alone /= replicates
    stacked = np.concatenate(coords)
    tails = 100 * (1 - LEVEL) / 2
    lower, upper = np.percentile(stacked, [tails, 100 - tails], axis=0)
    return LCEBootstrap(replicates=replicates, coassignment=coassignment,
                        stability=stability(np.asarray(categories), coassignment, alone),
                        lower=lower, upper=upper,
                        correlations=correlation_intervals(stacked, matrix.models,
                                                           benchmarks or {}))
