"""Parsers for published dissection profiles and benchmark tables.

Each parser turns one file into the warehouse's contracts (docs/DESIGN.md §4) and checks what it
reads, so a wrong column or a non-numeric IoU is reported with the file and row instead of ending
up as silently wrong rows. Writing the result into a warehouse is :mod:`lce.warehouse.ingest`'s job.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lce.analysis.identity import SEED_PAPER_PROBE
from lce.contracts import NO_LABEL, SCORES, UNITS
from lce.conventions import IOU_CUTOFF
from lce.errors import LCEError
from lce.warehouse.names import display_name, model_key

PROFILE_FORMATS = ("mustapha", "netdissect", "dissect-json")
BENCHMARK_FORMATS = ("mustapha", "tidy")
# Probe names of imported profiles: models are only compared with models profiled the same way
# (lce.analysis.identity says how each was made; dissect-json: Dissect's default setting).
PROBE_OF_FORMAT = {"mustapha": SEED_PAPER_PROBE, "netdissect": "broden-netdissect-lite",
                   "dissect-json": SEED_PAPER_PROBE}


@dataclass
class ImportedProfiles:
    """Unit profiles of one or more models read from a published file."""

    probe: str
    source: str
    units: pd.DataFrame    # the unit-profile contract (lce.contracts.UNITS)
    display_names: dict[str, str] = field(default_factory=dict)
    arch: str | None = None


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    if not path.is_file():
        raise LCEError(f"{path}: file not found")
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""], **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise LCEError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from None


def _require(frame: pd.DataFrame, columns, path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LCEError(f"{path}: missing column {missing[0]!r}",
                       hint=f"columns found: {', '.join(map(str, frame.columns[:12]))}")


def _shown(cell) -> str:
    """A CSV cell as a user wrote it: quoted text, or "an empty cell" (never numpy's repr)."""
    return "an empty cell" if pd.isna(cell) else repr(str(cell))


def _numeric(frame: pd.DataFrame, column: str, path: Path, allow_missing: bool = False,
             row_offset: int = 2) -> pd.Series:
    """Column as floats; the first bad cell is reported by its CSV line number. Empty cells are
    NaN where allowed (Dissect leaves the IoU of a dead unit, one that never fires, empty)."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & (frame[column].notna() | (not allow_missing))
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise LCEError(f"{path}: line {row + row_offset}: column {column!r}: "
                       f"expected a number, got {_shown(frame[column].iloc[row])}")
    return values.astype(float)


def _label(value) -> str:
    """A real label or :data:`~lce.contracts.NO_LABEL`: published files leave the cell empty or,
    as Dissect does for units matching only unlabelled pixels, write '-'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_LABEL
    text = str(value).strip()
    return NO_LABEL if text == "-" else text


def _units_frame(path, model, layer, units, labels, categories, ious,
                 per_category: dict | None = None) -> pd.DataFrame:
    """The unit-profile contract's frame of an import: no threshold or null baseline (NULL);
    ``per_category``: ``<category>_label``/``<category>_iou`` columns, when the file has them."""
    labels = pd.Series([_label(x) for x in labels], dtype=object)
    ious = pd.Series(ious, dtype=float).reset_index(drop=True)
    return UNITS.frame({
        "model": model, "layer": layer, "unit": pd.Series(units).reset_index(drop=True),
        "threshold": np.nan, "label": labels, "category": [_label(x) for x in categories],
        "iou": ious, "interpretable": (ious > IOU_CUTOFF) & (labels != NO_LABEL),
        "null_iou": np.nan, **(per_category or {})}, path)


def _listed(units, limit: int = 8) -> str:
    units = [str(u) for u in units]
    return ", ".join(units[:limit]) + (f" and {len(units) - limit} more" if len(units) > limit
                                       else "")


def _check_units(frame: pd.DataFrame, path: Path) -> None:
    """Each model's units must number 0..n-1 in every layer, each once.

    A file cut short or edited by hand otherwise imports as a smaller model without a word, and
    every count derived from it (the LCE, the interpretable share) is silently wrong.
    """
    for (model, layer), units in frame.groupby(["model", "layer"], sort=True)["unit"]:
        where = f"{path}: model {model}, layer {layer}"
        counts = units.value_counts()
        if (counts > 1).any():
            twice = sorted(counts.index[counts > 1])
            raise LCEError(f"{where}: unit {_listed(twice)} appears twice")
        if units.min() < 0:
            raise LCEError(f"{where}: unit {int(units.min())}: units must number 0..n-1")
        missing = sorted(set(range(int(units.max()) + 1)) - set(units))
        if missing:
            raise LCEError(f"{where}: units {_listed(missing)} missing (units must number "
                           f"0..n-1; found {len(units)}, highest {int(units.max())})")


def read_mustapha_profiles(path: Path) -> ImportedProfiles:
    """The seed paper's ``,name,unit,iou,label,category`` file (ResNet-50 layer4, Dissect)."""
    raw = _read_csv(path)
    _require(raw, ["name", "unit", "iou", "label", "category"], path)
    names = raw["name"].astype(str)
    keys = {name: model_key(name) for name in names.unique()}
    units = _units_frame(path, names.map(keys), "layer4", _numeric(raw, "unit", path),
                         raw["label"], raw["category"], _numeric(raw, "iou", path,
                                                                 allow_missing=True))
    _check_units(units, path)
    return ImportedProfiles(
        probe=PROBE_OF_FORMAT["mustapha"], source=f"import:{path.name}", units=units,
        arch="resnet50",
        display_names={key: display_name(name) for name, key in keys.items()})


def read_netdissect_tally(path: Path, model: str, layer: str) -> ImportedProfiles:
    """NetDissect / NetDissect-Lite ``tally.csv`` or ``result.csv``: 1-based units, best label
    (``label``, ``score`` = IoU) and per-category ``<cat>-label``/``<cat>-iou`` columns."""
    raw = _read_csv(path)
    _require(raw, ["unit", "category", "label", "score"], path)
    categories = sorted(c.removesuffix("-label") for c in raw.columns
                        if c.endswith("-label") and f"{c.removesuffix('-label')}-iou" in raw)
    per_category = {}
    for cat in categories:
        per_category[f"{cat}_label"] = [_label(x) for x in raw[f"{cat}-label"]]
        per_category[f"{cat}_iou"] = _numeric(raw, f"{cat}-iou", path)
    units = _units_frame(path, model, layer, _numeric(raw, "unit", path) - 1, raw["label"],
                         raw["category"], _numeric(raw, "score", path), per_category)
    if (units["unit"] < 0).any():
        raise LCEError(f"{path}: units must be 1-based (NetDissect numbering), found 0")
    _check_units(units, path)
    return ImportedProfiles(
        probe=PROBE_OF_FORMAT["netdissect"], source=f"import:{path.name}", units=units,
        display_names={model: model})


def read_dissect_json(path: Path, model: str, layer: str) -> ImportedProfiles:
    """davidbau/dissect ``report.json``: ``{"units": [{"unit", "iou", "label", "cat"}, ...]}``."""
    if not path.is_file():
        raise LCEError(f"{path}: file not found")
    try:
        report = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LCEError(f"{path}: not valid JSON ({exc})") from None
    entries = report.get("units") if isinstance(report, dict) else None
    if not isinstance(entries, list):
        raise LCEError(f"{path}: expected an object with a 'units' list (davidbau/dissect "
                       "report.json)")
    rows = []
    for i, entry in enumerate(entries):
        try:
            rows.append((int(entry["unit"]), float(entry["iou"]), entry.get("label"),
                         entry.get("cat")))
        except (KeyError, TypeError, ValueError):
            raise LCEError(f"{path}: units[{i}]: needs numeric 'unit' and 'iou'") from None
    unit, iou, label, cat = zip(*rows, strict=True) if rows else ((), (), (), ())
    units = _units_frame(path, model, layer, list(unit), list(label), list(cat), list(iou))
    _check_units(units, path)
    return ImportedProfiles(probe=PROBE_OF_FORMAT["dissect-json"], source=f"import:{path.name}",
                            units=units, display_names={model: model})


def _require_rows(path: Path, frame):
    """``frame``, unless the file gave no data rows (only a header): nothing to import."""
    if frame.empty:
        raise LCEError(f"{path}: no data rows to import (only a header?)")
    return frame


def read_profiles(path: str | Path, fmt: str, model: str | None = None,
                  layer: str | None = None) -> ImportedProfiles:
    """Dispatch on ``fmt``; formats that do not name their model need ``model`` and ``layer``."""
    path = Path(path)
    if fmt == "mustapha":
        profiles = read_mustapha_profiles(path)
        if model:  # keep one model of the file
            wanted = model_key(model)
            profiles.units = profiles.units[profiles.units["model"] == wanted]
            if profiles.units.empty:
                raise LCEError(f"{path}: no model {model!r} in the file")
        if layer:
            profiles.units = profiles.units.assign(layer=layer)
        return _checked(path, profiles)
    if fmt not in PROFILE_FORMATS:
        raise LCEError(f"unknown profile format {fmt!r}",
                       hint=f"one of: {', '.join(PROFILE_FORMATS)}")
    if not model or not layer:
        raise LCEError(f"{path}: {fmt} files do not name their model and layer",
                       hint="pass --model NAME --layer NAME")
    reader = read_netdissect_tally if fmt == "netdissect" else read_dissect_json
    return _checked(path, reader(path, model, layer))


def _checked(path: Path, profiles: ImportedProfiles) -> ImportedProfiles:
    """``profiles``, sorted, if they hold rows and fit the unit-profile contract."""
    _require_rows(path, profiles.units)
    profiles.units = profiles.units.sort_values(["model", "layer", "unit"], kind="stable",
                                                ignore_index=True)
    UNITS.validate(profiles.units, path)
    return profiles


# --- benchmark tables --------------------------------------------------------------------------

# A published table holds every score column but ``source`` (the import sets it: 'published').
BENCHMARK_COLUMNS = [name for name in SCORES.names if name != "source"]
# Ericsson et al. (CVPR 2021) report mean per-class accuracy on these many-shot datasets, 11-point
# mAP on VOC2007 and top-1 accuracy elsewhere.
_MEAN_PER_CLASS = {"Aircraft", "Caltech101", "Flowers", "Pets"}
_SNE = {"Mean": ("mean-angular-error", False), "Median": ("median-angular-error", False)}


def _mustapha_column(column: str) -> tuple[str, str, str, bool] | None:
    """(task, dataset, metric, higher_is_better) of one column of the published table."""
    if match := re.fullmatch(r"dt_(.+)", column):
        dataset = match[1].rstrip(".")
        metric = ("mean-per-class-accuracy" if dataset in _MEAN_PER_CLASS else
                  "map-11pt" if dataset == "VOC2007" else
                  "mean-accuracy" if dataset == "Avg" else "top1-accuracy")
        return "many-shot", dataset, metric, True
    if match := re.fullmatch(r"voc_(forzen|frozen|tuned)_(ap(?:_\d+)?)", column):
        task = "detection-frozen" if match[1] in ("forzen", "frozen") else "detection-finetuned"
        return task, "VOC", match[2].replace("_", "").upper(), True
    if match := re.fullmatch(r"(.+)_(\d+)_shot", column):
        return "few-shot", match[1], f"{match[2]}-shot-accuracy", True
    if match := re.fullmatch(r"sne_(.+)", column):
        metric, higher = _SNE.get(match[1], (f"within-{match[1]}-deg", True))
        return "surface-normals", "NYUv2", metric, higher
    return None


def read_mustapha_benchmarks(path: Path) -> pd.DataFrame:
    """The seed paper's wide table (one row per model, one column per benchmark) -> long rows."""
    raw = _read_csv(path)
    _require(raw, ["model"], path)
    rows = []
    for column in raw.columns:
        parsed = _mustapha_column(str(column))
        if parsed is None:
            continue  # index columns left by pandas merges ("Unnamed: 0_x_x", ...)
        values = _numeric(raw, column, path)
        for name, value in zip(raw["model"].astype(str), values, strict=True):
            rows.append((model_key(name), *parsed[:3], value, parsed[3]))
    if not rows:
        raise LCEError(f"{path}: no benchmark columns (dt_*, voc_*, *_shot, sne_*) found")
    return pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)


