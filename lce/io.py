"""Atomic, deterministic file output shared by every stage.

Same inputs must give byte-identical Parquet so that DVC's run-cache can be shared between
machines: no timestamps, fixed compression, fixed row-group size, and no pandas index.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path next to ``path``; rename it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; outputs get normal modes
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_directory(root: str | Path) -> Iterator[Path]:
    """Yield an empty sibling directory of ``root``; on success it replaces ``root`` whole.

    The old directory is renamed aside before the new one is renamed in, so a crash leaves the
    old set of files (or, between the two renames, none) -- never a mix of old and new files.
    Leftovers of a crashed run (``.<name>.tmp``, ``.<name>.old``) are cleared first.
    """
    root = Path(root)
    tmp, old = (root.with_name(f".{root.name}.{suffix}") for suffix in ("tmp", "old"))
    for stale in (tmp, old):
        if stale.exists():
            shutil.rmtree(stale)
    tmp.mkdir(parents=True)
    yield tmp
    if root.exists():
        root.rename(old)
    tmp.rename(root)
    if old.exists():
        shutil.rmtree(old)


def write_parquet(frame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` atomically and byte-deterministically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20,
                       write_statistics=True, store_schema=False)
    return Path(path)
