-- LCE warehouse schema (DESIGN.md section 5). Parquet artifacts are the source of truth; this
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

CREATE TABLE concepts (
    probe    VARCHAR NOT NULL,
    concept  VARCHAR NOT NULL,
    category VARCHAR NOT NULL,   -- primary category (largest coverage in the c_* files)
    number   INTEGER,            -- Broden label number
    PRIMARY KEY (probe, concept)
);

CREATE TABLE models (
    model  VARCHAR PRIMARY KEY,
    arch   VARCHAR,
    method VARCHAR,
    source VARCHAR,             -- where the weights came from (zoo source, import file, ...)
    origin VARCHAR NOT NULL     -- 'dissected' by this pipeline or 'imported' from published results
);

CREATE TABLE layers (
    model   VARCHAR NOT NULL,
    layer   VARCHAR NOT NULL,
    probe   VARCHAR NOT NULL,
    n_units INTEGER NOT NULL,
    PRIMARY KEY (model, layer, probe)
);

-- Best label per unit; interpretable = iou > the dissection's cut-off (0.04 by default).
CREATE TABLE units (
    model         VARCHAR NOT NULL,
    layer         VARCHAR NOT NULL,
    probe         VARCHAR NOT NULL,
    unit          INTEGER NOT NULL,
    threshold     DOUBLE,
    label         VARCHAR,
    category      VARCHAR,
    iou           DOUBLE NOT NULL,
    interpretable BOOLEAN NOT NULL,
    PRIMARY KEY (model, layer, probe, unit)
);

-- Best concept of every category per unit (the per-category columns of the unit profile).
CREATE TABLE unit_categories (
    model    VARCHAR NOT NULL,
    layer    VARCHAR NOT NULL,
    probe    VARCHAR NOT NULL,
    unit     INTEGER NOT NULL,
    category VARCHAR NOT NULL,
    label    VARCHAR,
    iou      DOUBLE NOT NULL,
    PRIMARY KEY (model, layer, probe, unit, category)
);

-- Optional full matrix: one row per (unit, concept) with iou > 0.
CREATE TABLE unit_concepts (
    model     VARCHAR NOT NULL,
    layer     VARCHAR NOT NULL,
    probe     VARCHAR NOT NULL,
    unit      INTEGER NOT NULL,
    concept   VARCHAR NOT NULL,
    iou       DOUBLE NOT NULL,
    "intersect" BIGINT,
    "union"   BIGINT
);

CREATE TABLE benchmarks (
    model            VARCHAR NOT NULL,
    task             VARCHAR NOT NULL,
    dataset          VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,
    value            DOUBLE NOT NULL,
    higher_is_better BOOLEAN NOT NULL,
    source           VARCHAR NOT NULL   -- 'measured' by this pipeline or 'published'
);

CREATE TABLE training_runs (
    run    VARCHAR PRIMARY KEY,
    method VARCHAR,
    params VARCHAR   -- the run's hyper-parameters as a JSON object
);

CREATE TABLE training_metrics (
    run    VARCHAR NOT NULL,
    cycle  INTEGER NOT NULL,
    metric VARCHAR NOT NULL,
    value  DOUBLE,
    PRIMARY KEY (run, cycle, metric)
);
