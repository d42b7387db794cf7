"""The dataset-side cache of a probe set: label planes decoded once, reused by every model.

Decoding PNG masks costs more than tallying them, and it is the same work for every model and
layer dissected on a probe set. ``build_cache`` decodes every mask once (validating the whole
probe set on the way) and writes, into one directory:

- ``planes.npy``: every pixel-category plane at mask resolution, ``uint16`` (Broden's masks encode
  16-bit numbers ``R + 256 * G``), image by image and category by category, memory-mappable;
  ``plane_offsets.npy`` (int64, ``n_images * n_pixel_categories + 1``) says where each
  (image, category) run of planes starts;
- ``image_labels.npy`` / ``label_offsets.npy``: the same for the image-level categories;
- ``presence.npy``: (n_images, n_categories) bool, whether an image carries a category at all
  (the images that count in NetDissect's denominator);
- ``concepts.parquet``: per concept its pixel total ``G_c`` (the union of every plane carrying
  the label; a whole image for image-level concepts -- the dissection's convention) and its image
  count;
- ``meta.json``: shape, categories and a fingerprint of the probe's tables, so a cache never
  silently serves a probe set it was not built from.

:class:`ProbeCache` exposes the :class:`~lce.probe.broden.BrodenProbe` interface over these
arrays, so the dissection engine runs on either unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np

from lce.errors import LCEError
from lce.io import atomic_directory, write_json
from lce.probe.broden import BrodenProbe
from lce.probe.validate import category_members, check_image, check_members, check_tables

CACHE_VERSION = 1
PLANE_DTYPE = np.uint16


def probe_fingerprint(root: Path) -> str:
    """sha256 over the probe's tables (index, labels, categories): what identifies a probe set."""
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.csv")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class ConceptTotals:
    """Accumulates per-concept pixel totals and image counts, image by image."""

    def __init__(self):
        self.pixels = np.zeros(1 << 16, dtype=np.int64)
        self.images = np.zeros(1 << 16, dtype=np.int64)

    def add(self, segmentation: dict[str, np.ndarray], image_level: set[str],
            n_pixels: int) -> None:
        planes = [data.reshape(data.shape[0], -1) for category, data in segmentation.items()
                  if category not in image_level and data.shape[0]]
        counts: dict[int, int] = {}
        if planes:
            stacked = np.sort(np.concatenate(planes), axis=0)
            # each label once per pixel: the first of every run of equal sorted values
            first = np.ones(stacked.shape, dtype=bool)
            first[1:] = stacked[1:] != stacked[:-1]
            numbers, pixel_counts = np.unique(stacked[first & (stacked > 0)], return_counts=True)
            counts = dict(zip(numbers.tolist(), pixel_counts.tolist(), strict=True))
        for category in image_level:
            for number in segmentation.get(category, np.zeros(0, np.int32)).tolist():
                counts[number] = n_pixels  # an image-level concept covers the whole image
        for number, count in counts.items():
            self.pixels[number] += count
            self.images[number] += 1

    def frame(self, concepts):
        """A DataFrame ``number, name, category, images, pixels`` of ``concepts``, by number."""
        import pandas as pd

        numbers = sorted(concepts)
        return pd.DataFrame({
            "number": np.array(numbers, dtype=np.int64),
            "name": [concepts[n].name for n in numbers],
            "category": [concepts[n].category for n in numbers],
            "images": self.images[numbers].astype(np.int64),
            "pixels": self.pixels[numbers].astype(np.int64),
        })


def _mask_shape(probe: BrodenProbe) -> tuple[int, int]:
    first = probe.records[0]
    for rec in probe.records:
        if (rec.sh, rec.sw) != (first.sh, first.sw):
            raise LCEError(f"{probe.index_path}: row {rec.row}: masks are {rec.sh}x{rec.sw}, row "
                           f"{first.row} has {first.sh}x{first.sw}; the cache needs one size")
    return first.sh, first.sw


def _offsets(probe: BrodenProbe, categories: list[str]) -> np.ndarray:
    counts = [len(rec.cells[c]) for rec in probe.records for c in categories]
    return np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int64)


