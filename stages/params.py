"""DVC stage `params`: check all of params.yaml before any other stage runs.

DVC deletes a stage's outputs right before it runs the stage's command, so a params mistake that
the stage itself reports (an unknown layer, a checkpoint directory nobody writes) has already
cost the stage's previous results. Every stage is downstream of this one (the pipeline's first
stages depend on its output) and DVC runs no stage whose upstream failed: a mistake ends here,
as one ``Error: params.yaml: ...`` line, before DVC has deleted anything.

The output is a constant marker: its bytes never change, so editing params reruns this check and
then only the stages whose own params changed, and the run-cache is shared as before. This is
where params meet the domain packages (concept names of the probe, layers of architectures,
registered models, import formats), which ``lce.params`` itself does not import.
"""

import sys
from pathlib import Path

from lce.errors import LCEError
from lce.io import atomic_path
from lce.params import (
    PARAMS_FILE,
    DeepClusterRun,
    check_params,
    load_params,
    normalized_path,
    produced_checkpoints,
)
from lce.stage import stage_main

OUTPUT = Path("data/params.ok")
MARKER = "params.yaml passed the checks of the params stage\n"


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


def check_layers(key: str, layers: dict[str, str], arch: str, names: set[str]) -> None:
    """``layers``: setting (``layers``, ``bench_layer``) -> layer name."""
    for setting, layer in layers.items():
        if layer not in names:
            parent = layer.rpartition(".")[0]
            near = sorted((n for n in names if n.rpartition(".")[0] == parent),
                          key=lambda n: [(0, int(p), "") if p.isdigit() else (1, 0, p)
                                         for p in n.split(".")])
            raise LCEError(f"{PARAMS_FILE}: models.{key}.{setting}: no layer {layer!r} in "
                           f"{arch}", hint="layers are paths of model.named_modules(), e.g. "
                                           + ", ".join(near[:12] or sorted(names)[:12]))


@stage_main
def main() -> None:
    from lce.probe.synthetic import config_from_params
    from lce.warehouse.importers import BENCHMARK_FORMATS, PROFILE_FORMATS
    from lce.zoo.registry import get_spec

    views = check_params(load_params())
    for training in (False, True):
        config_from_params(views["probe"], training=training)
    for key, entry in views["fetch"].items():
        try:
            get_spec(entry.zoo)
        except LCEError as exc:
            raise LCEError(f"{PARAMS_FILE}: fetch.{key}.zoo: {exc}", hint=exc.hint) from None
    for kind, formats in (("profiles", PROFILE_FORMATS), ("benchmarks", BENCHMARK_FORMATS)):
        for i, entry in enumerate(views["imports"][kind]):
            if entry.get("format", "mustapha") not in formats:
                raise LCEError(f"{PARAMS_FILE}: imports.{kind}[{i}].format: must be one of "
                               f"{', '.join(formats)}, got {entry.get('format')!r}")
    runs, _ = views["deepcluster"]
    produced = produced_checkpoints(views["fetch"], runs)
    for key, model in views["models"].items():
        arch, kwargs = architecture(model.weights, produced)
        settings = {f"layers[{i}]": layer for i, layer in enumerate(model.layers)}
        check_layers(key, {**settings, "bench_layer": model.benchmark_layer}, arch,
                     layer_names(arch, kwargs))
    with atomic_path(OUTPUT) as tmp:
        tmp.write_text(MARKER)


if __name__ == "__main__":
    sys.exit(main())
