"""Opening the warehouse. Readers get a read-only connection with external file access disabled,
so a query can neither change the warehouse nor read or write files on the user's machine."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lce.errors import LCEError

DEFAULT_DB = Path("warehouse/lce.duckdb")


def open_readonly(path: str | Path) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not path.is_file():
        raise LCEError(f"no warehouse at {path}",
                       hint="build it with `make repro` (or `dvc repro`), or pass --db PATH")
    try:
        return duckdb.connect(str(path), read_only=True,
                              config={"enable_external_access": False})
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise LCEError(f"{path} is locked by another process writing to it",
                           hint="it is being rebuilt or imported into; retry in a moment") from None
        raise LCEError(f"{path}: cannot open warehouse: {exc}") from None
    except duckdb.Error as exc:
        raise LCEError(f"{path}: not a readable DuckDB warehouse ({exc})") from None
