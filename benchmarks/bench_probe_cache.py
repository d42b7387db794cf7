"""Benchmark of the probe cache build on a probe set of realistic Broden shape.

Writes a Broden-format set like ``broden1_224`` scaled down: 224 px images, 112x112 masks,
1,200 concepts in six categories (color, object, part, material; image-level scene and texture),
one color/object/material mask and two part masks per image where present, label numbers up to
1,200 (so the G channel is used). Then builds its cache with 1 and 2 worker processes (each build
in a fresh process, so its peak RSS is its own) and prints images/s, the cache's size per 10,000
images and the peak RSS of the build (writer and workers). Run:
``nice -n 10 python benchmarks/bench_probe_cache.py --images 2000``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COUNTS = {"color": 11, "object": 584, "part": 234, "material": 32, "scene": 270, "texture": 69}
PIXEL = ["color", "object", "part", "material"]
IMAGE_LEVEL = ["scene", "texture"]


def numbers() -> dict[str, np.ndarray]:
    first, out = 1, {}
    for category, count in COUNTS.items():
        out[category] = np.arange(first, first + count)
        first += count
    return out


def plane(rng, labels: np.ndarray, size: int) -> np.ndarray:
    """A mask of a few rectangular regions, each a label of ``labels`` (0 around them)."""
    mask = np.zeros((size, size), dtype=np.int64)
    for _ in range(rng.integers(2, 6)):
        y, x = rng.integers(0, size - 8, 2)
        h, w = rng.integers(8, size // 2, 2)
        mask[y:y + h, x:x + w] = rng.choice(labels)
    return mask


def samples(n: int, mask: int, seed: int):
    from lce.probe.writer import ProbeSample

    rng, table = np.random.default_rng(seed), numbers()
    ramp = np.linspace(0, 255, 2 * mask, dtype=np.uint8)
    for _ in range(n):
        image = np.stack(np.broadcast_arrays(ramp[None, :], ramp[:, None],
                                             rng.integers(0, 256, (1, 1), dtype=np.uint8)),
                         axis=-1).astype(np.uint8)
        planes = {c: [plane(rng, table[c], mask)] for c in ("color", "object")
                  if rng.random() < 0.9}
        if rng.random() < 0.6:
            planes["part"] = [plane(rng, table["part"], mask) for _ in range(2)]
        if rng.random() < 0.5:
            planes["material"] = [plane(rng, table["material"], mask)]
        image_labels = {c: [int(rng.choice(table[c]))] for c in IMAGE_LEVEL
                        if rng.random() < 0.5}
        yield ProbeSample(image=image, split="train", planes=planes, image_labels=image_labels)


def build_in_child(probe: Path, out: Path, workers: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", str(probe), str(out),
                             str(workers)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def child(probe: str, out: str, workers: int) -> None:
    from lce.probe.cache import build_cache

    start = time.perf_counter()
    build_cache(probe, out, workers=workers)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_mb": own / 1024,
                      "worker_rss_mb": children / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--mask", type=int, default=112)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    from lce.probe.broden import BrodenProbe
    from lce.probe.writer import write_broden

    table = numbers()
    names = {int(n): f"{c}-{k}" for c, ns in table.items() for k, n in enumerate(ns)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "broden"
        start = time.perf_counter()
        write_broden(root, samples(args.images, args.mask, 0), names, PIXEL, IMAGE_LEVEL)
        probe = BrodenProbe(root)
        masks = sum(len(r.cells[c]) for r in probe.records for c in probe.pixel_categories)
        print(f"probe set: {len(probe)} images, {len(probe.concepts)} concepts, {masks} mask "
              f"files at {args.mask}x{args.mask} (written in {time.perf_counter() - start:.0f} s)")
        for workers in (1, 2):
            out = Path(tmp) / f"cache-{workers}"
            figures = build_in_child(root, out, workers)
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
            print(f"{workers} worker(s): {len(probe) / figures['seconds']:.0f} images/s "
                  f"({figures['seconds']:.1f} s), cache {size / len(probe) * 10_000 / 2**30:.2f} "
                  f"GiB per 10,000 images, peak RSS {figures['rss_mb']:.0f} MB (writer), "
                  f"{figures['worker_rss_mb']:.0f} MB (largest worker)")


if __name__ == "__main__":
    main()
