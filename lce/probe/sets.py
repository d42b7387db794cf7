"""Probe sets of ``params.yaml``: what each kind builds into ``data/probe/<name>/`` and how the
dissection opens it.

``KINDS`` is the one dispatch over kinds: kind -> (builder, reader subset). The kind's settings
dataclass lives beside the others in :data:`lce.params.PROBE_KINDS` (the params layer imports no
domain package); a new kind adds one entry to each. Every builder writes a Broden-format
directory atomically and validates what it writes from, so a broken probe set fails its
``probe@<name>`` stage -- before any model is dissected -- with the probe set's name, the file and
the row in one line.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lce.errors import LCEError
from lce.params import BrodenProbeParams, ProbeSet, SyntheticProbeParams


def _bar(total: int, description: str):
    from lce.progress import progress

    bar = progress()
    return bar, bar.add_task(description, total=total)


def build_synthetic(settings: SyntheticProbeParams, out: Path, where: str) -> None:
    """Generate the synthetic probe set (:mod:`lce.probe.synthetic`)."""
    from lce.probe.synthetic import config_from_params, generate

    config = config_from_params(settings, where)
    bar, task = _bar(config.n_images, "probe images")
    with bar:
        generate(out, config, on_image=lambda: bar.advance(task))


def build_broden(settings: BrodenProbeParams, out: Path, where: str) -> None:
    """Validate a Broden-format directory (or its row subset: ``split``, ``sample``) and copy the
    tables and every file its selected rows name, keeping their subfolders (``ade20k/``,
    ``dtd/``, ...). Rows are independent, so the copy reads exactly like the subset of the
    source; a *category* subset is applied when the set is opened (:func:`open_probe_set`),
    because a label's primary category is decided over every category's ``c_*`` file."""
    from lce.io import atomic_directory
    from lce.probe.validate import validate

    probe = open_broden_source(settings, where)
    bar, task = _bar(len(probe), "validate")
    with bar:
        validate(probe, on_image=lambda i: bar.advance(task))
    source = Path(settings.source)
    with atomic_directory(out, inputs=[source]) as tmp:
        for table in sorted(source.glob("*.csv")):
            if table.name != "index.csv":
                shutil.copyfile(table, tmp / table.name)
        _write_index(probe, tmp / "index.csv")
        for rec in probe.records:
            image_level = probe.image_level
            for rel in (rec.image, *(rel for c, cell in rec.cells.items()
                                     if c not in image_level for rel in cell)):
                target = tmp / "images" / rel
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source / "images" / rel, target)


def open_broden_source(settings: BrodenProbeParams, where: str = ""):
    """The source directory of a ``broden`` probe set with its subset (checks the split, the
    category columns and the sample size against its index.csv)."""
    from lce.probe.broden import BrodenProbe

    if not Path(settings.source).is_dir():
        raise LCEError(f"{where}.source: {settings.source} is not a directory",
                       hint=f"get it and track it: `dvc add {settings.source}` (or `dvc "
                            f"import-url URL {settings.source}`), or `dvc pull` a teammate's copy")
    return BrodenProbe(settings.source, split=settings.split or None,
                       sample=settings.sample or None, seed=settings.seed,
                       categories=settings.categories or None)


def _check_synthetic(settings: SyntheticProbeParams, where: str) -> None:
    from lce.probe.synthetic import config_from_params

    config_from_params(settings, where)


def _write_index(probe, path: Path) -> None:
    """The selected rows of the source's ``index.csv``, with the cells of unselected category
    columns emptied (their files are not copied; the columns stay, and so do the ``c_*`` files
    that decide each label's primary category)."""
    selected = {rec.row for rec in probe.records}
    with probe.index_path.open(newline="") as src, path.open("w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        dropped = [k for k, c in enumerate(header) if c in probe.all_categories
                   and c not in probe.categories]
        for n, row in enumerate(reader, start=2):
            if n in selected:
                writer.writerow(["" if k in dropped else cell for k, cell in enumerate(row)])


@dataclass(frozen=True)
class Kind:
    """What a kind of probe set does: ``build(settings, out, where)`` writes the Broden-format
    directory; ``check(settings, where)`` is the params stage's quick check (names, sizes,
    subsets; before anything runs); ``subset(settings)`` is the reader subset the dissection
    opens the built directory with."""

    build: Callable
    check: Callable
    subset: Callable = lambda settings: {}


def build_segmented(settings, out: Path, where: str) -> None:
    """Label an image folder with a registered segmenter (:mod:`lce.segment.probe`)."""
    from lce.segment.probe import build_segmented_probe

    build_segmented_probe(settings, out, where)


def _check_segmented(settings, where: str) -> None:
    from lce.segment.probe import check_segmented_probe

    check_segmented_probe(settings, where)


KINDS = {
    "synthetic": Kind(build_synthetic, _check_synthetic),
    "segmented": Kind(build_segmented, _check_segmented),
    "broden": Kind(build_broden, open_broden_source,
                   lambda settings: {"categories": tuple(settings.categories) or None}),
}


def check_probe_set(probe_set: ProbeSet) -> None:
    """The quick check of ``probe_set``'s settings, its errors naming the probe set."""
    try:
        KINDS[probe_set.kind].check(probe_set.settings, f"params.yaml: probes.{probe_set.name}")
    except LCEError as exc:
        raise LCEError(f"probe set {probe_set.name}: {exc}", hint=exc.hint) from None


def build_probe_set(probe_set: ProbeSet, out: Path | None = None) -> Path:
    """Build ``probe_set`` into ``out`` (default ``data/probe/<name>``); an input error names the
    probe set."""
    out = Path(out or probe_set.directory)
    try:
        KINDS[probe_set.kind].build(probe_set.settings, out,
                                    f"params.yaml: probes.{probe_set.name}")
    except LCEError as exc:
        raise LCEError(f"probe set {probe_set.name}: {exc}", hint=exc.hint) from None
    return out


def open_probe_set(probe_set: ProbeSet, cached: bool = True, root: Path | None = None):
    """The built probe set as the dissection reads it: from ``data/probe/<name>`` (or under
    ``root``), through its cache ``data/probe-cache/<name>`` when ``cached``."""
    from lce.probe import open_probe

    base = Path(root or ".")
    return open_probe(base / probe_set.directory,
                      base / probe_set.cache if cached else None,
                      **KINDS[probe_set.kind].subset(probe_set.settings))
