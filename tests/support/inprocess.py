"""Running ``lce`` in-process the way its console script does (``lce.cli.main``), so tests see the
exit code and the exact ``Error:`` lines without paying for a subprocess."""

from __future__ import annotations

import io
import sys

import pytest


def lce_main(monkeypatch, capsys, *args: str, stdin: bytes | None = None):
    """(exit code, stdout, stderr) of ``lce ARGS`` run through :func:`lce.cli.main`."""
    from lce.cli import main

    capsys.readouterr()  # drop what earlier calls printed
    monkeypatch.setattr(sys, "argv", ["lce", *args])
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    with pytest.raises(SystemExit) as stop:
        main()
    out, err = capsys.readouterr()
    code = stop.value.code
    return (0 if code is None else code), out, err
