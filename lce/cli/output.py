"""The one set of output options every command shares: ``--format`` and ``--output``.

The formats themselves are :mod:`lce.formats` (the library renders its reports with them too).

``--output FILE`` follows :func:`lce.io.output_file`: a regular file is replaced atomically (a
failed command leaves the old one), devices and FIFOs are written through, and the warehouse
named by ``--db``, read-only files and files in missing directories are refused before the
command runs.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Annotated

import typer

from lce.errors import LCEError
from lce.formats import Format, write_rows
from lce.io import check_output, output_file


def checked_output(ctx: typer.Context, value: Path | None) -> Path | None:
    """Refuse a bad ``--output`` before the command does any work; never the ``--db`` file."""
    if value is not None:
        state = ctx.find_root().obj
        check_output(value, protect=[state.db] if state is not None else [])
    return value


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to FILE (atomically; devices and FIFOs are "
                 "written through) instead of stdout.", dir_okay=False,
                 callback=checked_output),
]


@contextmanager
def destination(output: Path | None):
    """The text file a result goes to: ``output`` (see :func:`lce.io.output_file`) or stdout.

    A full disk or a closed stdout is one ``Error:`` line; a closed pipe (``| head``) ends the
    command quietly, as Unix tools do."""
    if output is not None:
        with output_file(output) as fh:
            yield fh
        return
    try:
        yield sys.stdout
        sys.stdout.flush()
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        _silence_stdout()
        raise LCEError(f"cannot write to stdout ({exc.strerror or exc})") from None


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null, so that Python's final flush of what is still buffered does not
    fail a second time with a traceback."""
    with suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def emit(columns: list[str], rows: Iterable[tuple], fmt: Format = Format.table,
         output: Path | None = None) -> None:
    """Print a result, or write it to ``output`` atomically."""
    with destination(output) as fh:
        write_rows(fh, columns, rows, fmt)
