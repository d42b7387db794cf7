"""Atomic, deterministic file output shared by every stage, and the rules for where LCE writes.

Same inputs must give byte-identical Parquet so that DVC's run-cache can be shared between
machines: no timestamps, fixed compression, fixed row-group size, and no pandas index.

Nothing LCE writes may destroy what it did not write: a directory is replaced whole only when it
is LCE's own (it holds :data:`MARKER`), empty or absent, and never when it is, or contains, an
input of the write or the current directory; a command's output file (:func:`output_file`) is
replaced atomically when it is a regular file, written through when it is a device or a FIFO, and
never when it is read-only, a directory or the warehouse being read.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from lce.errors import LCEError

# Written into every directory atomic_directory creates: how LCE recognises its own outputs.
# Fixed content, so outputs stay byte-deterministic (DVC hashes it with the rest).
MARKER = ".lce-output"
MARKER_TEXT = "Written by LCE: the next write replaces this directory whole.\n"


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


def _is_own(directory: Path) -> bool:
    """True for a directory LCE may delete: it holds the marker, or it is empty."""
    return (directory / MARKER).is_file() or not any(directory.iterdir())


def _within(path: Path, ancestor: Path) -> bool:
    return path == ancestor or ancestor in path.parents


def check_replaceable(root: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """The resolved ``root`` if :func:`atomic_directory` may replace it, else an LCEError.

    Refused: the current directory or one above it, a directory that is or contains one of
    ``inputs``, a file, and a non-empty directory without LCE's marker (somebody else's files).
    """
    given, root = Path(root), Path(os.path.realpath(root))
    if not root.name or _within(Path.cwd().resolve(), root):
        raise LCEError(f"{given}: refusing to replace the current directory or one above it",
                       hint="name a new directory for the output")
    for source in inputs:
        if _within(Path(os.path.realpath(source)), root):
            raise LCEError(f"{given}: refusing to replace a directory that holds the input "
                           f"{source}", hint="name a new directory for the output")
    if root.exists() and not root.is_dir():
        raise LCEError(f"{given}: exists and is not a directory; refusing to replace it")
    if root.is_dir() and not _is_own(root):
        raise LCEError(f"{given}: refusing to replace a non-empty directory LCE did not write "
                       f"(it has no {MARKER} file)",
                       hint="name a new or empty directory, or remove this one yourself")
    return root


@contextmanager
def atomic_directory(root: str | Path, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Yield an empty sibling directory of ``root``; on success it replaces ``root`` whole.

    ``root`` must pass :func:`check_replaceable` (``inputs`` are the paths the write reads). The
    new directory gets LCE's marker first, and the old one is renamed aside before the new one
    is renamed in, so a crash leaves the old set of files (or, between the two renames, none) --
    never a mix of old and new files. Leftovers of a crashed run (``.<name>.tmp``,
    ``.<name>.old``) are cleared first, when they are LCE's own.
    """
    root = check_replaceable(root, inputs)
    tmp, old = (root.with_name(f".{root.name}.{suffix}") for suffix in ("tmp", "old"))
    for stale in (tmp, old):
        if stale.is_dir() and not stale.is_symlink() and _is_own(stale):
            shutil.rmtree(stale)
        elif os.path.lexists(stale):
            raise LCEError(f"{stale}: in the way of writing {root}, and not LCE's own",
                           hint="move it away")
    tmp.mkdir(parents=True)
    (tmp / MARKER).write_text(MARKER_TEXT)
    yield tmp
    if root.exists():
        root.rename(old)
    tmp.rename(root)
    if old.exists():
        shutil.rmtree(old)


def check_output(path: str | Path, protect: Iterable[str | Path] = ()) -> Path:
    """Where a command's output to ``path`` goes, or an LCEError.

    A device, FIFO or socket (``/dev/null``, ``/dev/stdout``, ``>(cat)``) is written through, so
    it is returned as given; any other path is followed through its symlinks to the file to
    replace. Refused: the same file as one of ``protect`` (the warehouse a command reads), a
    directory, a read-only file, and a file in a missing directory (LCE does not guess that a
    mistyped directory was meant).
    """
    given = Path(path)
    try:
        st = os.stat(given)  # follows symlinks, /dev/fd's included
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise LCEError(f"{given}: cannot write ({exc.strerror or exc})") from None
    for kept in protect:
        if st is not None and os.path.exists(kept) and os.path.samefile(kept, given):
            raise LCEError(f"{given}: refusing to overwrite {kept}, which this command reads",
                           hint="write the output to another file")
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode):
            raise LCEError(f"{given}: is a directory", hint="name a file to write")
        return given
    target = Path(os.path.realpath(given))
    if st is not None and not (os.access(target, os.W_OK) and st.st_mode & 0o222):
        raise LCEError(f"{given}: is read-only; refusing to replace it")
    if st is None and not target.parent.is_dir():
        raise LCEError(f"{given}: directory {target.parent} does not exist",
                       hint="create it first")
    return target


@contextmanager
def output_file(path: str | Path, mode: str = "w", protect: Iterable[str | Path] = ()):
    """Open a command's output file ``path`` (after :func:`check_output`) and yield it.

    A regular file (or a new one, or the target of a symlink, which stays a link) is written to a
    temporary sibling renamed over it on success, keeping its permissions: a failed command leaves
    the old file. A device, FIFO or socket (``/dev/null``, ``>(cat)``) is written through.
    """
    target = check_output(path, protect)
    try:
        if target.exists() and not target.is_file():
            with open(target, mode) as fh:
                yield fh
            return
        keep_mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
        with atomic_path(target) as tmp:
            if keep_mode is not None:
                os.chmod(tmp, keep_mode)
            with open(tmp, mode) as fh:
                yield fh
    except OSError as exc:
        raise LCEError(f"{path}: cannot write ({exc.strerror or exc})") from None


def write_parquet(frame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` atomically and byte-deterministically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20,
                       write_statistics=True, store_schema=False)
    return Path(path)


def write_json(data, path: str | Path) -> Path:
    """Write ``data`` to ``path`` atomically as JSON with sorted keys, indented, ending in a
    newline: the same data gives the same bytes (DVC hashes them; people diff them)."""
    import json

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return Path(path)
