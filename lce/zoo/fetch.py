"""Getting a checkpoint file onto this machine: from a URL (progress bar, retries, resume), an
installed package, or a local path; then verifying its sha256.

Downloads land in a cache (``$LCE_ZOO_CACHE``, default ``~/.cache/lce/zoo/<key>/``) through a
``.part`` file that a later attempt resumes with an HTTP range request; the file takes its final
name only once complete and verified, so an interrupted or corrupt download is never used. Where
no sha256 is published, the one of the first download (or of the first use of a file put in the
cache by hand) is recorded beside the file and checked on every later use. Without a network
the fetch fails at once and says where to put the file by hand.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import importlib.resources
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from lce.errors import LCEError
from lce.progress import console, get_logger
from lce.zoo.spec import ModelSpec

log = get_logger("lce.zoo.fetch")
CHUNK = 1 << 20
_OFFLINE_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED}


@dataclass(frozen=True)
class FetchOptions:
    """Per-model overrides from ``params.yaml`` (``fetch.<key>``)."""

    source: str = ""  # a URL or local path instead of the registered source
    sha256: str = ""  # pin the source file's sha256 (or a prefix of it)
    retries: int = 3
    retry_wait: float = 2.0  # seconds before the first retry, doubled after each
    timeout: float = 60.0


class _Transient(Exception):
    """A failure worth retrying (dropped connection, timeout, server error)."""


def cache_root() -> Path:
    return Path(os.environ.get("LCE_ZOO_CACHE") or Path.home() / ".cache" / "lce" / "zoo")


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def cached_file(key: str, url: str) -> Path:
    """Where the download of ``url`` for model ``key`` is kept (and where to put it by hand)."""
    return cache_root() / key / (unquote(Path(urlparse(url).path).name) or "checkpoint")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str, what: str) -> str:
    """The file's sha256, checked against ``expected`` (a full digest or a published prefix)."""
    actual = sha256_of(path)
    if expected and not actual.startswith(expected.lower()):
        raise LCEError(f"{what}: {path} has sha256 {actual}, expected {expected}",
                       hint="the file is corrupt or not the published one; delete it and "
                            "fetch again")
    return actual


def package_file(source: str, what: str) -> Path:
    package, _, rel = source.removeprefix("package:").partition("/")
    try:
        return Path(str(importlib.resources.files(package).joinpath(rel)))
    except ModuleNotFoundError:
        raise LCEError(f"{what}: package {package!r} is not installed",
                       hint="run `make install`") from None


def obtain(spec: ModelSpec, options: FetchOptions = FetchOptions()) -> tuple[Path, str]:
    """(local file, sha256) of ``spec``'s checkpoint, downloaded if needed and verified."""
    what = f"model {spec.key}"
    source = options.source or spec.source
    if spec.needs and not options.source:
        raise LCEError(f"{what}: {spec.source} cannot be loaded as published; it needs "
                       f"{spec.needs}")
    expected = options.sha256 or spec.sha256 or ""
    if source.startswith("package:"):
        path = package_file(source, what)
    elif is_url(source):
        path = cached_file(spec.key, source)
        if not path.is_file():
            download(source, path, options, what, expected)
        if not (recorded := _recorded_sha256(path)):
            # put in the cache by hand (the offline hint says where): recorded on first use like
            # a download, so that a later change to the file is caught
            digest = _record_sha256(path, verify_sha256(path, expected, what))
            log.info("%s: recorded sha256 %s of %s", what, digest[:12], path)
            return path, digest
        expected = expected or recorded
    else:
        path = Path(source.removeprefix("file://")).expanduser()
    if not path.is_file():
        raise LCEError(f"{what}: weights file {path} not found")
    return path, verify_sha256(path, expected, what)


