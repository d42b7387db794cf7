"""``lce probe``: check, summarize, cache and picture a Broden-format probe set.

Heavy modules (numpy, pandas, PIL) are imported inside the commands: ``lce query`` must not pay
for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.output import Format, FormatOption, OutputOption, checked_output, emit

probe_app = typer.Typer(help="Check, summarize, cache and picture Broden-format probe sets.",
                        no_args_is_help=True)
app.add_typer(probe_app, name="probe")

ProbeDir = Annotated[Path, typer.Argument(help="A Broden-format directory (index.csv, ...).")]
SplitOption = Annotated[str | None, typer.Option("--split", help="Only rows of this split.")]
CategoryOption = Annotated[list[str] | None, typer.Option(
    "--category", "-c", help="Only this category (repeatable).")]
LimitOption = Annotated[int | None, typer.Option("--limit", help="Only the first N rows.")]
SampleOption = Annotated[int | None, typer.Option(
    "--sample", help="A random sample of N rows (see --seed), kept in index order.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of --sample.")]
CacheOption = Annotated[Path | None, typer.Option(
    "--cache", help="Read the decoded masks from this probe cache (see `lce probe cache`).")]


def _open(directory: Path, split, category, limit, sample, seed, cache=None):
    from lce.probe import open_probe

    return open_probe(directory, cache, split=split, categories=category or None, limit=limit,
                      sample=sample, seed=seed)


def _bar(total: int, description: str):
    """A progress display and the per-image callback that advances it."""
    from lce.progress import progress

    bar = progress()
    task = bar.add_task(description, total=total)
    return bar, lambda *_: bar.advance(task)


@probe_app.command("validate")
def validate(directory: ProbeDir, split: SplitOption = None, category: CategoryOption = None,
             limit: LimitOption = None, sample: SampleOption = None, seed: SeedOption = 0,
             fmt: FormatOption = Format.table, output: OutputOption = None) -> None:
    """Check every table, image and mask; print what was checked per category."""
    from lce.probe.validate import validate as run_checks

    probe = _open(directory, split, category, limit, sample, seed)
    bar, advance = _bar(len(probe), "validate")
    with bar:
        summary = run_checks(probe, on_image=advance)
    emit(["category", "kind", "concepts", "images", "masks"],
         [(s.category, s.kind, s.concepts, s.images, s.masks) for s in summary], fmt, output)
    typer.echo(f"{directory}: valid ({len(probe)} images, {sum(s.masks for s in summary)} masks, "
               f"{len(probe.concepts)} concepts)", err=True)


@probe_app.command("stats")
def stats(directory: ProbeDir, concepts: Annotated[bool, typer.Option(
              "--concepts", help="One row per concept instead of per category.")] = False,
          cache: CacheOption = None, split: SplitOption = None, category: CategoryOption = None,
          limit: LimitOption = None, sample: SampleOption = None, seed: SeedOption = 0,
          fmt: FormatOption = Format.table, output: OutputOption = None) -> None:
    """Concepts per category with their pixel frequency, counted on the masks."""
    from lce.probe.stats import (
        CATEGORY_COLUMNS,
        CONCEPT_COLUMNS,
        category_rows,
        concept_rows,
        concept_totals,
    )

    probe = _open(directory, split, category, limit, sample, seed, cache)
    bar, advance = _bar(len(probe), "count pixels")
    with bar:
        totals = concept_totals(probe, on_image=advance)
    if concepts:
        emit(CONCEPT_COLUMNS, concept_rows(probe, totals), fmt, output)
    else:
        emit(CATEGORY_COLUMNS, category_rows(probe, totals), fmt, output)


@probe_app.command("cache")
def cache(directory: ProbeDir, out: Annotated[Path, typer.Argument(
        help="The cache directory to write (replaced atomically).")],
          workers: Annotated[int, typer.Option(
              "--workers", "-j", help="Processes decoding masks (0: the CPUs available, at "
                                      "most 8); the cache is the same for any number.")] = 0,
          ) -> None:
    """Validate a probe set and decode its masks once into a memory-mappable cache."""
    from lce.probe.broden import BrodenProbe
    from lce.probe.cache import build_cache

    bar, advance = _bar(len(BrodenProbe(directory)), "decode masks")
    with bar:
        build_cache(directory, out, on_image=advance, workers=workers)
    typer.echo(f"wrote {out}", err=True)


@probe_app.command("preview")
def preview(directory: ProbeDir, output: Annotated[Path, typer.Option(
                "--output", "-o", help="The PNG to write.", dir_okay=False,
                callback=checked_output)],
            images: Annotated[int, typer.Option("--images", "-n",
                                                help="How many images (rows).")] = 6,
            index: Annotated[list[int] | None, typer.Option(
                "--index", "-i", help="Show this image (0-based, repeatable) instead of the "
                "first --images.")] = None) -> None:
    """Draw images next to their concept masks, each label in its own colour."""
    from lce.errors import LCEError
    from lce.probe.broden import BrodenProbe
    from lce.probe.preview import render_preview

    probe = BrodenProbe(directory)
    indices = index or list(range(min(images, len(probe))))
    bad = [i for i in indices if not 0 <= i < len(probe)]
    if bad or not indices:
        raise LCEError(f"{directory}: no image at position {bad[0] if bad else 0} "
                       f"(it has {len(probe)})")
    render_preview(probe, indices, output)
    typer.echo(f"wrote {output}", err=True)
