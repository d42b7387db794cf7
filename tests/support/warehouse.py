"""Synthetic published-style inputs with known answers, shared by the warehouse/analysis tests.

Three groups of models, each planted to detect its own concepts: group "animal" models have most
units on dog/cat/fur, "vehicle" ones on car/wheel/metal, "nature" ones on tree/wood/green. A
fourth kind of model is the untrained-looking "blank" (few interpretable units, one concept the
others lack) used to check that the reference population includes models left out of a comparison.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

CONCEPTS = {
    "dog": "object", "cat": "object", "car": "object", "tree": "object", "sky": "object",
    "fur": "material", "metal": "material", "wood": "material",
    "wheel": "part", "leg": "part",
    "green": "color", "red": "color",
}
GROUPS = {
    "animal": ["dog", "cat", "fur", "leg"],
    "vehicle": ["car", "wheel", "metal", "red"],
    "nature": ["tree", "wood", "green", "leg"],
}
UNITS = 64


def planted_models(per_group: int = 3, seed: int = 0) -> dict[str, list[tuple[str, float]]]:
    """Model display name -> per-unit (label, iou); deterministic."""
    rng = np.random.default_rng(seed)
    common = [c for c in CONCEPTS if c != "sky"]
    models = {}
    for group, favourite in GROUPS.items():
        for i in range(per_group):
            units = []
            for _ in range(UNITS):
                r = rng.random()
                if r < 0.6:
                    label, iou = favourite[rng.integers(len(favourite))], 0.05 + 0.1 * rng.random()
                elif r < 0.8:
                    label, iou = common[rng.integers(len(common))], 0.05 + 0.05 * rng.random()
                else:
                    label, iou = common[rng.integers(len(common))], 0.03 * rng.random()
                units.append((label, iou))
            models[f"{group.title()}Net{i + 1}"] = units
    blank = [("sky", 0.06)] * 3 + [("-", 0.01)] * (UNITS - 3)
    models["Blank"] = blank
    return models


def write_mustapha_profiles(path: Path, models=None) -> Path:
    """The seed paper's layout: ``,name,unit,iou,label,category`` with ``(R)`` suffixes."""
    models = models or planted_models()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["", "name", "unit", "iou", "label", "category"])
        row = 0
        for name, units in models.items():
            for unit, (label, iou) in enumerate(units):
                category = CONCEPTS.get(label, "object")
                writer.writerow([row, f"{name}(R)", unit, f"{iou:.6f}", label, category])
                row += 1
    return path


def write_tidy_benchmarks(path: Path, models=None) -> Path:
    """A tidy benchmark table where 'vehicle' models score high on 'cars' and low on 'pets'."""
    models = models or planted_models()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["model", "task", "dataset", "metric", "value", "higher_is_better"])
        for name, units in models.items():
            if name == "Blank":
                continue
            vehicle = sum(label in GROUPS["vehicle"] for label, _ in units) / len(units)
            animal = sum(label in GROUPS["animal"] for label, _ in units) / len(units)
            writer.writerow([name, "many-shot", "Cars", "top1-accuracy",
                             round(40 + 50 * vehicle, 3), "true"])
            writer.writerow([name, "many-shot", "Pets", "top1-accuracy",
                             round(40 + 50 * animal, 3), "true"])
            writer.writerow([name, "surface-normals", "NYUv2", "mean-angular-error",
                             round(30 - 5 * vehicle, 3), "false"])
    return path


def planted_warehouse(directory: Path) -> Path:
    """A warehouse holding the planted profiles and benchmarks, imported the way users do."""
    from lce.warehouse.importers import read_benchmarks, read_profiles
    from lce.warehouse.ingest import edit_atomically, insert_benchmarks, insert_profiles

    directory.mkdir(parents=True, exist_ok=True)
    profiles = read_profiles(write_mustapha_profiles(directory / "profiles.csv"), "mustapha")
    scores = read_benchmarks(write_tidy_benchmarks(directory / "scores.csv"), "tidy")
    db = directory / "lce.duckdb"
    edit_atomically(db, lambda con: insert_profiles(con, profiles))
    edit_atomically(db, lambda con: insert_benchmarks(con, scores))
    return db


# A name in two categories, as the seed paper's `food` (material and object): models A and C
# have material food, B object food, A and D both.
DUPLICATE_NAMES = """,name,unit,iou,label,category
0,A(R),0,0.10,food,material
1,A(R),1,0.12,food,material
2,A(R),2,0.09,food,object
3,A(R),3,0.08,dog,object
4,B(R),0,0.11,food,object
5,B(R),1,0.07,food,object
6,B(R),2,0.06,wood,material
7,C(R),0,0.10,food,material
8,C(R),1,0.10,dog,object
9,C(R),2,0.30,-,object
10,D(R),0,0.05,wood,material
11,D(R),1,0.05,food,object
12,D(R),2,0.06,food,material
"""

# Units (layer -> [(label, category, iou)]) of models A and B as dissected by the pipeline on
# probe "synthetic", beside their imported profiles on "places365-netpqc".
DISSECTED = {
    "resnet50-a": {"layer3": [("dog", "object", 0.2), ("sky", "object", 0.1), ("", "", 0.01)],
                   "layer4": [("dog", "object", 0.15), ("red", "color", 0.06)]},
    "resnet50-b": {"layer3": [("car", "object", 0.1)],
                   "layer4": [("car", "object", 0.2), ("sky", "object", 0.03)]},
}


def write_dissection(root: Path, model: str, layers: dict, probe: str = "synthetic"):
    """A ``dissect@<model>`` output (units.parquet, meta.json) with the given units."""
    from lce.contracts import UNITS
    from lce.io import write_json
    from lce.warehouse.build import DissectionResult

    rows = [dict(model=model, layer=layer, unit=unit, threshold=0.5, label=label,
                 category=category, iou=iou, interpretable=iou > 0.04 and bool(label))
            for layer, units in layers.items() for unit, (label, category, iou) in enumerate(units)]
    UNITS.write(UNITS.frame(rows), root / model / UNITS.artifact)
    write_json({"model": model, "arch": "tiny", "method": "random", "source": "random",
                "probe": probe}, root / model / "meta.json")
    return DissectionResult(root / model)


def duplicate_names_sources(directory: Path, dissected: bool = True):
    """Sources of a warehouse holding DUPLICATE_NAMES imported and (unless not ``dissected``)
    DISSECTED from the pipeline."""
    from lce.warehouse.build import Sources

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "profiles.csv").write_text(DUPLICATE_NAMES)
    results = [write_dissection(directory / "dissect", model, layers)
               for model, layers in DISSECTED.items()] if dissected else []
    return Sources(results=tuple(results), profile_imports=(
        {"path": str(directory / "profiles.csv"), "format": "mustapha"},))


def duplicate_names_warehouse(directory: Path, dissected: bool = True) -> Path:
    from lce.warehouse.build import build_warehouse

    return build_warehouse(directory / "lce.duckdb",
                           sources=duplicate_names_sources(directory, dissected))


# The seed paper's 13 compared models and its three categories (from its released data).
COMPARED = ["BYOL", "DeepClusterV2", "InfoMin", "InsDis", "MoCoV1", "MoCoV2", "PCLV1", "PCLV2",
            "PIRL", "SeLaV1", "SeLaV2", "Supervised", "SwAV"]
PAPER_GROUPS = [{"BYOL", "DeepClusterV2", "SeLaV2", "Supervised", "SwAV"},
                {"InfoMin", "MoCoV2", "PCLV1", "PCLV2", "SeLaV1"},
                {"InsDis", "MoCoV1", "PIRL"}]
