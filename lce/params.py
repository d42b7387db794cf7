"""Typed views of ``params.yaml``, validated once, with errors that name the offending key.

Every stage reads its section through these functions, so a typo in ``params.yaml`` fails the
stage at once with ``Error: params.yaml: probe.n_images: ...`` instead of deep inside a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from lce.errors import LCEError

PARAMS_FILE = Path("params.yaml")


def load_params(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise LCEError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise LCEError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise LCEError(f"{path}: top level must be a mapping of sections")
    return data


def _section(params: dict, name: str, path) -> dict:
    section = params.get(name)
    if not isinstance(section, dict):
        raise LCEError(f"{path}: missing or invalid section {name!r}")
    return section


def _coerce(value, kind, where: str):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list):
        return tuple(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise LCEError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value


def typed_section(cls, params: dict, name: str, path=PARAMS_FILE):
    """Build dataclass ``cls`` from section ``name``; unknown keys and wrong types are errors."""
    section = _section(params, name, path)
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise LCEError(f"{path}: {name}.{unknown[0]}: unknown key",
                       hint=f"known keys: {', '.join(known)}")
    values = {}
    for key, value in section.items():
        values[key] = _coerce(value, type(known[key].default), f"{path}: {name}.{key}")
    return cls(**values)


@dataclass(frozen=True)
class ProbeParams:
    name: str = "synthetic"
    n_images: int = 300
    image_size: int = 224
    seed: int = 0
    max_objects: int = 3

    def validate(self, path=PARAMS_FILE) -> ProbeParams:
        if self.n_images < 1:
            raise LCEError(f"{path}: probe.n_images: must be at least 1")
        if self.image_size < 32 or self.image_size % 2:
            raise LCEError(f"{path}: probe.image_size: must be an even number >= 32")
        return self


@dataclass(frozen=True)
class FetchParams:
    key: str
    zoo: str
    seed: int = 0


@dataclass(frozen=True)
class ModelParams:
    key: str
    weights: str
    layers: tuple[str, ...]


@dataclass(frozen=True)
class DissectParams:
    quantile: float = 0.005
    denominator: str = "netdissect"
    iou_cutoff: float = 0.04
    batch_size: int = 32
    device: str = "auto"

    def validate(self, path=PARAMS_FILE) -> DissectParams:
        if not 0 < self.quantile < 1:
            raise LCEError(f"{path}: dissect.quantile: must be in (0, 1)")
        if self.denominator not in ("netdissect", "lite"):
            raise LCEError(f"{path}: dissect.denominator: must be 'netdissect' or 'lite'")
        if self.device not in ("auto", "cpu", "cuda"):
            raise LCEError(f"{path}: dissect.device: must be auto, cpu or cuda")
        return self


def probe_params(params: dict, path=PARAMS_FILE) -> ProbeParams:
    return typed_section(ProbeParams, params, "probe", path).validate(path)


def dissect_params(params: dict, path=PARAMS_FILE) -> DissectParams:
    return typed_section(DissectParams, params, "dissect", path).validate(path)


def _keyed_entries(params: dict, section: str, allowed: set[str], path):
    """(key, entry, where) for each entry of a keyed section, with dot-free keys checked."""
    for key, entry in _section(params, section, path).items():
        where = f"{path}: {section}.{key}"
        if "." in str(key):
            raise LCEError(f"{where}: keys must not contain dots (DVC splits on them)")
        entry = {} if entry is None else entry
        if not isinstance(entry, dict):
            raise LCEError(f"{where}: expected a mapping")
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise LCEError(f"{where}.{unknown[0]}: unknown key",
                           hint=f"known keys: {', '.join(sorted(allowed))}")
        yield str(key), entry, where


def fetch_params(params: dict, path=PARAMS_FILE) -> dict[str, FetchParams]:
    """The ``fetch`` section: key -> registered zoo model (default: the key) and seed."""
    return {
        key: FetchParams(key=key, zoo=_coerce(entry.get("zoo", key), str, f"{where}.zoo"),
                         seed=_coerce(entry.get("seed", 0), int, f"{where}.seed"))
        for key, entry, where in _keyed_entries(params, "fetch", {"zoo", "seed"}, path)
    }


def model_params(params: dict, path=PARAMS_FILE) -> dict[str, ModelParams]:
    """The ``models`` section: the models to dissect, their checkpoint directory and layers."""
    models = {}
    for key, entry, where in _keyed_entries(params, "models", {"weights", "layers"}, path):
        layers = entry.get("layers")
        if not isinstance(layers, list) or not layers or not all(isinstance(x, str)
                                                                 for x in layers):
            raise LCEError(f"{where}.layers: expected a non-empty list of layer names")
        if "weights" not in entry:
            raise LCEError(f"{where}.weights: missing (the model's checkpoint directory, "
                           f"e.g. data/models/{key})")
        models[key] = ModelParams(key=key, weights=_coerce(entry["weights"], str,
                                                           f"{where}.weights"),
                                  layers=tuple(layers))
    return models


@dataclass(frozen=True)
class BenchParams:
    """The ``bench`` section: protocols of the measured downstream benchmarks (lce.bench)."""

    seed: int = 0
    device: str = "auto"
    threads: int = 1              # CPU threads for torch and BLAS; 0 = the libraries' default
    batch_size: int = 64
    input_size: int = 64          # small classification images are resized to this
    max_images: int = 2000        # seeded stratified subset of each classification dataset
    synthetic_images: int = 1000  # images drawn for the synthetic-* datasets
    test_fraction: float = 0.3
    val_fraction: float = 0.2
    c_grid: tuple = (0.001, 0.01, 0.1, 1.0)  # logistic-regression C, ascending
    linear_datasets: tuple = ("mnist5k", "animals", "digits", "synthetic-scenes")
    fewshot_datasets: tuple = ("mnist5k", "animals")
    ways: int = 5
    shots: tuple = (1, 5, 20)
    queries: int = 15
    episodes: int = 600
    dense_categories: tuple = ("object", "material")
    label_size: int = 56          # dense labels and predictions are compared at this size
    pixels_per_image: int = 32    # sampled training pixels per probe image
    box_grid: int = 3             # localization pools the feature map to grid x grid
    box_alphas: tuple = (1.0, 10.0, 100.0, 1000.0)
    layers: dict = field(default_factory=dict)  # model key -> layer; default: its last layer

    def layer_for(self, model: ModelParams) -> str:
        return self.layers.get(model.key, model.layers[-1])

    def validate(self, path=PARAMS_FILE) -> BenchParams:
        from lce.bench.datasets import LOADERS

        where = f"{path}: bench"
        for key in ("c_grid", "box_alphas"):
            values = getattr(self, key)
            if not values or not all(isinstance(v, int | float) and v > 0 for v in values):
                raise LCEError(f"{where}.{key}: expected a non-empty list of positive numbers")
        if list(self.c_grid) != sorted(self.c_grid):
            raise LCEError(f"{where}.c_grid: must be ascending (ties go to the first C)")
        for key in ("linear_datasets", "fewshot_datasets"):
            for name in getattr(self, key):
                if name not in LOADERS:
                    raise LCEError(f"{where}.{key}: unknown dataset {name!r}",
                                   hint=f"known datasets: {', '.join(LOADERS)}")
        if not self.shots or not all(isinstance(k, int) and k >= 1 for k in self.shots):
            raise LCEError(f"{where}.shots: expected a non-empty list of positive integers")
        if not (self.test_fraction > 0 and self.val_fraction > 0
                and self.test_fraction + self.val_fraction < 1):
            raise LCEError(f"{where}: test_fraction and val_fraction must be positive and sum "
                           "to less than 1")
        if self.threads < 0:
            raise LCEError(f"{where}.threads: must be 0 (library default) or more")
        for key in ("batch_size", "input_size", "max_images", "synthetic_images", "ways",
                    "queries", "episodes", "label_size", "pixels_per_image", "box_grid"):
            if getattr(self, key) < 1:
                raise LCEError(f"{where}.{key}: must be at least 1")
        if self.device not in ("auto", "cpu", "cuda"):
            raise LCEError(f"{where}.device: must be auto, cpu or cuda")
        return self


def bench_params(params: dict, path=PARAMS_FILE) -> BenchParams:
    """The ``bench`` section; ``layers`` maps model keys to the layer whose features are used."""
    section = dict(_section(params, "bench", path))
    layers = section.pop("layers", None) or {}
    if not isinstance(layers, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in layers.items()):
        raise LCEError(f"{path}: bench.layers: expected a mapping of model key to layer name")
    bench = typed_section(BenchParams, {"bench": section}, "bench", path)
    bench = replace(bench, layers=layers).validate(path)
    return replace(bench, c_grid=tuple(map(float, bench.c_grid)),
                   box_alphas=tuple(map(float, bench.box_alphas)))
