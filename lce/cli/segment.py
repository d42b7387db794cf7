"""``lce probe segment IMAGES --segmenter KEY --out DIR``: a segmenter-labelled probe set.

The library call is :func:`lce.segment.probe.label_image_folder`; this command loads the
registered segmenter (its files fetched from the published URLs, or read from local copies given
by ``--source COMPONENT=DIR``) and writes the Broden-format directory atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.probe import probe_app
from lce.errors import LCEError


def _sources(values: list[str] | None) -> dict[str, str]:
    sources = {}
    for value in values or []:
        name, sep, directory = value.partition("=")
        if not sep or not name or not directory:
            raise LCEError(f"--source {value!r}: expected COMPONENT=DIR",
                           hint="e.g. --source upp-resnet50-upernet=downloads/upp")
        sources[name] = directory
    return sources


@probe_app.command("segment")
def segment_command(
    images: Annotated[Path, typer.Argument(help="An image folder (ImageFolder or plain).")],
    out: Annotated[Path, typer.Option("--out", help="The probe directory to write.")],
    segmenter: Annotated[str, typer.Option("--segmenter", help="A registered segmenter "
                                           "(netpqc: Dissect's default).")] = "netpqc",
    source: Annotated[list[str] | None, typer.Option(
        "--source", help="COMPONENT=DIR: read a component's published files from DIR instead "
        "of downloading them (repeatable).")] = None,
    images_name: Annotated[str | None, typer.Option(
        "--images-name", help="The image set's name in the probe's identity (default: the "
        "folder's name; places365-val for Dissect's Places365 validation set).")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "auto",
) -> None:
    """Label IMAGES with a registered segmenter into a Broden-format probe set at --out
    (Resize 256, CenterCrop 224, masks at 56 px)."""
    from lce.devices import pick_device
    from lce.progress import progress
    from lce.segment.probe import SegmentSettings, label_image_folder, list_images
    from lce.segment.segmenters import load_segmenter

    loaded = load_segmenter(segmenter, _sources(source),
                            device=pick_device(device, "--device"))
    bar = progress()
    task = bar.add_task("segment", total=len(list_images(images)))
    with bar:
        label_image_folder(images, out, loaded, SegmentSettings(batch_size=batch_size),
                           on_image=lambda n: bar.advance(task, n), images=images_name)
