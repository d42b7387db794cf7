"""The engine against NetDissect-Lite: the same answers, and the ratio of the two tallies' times.

    python benchmarks/bench_vs_netdissect_lite.py --lite ../NetDissect-Lite
    python benchmarks/bench_vs_netdissect_lite.py --lite ../NetDissect-Lite --threads 1 --repeats 5

``--lite`` points to a checkout of the public NetDissect-Lite repository (CSAILVision; the issue
used commit 2163454). Its code runs *unmodified*: this script only sets its ``settings`` module and
gives today's libraries back what the 2018 code imports -- ``scipy.misc.imresize`` and ``imread``
(removed from SciPy; written here with Pillow as SciPy wrote them: mode ``F`` bilinear resize,
and masks read so that ``R + G * 256`` does not overflow under NumPy 2), and its one-hot label
matrix built with a tuple index (NumPy 2 reads Lite's list of index arrays as a single array
index, which marks every label as belonging to every category) -- and replaces its
multiprocessing prefetcher (whose generator ends with ``raise StopIteration``, an error since
Python 3.7) by one that hands over the segmentations Lite's own ``prefetch_worker`` decoded
beforehand, so that both sides are timed on already decoded masks.

Two cases, each dissected by both with the engine's captured activations and exact thresholds,
``denominator: lite``, q = 0.005:

1. ``default``: the default model and layer (``mobilenetv2-imagenet``, ``features.18``, 1,280
   units) on the default probe (``data/probe``, 300 images);
2. ``broden-like``: a Broden-format set written here -- label numbers above 255 (masks use the G
   byte), four part planes, images missing categories, scene and texture labels -- with no label
   on two planes at one pixel (Lite counts such a pixel twice, the engine once: a known, intended
   difference, tested in ``tests/dissect/test_dissect_lite.py``).

For every (unit, concept) it compares I, G, A and IoU, and the best label of every unit, then
times the two tallies alternately (``--repeats`` each, per thread count: torch's intra-op threads
for the engine, Lite's ``PARALLEL`` thread pool for Lite) and prints the medians and their ratio.
The engine's tally is timed without and with its per-image concept decoding (done once per probe
image for all layers; Lite's per-image label bincount is inside its loop). Without ``--lite`` it
says how to get Lite and exits.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lce.dissect.capture import LayerCapture, as_maps, image_batches, to_input  # noqa: E402
from lce.dissect.concepts import ConceptIndex, image_concepts  # noqa: E402
from lce.dissect.labels import label_units  # noqa: E402
from lce.dissect.quantile import StreamingTopK, topk_size  # noqa: E402
from lce.dissect.tally import IoUTally  # noqa: E402

QUANTILE = 0.005
BATCH = 32


def capture(model, probe, layer: str, mean, std) -> tuple[np.ndarray, np.ndarray, dict]:
    """The engine's maps (N, C, h, w) and exact thresholds, and the seconds spent on each."""
    chunks, topk, seconds = [], None, {"forward": 0.0, "thresholds": 0.0}
    with LayerCapture(model, [layer]) as cap, torch.no_grad():
        for _, images in image_batches(probe, BATCH):
            start = time.perf_counter()
            model(to_input(images, mean, std, "cpu"))
            seconds["forward"] += time.perf_counter() - start
            maps = as_maps(layer, cap.outputs[layer]).float()
            start = time.perf_counter()
            if topk is None:
                n_values = len(probe) * maps.shape[2] * maps.shape[3]
                topk = StreamingTopK(maps.shape[1], topk_size(n_values, QUANTILE))
            topk.update(maps.transpose(0, 1).flatten(1))
            seconds["thresholds"] += time.perf_counter() - start
            chunks.append(maps.numpy())
    acts = np.concatenate(chunks)
    start = time.perf_counter()
    thresholds = topk.quantiles(acts.shape[0] * acts.shape[2] * acts.shape[3], QUANTILE)
    seconds["thresholds"] += time.perf_counter() - start
    return acts, thresholds, seconds


def decode(probe, index: ConceptIndex) -> list:
    return [image_concepts(probe.segmentation(i), probe.image_level, index,
                           (probe.records[i].sh, probe.records[i].sw)) for i in range(len(probe))]


