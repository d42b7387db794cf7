"""The one declaration of every tabular artifact LCE writes (docs/DESIGN.md §4).

Each :class:`Contract` names one Parquet artifact's columns in order, their Arrow types and
whether they may be null. Producers write through :meth:`Contract.write`, which refuses a frame
with a missing, unknown or wrongly typed column (one ``LCEError`` naming the artifact and the
column) before :func:`lce.io.write_parquet` writes it, so the bytes stay what the producer built.
The warehouse derives the DDL of its artifact tables from the same declarations
(:func:`warehouse_ddl`) and loads them by column name (:func:`insert_select`), so adding a column
is one edit here plus the schema-version bump in :mod:`lce.warehouse.database`.

"No label" has one representation per layer, converted at one boundary:

- in frames and Parquet (what the engine, the importers and the fixtures produce) it is
  :data:`NO_LABEL`, the empty string: label columns are never null there;
- in the warehouse it is SQL ``NULL``; loading an artifact into DuckDB (:func:`insert_select`)
  is the only place that converts.

Published formats spell it their own way (Dissect's ``'-'``); their importers parse that into
:data:`NO_LABEL` like any other field of a foreign format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lce.errors import LCEError

NO_LABEL = ""

# Arrow type name -> DuckDB type. float32 widens to DOUBLE in the warehouse (thresholds).
_DUCKDB = {"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT", "float": "DOUBLE",
           "double": "DOUBLE", "bool": "BOOLEAN"}
_PANDAS = {"string": "str", "int32": "int32", "int64": "int64", "float": "float32",
           "double": "float64", "bool": "bool"}
# pandas' str dtype converts to large_string: the same Parquet column as string.
_SAME = {"large_string": "string"}


@dataclass(frozen=True)
class Column:
    """One column: ``type`` is an Arrow type name (``string``, ``int32``, ``int64``, ``float``
    (32-bit), ``double``, ``bool``). ``label``: it holds a concept name or :data:`NO_LABEL`
    (never null in Parquet, NULL for no label in the warehouse). ``optional``: may be absent
    (NULL in the warehouse then)."""

    name: str
    type: str
    nullable: bool = False
    label: bool = False
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Table:
    """The warehouse table an artifact loads into: the contract's columns plus ``extra`` ones
    (each placed after the named contract column), and its primary key."""

    name: str
    extra: tuple[tuple[str, Column], ...] = ()
    key: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contract:
    """One artifact. ``per_category``: columns repeated for every category of the probe set,
    named ``<category>_<name>``, after the fixed ones (the unit profile's per-category bests)."""

    artifact: str                      # file name, e.g. units.parquet
    columns: tuple[Column, ...]
    table: Table | None = None
    per_category: tuple[Column, ...] = ()
    category_table: Table | None = None   # the long form of the per-category columns

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def _at(self, where) -> str:
        """Where an error is: the file, named after the artifact, or ``where: <artifact>``."""
        return str(where) if Path(where).name == self.artifact else f"{where}: {self.artifact}"

    def categories(self, names) -> list[str]:
        """The categories whose per-category columns ``names`` holds, in their order."""
        if not self.per_category:
            return []
        first = self.per_category[0].name
        return [n.removesuffix(f"_{first}") for n in names
                if n.endswith(f"_{first}") and n not in self.names]

    def expected(self, names, omit=()) -> list[Column]:
        """The columns a file or frame with column ``names`` must have, in order (but those in
        ``omit``)."""
        columns = [c for c in self.columns
                   if c.name not in omit and not (c.optional and c.name not in names)]
        for category in self.categories(names):
            columns += [Column(f"{category}_{c.name}", c.type, c.nullable, c.label, doc=c.doc)
                        for c in self.per_category]
        return columns

    def check_names(self, names, where: str | Path, ordered: bool = True, omit=()) -> None:
        """Refuse ``names`` (a frame's or a file's columns) lacking a column or holding one the
        contract does not declare; ``ordered``: in the declared order too (what a producer must
        write; a reader, which goes by name, takes any order)."""
        names = list(names)
        expected = [c.name for c in self.expected(names, omit)]
        for name in expected:
            if name not in names:
                raise LCEError(f"{self._at(where)}: missing column {name!r}")
        for name in names:
            if name not in expected:
                raise LCEError(f"{self._at(where)}: column {name!r} is not in the "
                               "contract", hint="declare it in lce/contracts.py")
        if ordered and names != expected:
            first = next(a for a, b in zip(names, expected, strict=True) if a != b)
            raise LCEError(f"{self._at(where)}: column {first!r} out of order "
                           f"(expected {', '.join(expected)})")

    def validate(self, frame, where: str | Path):
        """The Arrow table of ``frame`` if it holds exactly the declared columns, in order, with
        their types and nullability; otherwise one LCEError naming the artifact and column."""
        import pyarrow as pa

        self.check_names(frame.columns, where)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        for column in self.expected(list(frame.columns)):
            found = str(table.schema.field(column.name).type)
            found = _SAME.get(found, found)
            # an empty object column has no type yet (Arrow's null): whatever it will hold
            if found != column.type and not (found == "null" and not len(table)):
                raise LCEError(f"{self._at(where)}: column {column.name!r} is {found}, "
                               f"expected {column.type}")
            if not column.nullable and table.column(column.name).null_count:
                raise LCEError(f"{self._at(where)}: column {column.name!r} has nulls"
                               + (f" (no label is {NO_LABEL!r})" if column.label else ""))
        return table

    def frame(self, data, where: str = "frame", omit=()):
        """A frame of this artifact from ``data`` (records or a dict of columns, in any order):
        the declared order and types, refused like :meth:`validate` when a column is missing or
        unknown. ``omit``: columns a part of the artifact lacks (the engine's one-layer tables
        lack :data:`LAYER_KEYS`). What the engine, importers and fixtures build frames with."""
        import pandas as pd

        frame = pd.DataFrame(data)
        expected = self.expected(frame.columns, omit)
        names = [c.name for c in expected if c.name in frame.columns]
        frame = frame[names + [n for n in frame.columns if n not in names]]
        self.check_names(frame.columns, where, omit=omit)
        for column in expected:
            values = frame[column.name]
            try:
                cast = values.astype(_PANDAS[column.type])
            except (TypeError, ValueError):
                cast = None
            if cast is None or (column.type.startswith("int") and values.dtype.kind == "f"
                                and (cast != values).any()):  # 1.5 would become 1
                raise LCEError(f"{self._at(where)}: column {column.name!r}: expected "
                               f"{column.type} values")
            frame[column.name] = cast
        return frame

    def write(self, frame, path: str | Path) -> Path:
        """Validate ``frame`` and write it to ``path`` (atomic, byte-deterministic)."""
        from lce.io import write_parquet

        self.validate(frame, path)
        return write_parquet(frame, path)


def _ddl_column(column: Column) -> str:
    null = "" if column.nullable or column.label or column.optional else " NOT NULL"
    return f'"{column.name}" {_DUCKDB[column.type]}{null}'


def table_columns(contract: Contract, table: Table) -> list[Column]:
    """The warehouse table's columns in order: the contract's, with the table's extras after
    the contract column each names."""
    columns = []
    for column in contract.columns:
        columns.append(column)
        columns += [extra for after, extra in table.extra if after == column.name]
    return columns


def _create(table: Table, columns: list[Column]) -> str:
    lines = [_ddl_column(c) for c in columns]
    if table.key:
        lines.append(f"PRIMARY KEY ({', '.join(table.key)})")
    return f"CREATE TABLE {table.name} (\n    " + ",\n    ".join(lines) + "\n);\n"


def category_columns(contract: Contract) -> list[Column]:
    """The long form of the per-category columns: the table's key columns before ``category``,
    then ``category`` and the per-category columns."""
    table = contract.category_table
    head = [c for c in table_columns(contract, contract.table) if c.name in table.key
            and c.name != "category"]
    return head + [Column("category", "string")] + list(contract.per_category)


def warehouse_ddl() -> str:
    """The CREATE TABLE statements of every artifact table, derived from the contracts."""
    statements = []
    for contract in CONTRACTS:
        if contract.table is not None:
            statements.append(_create(contract.table, table_columns(contract, contract.table)))
        if contract.category_table is not None:
            statements.append(_create(contract.category_table, category_columns(contract)))
    return "\n".join(statements)


def _value(column: Column, source: str) -> str:
    return f"nullif({source}, '{NO_LABEL}')" if column.label else source


def insert_select(contract: Contract, source: str, names, values: dict[str, str],
                  order: str, category: str | None = None) -> str:
    """``INSERT INTO <table> BY NAME SELECT ...`` from the relation ``source`` (with columns
    ``names``): every contract column it holds by name, label columns with :data:`NO_LABEL` as
    NULL, and ``values`` (SQL expressions, e.g. parameters) for the table's extra columns.
    ``category``: load that category's per-category columns into the category table instead
    (``values`` then gives its ``category`` column)."""
    if category is None:
        table = contract.table
        picked = [(c, f'"{c.name}"') for c in contract.columns if c.name in names]
    else:
        table = contract.category_table
        keys = [c for c in contract.columns if c.name in table.key and c.name != "category"]
        picked = [(c, f'"{c.name}"') for c in keys]
        picked += [(c, f'"{category}_{c.name}"') for c in contract.per_category]
    select = [f'{_value(c, expr)} AS "{c.name}"' for c, expr in picked]
    select += [f'{expr} AS "{name}"' for name, expr in values.items()]
    return (f"INSERT INTO {table.name} BY NAME SELECT {', '.join(select)} FROM {source} "
            f"ORDER BY {order}")


_MODEL = (Column("model", "string"), Column("layer", "string"), Column("unit", "int32"))
# The columns a dissection adds to the engine's one-layer tables when it writes them.
LAYER_KEYS = ("model", "layer")
_PROBE = Table("", extra=(("layer", Column("probe", "string")),))

UNITS = Contract(
    "units.parquet",
    _MODEL + (
        Column("threshold", "float", nullable=True,
               doc="activation threshold of the unit's top quantile; NULL in imports"),
        Column("label", "string", label=True, doc="best concept"),
        Column("category", "string", label=True, doc="the best concept's category"),
        Column("iou", "double", nullable=True,
               doc="NULL: undefined (a dead unit that never fires, in imports)"),
        Column("interpretable", "bool", doc="iou > the dissection's cut-off (0.04)"),
        Column("null_iou", "double", nullable=True, optional=True,
               doc="the best IoU with masks of other images (the null baseline)"),
    ),
    table=Table("units", _PROBE.extra, key=("model", "layer", "probe", "unit")),
    per_category=(Column("label", "string", label=True), Column("iou", "double")),
    category_table=Table("unit_categories", key=("model", "layer", "probe", "unit",
                                                 "category")),
)

CONCEPT_IOU = Contract(
    "concepts.parquet",
    _MODEL + (Column("concept", "string"), Column("iou", "double"),
              Column("intersect", "int64"), Column("union", "int64")),
    table=Table("unit_concepts", _PROBE.extra),
)

EXEMPLARS = Contract(
    "exemplars.parquet",
    _MODEL + (Column("rank", "int32"), Column("image_index", "int64"),
              Column("image", "string"), Column("activation", "float")),
)

SCORES = Contract(
    "scores.parquet",
    (Column("model", "string"), Column("task", "string"), Column("dataset", "string"),
     Column("metric", "string"), Column("value", "double"), Column("higher_is_better", "bool"),
     Column("source", "string", doc="'measured' by this pipeline or 'published'")),
    table=Table("benchmarks"),
)

TRAINING_METRICS = Contract(
    "metrics.parquet",
    (Column("run", "string"), Column("cycle", "int32"), Column("metric", "string"),
     Column("value", "double", nullable=True)),
    table=Table("training_metrics", key=("run", "cycle", "metric")),
)

CONTRACTS = (UNITS, CONCEPT_IOU, EXEMPLARS, SCORES, TRAINING_METRICS)
# The files of one dissect@<model> output, by the name the engine gives its tables.
DISSECTION = {"units": UNITS, "concepts": CONCEPT_IOU, "exemplars": EXEMPLARS}

# summary.json of a training run (DVC metrics): the keys it may hold and their JSON types.
TRAINING_SUMMARY = {"linear_top1": float, "cycles": int, "nmi_labels": float,
                    "nmi_prev": float, "loss": float}


def check_summary(summary: dict, where: str | Path) -> dict:
    """``summary`` if it holds only declared keys of the declared types (``linear_top1`` and
    ``cycles`` always), else an LCEError naming the key."""
    for key in ("linear_top1", "cycles"):
        if key not in summary:
            raise LCEError(f"{where}: summary.json: missing key {key!r}")
    for key, value in summary.items():
        kind = TRAINING_SUMMARY.get(key)
        if kind is None or not isinstance(value, kind) or isinstance(value, bool):
            raise LCEError(f"{where}: summary.json: key {key!r}: "
                           + ("not in the contract" if kind is None else
                              f"expected {kind.__name__}, got {type(value).__name__}"))
    return summary

