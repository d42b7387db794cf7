"""The models x concepts matrix the Learned Concepts Embedding is made of.

The seed paper counts, per model, the units whose best label is a concept (IoU above the cut-off,
a real label) and divides each count by the number of distinct concepts of the concept's category
found among the interpretable units of the *reference population*: every model profiled on the
same probe set, including models left out of the comparison. That keeps categories with many
concepts (objects) from swamping the ones with few (colours).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import duckdb
import numpy as np

from lce.errors import LCEError
from lce.params import AnalysisParams
from lce.warehouse.names import resolve_model
from lce.warehouse.probes import common_probe

NORMALISATIONS = ("population", "compared", "raw", "proportion")


@dataclass(frozen=True)
class MatrixOptions:
    iou_cutoff: float = AnalysisParams.iou_cutoff
    normalise: str = AnalysisParams.normalise   # population | compared | raw | proportion
    layers: tuple[str, ...] = ()     # empty: every dissected layer of each model


@dataclass
class ConceptMatrix:
    """Columns are (category, concept) pairs: a published profile may use one name in two
    categories (the seed paper's ``food`` is a material and an object), and those are two
    concepts."""

    models: list[str]
    concepts: list[str]
    categories: list[str]          # category of each concept
    counts: np.ndarray             # units per (model, concept)
    values: np.ndarray             # the normalised embedding
    probe: str
    divisor: np.ndarray | None = None  # per concept: what ``population``/``compared`` divide by

    @property
    def labels(self) -> list[str]:
        return concept_labels(self.concepts, self.categories)


def concept_labels(concepts: list[str], categories: list[str]) -> list[str]:
    """Names to show people: a name found in two categories carries its category,
    ``food (material)`` and ``food (object)``; every other name is shown as it is."""
    repeated = Counter(concepts)
    return [f"{c} ({cat})" if repeated[c] > 1 else c
            for c, cat in zip(concepts, categories, strict=True)]


def resolve_models(con: duckdb.DuckDBPyConnection, names=None, where: str | None = None,
                   probe: str | None = None) -> list[str]:
    """Model keys from display names or keys (:func:`lce.warehouse.names.resolve_model`: unknown
    or ambiguous names are an error), an SQL filter on ``models``, or every model with units (on
    ``probe`` when given). Named
    models are not filtered by ``probe``: :func:`concept_matrix` checks they were profiled on it."""
    if names:
        return list(dict.fromkeys(resolve_model(con, name) for name in names))
    sql = "SELECT DISTINCT m.model FROM models m JOIN units u USING (model)"
    clauses, params = [], []
    if where:
        clauses.append(f"({where})")
    if probe:
        clauses.append("u.probe = ?")
        params.append(probe)
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    try:
        models = [r[0] for r in con.execute(sql + " ORDER BY 1", params).fetchall()]
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())
        raise LCEError(f"bad model filter {where!r}: {message}" if where else message) from None
    if not models:
        raise LCEError("no models match", hint="list them with: lce models")
    return models


def concept_matrix(con: duckdb.DuckDBPyConnection, models: list[str],
                   options: MatrixOptions = MatrixOptions(),
                   probe: str | None = None) -> ConceptMatrix:
    """The matrix of ``models`` on ``probe`` (default: the one probe set they all share)."""
    if options.normalise not in NORMALISATIONS:
        raise LCEError(f"unknown normalisation {options.normalise!r}",
                       hint=f"one of: {', '.join(NORMALISATIONS)}")
    probe = common_probe(con, models, probe)
    if options.layers:
        have = [r[0] for r in con.execute(
            "SELECT DISTINCT layer FROM units WHERE list_contains(?, model) AND probe = ? "
            "ORDER BY 1", [models, probe]).fetchall()]
        missing = [layer for layer in options.layers if layer not in have]
        if missing:
            raise LCEError(f"layer {missing[0]!r} is not profiled for these models",
                           hint=f"their layers: {', '.join(have)}")
    layer_filter = "AND list_contains($layers, layer)" if options.layers else ""
    params = {"probe": probe, "cutoff": options.iou_cutoff}
    if options.layers:
        params["layers"] = list(options.layers)
    kept = f"""
        SELECT model, label, category FROM units
        WHERE probe = $probe AND iou > $cutoff AND label IS NOT NULL AND category IS NOT NULL
        {layer_filter}"""
    population = "" if options.normalise == "population" else "WHERE list_contains($models, model)"
    params["models"] = models
    rows = con.execute(f"""
        WITH kept AS ({kept}),
        distinct_concepts AS (
            SELECT category, count(DISTINCT label) AS n FROM kept {population} GROUP BY category)
        SELECT k.model, k.label, k.category, count(*) AS units, any_value(d.n) AS n
        FROM kept k JOIN distinct_concepts d USING (category)
        WHERE list_contains($models, k.model)
        GROUP BY ALL ORDER BY k.category, k.label, k.model
    """, params).fetchall()  # noqa: S608 - fixed SQL fragments, values bound
    concepts = sorted({(category, label) for _, label, category, _, _ in rows})
    column = {c: j for j, c in enumerate(concepts)}
    row_of = {m: i for i, m in enumerate(models)}
    counts = np.zeros((len(models), len(concepts)))
    divisor = np.ones(len(concepts))
    for model, label, category, units, n in rows:
        j = column[(category, label)]
        counts[row_of[model], j] = units
        divisor[j] = n
    return ConceptMatrix(models=models, concepts=[c for _, c in concepts],
                         categories=[cat for cat, _ in concepts], counts=counts,
                         values=normalised(counts, divisor, options.normalise), probe=probe,
                         divisor=divisor)


def normalised(counts: np.ndarray, divisor: np.ndarray, normalise: str) -> np.ndarray:
    """The embedding of ``counts`` (models x concepts, or any stack of such matrices: the
    bootstrap normalises all its replicates at once) under ``normalise``."""
    if normalise in ("population", "compared"):
        return counts / divisor
    if normalise == "proportion":
        totals = counts.sum(axis=-1, keepdims=True)
        return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return counts.copy()