def lce_tally(acts, thresholds, concepts, index, size) -> IoUTally:
    """The engine's tally pass over in-memory maps (the stage reads them from its spill)."""
    tally = IoUTally(torch.from_numpy(thresholds), index)
    for start in range(0, len(acts), BATCH):
        tally.add_batch(torch.from_numpy(acts[start:start + BATCH]),
                        concepts[start:start + BATCH], size)
    return tally


class Lite:
    """NetDissect-Lite's own modules, imported from a checkout with today's shims."""

    def __init__(self, checkout: Path, probe_dir: Path, categories: list[str], out: Path):
        from PIL import Image

        def imread(path):  # masks as uint16: R + G * 256 as old NumPy computed it for uint8
            with Image.open(path) as im:
                return np.asarray(im.convert("RGB")).astype(np.uint16)

        def imresize(arr, size, interp="bilinear", mode=None):  # scipy.misc.imresize, mode F
            if interp != "bilinear" or mode != "F":
                raise NotImplementedError("only the mode F bilinear resize Lite uses")
            image = Image.fromarray(np.ascontiguousarray(arr, dtype=np.float32), mode="F")
            return np.array(image.resize((size[1], size[0]), Image.Resampling.BILINEAR))

        misc = types.ModuleType("scipy.misc")
        misc.imread, misc.imresize = imread, imresize
        sys.modules["scipy.misc"] = misc
        import scipy

        scipy.misc = misc
        sys.path.insert(0, str(checkout))
        import settings

        settings.DATA_DIRECTORY, settings.INDEX_FILE = str(probe_dir), "index.csv"
        settings.CATAGORIES, settings.OUTPUT_FOLDER = categories, str(out)
        settings.QUANTILE, settings.TALLY_BATCH_SIZE = QUANTILE, 16
        self.settings = settings
        import feature_operation
        import loader.data_loader as data_loader

        def onehot(self, arr, minlength=None):  # Lite's, with the index as a tuple: NumPy 2
            length = max(int(np.amax(arr)) + 1, minlength or 0)  # reads a list of arrays as one
            result = np.zeros(arr.shape + (length,))
            result[(*np.indices(arr.shape), arr)] = 1
            return result

        data_loader.SegmentationData.onehot = onehot
        self.data = data_loader.SegmentationData(str(probe_dir), categories=categories)
        names = self.data.category_names()
        maps = [data_loader.prefetch_worker((j, type(self.data), self.data.metadata(j),
                                             self.data.filename(j), names, None))
                for j in range(self.data.size())]

        class Prefetched:  # Lite's SegmentationPrefetcher interface, over decoded masks
            def __init__(self, segmentation, categories=None, once=False, start=None,
                         end=None, batch_size=4, **_):
                self.items, self.batch_size = maps[start:end], batch_size

            def batches(self):
                for s in range(0, len(self.items), self.batch_size):
                    yield self.items[s:s + self.batch_size]

        feature_operation.SegmentationPrefetcher = Prefetched
        self.tallied = {}
        original = feature_operation.FeatureOperator.tally_job

        def tally_job(args):  # keep Lite's raw tallies (tally() returns only the labels)
            self.tallied = dict(zip(("labels", "units", "units_cat", "both"), args[3:7],
                                    strict=True))
            return original(args)

        feature_operation.FeatureOperator.tally_job = staticmethod(tally_job)
        with contextlib.redirect_stdout(io.StringIO()):
            self.operator = feature_operation.FeatureOperator()

    def tally(self, acts: np.ndarray, thresholds: np.ndarray, threads: int):
        self.settings.PARALLEL = threads
        with contextlib.redirect_stdout(io.StringIO()):  # Lite prints per batch
            return self.operator.tally(acts, thresholds)


