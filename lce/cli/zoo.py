"""``lce zoo list`` and ``lce zoo show KEY``: what the model zoo holds and what is here already.

The registry is plain data, so these commands import torchvision only to list its architectures
(``--no-torchvision`` skips them).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.output import Format, FormatOption, OutputOption, emit
from lce.errors import LCEError

zoo_app = typer.Typer(help="The registered pretrained models (the model zoo).",
                      no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")

MODELS_DIR = Path("data/models")


def local_status(spec) -> str:
    """Where the weights already are: materialized checkpoint, download cache, package."""
    from lce.zoo.checkpoint import SPEC_FILE
    from lce.zoo.fetch import cached_file, is_url

    if (MODELS_DIR / spec.key / SPEC_FILE).is_file():
        return "checkpoint"
    if is_url(spec.source) and cached_file(spec.key, spec.source).is_file():
        return "downloaded"
    if spec.source.startswith("package:") or spec.source == "random":
        return "offline"
    return ""


@zoo_app.command("list")
def list_models(
    torchvision: Annotated[bool, typer.Option(
        help="Include torchvision's ImageNet architectures (<builder>-imagenet).")] = True,
    method: Annotated[str | None, typer.Option(help="Only models of this method.")] = None,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """List the registered models and whether their weights are here."""
    from lce.zoo.registry import REGISTRY, all_specs

    specs = (all_specs() if torchvision else REGISTRY).values()
    rows = [(s.key, s.display_name, s.arch, s.method, s.epochs, s.family, s.source, s.license,
             local_status(s)) for s in specs if method is None or s.method == method]
    emit(["key", "name", "arch", "method", "epochs", "family", "source", "license", "cached"],
         rows, fmt, output)


@zoo_app.command("show")
def show(
    key: Annotated[str, typer.Argument(help="A zoo key or a published name (e.g. MoCoV2).")],
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Show everything the registry knows about one model."""
    from lce.zoo.fetch import cache_root, cached_file, is_url
    from lce.zoo.registry import get_spec, key_for_name

    try:
        spec = get_spec(key)
    except LCEError:
        if (resolved := key_for_name(key)) is None:
            raise
        spec = get_spec(resolved)
    fields = asdict(spec)
    fields["cached"] = local_status(spec) or "no"
    fields["download_to"] = str(cached_file(spec.key, spec.source)) if is_url(spec.source) \
        else ""
    fields["cache_root"] = str(cache_root())
    rows = [(name, _cell(value)) for name, value in fields.items()]
    emit(["field", "value"], rows, fmt, output)


def _cell(value):
    """One table cell: tuples as comma lists, builder arguments as ``name=value`` pairs."""
    if isinstance(value, tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value