def default_workers() -> int:
    """Decoding processes for a cache build: the CPUs this process may use, at most 8 (PNG
    decoding scales about linearly; beyond that the single writer is the limit)."""
    return max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))


def build_cache(probe_dir: str | Path, out_dir: str | Path,
                on_image: Callable[[int], None] | None = None, workers: int = 1) -> Path:
    """Validate the probe set at ``probe_dir`` and write its cache to ``out_dir`` atomically.

    ``workers`` processes decode the masks (``0``: :func:`default_workers`); one writer stores
    them in index order, so the cache is the same bytes for any number of workers. Memory stays
    bounded: planes go straight into the memory-mapped ``planes.npy``, a few images at a time.
    """
    probe = BrodenProbe(probe_dir)
    if not len(probe):
        raise LCEError(f"{probe.index_path}: no images")
    check_tables(probe)
    mask_shape = _mask_shape(probe)
    with atomic_directory(out_dir, inputs=[probe_dir]) as tmp:
        _write_cache(tmp, probe, mask_shape, on_image, workers or default_workers())
    return Path(out_dir)


_WORKER: dict = {}  # the probe set and its category members, once per decoding process


def _start_worker(probe: BrodenProbe) -> None:
    _WORKER.update(probe=probe, members=category_members(probe))


def _decode(i: int) -> dict[str, np.ndarray]:
    """Image i checked (image file, masks, category members) and decoded; planes as uint16."""
    probe, members = _WORKER["probe"], _WORKER["members"]
    check_image(probe, i)
    seg = probe.segmentation(i)
    check_members(probe, i, seg, members)
    return {c: data if c in probe.image_level else data.astype(PLANE_DTYPE)
            for c, data in seg.items()}


def _decoded(probe: BrodenProbe, workers: int):
    """Every image's decoded segmentation, in index order."""
    _start_worker(probe)
    if workers == 1:
        yield from map(_decode, range(len(probe)))
        return
    import multiprocessing

    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(probe,)) as pool:
        yield from pool.imap(_decode, range(len(probe)), chunksize=8)


def _write_cache(tmp: Path, probe: BrodenProbe, mask_shape: tuple[int, int], on_image,
                 workers: int) -> None:
    from lce.io import write_parquet

    sh, sw = mask_shape
    pixel, image = probe.pixel_categories, [c for c in probe.categories if c in probe.image_level]
    plane_offsets, label_offsets = _offsets(probe, pixel), _offsets(probe, image)
    labels = np.zeros(int(label_offsets[-1]), dtype=np.int32)
    presence = np.zeros((len(probe), len(probe.categories)), dtype=bool)
    totals = ConceptTotals()
    # planes.npy is written front to back (the offsets run in image, then category order), not
    # through a memory map: written pages of a map count in the writer's RSS until evicted
    with (tmp / "planes.npy").open("wb") as planes:
        np.lib.format.write_array_header_1_0(planes, {
            "descr": np.lib.format.dtype_to_descr(np.dtype(PLANE_DTYPE)), "fortran_order": False,
            "shape": (int(plane_offsets[-1]), sh, sw)})
        for i, seg in enumerate(_decoded(probe, workers)):
            for category in pixel:
                planes.write(np.ascontiguousarray(seg[category], dtype=PLANE_DTYPE).tobytes())
            for j, category in enumerate(image):
                k = i * len(image) + j
                labels[label_offsets[k]:label_offsets[k + 1]] = seg[category]
            presence[i] = [bool(seg[c].size) and bool(seg[c].any()) for c in probe.categories]
            totals.add(seg, probe.image_level, sh * sw)
            if on_image is not None:
                on_image(i)
    for name, array in (("plane_offsets", plane_offsets), ("image_labels", labels),
                        ("label_offsets", label_offsets), ("presence", presence)):
        np.save(tmp / f"{name}.npy", array)
    write_parquet(totals.frame(probe.concepts), tmp / "concepts.parquet")
    meta = {"version": CACHE_VERSION, "images": len(probe), "mask_shape": [sh, sw],
            "dtype": np.dtype(PLANE_DTYPE).name, "categories": probe.categories,
            "pixel_categories": pixel, "image_categories": image,
            "fingerprint": probe_fingerprint(probe.root)}
    write_json(meta, tmp / "meta.json")