def compare(lite: Lite, rets, tally: IoUTally, index: ConceptIndex, names) -> dict:
    """Lite's and the engine's I, G, A, IoU for every (unit, concept), and the unit labels."""
    t = lite.tallied
    numbers = index.numbers
    lite_i = t["both"][:, numbers]
    lite_g = t["labels"][numbers]
    lite_a = (t["units_cat"] @ lite.data.labelcat.T)[:, numbers]  # the label's category's area
    lite_iou = lite_i / (lite_a + lite_g[None, :] - lite_i + 1e-10)  # Lite's formula
    inter, union = tally.counts("lite")
    area = union - tally.concept_area.numpy()[None, :] + inter
    ours = label_units(tally.iou("lite"), index, names)
    lite_labels = {int(r["unit"]) - 1: r["label"] for r in rets}
    same = sum(lite_labels[u] == label for u, label in enumerate(ours["label"]))
    lite_cats = lite.data.primary_categories_per_index()[numbers]
    cats = lite.data.category_names()
    return {
        "labels equal": f"{same} of {len(ours)}",
        "max |dIoU|": float(np.abs(lite_iou - tally.iou("lite")).max()),
        "pairs |dIoU| > 1e-6": int((np.abs(lite_iou - tally.iou("lite")) > 1e-6).sum()),
        "max |dI|": float(np.abs(lite_i - inter).max()),
        "max |dG|": float(np.abs(lite_g - tally.concept_area.numpy()).max()),
        "max |dA|": float(np.abs(lite_a - area).max()),
        "primary categories equal": bool(all(
            cats[c] == index.categories[k] for c, k in zip(lite_cats, index.category_of,
                                                          strict=True))),
        "units with IoU > 0.04": f"Lite {sum(r['score'] > 0.04 for r in rets)}, "
                                 f"engine {int((ours['iou'] > 0.04).sum())}",
    }


def timings(lite: Lite, acts, thresholds, probe, index, size, threads, repeats) -> None:
    for n in threads:
        torch.set_num_threads(n)
        lite_s, tally_s, decode_s, lite_cpu, tally_cpu = [], [], [], [], []
        for _ in range(repeats):  # alternately, so both see the same machine load
            start, cpu = time.perf_counter(), time.process_time()
            lite.tally(acts.astype(np.float64), thresholds.astype(np.float64), n)
            lite_s.append(time.perf_counter() - start)
            lite_cpu.append(time.process_time() - cpu)
            start = time.perf_counter()
            concepts = decode(probe, index)
            decode_s.append(time.perf_counter() - start)
            start, cpu = time.perf_counter(), time.process_time()
            lce_tally(acts, thresholds, concepts, index, size)
            tally_s.append(time.perf_counter() - start)
            tally_cpu.append(time.process_time() - cpu)
        lite_m, tally_m = statistics.median(lite_s), statistics.median(tally_s)
        decode_m = statistics.median(decode_s)
        cpu_ratio = statistics.median(lite_cpu) / statistics.median(tally_cpu)
        print(f"  {n} thread(s), median of {repeats}: Lite tally {lite_m:.2f} s, engine tally "
              f"{tally_m:.3f} s ({lite_m / tally_m:.1f}x; in CPU seconds {cpu_ratio:.1f}x), "
              f"with concept decoding {tally_m + decode_m:.3f} s "
              f"({lite_m / (tally_m + decode_m):.1f}x)")
        print(f"    runs: Lite {', '.join(f'{s:.2f}' for s in lite_s)}; engine "
              f"{', '.join(f'{s:.3f}' for s in tally_s)}; decoding "
              f"{', '.join(f'{s:.3f}' for s in decode_s)}; CPU s: Lite "
              f"{', '.join(f'{s:.2f}' for s in lite_cpu)}, engine "
              f"{', '.join(f'{s:.3f}' for s in tally_cpu)}")


def broden_like(root: Path, n_images: int, seed: int = 0) -> Path:
    """A Broden-format set: labels above 255, four part planes, categories missing from images."""
    from lce.probe.writer import ProbeSample, write_broden

    rng = np.random.default_rng(seed)
    pixel = {"color": (1, 1), "object": (300, 1), "part": (700, 4), "material": (1500, 1)}
    image = {"scene": 2000, "texture": 2100}
    names: dict[int, str] = {}
    samples = []
    for _ in range(n_images):
        planes = {}
        present = [c for c in pixel if rng.random() < 0.7] or ["object"]
        for category in present:
            base, n_planes = pixel[category]
            planes[category] = []
            for k in range(n_planes):  # disjoint label ranges: no label on two planes
                blocks = rng.integers(0, 14, (6, 6))
                labels = np.where(blocks < 10, base + 20 * k + blocks, 0)
                zoom = np.kron(labels, np.ones((19, 19), np.int64))[:112, :112]
                planes[category].append(zoom)
                names.update({int(n): f"{category}-{n}" for n in np.unique(zoom) if n})
        labels = {c: [b + int(rng.integers(0, 6))] for c, b in image.items()
                  if rng.random() < 0.8}
        for c, numbers in labels.items():
            names.update({n: f"{c}-{n}" for n in numbers})
        rgb = (rng.random((224, 224, 3)) * 255).astype(np.uint8)
        samples.append(ProbeSample(rgb, "val", planes, labels))
    return write_broden(root, samples, names, list(pixel), list(image))


