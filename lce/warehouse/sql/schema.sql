-- LCE warehouse schema (docs/DESIGN.md §5). Parquet artifacts are the source of truth; this
-- database is derived from them by `stages/warehouse.py` and rebuilt atomically.

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- A probe set: the images with concept masks every model of one comparison was dissected on.
CREATE TABLE probes (
    probe      VARCHAR PRIMARY KEY,
    path       VARCHAR,
    n_images   INTEGER,
    image_size INTEGER,
    mask_size  INTEGER
);

-- A concept is a (category, name) pair: Broden gives each name one primary category, but a
-- published profile may use one name in two (the seed paper's `food`, material and object).
CREATE TABLE concepts (
    probe    VARCHAR NOT NULL,
    concept  VARCHAR NOT NULL,
    category VARCHAR NOT NULL,   -- primary category (largest coverage in the c_* files)
    number   INTEGER,            -- Broden label number
    PRIMARY KEY (probe, concept, category)
);

CREATE TABLE models (
    model  VARCHAR PRIMARY KEY,
    arch   VARCHAR,
    method VARCHAR,
    source VARCHAR,             -- where the weights came from (zoo source, import file, ...)
    origin VARCHAR NOT NULL,    -- 'dissected' by this pipeline or 'imported' from published results
    display_name VARCHAR        -- the name papers use (e.g. 'MoCoV2'); the CLI accepts it too
);

CREATE TABLE layers (
    model   VARCHAR NOT NULL,
    layer   VARCHAR NOT NULL,
    probe   VARCHAR NOT NULL,
    n_units INTEGER NOT NULL,
    PRIMARY KEY (model, layer, probe)
);

-- How each layer's profile was made (lce.analysis.identity): only profiles of one identity are
-- comparable. Absent for profiles written before identities were recorded.
CREATE TABLE identities (
    model     VARCHAR NOT NULL,
    layer     VARCHAR NOT NULL,
    probe     VARCHAR NOT NULL,
    images    VARCHAR NOT NULL,     -- the image set
    labeller  VARCHAR NOT NULL,     -- 'masks' (the set's own) or a segmenter key ('netpqc')
    method    VARCHAR NOT NULL,     -- dissect | netdissect
    quantile  DOUBLE NOT NULL,      -- top quantile q of the unit thresholds
    mask_size INTEGER,              -- mask resolution in pixels
    PRIMARY KEY (model, layer, probe)
);

-- The artifact tables (units, unit_categories, unit_concepts, benchmarks, training_metrics)
-- are created from their declarations in lce/contracts.py (lce.contracts.warehouse_ddl), so an
-- artifact's columns are stated once.

CREATE TABLE training_runs (
    run    VARCHAR PRIMARY KEY,
    method VARCHAR,
    params VARCHAR   -- the run's hyper-parameters as a JSON object
);

-- Derived tables, written from the `analyze` stage's Parquet (data/analysis/). The LCE recipe is
-- docs/DESIGN.md §6; `meta` keys `analysis.*` record the settings they were computed with.

-- The Learned Concepts Embedding: one row per (model, concept) with a non-zero count; concepts
-- are (category, name) pairs here too.
CREATE TABLE lce_vectors (
    model    VARCHAR NOT NULL,
    concept  VARCHAR NOT NULL,
    category VARCHAR NOT NULL,
    units    INTEGER NOT NULL,   -- interpretable units labelled with the concept
    value    DOUBLE NOT NULL,    -- the normalised entry of the embedding
    PRIMARY KEY (model, concept, category)
);

CREATE TABLE lce_components (
    component                INTEGER PRIMARY KEY,   -- 1, 2, 3
    explained_variance       DOUBLE NOT NULL,
    explained_variance_ratio DOUBLE NOT NULL
);

CREATE TABLE lce_loadings (
    component INTEGER NOT NULL,
    concept   VARCHAR NOT NULL,
    category  VARCHAR NOT NULL,
    loading   DOUBLE NOT NULL,
    PRIMARY KEY (component, concept, category)
);

CREATE TABLE lce_coordinates (
    model VARCHAR PRIMARY KEY,
    pc1   DOUBLE NOT NULL,
    pc2   DOUBLE,
    pc3   DOUBLE
);

-- k-means inertia per k (the elbow curve) and the k chosen.
CREATE TABLE lce_elbow (
    k       INTEGER PRIMARY KEY,
    inertia DOUBLE NOT NULL,
    chosen  BOOLEAN NOT NULL
);

CREATE TABLE model_categories (
    model    VARCHAR PRIMARY KEY,
    category INTEGER NOT NULL,   -- 1-based, numbered by first appearance along PC1
    clustering VARCHAR NOT NULL, -- kmeans | agglomerative
    k        INTEGER NOT NULL
);

-- The unit bootstrap (lce.analysis.bootstrap; analysis.bootstrap replicates, empty when 0):
-- each model's category stability, each coordinate's 95% percentile interval, and how often two
-- models share a category across replicates.
CREATE TABLE lce_stability (
    model      VARCHAR PRIMARY KEY,
    stability  DOUBLE NOT NULL,   -- mean co-assignment with the other members of its category
    replicates INTEGER NOT NULL
);

CREATE TABLE lce_coordinate_intervals (
    model     VARCHAR NOT NULL,
    component INTEGER NOT NULL,
    lower     DOUBLE NOT NULL,    -- 2.5th percentile over replicates
    upper     DOUBLE NOT NULL,    -- 97.5th percentile
    PRIMARY KEY (model, component)
);

CREATE TABLE lce_coassignment (
    model_a   VARCHAR NOT NULL,
    model_b   VARCHAR NOT NULL,
    frequency DOUBLE NOT NULL,    -- fraction of replicates with both in one category
    PRIMARY KEY (model_a, model_b)
);

-- Pearson and Spearman correlation of each principal component with a per-model variable:
-- a benchmark column (kind 'benchmark') or a profile summary such as the number of object units
-- (kind 'profile', which names the components).
CREATE TABLE lce_correlations (
    component    INTEGER NOT NULL,
    kind         VARCHAR NOT NULL,
    variable     VARCHAR NOT NULL,   -- task/dataset/metric, or e.g. units_object, concepts_part
    n            INTEGER NOT NULL,   -- models that have both
    pearson_r    DOUBLE,
    pearson_p    DOUBLE,
    spearman_rho DOUBLE,
    spearman_p   DOUBLE,
    PRIMARY KEY (component, kind, variable)
);
