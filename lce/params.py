"""Typed views of ``params.yaml``, validated once, with errors that name the offending key.

Every stage reads its section through these functions, so a typo in ``params.yaml`` fails the
stage at once with ``Error: params.yaml: probe.n_images: ...`` instead of deep inside a run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from lce.conventions import IOU_CUTOFF
from lce.errors import LCEError

PARAMS_FILE = Path("params.yaml")
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# Where the stages that make checkpoints put them: fetch@<key> and train@<run>.
FETCH_ROOT, TRAIN_ROOT = Path("data/models"), Path("data/train")


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


# Where the probe stages write each probe set and its mask cache (probe@<name>, probe-cache@<name>).
PROBE_ROOT, PROBE_CACHE_ROOT = Path("data/probe"), Path("data/probe-cache")
# Where dissect@<model>-<probe> writes: data/dissect/<model>/<probe>/ (lce.dissect.artifact).
DISSECT_ROOT = Path("data/dissect")


@dataclass(frozen=True)
class SyntheticProbeParams:
    """A probe set of kind ``synthetic``: the generator's settings (:mod:`lce.probe.synthetic`
    takes its defaults from here). ``source`` is what ``probe@<name>`` depends on in DVC: for the
    generator its own code."""

    source: str = "lce/probe"
    n_images: int = 300
    image_size: int = 224
    seed: int = 0
    max_objects: int = 3
    # concept subsets of the synthetic generator (empty = all); see lce.probe.synthetic
    categories: tuple = ()
    objects: tuple = ()
    materials: tuple = ()
    colors: tuple = ()
    scenes: tuple = ()

    def validate(self, where: str) -> SyntheticProbeParams:
        if self.n_images < 1:
            raise LCEError(f"{where}.n_images: must be at least 1")
        if self.image_size < 32 or self.image_size % 2:
            raise LCEError(f"{where}.image_size: must be an even number >= 32")
        for key in ("categories", "objects", "materials", "colors", "scenes"):
            if not all(isinstance(name, str) for name in getattr(self, key)):
                raise LCEError(f"{where}.{key}: expected a list of names")
        return self


@dataclass(frozen=True)
class BrodenProbeParams:
    """A probe set of kind ``broden``: a Broden-format directory tracked by DVC (``dvc add
    data/<name>``, ``dvc import-url`` or ``dvc import``), optionally cut to the subset options of
    the probe commands (0, "" and empty mean "all")."""

    source: str = ""        # the Broden-format directory, e.g. data/broden1_224
    sample: int = 0         # a seeded sample of N images, kept in index order
    seed: int = 0
    split: str = ""         # only the rows of this split (index.csv's split column)
    categories: tuple = ()  # only these category columns

    def validate(self, where: str) -> BrodenProbeParams:
        if not self.source:
            raise LCEError(f"{where}.source: missing (the Broden-format directory, e.g. "
                           "data/broden1_224, tracked with `dvc add`)")
        if self.sample < 0:
            raise LCEError(f"{where}.sample: must be 0 (all images) or more")
        if not all(isinstance(name, str) for name in self.categories):
            raise LCEError(f"{where}.categories: expected a list of names")
        return self


@dataclass(frozen=True)
class SegmentedProbeParams:
    """A probe set of kind ``segmented`` (Dissect's way): an image folder tracked by DVC
    (ImageFolder or plain) labelled by a registered segmenter (:mod:`lce.segment`), images
    resized to 256 and centre-cropped to 224, masks at 56 px."""

    source: str = ""          # the image folder, e.g. data/places365_val
    segmenter: str = "netpqc"  # a key of lce.segment.registry.SEGMENTERS
    images: str = ""          # the image set's name in the identity; "": the folder's name
    files: str = ""           # local copies of the segmenter's files (<files>/<component>/...);
    #                           "": downloaded from the published URLs (sha256 recorded)
    scale: int = 1            # 1: the published network; >1: width-reduced (offline tests)
    batch_size: int = 16
    device: str = "auto"      # auto | cpu | cuda

    def validate(self, where: str) -> SegmentedProbeParams:
        if not self.source:
            raise LCEError(f"{where}.source: missing (the image folder, tracked with `dvc add`)")
        if self.scale < 1 or self.batch_size < 1:
            raise LCEError(f"{where}: scale and batch_size must be at least 1")
        if self.device not in ("auto", "cpu", "cuda"):
            raise LCEError(f"{where}.device: must be auto, cpu or cuda")
        return self


# The kinds of probe set: kind -> its settings. lce.probe.sets.BUILDERS holds the matching
# builder of each kind (the params layer imports no domain package); a new kind adds one entry
# to each.
PROBE_KINDS = {"synthetic": SyntheticProbeParams, "broden": BrodenProbeParams,
               "segmented": SegmentedProbeParams}


@dataclass(frozen=True)
class ProbeSet:
    """One entry of ``probes:``: its name (a stage key and a warehouse probe name), kind and
    settings."""

    name: str
    kind: str
    settings: Any

    @property
    def directory(self) -> Path:
        return PROBE_ROOT / self.name

    @property
    def cache(self) -> Path:
        return PROBE_CACHE_ROOT / self.name


@dataclass(frozen=True)
class FetchParams:
    key: str
    zoo: str
    seed: int = 0
    source: str = ""  # a local path or URL instead of the registered source
    sha256: str = ""  # pin the source file's sha256
    retries: int = 3


@dataclass(frozen=True)
class ModelParams:
    key: str
    weights: str
    layers: tuple[str, ...]
    bench_layer: str = ""  # the layer whose features bench@ scores; "" = the last of layers

    @property
    def benchmark_layer(self) -> str:
        return self.bench_layer or self.layers[-1]


@dataclass(frozen=True)
class DissectParams:
    quantile: float | None = None  # None (null): the method's own q (lce.dissect.methods)
    denominator: str = "netdissect"
    iou_cutoff: float = IOU_CUTOFF
    batch_size: int = 32
    device: str = "auto"
    method: str = "netdissect"
    null_seed: int = 0
    null_baseline: bool = True  # also tally each unit on shuffled images (null_iou)
    exemplars: int = 8
    concept_table: bool = True
    scratch: str = ""  # directory for the spilled activations; "" = the system's temp dir

    def validate(self, path=PARAMS_FILE) -> DissectParams:
        """Checked settings; the method and its quantile are the dissection's to check
        (:func:`lce.validation.check_dissect`)."""
        if self.denominator not in ("netdissect", "lite"):
            raise LCEError(f"{path}: dissect.denominator: must be 'netdissect' or 'lite'")
        if self.device not in ("auto", "cpu", "cuda"):
            raise LCEError(f"{path}: dissect.device: must be auto, cpu or cuda")
        if self.batch_size < 1:
            raise LCEError(f"{path}: dissect.batch_size: must be at least 1")
        if self.exemplars < 0:
            raise LCEError(f"{path}: dissect.exemplars: must be 0 or more")
        if self.scratch and not Path(self.scratch).is_dir():
            raise LCEError(f"{path}: dissect.scratch: {self.scratch} is not a directory")
        return self


def dissect_params(params: dict, path=PARAMS_FILE) -> DissectParams:
    """The ``dissect`` section; ``quantile`` may be null (or absent), hence read apart from the
    typed keys, whose types come from non-None defaults."""
    section = dict(_section(params, "dissect", path))
    quantile = section.pop("quantile", None)
    settings = typed_section(DissectParams, {"dissect": section}, "dissect", path)
    return replace(settings, quantile=quantile).validate(path)


def _keyed_entries(params: dict, section: str, allowed: set[str], path):
    """(key, entry, where) for each entry of a keyed section, with its key checked: a key names
    a DVC stage (``dissect@<key>``), a parameter (``models.<key>``) and a directory
    (``data/models/<key>``), so a dot breaks DVC's parameter lookup and a slash or ``..``
    would point the stage's output at another stage's directory."""
    for key, entry in _section(params, section, path).items():
        where = f"{path}: {section}.{key}"
        if not KEY_PATTERN.fullmatch(str(key)):
            if KEY_PATTERN.fullmatch(str(key).replace(".", "-")):
                raise LCEError(f"{where}: keys must not contain dots (DVC splits on them)")
            raise LCEError(f"{where}: keys may only hold letters, digits, '-' and '_' "
                           "(a key names a stage and a directory)")
        entry = {} if entry is None else entry
        if not isinstance(entry, dict):
            raise LCEError(f"{where}: expected a mapping")
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise LCEError(f"{where}.{unknown[0]}: unknown key",
                           hint=f"known keys: {', '.join(sorted(allowed))}")
        yield str(key), entry, where


def fetch_params(params: dict, path=PARAMS_FILE) -> dict[str, FetchParams]:
    """The ``fetch`` section: key -> registered zoo model (default: the key), seed of random
    weights, and optional source/sha256 overrides and download retries."""
    fetch = {}
    allowed = {"zoo", "seed", "source", "sha256", "retries"}
    for key, entry, where in _keyed_entries(params, "fetch", allowed, path):
        values = {name: _coerce(entry[name], type(getattr(FetchParams, name, "")),
                                f"{where}.{name}")
                  for name in allowed - {"zoo"} if name in entry}
        if values.get("retries", 0) < 0:
            raise LCEError(f"{where}.retries: must be at least 0")
        fetch[key] = FetchParams(key=key, zoo=_coerce(entry.get("zoo", key), str, f"{where}.zoo"),
                                 **values)
    return fetch


def model_params(params: dict, path=PARAMS_FILE) -> dict[str, ModelParams]:
    """The ``models`` section: the models to dissect, their checkpoint directory and layers, and
    optionally the layer their downstream benchmarks use (a per-model setting, so that changing
    it reruns only that model's ``bench@`` stage)."""
    models = {}
    for key, entry, where in _keyed_entries(params, "models", {"weights", "layers", "bench_layer"},
                                            path):
        layers = entry.get("layers")
        if not isinstance(layers, list) or not layers or not all(isinstance(x, str)
                                                                 for x in layers):
            raise LCEError(f"{where}.layers: expected a non-empty list of layer names")
        if "weights" not in entry:
            raise LCEError(f"{where}.weights: missing (the model's checkpoint directory, "
                           f"e.g. data/models/{key})")
        models[key] = ModelParams(key=key, weights=_coerce(entry["weights"], str,
                                                           f"{where}.weights"),
                                  layers=tuple(layers),
                                  bench_layer=_coerce(entry.get("bench_layer", ""), str,
                                                      f"{where}.bench_layer"))
    return models


def probe_sets(params: dict, path=PARAMS_FILE) -> dict[str, ProbeSet]:
    """The ``probes`` section: probe sets by name, each ``{kind, ...settings of its kind}``.

    A map rather than one active set switched by experiments, because teams compare one model
    across probe sets in one warehouse (synthetic and Broden side by side, each under its name).
    """
    sets = {}
    allowed = {"kind"} | {f.name for cls in PROBE_KINDS.values() for f in fields(cls)}
    for name, entry, where in _keyed_entries(params, "probes", allowed, path):
        kind = entry.get("kind")
        if kind not in PROBE_KINDS:
            raise LCEError(f"{where}.kind: must be one of {', '.join(PROBE_KINDS)}, got {kind!r}")
        settings = typed_section(PROBE_KINDS[kind],
                                 {f"probes.{name}": {k: v for k, v in entry.items()
                                                     if k != "kind"}},
                                 f"probes.{name}", path).validate(where)
        sets[name] = ProbeSet(name, kind, settings)
    if not sets:
        raise LCEError(f"{path}: probes: define at least one probe set")
    return sets


def dissect_on(params: dict, path=PARAMS_FILE) -> tuple[str, ...]:
    """``dissect_on``: the probe sets every model is dissected on (``dissect@<model>-<probe>``),
    names of ``probes``. DVC's ``matrix`` cannot filter a map, so the selection is an explicit
    list (the default file lists every set). The first is the build's reference probe set: the
    analysis population's default (``analysis.probe``), the report's exemplars and the summary."""
    known = probe_sets(params, path)
    names = params.get("dissect_on")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise LCEError(f"{path}: dissect_on: expected a non-empty list of probe set names",
                       hint=f"e.g. dissect_on: [{next(iter(known))}]")
    for i, name in enumerate(names):
        if name not in known:
            raise LCEError(f"{path}: dissect_on[{i}]: no probe set {name!r} in probes",
                           hint=f"probe sets: {', '.join(known)}")
        if name in names[:i]:
            raise LCEError(f"{path}: dissect_on[{i}]: {name!r} is listed twice")
    return tuple(names)


@dataclass(frozen=True)
class AnalysisParams:
    """The ``analysis`` section (stage ``analyze``); empty strings and 0 mean "not set"."""

    models: tuple = ()
    where: str = ""
    probe: str = ""
    iou_cutoff: float = IOU_CUTOFF
    normalise: str = "population"
    n_components: int = 3
    k: int = 0
    k_max: int = 10
    clustering: str = "kmeans"
    seed: int = 0
    bootstrap: int = 200   # unit-bootstrap replicates the report draws (lce.analysis.bootstrap)

    def validate(self, path=PARAMS_FILE) -> AnalysisParams:
        if self.normalise not in ("population", "compared", "raw", "proportion"):
            raise LCEError(f"{path}: analysis.normalise: must be population, compared, raw or "
                           "proportion")
        if self.clustering not in ("kmeans", "agglomerative"):
            raise LCEError(f"{path}: analysis.clustering: must be kmeans or agglomerative")
        if self.k < 0 or self.k_max < 1 or self.n_components < 1:
            raise LCEError(f"{path}: analysis: k must be >= 0 (0 = elbow), k_max and "
                           "n_components >= 1")
        if self.bootstrap < 0:
            raise LCEError(f"{path}: analysis.bootstrap: must be >= 0 (0 = no bootstrap)")
        if not all(isinstance(m, str) for m in self.models):
            raise LCEError(f"{path}: analysis.models: expected a list of model names")
        return self


@dataclass(frozen=True)
class ReportParams:
    exemplar_units: int = 4     # units per dissected model shown with exemplar strips
    exemplar_images: int = 5    # top images per unit
    landscapes: int = 4         # benchmark columns drawn as performance landscapes

    def validate(self, path=PARAMS_FILE) -> ReportParams:
        if min(self.exemplar_units, self.exemplar_images, self.landscapes) < 0:
            raise LCEError(f"{path}: report: counts must be >= 0")
        return self


def analysis_params(params: dict, path=PARAMS_FILE) -> AnalysisParams:
    return typed_section(AnalysisParams, params, "analysis", path).validate(path)


def report_params(params: dict, path=PARAMS_FILE) -> ReportParams:
    return typed_section(ReportParams, params, "report", path).validate(path)


def import_params(params: dict, path=PARAMS_FILE) -> dict[str, tuple[dict, ...]]:
    """The ``imports`` section: ``profiles`` and ``benchmarks`` lists of ``{path, format, ...}``
    (paths relative to the repository root)."""
    section = params.get("imports") or {}
    if not isinstance(section, dict):
        raise LCEError(f"{path}: imports: expected a mapping with profiles/benchmarks lists")
    allowed = {"profiles": {"path", "format", "model", "layer"},
               "benchmarks": {"path", "format"}}
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        raise LCEError(f"{path}: imports.{unknown[0]}: unknown key",
                       hint="known keys: profiles, benchmarks")
    result = {}
    for kind, keys in allowed.items():
        entries = section.get(kind) or []
        if not isinstance(entries, list):
            raise LCEError(f"{path}: imports.{kind}: expected a list")
        for i, entry in enumerate(entries):
            where = f"{path}: imports.{kind}[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise LCEError(f"{where}: expected a mapping with a 'path'")
            if extra := sorted(set(entry) - keys):
                raise LCEError(f"{where}.{extra[0]}: unknown key",
                               hint=f"known keys: {', '.join(sorted(keys))}")
        result[kind] = tuple(entries)
    return result


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

    def validate(self, path=PARAMS_FILE) -> BenchParams:
        where = f"{path}: bench"
        for key in ("c_grid", "box_alphas"):
            values = getattr(self, key)
            if not values or not all(isinstance(v, int | float) and v > 0 for v in values):
                raise LCEError(f"{where}.{key}: expected a non-empty list of positive numbers")
        if list(self.c_grid) != sorted(self.c_grid):
            raise LCEError(f"{where}.c_grid: must be ascending (ties go to the first C)")
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
    """The ``bench`` section (the layer each model is scored at is ``models.<key>.bench_layer``)."""
    bench = typed_section(BenchParams, params, "bench", path).validate(path)
    return replace(bench, c_grid=tuple(map(float, bench.c_grid)),
                   box_alphas=tuple(map(float, bench.box_alphas)))


@dataclass(frozen=True)
class DeepClusterRun:
    """One training run (``deepcluster.defaults`` overridden by its ``deepcluster.runs`` entry).

    The knobs are those of "A Deep Dive into Deep Cluster": K, PCA size, k-means iterations and
    the fraction it is fitted on, halting the re-clustering, SGD settings, batch norm, Sobel input
    and the seed of the random initial filters.
    """

    key: str = ""
    method: str = "deepcluster"  # deepcluster | supervised | random (same data, same arch)
    dataset: str = "mnist5k"  # a name of lce.data.labelled.DATASETS
    data_root: str = ""  # root of a torchvision-format dataset
    n_images: int = 0  # 0 = all (synthetic: how many to generate, required)
    synthetic_label: str = "scene"  # synthetic split's class: scene | object (its largest one)
    image_size: int = 32
    holdout: float = 0.2  # held-out fraction for the linear probe
    data_seed: int = 0
    arch: str = "lenet"  # lenet | small_alexnet | small_resnet
    width: int = 32  # base width of small_alexnet / small_resnet
    sobel: bool = False
    batch_norm: bool = False
    k: int = 10
    pca_dims: int = 32  # 0 = no PCA
    kmeans_iter: int = 20
    kmeans_fraction: float = 1.0  # fit k-means on this fraction, then assign all points
    kmeans_backend: str = "sklearn"  # sklearn | faiss (only when asked: it changes results)
    cycles: int = 5
    halt_clustering: int = 0  # from this cycle on keep the last pseudo-labels; 0 = never
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-5
    batch_size: int = 64
    seed: int = 0  # seed of the random initial filters (and of the training order)
    labelled: int = 500  # size of the labelled subset the cheap selection signals use

    def validate(self, where: str) -> DeepClusterRun:
        checks = [
            (self.method in ("deepcluster", "supervised", "random"), "method",
             "must be deepcluster, supervised or random"),
            (self.synthetic_label in ("scene", "object"), "synthetic_label",
             "must be scene or object"),
            (self.arch in ("lenet", "small_alexnet", "small_resnet"), "arch",
             "must be lenet, small_alexnet or small_resnet"),
            (self.image_size >= 16, "image_size", "must be at least 16"),
            (0 < self.holdout < 1, "holdout", "must be in (0, 1)"),
            (self.k >= 2, "k", "must be at least 2"),
            (self.pca_dims >= 0, "pca_dims", "must be >= 0 (0 = no PCA)"),
            (self.kmeans_iter >= 1, "kmeans_iter", "must be at least 1"),
            (0 < self.kmeans_fraction <= 1, "kmeans_fraction", "must be in (0, 1]"),
            (self.kmeans_backend in ("sklearn", "faiss"), "kmeans_backend",
             "must be sklearn or faiss"),
            (self.cycles >= 1 or self.method == "random", "cycles", "must be at least 1"),
            (self.halt_clustering >= 0, "halt_clustering", "must be >= 0 (0 = never)"),
            (self.lr > 0 and 0 <= self.momentum < 1 and self.weight_decay >= 0, "lr",
             "lr must be > 0, momentum in [0, 1), weight_decay >= 0"),
            (self.batch_size >= 2 and self.width >= 4 and self.labelled >= 10, "batch_size",
             "batch_size must be >= 2, width >= 4, labelled >= 10"),
        ]
        for ok, key, message in checks:
            if not ok:
                raise LCEError(f"{where}.{key}: {message}")
        return self


@dataclass(frozen=True)
class DeepClusterStudy:
    """The study stage: which K the random-filter quality is measured for, and the selection."""

    ks: tuple = (5, 10, 20, 50, 100)
    early_cycle: int = 1  # cycle whose pseudo-label NMI is the early selection signal


def deepcluster_runs(params: dict, path=PARAMS_FILE) -> dict[str, DeepClusterRun]:
    """``deepcluster.runs``: each entry overrides ``deepcluster.defaults`` (typed, validated)."""
    section = _section(params, "deepcluster", path)
    defaults = typed_section(DeepClusterRun, {"deepcluster.defaults": section.get("defaults")},
                             "deepcluster.defaults", path)
    known = {f.name for f in fields(DeepClusterRun)} - {"key"}
    runs = {}
    for key, entry, where in _keyed_entries({"deepcluster.runs": section.get("runs")},
                                            "deepcluster.runs", known, path):
        values = {name: _coerce(value, type(getattr(defaults, name)), f"{where}.{name}")
                  for name, value in entry.items()}
        runs[key] = replace(defaults, key=key, **values).validate(where)
    return runs


def deepcluster_study(params: dict, path=PARAMS_FILE) -> DeepClusterStudy:
    section = _section(params, "deepcluster", path)
    study = typed_section(DeepClusterStudy, {"deepcluster.study": section.get("study", {})},
                          "deepcluster.study", path)
    if not study.ks or not all(isinstance(k, int) and k >= 2 for k in study.ks):
        raise LCEError(f"{path}: deepcluster.study.ks: expected a list of integers >= 2")
    return study


def normalized_path(path: str) -> str:
    """``path`` as the pipeline spells its outputs: ``data/models/x``, not ``./data/models/x/``."""
    return Path(os.path.normpath(path)).as_posix()


def produced_checkpoints(fetch: dict[str, FetchParams], runs: dict[str, DeepClusterRun]
                         ) -> dict[str, FetchParams | DeepClusterRun]:
    """The checkpoint directories the pipeline's own stages write (``fetch@<key>`` and
    ``train@<run>``, see dvc.yaml), by normalized path, with the entry that makes each."""
    return {**{(FETCH_ROOT / key).as_posix(): entry for key, entry in fetch.items()},
            **{(TRAIN_ROOT / key / "model").as_posix(): run for key, run in runs.items()}}


def _deepcluster(params: dict, path) -> tuple[dict[str, DeepClusterRun], DeepClusterStudy]:
    return deepcluster_runs(params, path), deepcluster_study(params, path)


# Every section of params.yaml and its reader; check_params rejects any other section.
READERS = {"probes": probe_sets, "dissect_on": dissect_on, "fetch": fetch_params,
           "models": model_params, "dissect": dissect_params, "imports": import_params,
           "analysis": analysis_params, "report": report_params, "bench": bench_params,
           "deepcluster": _deepcluster}


def check_params(params: dict, path=PARAMS_FILE) -> dict[str, Any]:
    """Read and check every section of ``params.yaml`` and the files it names; return the
    typed view of each section (``deepcluster``: its runs and its study settings).

    The ``params`` stage runs this before any other stage (all of them are downstream of it),
    because DVC deletes a stage's outputs before running the stage: a typo caught inside the
    stage would already have cost its previous results. A checkpoint directory must be one a
    stage writes or one that is already there; imported files must exist.
    """
    unknown = sorted(set(params) - set(READERS), key=str)
    if unknown:
        raise LCEError(f"{path}: {unknown[0]}: unknown section",
                       hint=f"known sections: {', '.join(READERS)}")
    views = {name: read(params, path) for name, read in READERS.items()}
    runs, _ = views["deepcluster"]
    produced = produced_checkpoints(views["fetch"], runs)
    for key, model in views["models"].items():
        weights = normalized_path(model.weights)
        if weights not in produced and not (Path(weights) / "spec.json").is_file():
            raise LCEError(f"{path}: models.{key}.weights: {model.weights} is no checkpoint "
                           "directory (model.pt + spec.json), and no stage writes it",
                           hint=f"fetch@<key> writes {FETCH_ROOT}/<key> and train@<run> "
                                f"{TRAIN_ROOT}/<run>/model; add the model to fetch: or "
                                "deepcluster.runs:")
    for kind, entries in views["imports"].items():
        for i, entry in enumerate(entries):
            if not Path(entry["path"]).is_file():
                raise LCEError(f"{path}: imports.{kind}[{i}].path: {entry['path']}: file not "
                               "found")
    for key, run in runs.items():
        if run.data_root and not Path(run.data_root).is_dir():
            raise LCEError(f"{path}: deepcluster.runs.{key}.data_root: {run.data_root} is not "
                           "a directory")
    return views
