"""One LCE analysis end to end: select models, build the matrix, project, categorize, correlate.

The result converts to the warehouse's derived tables (``lce_*``, ``model_categories``), which the
``analyze`` stage writes as Parquet and the CLI prints; both therefore show the same numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb
import numpy as np

from lce.analysis.bootstrap import LCEBootstrap, bootstrap, unit_totals
from lce.analysis.correlate import benchmark_table, correlate_components, profile_variables
from lce.analysis.embedding import Projection, cluster, elbow, kmeans_inertias, pca
from lce.analysis.identity import check_one_identity
from lce.analysis.matrix import ConceptMatrix, MatrixOptions, concept_matrix, resolve_models
from lce.errors import LCEError
from lce.params import AnalysisParams


@dataclass(frozen=True)
class AnalysisOptions:
    models: tuple[str, ...] = ()     # names or keys; empty: `where`, else every model of `probe`
    where: str | None = None          # SQL filter on the models table
    probe: str | None = None
    matrix: MatrixOptions = field(default_factory=MatrixOptions)
    n_components: int = AnalysisParams.n_components
    k: int | None = None              # None: the elbow of the k-means inertia curve
    k_max: int = AnalysisParams.k_max
    clustering: str = AnalysisParams.clustering
    seed: int = AnalysisParams.seed
    task: str | None = None           # restrict benchmark correlations to one task
    bootstrap: int = 0                # unit-bootstrap replicates (lce.analysis.bootstrap); 0: none


@dataclass
class LCEAnalysis:
    options: AnalysisOptions
    matrix: ConceptMatrix
    projection: Projection
    inertias: list[float]
    k: int
    categories: np.ndarray
    profile_correlations: list[tuple]
    benchmark_correlations: list[tuple]
    benchmarks: dict[str, dict[str, float]]
    bootstrap: LCEBootstrap | None = None

    @property
    def models(self) -> list[str]:
        return self.matrix.models

    @property
    def k_rule(self) -> str:
        """How k was chosen, for people reading the output."""
        if self.options.k:
            return "fixed"
        return "elbow" if len(self.inertias) >= 3 else "one per model: too few for an elbow"

    def coordinate_rows(self) -> list[tuple]:
        """(model, category, pc1, pc2, pc3) per model, None for components the data lacks."""
        coords = self.projection.coordinates
        rows = []
        for i, model in enumerate(self.models):
            pcs = [float(coords[i, c]) if c < coords.shape[1] else None for c in range(3)]
            rows.append((model, int(self.categories[i]), *pcs))
        return rows

    def tables(self) -> dict[str, list[dict]]:
        """The derived warehouse tables as lists of records."""
        m, p = self.matrix, self.projection
        vectors = [dict(model=model, concept=concept, category=category,
                        units=int(m.counts[i, j]), value=float(m.values[i, j]))
                   for i, model in enumerate(m.models)
                   for j, (concept, category) in enumerate(zip(m.concepts, m.categories,
                                                               strict=True))
                   if m.counts[i, j] > 0]
        correlations = [dict(zip(("component", "kind", "variable", "n", "pearson_r",
                                  "pearson_p", "spearman_rho", "spearman_p"), row, strict=True))
                        for row in self.profile_correlations + self.benchmark_correlations]
        return {
            "lce_vectors": vectors,
            "lce_components": [dict(component=c + 1, explained_variance=float(v),
                                    explained_variance_ratio=float(r))
                               for c, (v, r) in enumerate(zip(p.explained_variance,
                                                              p.explained_variance_ratio,
                                                              strict=True))],
            "lce_loadings": [dict(component=c + 1, concept=concept, category=category,
                                  loading=float(p.loadings[c, j]))
                             for c in range(p.loadings.shape[0])
                             for j, (concept, category) in enumerate(zip(m.concepts,
                                                                         m.categories,
                                                                         strict=True))],
            "lce_coordinates": [dict(model=r[0], pc1=r[2], pc2=r[3], pc3=r[4])
                                for r in self.coordinate_rows()],
            "lce_elbow": [dict(k=i + 1, inertia=v, chosen=i + 1 == self.k)
                          for i, v in enumerate(self.inertias)],
            "model_categories": [dict(model=r[0], category=r[1], clustering=self.options.clustering,
                                      k=self.k) for r in self.coordinate_rows()],
            "lce_correlations": correlations,
            **self.bootstrap_tables(),
        }

    def bootstrap_tables(self) -> dict[str, list[dict]]:
        """The unit bootstrap's tables (empty without one): stability, coordinate intervals,
        pairwise co-assignment."""
        b, models = self.bootstrap, self.models
        if b is None:
            return {"lce_stability": [], "lce_coordinate_intervals": [], "lce_coassignment": []}
        n_components = b.lower.shape[1]
        return {
            "lce_stability": [dict(model=model, stability=float(b.stability[i]),
                                   replicates=b.replicates) for i, model in enumerate(models)],
            "lce_coordinate_intervals": [dict(model=model, component=c + 1,
                                              lower=float(b.lower[i, c]),
                                              upper=float(b.upper[i, c]))
                                         for i, model in enumerate(models)
                                         for c in range(n_components)],
            "lce_coassignment": [dict(model_a=a, model_b=models[j],
                                      frequency=float(b.coassignment[i, j]))
                                 for i, a in enumerate(models) for j in range(len(models))],
        }

    def settings(self) -> dict:
        settings = asdict(self.options)
        settings["models"] = self.models
        settings["probe"] = self.matrix.probe
        settings["k"] = self.k
        return settings


def run_analysis(con: duckdb.DuckDBPyConnection, options: AnalysisOptions) -> LCEAnalysis:
    models = resolve_models(con, list(options.models), options.where, options.probe)
    matrix = concept_matrix(con, models, options.matrix, options.probe)
    check_one_identity(con, models, matrix.probe)  # one population: lce.analysis.identity
    if not matrix.concepts:
        raise LCEError(f"no unit of the {len(models)} models has IoU > "
                       f"{options.matrix.iou_cutoff} and a label: nothing to embed",
                       hint="dissect on a larger probe set, or lower the IoU cut-off")
    projection = pca(matrix.values, options.n_components)
    inertias = kmeans_inertias(matrix.values, options.k_max, options.seed)
    k = options.k if options.k is not None else elbow(inertias)
    categories = cluster(matrix.values, k, options.clustering, options.seed,
                         order_key=projection.coordinates[:, 0])
    coords = projection.coordinates
    benchmarks = benchmark_table(con, models, options.task)
    resampled = None
    if options.bootstrap:
        resampled = bootstrap(matrix, unit_totals(con, matrix, options.matrix.layers),
                              projection.loadings, categories, k, options.matrix.normalise,
                              options.clustering, options.seed, options.bootstrap, benchmarks)
    return LCEAnalysis(bootstrap=resampled,
        options=options, matrix=matrix, projection=projection, inertias=inertias, k=k,
        categories=categories,
        profile_correlations=correlate_components(coords, models, "profile",
                                                  profile_variables(matrix)),
        benchmark_correlations=correlate_components(coords, models, "benchmark", benchmarks),
        benchmarks=benchmarks)


def options_from_params(params: dict) -> AnalysisOptions:
    """Analysis options from params.yaml's ``analysis`` section; with no model selection the
    reference population is every model dissected on the pipeline's probe set."""
    from lce.params import analysis_params, dissect_on

    p = analysis_params(params)
    selected = bool(p.models or p.where)
    return AnalysisOptions(
        models=tuple(p.models), where=p.where or None,
        probe=p.probe or (None if selected else dissect_on(params)[0]),
        matrix=MatrixOptions(iou_cutoff=p.iou_cutoff, normalise=p.normalise),
        n_components=p.n_components, k=p.k or None, k_max=p.k_max, clustering=p.clustering,
        seed=p.seed, bootstrap=p.bootstrap)
