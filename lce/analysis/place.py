"""Where does a model fall in a published landscape? A *projection* of a newcomer onto a reference
population's LCE, which the newcomer does not change.

The reference is the population of a probe set (by default the seed paper's
``places365-netpqc``): its published models -- those imported from a publication, so that other
models placed beside the newcomer do not move it -- or, with ``population="all"``, every model
profiled on it but the newcomer; and the models compared in it (default: all of them). Its
matrix is built exactly as :func:`lce.analysis.run.run_analysis` builds it for the compared
models with the paper's population divisors, only without the newcomer in the population, so the
reference's components, k and categories are those of the analysis without the newcomer. The
newcomer's counts are divided by the same divisors, restricted to the reference's concepts (a
concept only the newcomer has has no axis there; it is listed), and:

- its coordinates are its centred vector times the reference loadings;
- its category is the reference category with the nearest centroid (the mean of its members'
  vectors, where k-means ends), in the space k-means ran in;
- its neighbours are the reference models nearest to it in PC coordinates (the landscape);
- what put it there: per component, the concepts with the largest contributions
  loading x (its value - the reference mean); a component's contributions sum to its coordinate.

A newcomer profiled with another probe-set identity than the reference is refused
(:mod:`lce.analysis.identity`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lce.analysis.embedding import Projection, cluster, elbow, kmeans_inertias, pca
from lce.analysis.identity import SEED_PAPER_PROBE, check_one_identity
from lce.analysis.matrix import MatrixOptions, concept_labels, concept_matrix
from lce.errors import LCEError
from lce.params import AnalysisParams
from lce.warehouse.names import resolve_model


@dataclass(frozen=True)
class PlaceOptions:
    probe: str = SEED_PAPER_PROBE
    models: tuple[str, ...] = ()      # the compared reference models; empty: the population
    population: str = "published"     # the imported (published) models of the probe, or "all"
    iou_cutoff: float = AnalysisParams.iou_cutoff
    layers: tuple[str, ...] = ()
    n_components: int = AnalysisParams.n_components
    k: int | None = None              # None: the elbow, as the analysis
    k_max: int = AnalysisParams.k_max
    clustering: str = AnalysisParams.clustering
    seed: int = AnalysisParams.seed
    neighbours: int = 5
    top: int = 5                      # contributions shown per component


@dataclass
class Placement:
    model: str
    probe: str
    reference: list[str]              # the compared reference models
    concepts: list[str]               # the reference's concept labels (its axes)
    projection: Projection            # the reference's PCA
    categories: np.ndarray            # the reference models' categories (1..k)
    k: int
    coordinates: np.ndarray           # the newcomer's, one per component
    category: int
    centroid_distances: np.ndarray    # to each category's centroid, 1..k
    neighbours: list[tuple[str, int, float]]   # (model, its category, distance in PC space)
    contributions: list[tuple[int, str, float, float, float]] = field(default_factory=list)
    # (component, concept, units, loading, contribution)
    outside: list[str] = field(default_factory=list)  # the newcomer's concepts with no axis

    def coordinate_rows(self) -> list[tuple]:
        """(model, category, pc1, pc2, pc3, placed): the reference models, then the newcomer."""
        def pcs(row):
            return [float(row[c]) if c < len(row) else None for c in range(3)]

        rows = [(m, int(c), *pcs(self.projection.coordinates[i]), False)
                for i, (m, c) in enumerate(zip(self.reference, self.categories, strict=True))]
        return rows + [(self.model, self.category, *pcs(self.coordinates), True)]


def place(con, model: str, options: PlaceOptions = PlaceOptions()) -> Placement:
    """Project ``model`` (a key or a display name) onto the reference population of
    ``options.probe``; see the module docstring."""
    newcomer = resolve_model(con, model)
    published = "AND model IN (SELECT model FROM models WHERE origin = 'imported')" \
        if options.population == "published" else ""
    population = [m for m, in con.execute(
        f"SELECT DISTINCT model FROM layers WHERE probe = ? {published} ORDER BY 1",  # noqa: S608
        [options.probe]).fetchall() if m != newcomer]
    if options.population not in ("published", "all"):
        raise LCEError(f"unknown population {options.population!r}", hint="published or all")
    if not population:
        raise LCEError(f"probe {options.probe!r} has no reference population to place "
                       f"{model!r} in", hint="import the published profiles first: lce import "
                                             "profiles FILE --format mustapha")
    reference = ([resolve_model(con, m) for m in options.models] if options.models
                 else population)
    if newcomer in reference:
        raise LCEError(f"model {model!r} is one of the reference models; a placed model is "
                       "projected onto the others")
    check_one_identity(con, population + [newcomer], options.probe)
    counts, concepts, categories = _counts(con, population, reference, newcomer, options)
    pop_rows, ref_rows = counts[:len(population)], counts[[population.index(m)
                                                           for m in reference]]
    new_row = counts[-1]
    # the paper's divisors: distinct concepts of each category among the population's units
    seen = pop_rows.sum(axis=0) > 0
    per_category = {c: int(np.sum(seen & (categories == c))) for c in set(categories)}
    divisor = np.array([max(per_category[c], 1) for c in categories], dtype=float)
    axes = ref_rows.sum(axis=0) > 0
    values = ref_rows[:, axes] / divisor[axes]
    vector = new_row[axes] / divisor[axes]
    projection = pca(values, options.n_components)
    inertias = kmeans_inertias(values, options.k_max, options.seed)
    k = options.k if options.k is not None else elbow(inertias)
    groups = cluster(values, k, options.clustering, options.seed,
                     order_key=projection.coordinates[:, 0])
    mean = values.mean(axis=0)
    coordinates = projection.loadings @ (vector - mean)
    centroids = np.stack([values[groups == g].mean(axis=0) for g in range(1, k + 1)])
    distances = np.linalg.norm(centroids - vector, axis=1)
    in_plane = np.linalg.norm(projection.coordinates - coordinates, axis=1)
    order = np.argsort(in_plane, kind="stable")[:options.neighbours]
    labels = concept_labels(list(concepts[axes]), list(categories[axes]))
    units = new_row[axes]
    contributions = []
    for c in range(projection.loadings.shape[0]):
        parts = projection.loadings[c] * (vector - mean)
        for j in np.argsort(-np.abs(parts), kind="stable")[:options.top]:
            contributions.append((c + 1, labels[j], float(units[j]),
                                  float(projection.loadings[c, j]), float(parts[j])))
    outside = concept_labels(list(concepts[~axes & (new_row > 0)]),
                             list(categories[~axes & (new_row > 0)]))
    return Placement(model=newcomer, probe=options.probe, reference=reference, concepts=labels,
                     projection=projection, categories=groups, k=k, coordinates=coordinates,
                     category=int(np.argmin(distances)) + 1, centroid_distances=distances,
                     neighbours=[(reference[i], int(groups[i]), float(in_plane[i]))
                                 for i in order],
                     contributions=contributions, outside=outside)


def _counts(con, population, reference, newcomer, options: PlaceOptions):
    """Units per (model, concept) of the population, the compared models' columns and the
    newcomer: rows = population then the newcomer; columns = every concept any of them has."""
    matrix = concept_matrix(con, population + [newcomer],
                            MatrixOptions(iou_cutoff=options.iou_cutoff, normalise="raw",
                                          layers=options.layers), options.probe)
    if matrix.counts[-1].sum() == 0:
        raise LCEError(f"model {newcomer!r} has no unit with IoU > {options.iou_cutoff} and a "
                       f"label on probe {options.probe!r}: nothing to place")
    return matrix.counts, np.array(matrix.concepts, dtype=object), np.array(matrix.categories,
                                                                           dtype=object)
