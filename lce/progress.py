"""Progress bars and logging for long stages (rich, on stderr so stdout stays machine-readable)."""

from __future__ import annotations

import logging
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True)


def progress() -> Progress:
    """A progress display; it degrades to nothing when stderr is not a terminal."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        disable=not sys.stderr.isatty(),
    )


def get_logger(name: str) -> logging.Logger:
    """A logger that prints through rich once per process."""
    root = logging.getLogger("lce")
    if not root.handlers:
        handler = RichHandler(console=console, show_path=False, show_time=True)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    return logging.getLogger(name)