def _sha256_record(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _recorded_sha256(path: Path) -> str:
    record = _sha256_record(path)
    return record.read_text().strip() if record.is_file() else ""


def _record_sha256(path: Path, digest: str) -> str:
    _sha256_record(path).write_text(digest + "\n")
    return digest


@contextmanager
def _new_directory(directory: Path):
    """Create ``directory`` (and its missing parents); if what follows fails, remove the ones
    still empty again, so a failed fetch leaves no empty cache folder (a resumable ``.part``
    keeps its folder)."""
    created = [d for d in (directory, *directory.parents) if not d.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for folder in created:  # the deepest first
            if any(folder.iterdir()):
                break
            folder.rmdir()
        raise


def download(url: str, target: Path, options: FetchOptions, what: str, expected: str) -> None:
    """Download ``url`` to ``target`` with retries and resume; verify before the final rename."""
    hint = (f"download {url} by hand and put it at {target}, or set fetch.<key>.source in "
            "params.yaml to a local copy")
    if os.environ.get("LCE_OFFLINE"):
        raise LCEError(f"{what}: {target} is not cached and LCE_OFFLINE is set", hint=hint)
    with _new_directory(target.parent):
        part = target.with_name(target.name + ".part")
        for attempt in range(options.retries + 1):
            try:
                _transfer(url, part, options.timeout, what)
                break
            except _Transient as exc:
                if attempt == options.retries:
                    raise LCEError(f"{what}: download of {url} failed after {attempt + 1} "
                                   f"attempts ({exc})", hint=hint) from None
                wait = options.retry_wait * 2 ** attempt
                log.warning("%s: download interrupted (%s); retrying in %.0f s", what, exc, wait)
                time.sleep(wait)
            except urllib.error.HTTPError as exc:
                raise LCEError(f"{what}: {url}: HTTP {exc.code} {exc.reason}", hint=hint) from None
            except urllib.error.URLError as exc:
                raise LCEError(f"{what}: cannot reach {urlparse(url).netloc} ({exc.reason}); "
                               "no network?", hint=hint) from None
        try:
            digest = verify_sha256(part, expected, what)
        except LCEError:
            part.unlink()
            raise
        os.replace(part, target)
        _record_sha256(target, digest)
        log.info("%s: downloaded %s (%d bytes, sha256 %s)", what, target, target.stat().st_size,
                 digest[:12])


def _transfer(url: str, part: Path, timeout: float, what: str) -> None:
    """One attempt: fetch the rest of ``url`` after the bytes already in ``part``."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "lce-zoo"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # the partial file is not a prefix of this resource: start over
            part.unlink(missing_ok=True)
            raise _Transient("range not satisfiable, restarting") from None
        if exc.code == 429 or exc.code >= 500:
            raise _Transient(f"HTTP {exc.code}") from None
        raise
    except urllib.error.URLError as exc:
        if _is_offline(exc.reason):
            raise
        raise _Transient(str(exc.reason)) from None
    except (TimeoutError, ConnectionError) as exc:
        raise _Transient(str(exc) or type(exc).__name__) from None
    with response:
        if offset and response.status != 206:  # the server ignored the range
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        if offset:
            log.info("%s: resuming download at %d bytes", what, offset)
        _copy(response, part, offset, total, url)


def _copy(response, part: Path, offset: int, total: int | None, url: str) -> None:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TimeRemainingColumn(), console=console,
                   disable=not sys.stderr.isatty())
    with bar, part.open("ab" if offset else "wb") as fh:
        task = bar.add_task(Path(urlparse(url).path).name, total=total, completed=offset)
        try:
            while block := response.read(CHUNK):
                fh.write(block)
                bar.advance(task, len(block))
        except (http.client.IncompleteRead, ConnectionError, TimeoutError) as e:
            raise _Transient(f"connection lost after {fh.tell()} bytes: "
                             f"{type(e).__name__}") from None
    size = part.stat().st_size
    if total is not None and size != total:
        raise _Transient(f"got {size} of {total} bytes")


def _is_offline(reason) -> bool:
    return isinstance(reason, socket.gaierror) or (
        isinstance(reason, OSError) and reason.errno in _OFFLINE_ERRNOS)
