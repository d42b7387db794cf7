"""Where params meet the domain packages: every check of ``params.yaml`` that needs to know what
the code offers -- the probe generator's settings, registered models, the layers of an
architecture, import formats, dissection methods, dataset registries.

:mod:`lce.params` checks only the shape of ``params.yaml`` (sections, keys, types, ranges, paths)
and imports no domain package; this module depends on both, so the arrows point one way. The
``params`` stage runs :func:`validate_params` before any other stage: DVC deletes a stage's outputs
right before it runs the stage, so a mistake must end here, as one ``Error: params.yaml: ...``
line, before anything is deleted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lce.errors import LCEError
from lce.params import (
    PARAMS_FILE,
    BenchParams,
    DeepClusterRun,
    DissectParams,
    check_params,
    normalized_path,
    produced_checkpoints,
)


def check_dissect(settings: DissectParams, path=PARAMS_FILE) -> float:
    """The dissection method and its threshold quantile; returns the quantile in force."""
    from lce.dissect.methods import resolve_quantile

    return resolve_quantile(settings.method, settings.quantile, f"{path}: dissect")


def check_bench(settings: BenchParams, path=PARAMS_FILE) -> None:
    from lce.bench.datasets import BENCH_DATASETS

    for key in ("linear_datasets", "fewshot_datasets"):
        for name in getattr(settings, key):
            if name not in BENCH_DATASETS:
                raise LCEError(f"{path}: bench.{key}: unknown dataset {name!r}",
                               hint=f"known datasets: {', '.join(BENCH_DATASETS)}")


def check_runs(runs: dict[str, DeepClusterRun], path=PARAMS_FILE) -> None:
    from lce.data.labelled import dataset_problem

    for key, run in runs.items():
        if problem := dataset_problem(run.dataset, run.data_root, run.n_images):
            raise LCEError(f"{path}: deepcluster.runs.{key}.{problem[0]}: {problem[1]}")


def architecture(weights: str, produced: dict) -> tuple[str, dict]:
    """(architecture, constructor arguments) of the checkpoint a model reads: from its
    spec.json when it is there, else from the entry of the stage that will write it."""
    from lce.zoo.checkpoint import SPEC_FILE, CheckpointSpec
    from lce.zoo.registry import get_spec

    if (Path(weights) / SPEC_FILE).is_file():
        spec = CheckpointSpec.read(Path(weights))
        return spec.arch, spec.arch_kwargs
    entry = produced[normalized_path(weights)]
    if isinstance(entry, DeepClusterRun):
        from lce.train.trainer import arch_kwargs

        return entry.arch, arch_kwargs(entry, 3)  # layer names do not depend on the channels
    spec = get_spec(entry.zoo)
    return spec.arch, spec.arch_kwargs


def layer_names(arch: str, kwargs: dict) -> set[str]:
    """The module paths of an architecture, built on PyTorch's meta device: no weights are
    allocated or initialised, so even a large network takes milliseconds."""
    import torch

    from lce.zoo.architectures import build_architecture

    with torch.device("meta"):
        model = build_architecture(arch, **kwargs)
    return {name for name, _ in model.named_modules() if name}


def check_layers(key: str, layers: dict[str, str], arch: str, names: set[str],
                 path=PARAMS_FILE) -> None:
    """``layers``: setting (``layers[i]``, ``bench_layer``) -> layer name."""
    for setting, layer in layers.items():
        if layer not in names:
            parent = layer.rpartition(".")[0]
            near = sorted((n for n in names if n.rpartition(".")[0] == parent),
                          key=lambda n: [(0, int(p), "") if p.isdigit() else (1, 0, p)
                                         for p in n.split(".")])
            raise LCEError(f"{path}: models.{key}.{setting}: no layer {layer!r} in "
                           f"{arch}", hint="layers are paths of model.named_modules(), e.g. "
                                           + ", ".join(near[:12] or sorted(names)[:12]))


def validate_params(params: dict, path=PARAMS_FILE) -> dict[str, Any]:
    """:func:`lce.params.check_params`, then every check that needs the domain packages; returns
    the typed views."""
    from lce.probe.sets import check_probe_set
    from lce.warehouse.importers import BENCHMARK_FORMATS, PROFILE_FORMATS
    from lce.zoo.registry import get_spec

    views = check_params(params, path)
    for probe_set in views["probes"].values():
        check_probe_set(probe_set)
    for key, entry in views["fetch"].items():
        try:
            get_spec(entry.zoo)
        except LCEError as exc:
            raise LCEError(f"{path}: fetch.{key}.zoo: {exc}", hint=exc.hint) from None
    for kind, formats in (("profiles", PROFILE_FORMATS), ("benchmarks", BENCHMARK_FORMATS)):
        for i, entry in enumerate(views["imports"][kind]):
            if entry.get("format", "mustapha") not in formats:
                raise LCEError(f"{path}: imports.{kind}[{i}].format: must be one of "
                               f"{', '.join(formats)}, got {entry.get('format')!r}")
    check_dissect(views["dissect"], path)
    check_bench(views["bench"], path)
    runs, _ = views["deepcluster"]
    check_runs(runs, path)
    produced = produced_checkpoints(views["fetch"], runs)
    for key, model in views["models"].items():
        arch, kwargs = architecture(model.weights, produced)
        settings = {f"layers[{i}]": layer for i, layer in enumerate(model.layers)}
        check_layers(key, {**settings, "bench_layer": model.benchmark_layer}, arch,
                     layer_names(arch, kwargs), path)
    return views
