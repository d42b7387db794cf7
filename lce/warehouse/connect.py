"""Opening the warehouse. Readers get a read-only connection with external file access disabled,
so a query can neither change the warehouse nor read or write files on the user's machine.

Readers keep answering while DVC replaces the warehouse. DVC deletes a stage's outputs before it
runs the stage (or restores them from the run-cache, or checks out another version), so for the
whole of a ``dvc repro`` of the ``warehouse`` stage ``warehouse/lce.duckdb`` is missing until the
new build is renamed into place. Meanwhile DVC's cache still holds the build that ``dvc.lock``
records -- the one ``dvc checkout`` would restore -- and a reader that finds the file missing
opens that one instead: the previous build until the new one is in place, never a partial one.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from lce.errors import LCEError

DEFAULT_DB = Path("warehouse/lce.duckdb")
LOCK_FILE = "dvc.lock"


def committed_build(path: str | Path) -> Path | None:
    """The file in DVC's cache that ``dvc.lock`` records for output ``path``, if there is one.

    Only a missing warehouse pays for this look-up (DVC's own code resolves the cache location,
    which may be configured anywhere); any failure simply means there is no previous build.
    """
    path = Path(path).absolute()
    try:
        import yaml
        from dvc.exceptions import DvcException
        from dvc.repo import Repo
    except ImportError:
        return None
    try:
        root = Path(Repo.find_root(str(path.parent)))
        lock = yaml.safe_load((root / LOCK_FILE).read_text())
        wanted = path.relative_to(root).as_posix()
        outs = [out for stage in lock["stages"].values() for out in stage.get("outs", ())
                if out.get("path") == wanted and out.get("md5")]
        if not outs:
            return None
        repo = Repo(str(root))
        try:
            cache = repo.cache.local if outs[0].get("hash") == "md5" else repo.cache.legacy
            build = Path(cache.oid_to_path(outs[0]["md5"]))
        finally:
            repo.close()
    except (DvcException, OSError, ValueError, KeyError, TypeError, AttributeError,
            yaml.YAMLError):
        return None
    return build if build.is_file() else None


def _connect(path: Path) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to ``path``, or None when the file is not there (any more)."""
    if not path.is_file():
        return None
    try:
        return duckdb.connect(str(path), read_only=True,
                              config={"enable_external_access": False})
    except duckdb.IOException as exc:
        if not path.is_file():  # removed between the check and the open
            return None
        if "lock" in str(exc).lower():
            raise LCEError(f"{path} is locked by another process writing to it",
                           hint="it is being rebuilt or imported into; retry in a moment") from None
        raise LCEError(f"{path}: cannot open warehouse: {exc}") from None
    except duckdb.Error as exc:
        raise LCEError(f"{path}: not a readable DuckDB warehouse ({exc})") from None


def open_readonly(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at ``path`` read-only; while DVC is replacing it, its previous build."""
    path = Path(path)
    con = _connect(path)
    if con is None and (build := committed_build(path)) is not None:
        con = _connect(build) or _connect(path)  # a cache clean-up may race with the rename
    if con is None:
        raise LCEError(f"no warehouse at {path}",
                       hint="build it with `make repro` (or `dvc repro`), or pass --db PATH")
    return con