def run_case(name, lite_checkout, probe_dir, model, spec, layer, threads, repeats, tmp,
             cache_dir=None):
    """One case; the engine reads the masks from the probe's cache (built here if not given),
    as the dissect stage does."""
    from lce.probe import open_probe
    from lce.probe.cache import build_cache

    if cache_dir is None or not (cache_dir / "meta.json").is_file():
        cache_dir = build_cache(probe_dir, tmp / f"cache-{name}")
    probe = open_probe(probe_dir, cache_dir)
    index = ConceptIndex.from_probe(probe)
    names = {n: c.name for n, c in probe.concepts.items()}
    size = (probe.records[0].sh, probe.records[0].sw)
    acts, thresholds, seconds = capture(model, probe, layer, spec.mean, spec.std)
    print(f"[{name}] {len(probe)} images, {layer}: {acts.shape[1]} units of "
          f"{acts.shape[2]}x{acts.shape[3]}, masks {size[0]}x{size[1]}; forward "
          f"{seconds['forward']:.1f} s, exact thresholds {seconds['thresholds']:.2f} s")
    lite = Lite(lite_checkout, probe_dir, list(probe.categories), tmp / f"lite-{name}")
    torch.set_num_threads(threads[0])
    rets = lite.tally(acts.astype(np.float64), thresholds.astype(np.float64), 1)
    start = time.perf_counter()
    tally = lce_tally(acts, thresholds, decode(probe, index), index, size)
    print(f"  engine's first tally (compiles its CPU loop unless numba's cache has it): "
          f"{time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    lce_tally(acts, thresholds, decode(probe, index), index, size)
    cost = seconds["thresholds"] + time.perf_counter() - start
    print(f"  engine thresholds + tally with decoding: {cost:.2f} s, "
          f"{cost / seconds['forward']:.0%} of the forward pass")
    for key, value in compare(lite, rets, tally, index, names).items():
        print(f"  {key}: {value}")
    timings(lite, acts, thresholds, probe, index, size, threads, repeats)
    for module in ("settings", "feature_operation", "loader", "loader.data_loader"):
        sys.modules.pop(module, None)  # the next case sets Lite up afresh
    sys.path.remove(str(lite_checkout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lite", type=Path, help="a NetDissect-Lite checkout")
    parser.add_argument("--model", type=Path, default=ROOT / "data/models/mobilenetv2-imagenet")
    parser.add_argument("--layer", default="features.18")
    parser.add_argument("--probe", type=Path, default=ROOT / "data/probe")
    parser.add_argument("--probe-cache", type=Path, default=ROOT / "data/probe-cache")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--broden-images", type=int, default=150)
    parser.add_argument("--case", choices=["default", "broden-like", "both"], default="both")
    args = parser.parse_args()
    if args.lite is None:
        print("skipped: give --lite PATH, a checkout of NetDissect-Lite "
              "(git clone https://github.com/CSAILVision/NetDissect-Lite)")
        return
    if not (args.lite / "feature_operation.py").is_file():
        sys.exit(f"Error: {args.lite}: not a NetDissect-Lite checkout (no feature_operation.py)")
    from lce.zoo.checkpoint import load_checkpoint

    model, spec = load_checkpoint(args.model)
    model.eval()
    with tempfile.TemporaryDirectory(prefix="lce-vs-lite-") as tmp:
        tmp = Path(tmp)
        if args.case in ("default", "both"):
            run_case("default", args.lite, args.probe, model, spec, args.layer, args.threads,
                     args.repeats, tmp, args.probe_cache)
        if args.case in ("broden-like", "both"):
            probe_dir = broden_like(tmp / "broden-like", args.broden_images)
            run_case("broden-like", args.lite, probe_dir, model, spec, args.layer,
                     args.threads, args.repeats, tmp)


if __name__ == "__main__":
    main()
