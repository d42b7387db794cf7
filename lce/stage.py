"""Shared entry-point behaviour of the DVC stage scripts under ``stages/``."""

from __future__ import annotations

import functools
import sys

from lce.errors import LCEError


def report_error(exc: LCEError) -> None:
    """Print ``Error: ...`` (and an optional hint) on stderr, the one format users see."""
    print(f"Error: {exc}", file=sys.stderr)
    if exc.hint:
        print(f"Hint: {exc.hint}", file=sys.stderr)


def stage_main(func):
    """Run a stage's ``main``; an :class:`LCEError` becomes one error line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except LCEError as exc:
            report_error(exc)
            sys.exit(1)

    return wrapper

