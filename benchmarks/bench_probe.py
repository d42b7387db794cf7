"""Benchmark of the probe data path: generation, PNG mask decoding, cache build and cached reads.

Targets (issue 3, on a 2-core machine): 1,000 images at 112 px generated in under 30 s; cached
label planes read at over 5,000 images per second. Run: ``python benchmarks/bench_probe.py``
(``--images N --size S`` to change the workload). All figures come from one run.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from lce.probe import open_probe
from lce.probe.broden import BrodenProbe
from lce.probe.cache import build_cache
from lce.probe.synthetic import SyntheticOptions, generate


def timed(func):
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def read_all(probe) -> int:
    """Read every image's label data; returns the number of mask planes read."""
    planes = 0
    for i in range(len(probe)):
        seg = probe.segmentation(i)
        planes += sum(seg[c].shape[0] for c in probe.pixel_categories)
    return planes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--size", type=int, default=112)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "probe", Path(tmp) / "cache"
        config = SyntheticOptions(n_images=args.images, image_size=args.size, seed=0)
        _, t_gen = timed(lambda: generate(root, config))
        probe = BrodenProbe(root)
        masks, t_png = timed(lambda: read_all(probe))
        _, t_cache = timed(lambda: build_cache(root, cache))
        cached = open_probe(root, cache)
        _, t_read = timed(lambda: read_all(cached))
        n = len(probe)
        size_mb = sum(p.stat().st_size for p in cache.iterdir()) / 2**20
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"workload: {n} images of {args.size} px, masks {args.size // 2} px, "
              f"{len(cached.concepts)} concepts, {masks} mask planes")
        print(f"generate:          {t_gen:7.2f} s  {n / t_gen:9.1f} images/s   (target < 30 s "
              f"for 1,000 at 112 px)")
        print(f"decode PNG masks:  {t_png:7.2f} s  {n / t_png:9.1f} images/s  "
              f"{masks / t_png:9.1f} masks/s")
        print(f"build cache:       {t_cache:7.2f} s  {n / t_cache:9.1f} images/s   "
              f"(validates + decodes once; {size_mb:.1f} MiB on disk)")
        print(f"read cached planes:{t_read:7.2f} s  {n / t_read:9.1f} images/s  "
              f"{masks / t_read:9.1f} masks/s (target > 5,000 images/s)")
        print(f"cached / PNG read speed-up: {t_png / t_read:.1f}x;  peak RSS {rss_mb:.0f} MiB")


if __name__ == "__main__":
    main()
