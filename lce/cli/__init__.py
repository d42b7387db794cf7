"""The ``lce`` command line: a thin layer over the library.

Commands import what they need inside their bodies, so ``lce query`` never loads torch or the
scientific stack. Every failure the user can cause ends as one ``Error: ...`` line and exit code 1
(Ctrl-C: exit code 130, no traceback).
"""

from __future__ import annotations

from lce.cli.app import app
from lce.errors import LCEError
from lce.stage import report_error

# Each module registers its commands on `app`.
from lce.cli import (  # noqa: F401
    analyze,
    browse,
    cluster,
    deepcluster,
    dissect,
    imports,
    place,
    preset,
    probe,
    query,
    report,
    segment,
    warehouse,
    zoo,
)


def main() -> None:
    try:
        app()
    except LCEError as exc:
        report_error(exc)
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # Ctrl-C outside a command (typer maps the rest to 130 too)
        raise SystemExit(130) from None