def read_tidy_benchmarks(path: Path) -> pd.DataFrame:
    """A long CSV ``model,task,dataset,metric,value,higher_is_better``."""
    raw = _read_csv(path)
    _require(raw, BENCHMARK_COLUMNS, path)
    for column in ("model", "task", "dataset", "metric"):
        empty = raw[column].isna()
        if empty.any():
            raise LCEError(f"{path}: line {int(empty.to_numpy().nonzero()[0][0]) + 2}: "
                           f"empty {column!r}")
    flags = raw["higher_is_better"].astype(str).str.strip().str.lower()
    bad = ~flags.isin(["true", "false", "1", "0"])
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise LCEError(f"{path}: line {row + 2}: higher_is_better must be true or false, "
                       f"got {_shown(raw['higher_is_better'].iloc[row])}")
    return pd.DataFrame({
        "model": raw["model"].astype(str).map(model_key), "task": raw["task"].astype(str),
        "dataset": raw["dataset"].astype(str), "metric": raw["metric"].astype(str),
        "value": _numeric(raw, "value", path), "higher_is_better": flags.isin(["true", "1"]),
    })


def read_benchmarks(path: str | Path, fmt: str = "mustapha") -> pd.DataFrame:
    path = Path(path)
    if fmt == "mustapha":
        frame = read_mustapha_benchmarks(path)
    elif fmt == "tidy":
        frame = read_tidy_benchmarks(path)
    else:
        raise LCEError(f"unknown benchmark format {fmt!r}",
                       hint=f"one of: {', '.join(BENCHMARK_FORMATS)}")
    _require_rows(path, frame)
    dup = frame.duplicated(["model", "task", "dataset", "metric"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise LCEError(f"{path}: {row['model']} {row['task']}/{row['dataset']}/{row['metric']} "
                       "appears twice")
    frame = frame.assign(source="published")
    SCORES.validate(frame, path)
    return frame
