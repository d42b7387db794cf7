"""Named configurations: the ``params.yaml`` entries that turn the default build into a published
experiment, written by ``lce preset NAME`` so that one command line runs it
(``lce preset seed-paper --images data/places365_val && dvc repro``).

Why entries merged into ``params.yaml`` rather than a second params file: DVC reads one params
file, and a preset that replaced it whole would restate every default. The entries are merged
into the file by a round trip that keeps its comments and order, so every other setting keeps its
documented value, and ``dvc repro`` reruns only what they change. Nothing here is stated a second
time: the probe-set identity comes from :mod:`lce.analysis.identity`, each model's checkpoint
from the zoo registry (:mod:`lce.zoo.registry`, by its published name), and the merged file is
checked by :func:`lce.params.check_params` before it replaces the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lce.analysis.identity import SEED_PAPER, SEED_PAPER_PROBE
from lce.errors import LCEError
from lce.params import FETCH_ROOT

# The 13 ResNet-50s the seed paper compares (its figures and categories), by published name; its
# 20 released profiles add epoch and multi-crop variants (`lce zoo list` has them too).
SEED_PAPER_MODELS = ("BYOL", "DeepClusterV2", "InfoMin", "InsDis", "MoCoV1", "MoCoV2", "PCLV1",
                     "PCLV2", "PIRL", "SeLaV1", "SeLaV2", "Supervised", "SwAV")
SEED_PAPER_LAYER = "layer4"
MODEL_SUFFIX = "-lce"  # our dissection of `MoCoV2` is `mocov2-lce`; the published keeps its name


@dataclass(frozen=True)
class SeedPaperOptions:
    """What the seed paper's configuration needs from this machine."""

    images: str                       # the image folder (Places365 val), tracked with `dvc add`
    profiles: str = ""                # the published per-unit profiles CSV ("": not imported)
    benchmarks: str = ""              # the published benchmark table ("": not imported)
    models: tuple[str, ...] = SEED_PAPER_MODELS  # published names (or zoo keys) to dissect
    sources: dict[str, str] = field(default_factory=dict)  # model -> local checkpoint file
    segmenter_files: str = ""         # local copies of the segmenter's files ("": downloaded)
    scale: int = 1                    # >1: a width-reduced segmenter (offline tests only)
    device: str = "auto"


def dissection_key(name: str) -> str:
    """The key of our dissection of a published model: ``MoCoV2`` -> ``mocov2-lce``."""
    return name.lower().replace(".", "") + MODEL_SUFFIX


def seed_paper_entries(options: SeedPaperOptions, dissect_on=()) -> dict[tuple[str, ...], object]:
    """The entries (path of keys -> value) of the seed paper's experiment (docs/DESIGN.md §6):
    Places365 val labelled by Dissect's segmenter, every model fetched from its published file
    and dissected at layer4 with method dissect and q = 0.01, the published profiles and
    benchmarks imported, the analysis on the paper's 13 published models.

    ``dissect_on``: the probe sets the build dissects on now; the paper's is added after them,
    so the first stays the reference set of the benchmarks' dense tasks and the exemplars (the
    analysis is told its probe set explicitly)."""
    from lce.zoo.registry import get_spec, key_for_name

    unknown = sorted(set(options.sources) - set(options.models))
    if unknown:
        raise LCEError(f"--source {unknown[0]}: not one of the models to dissect",
                       hint=f"models: {', '.join(options.models)}")
    entries: dict[tuple[str, ...], object] = {}
    for name in options.models:
        spec = get_spec(key_for_name(name) or name)  # unknown: an LCEError with suggestions
        fetch = {"zoo": spec.key}
        if name in options.sources:
            fetch["source"] = options.sources[name]
        elif spec.needs:
            raise LCEError(f"{name}: the published checkpoint cannot be loaded as it is: "
                           f"{spec.needs}", hint=f"give the converted file as --source "
                                                 f"{name}=FILE, or leave {name} out with --models")
        key = dissection_key(name)
        entries[("fetch", key)] = fetch
        entries[("models", key)] = {"weights": str(FETCH_ROOT / key), "layers": [SEED_PAPER_LAYER]}
    probe = {"kind": "segmented", "source": options.images, "segmenter": SEED_PAPER.labeller,
             "images": SEED_PAPER.images, "device": options.device}
    if options.segmenter_files:
        probe["files"] = options.segmenter_files
    if options.scale != 1:
        probe["scale"] = options.scale
    entries[("probes", SEED_PAPER_PROBE)] = probe
    entries[("dissect_on",)] = [*(p for p in dissect_on if p != SEED_PAPER_PROBE),
                                SEED_PAPER_PROBE]
    entries[("dissect", "method")] = SEED_PAPER.method
    entries[("dissect", "quantile")] = SEED_PAPER.quantile
    entries[("dissect", "null_baseline")] = False  # Dissect computes none; it doubles the tally
    for kind, path in (("profiles", options.profiles), ("benchmarks", options.benchmarks)):
        if path:
            entries[("imports", kind)] = [{"path": path, "format": "mustapha"}]
    entries[("analysis", "probe")] = SEED_PAPER_PROBE
    entries[("analysis", "models")] = list(SEED_PAPER_MODELS)
    return entries


def apply_entries(path: str | Path, entries: dict[tuple[str, ...], object]) -> list[str]:
    """Merge ``entries`` into the params file at ``path`` (comments and order kept; a mapping
    entry such as one model is written on one line), check the result as the ``params`` stage
    would, and replace the file atomically. Returns the dotted keys set, in order."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    from lce.io import atomic_path
    from lce.params import check_params, load_params

    path = Path(path)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a line; params.yaml round-trips unchanged (tested)
    yaml.representer.add_representer(  # `quantile: null` stays null, not an empty value
        type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    try:
        document = yaml.load(path.read_text()) if path.is_file() else None
    except Exception as error:  # ruamel's own parser errors: report the file, not a traceback
        raise LCEError(f"{path}: not valid YAML ({type(error).__name__})") from None
    if not isinstance(document, dict):
        raise LCEError(f"{path}: not a params file (expected a mapping of sections)")

    def flow(value):
        if isinstance(value, dict):
            mapping = CommentedMap((k, flow(v)) for k, v in value.items())
            mapping.fa.set_flow_style()
            return mapping
        if isinstance(value, list):
            sequence = CommentedSeq(flow(v) for v in value)
            sequence.fa.set_flow_style()
            return sequence
        return value

    for keys, value in entries.items():
        section = document
        for i, key in enumerate(keys[:-1]):
            if not isinstance(section.get(key), dict):
                if key in section and section[key] is not None:
                    raise LCEError(f"{path}: {'.'.join(keys[:i + 1])}: expected a mapping")
                section[key] = CommentedMap()
            section = section[key]
        section[keys[-1]] = flow(value)
    text = io.StringIO()
    yaml.dump(document, text)
    with atomic_path(path) as tmp:
        tmp.write_text(text.getvalue())
        check_params(load_params(tmp), path)  # a refused file never replaces the old one
    return [".".join(keys) for keys in entries]