class ProbeCache:
    """A probe set (or a subset of it) served from its cache, with BrodenProbe's interface.

    ``segmentation(i)`` returns the same arrays as ``BrodenProbe.segmentation(i)`` (int32); the
    zero-copy ``uint16`` views are in :meth:`planes_of`. ``image(i)`` still reads the image file:
    images are model input, not dataset-side work.
    """

    def __init__(self, cache_dir: str | Path, probe: BrodenProbe):
        self.cache_dir = Path(cache_dir)
        meta_path = self.cache_dir / "meta.json"
        if not meta_path.is_file():
            raise LCEError(f"{meta_path}: file not found (not a probe cache)",
                           hint="build it with `dvc repro probe-cache` or `lce probe cache`")
        self.meta = json.loads(meta_path.read_text())
        if self.meta.get("version") != CACHE_VERSION:
            raise LCEError(f"{meta_path}: cache version {self.meta.get('version')}, this LCE "
                           f"reads version {CACHE_VERSION}", hint="rebuild the cache")
        if self.meta["fingerprint"] != probe_fingerprint(probe.root):
            raise LCEError(f"{self.cache_dir}: cache was built from another probe set than "
                           f"{probe.root}", hint="rebuild the cache")
        self.probe = probe
        self.root = probe.root
        self.records = probe.records
        self.categories = probe.categories
        self.image_level = probe.image_level
        self.index_path = probe.index_path
        self._pixel = {c: j for j, c in enumerate(self.meta["pixel_categories"])}
        self._image = {c: j for j, c in enumerate(self.meta["image_categories"])}
        load = self._load
        self.planes = load("planes")
        self.plane_offsets, self.label_offsets = load("plane_offsets"), load("label_offsets")
        self.image_labels = load("image_labels")
        self._presence = load("presence")

    def _load(self, name: str) -> np.ndarray:
        path = self.cache_dir / f"{name}.npy"
        if not path.is_file():
            raise LCEError(f"{path}: file not found (incomplete probe cache)")
        return np.load(path, mmap_mode="r")

    def __len__(self) -> int:
        return len(self.records)

    @property
    def pixel_categories(self) -> list[str]:
        return [c for c in self.categories if c not in self.image_level]

    @property
    def concepts(self):
        return self.probe.concepts

    def image_path(self, i: int) -> Path:
        return self.probe.image_path(i)

    def image(self, i: int) -> np.ndarray:
        return self.probe.image(i)

    def _run(self, offsets: np.ndarray, data: np.ndarray, i: int, j: int, width: int):
        k = (self.records[i].row - 2) * width + j  # the cache covers index.csv in row order
        return data[offsets[k]:offsets[k + 1]]

    def planes_of(self, i: int, category: str) -> np.ndarray:
        """Image i's planes of a pixel category: a (planes, sh, sw) uint16 memory-mapped view."""
        return self._run(self.plane_offsets, self.planes, i, self._pixel[category],
                         len(self._pixel))

    def segmentation(self, i: int) -> dict[str, np.ndarray]:
        out = {}
        for category in self.categories:
            if category in self.image_level:
                out[category] = np.array(self._run(self.label_offsets, self.image_labels, i,
                                                   self._image[category], len(self._image)),
                                         dtype=np.int32)
            else:
                out[category] = self.planes_of(i, category).astype(np.int32)
        return out

    @cached_property
    def presence(self) -> np.ndarray:
        """(len(self), len(self.categories)) bool: image i carries category j."""
        columns = [self.meta["categories"].index(c) for c in self.categories]
        rows = [rec.row - 2 for rec in self.records]
        return np.asarray(self._presence)[rows][:, columns]

    @cached_property
    def concept_totals(self):
        """Per concept ``number, name, category, images, pixels`` over this selection."""
        import pandas as pd

        full = (len(self.records) == self.meta["images"]
                and self.categories == self.meta["categories"])
        if full:
            return pd.read_parquet(self.cache_dir / "concepts.parquet")
        totals = ConceptTotals()
        for i, rec in enumerate(self.records):
            totals.add(self.segmentation(i), self.image_level, rec.sh * rec.sw)
        return totals.frame(self.concepts)
