"""Benchmark of the dissection engine: speed against the reference, time split, peak memory.

    python benchmarks/bench_dissect.py speed [--images 600]   # engine vs reference, same run
    python benchmarks/bench_dissect.py memory                 # peak RSS, 1,000 and 10,000 images

``speed`` dissects a 512-unit layer with 7x7 maps on 600 probe images with 112x112 masks and six
Broden categories (four pixel-level, two image-level), checks that engine and reference give
identical counts, thresholds and labels, and prints where the engine's time goes and its speed
ratio against the reference both without and with the null baseline (the stage computes it; the
reference does not), in the same run.
``memory`` runs each case in a fresh process and prints its peak RSS: a real ResNet-18 ``layer4``
on 1,000 images, and a fake model emitting random 512x7x7 maps on 1,000 and 10,000 images.

``--threads`` sets torch's intra-op threads for engine and reference alike (default 1: on a
machine shared with other jobs, OpenMP threads spin-waiting for a busy core made the small tensor
operations of the tally several times slower with 2 threads than with 1); the tally's compiled
CPU loop runs on as many threads. A small dissection first compiles that loop (numba caches it
on disk), so that the timed runs measure the engine, not the compiler.

Against NetDissect-Lite, the tool users compare with, ``bench_vs_netdissect_lite.py`` runs the
unmodified Lite tally on the engine's activations of the default model (1,280 units, 300 probe
images): on the development machine (shared with other jobs) the engine's tally was 24-30x
faster at one thread and 25-28x at two (28-29x in CPU seconds), with identical labels and IoUs,
and 40-50x on a Broden-format set with labels above 255 (docs/SCALING.md, section 1).

The probe is generated on the fly (seeded per image: blocky label regions on several planes),
so it costs no disk and no memory that grows with its size -- what is measured is the engine.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lce.dissect.capture import LayerCapture, image_batches, to_input  # noqa: E402
from lce.dissect.concepts import ConceptIndex  # noqa: E402
from lce.dissect.labels import label_units  # noqa: E402
from lce.dissect.reference import reference_tally, unit_thresholds  # noqa: E402
from lce.dissect.run import dissect_model  # noqa: E402
from lce.params import DissectParams  # noqa: E402
from lce.probe.broden import Concept  # noqa: E402

PIXEL = ["color", "object", "part", "material"]
IMAGE = ["scene", "texture"]
LABELS_PER_CATEGORY = 12
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


@dataclass(frozen=True)
class Record:
    image: str
    sh: int
    sw: int


class GeneratedProbe:
    """A Broden-interface probe made up on the fly: image i is the same on every call."""

    categories = PIXEL + IMAGE
    image_level = set(IMAGE)

    def __init__(self, n_images: int, image_size: int = 224):
        self.n, self.size = n_images, image_size
        half = image_size // 2
        self.records = [Record(f"gen/{i:06d}.png", half, half) for i in range(n_images)]
        self.concepts = {
            1 + 100 * c + k: Concept(1 + 100 * c + k, f"{cat}-{k}", cat)
            for c, cat in enumerate(self.categories) for k in range(LABELS_PER_CATEGORY)}

    def __len__(self):
        return self.n

    def image(self, i: int) -> np.ndarray:
        rng = np.random.default_rng(i)
        return (rng.random((self.size, self.size, 3)) * 255).astype(np.uint8)

    def segmentation(self, i: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(10**6 + i)
        half, out = self.size // 2, {}
        for c, cat in enumerate(self.categories):
            base = 1 + 100 * c
            if cat in self.image_level:
                out[cat] = base + rng.choice(LABELS_PER_CATEGORY, 1 + c % 2, replace=False)
                continue
            planes = 1 + (cat == "part")
            blocks = rng.integers(0, LABELS_PER_CATEGORY + 4, (planes, 8, 8))  # >=12: unlabelled
            labels = np.where(blocks < LABELS_PER_CATEGORY, base + blocks, 0).astype(np.int32)
            out[cat] = np.kron(labels, np.ones((1, half // 8, half // 8), np.int32))
        return out


class FakeMaps(torch.nn.Module):
    """Emits 512 maps of 7x7 per image: a fixed random 1x1 projection of the pooled image,
    so maps vary with the image and forward costs almost nothing."""

    def __init__(self, units: int = 512, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.pool = torch.nn.AdaptiveAvgPool2d(7)
        self.layer4 = torch.nn.Conv2d(3, units, 1)

    def forward(self, x):
        return self.layer4(self.pool(x) * 8)


def reference_run(model, probe, layer, config):
    start = time.perf_counter()
    with LayerCapture(model, [layer]) as capture, torch.no_grad():
        chunks = []
        for _, images in image_batches(probe, config.batch_size):
            model(to_input(images, MEAN, STD, "cpu"))
            chunks.append(capture.outputs[layer].numpy().copy())
    acts = np.concatenate(chunks)
    thresholds = unit_thresholds(acts, config.quantile)
    counts = reference_tally(acts, thresholds, probe, ConceptIndex.from_probe(probe))
    return time.perf_counter() - start, thresholds, counts


def speed(n_images: int) -> None:
    probe = GeneratedProbe(n_images)
    model = FakeMaps().eval()
    names = {n: c.name for n, c in probe.concepts.items()}
    index = ConceptIndex.from_probe(probe)
    dissect_model(model, GeneratedProbe(4), ["layer4"], MEAN, STD, DissectParams())  # compile
    engine_seconds, results = {}, {}
    for null in (False, True):
        config = DissectParams(device="cpu", null_baseline=null)
        start = time.perf_counter()
        dissection = dissect_model(model, probe, ["layer4"], MEAN, STD, config)
        engine_seconds[null] = time.perf_counter() - start
        results[null] = dissection.layers["layer4"]
        print(f"engine ({'with' if null else 'without'} null baseline): "
              f"{engine_seconds[null]:.2f} s")
        print("  time split: " + ", ".join(f"{k} {v:.2f} s"
                                           for k, v in dissection.seconds.items()))
    ref_seconds, thresholds, counts = reference_run(model, probe, "layer4", DissectParams())
    print(f"reference (no null baseline): {ref_seconds:.2f} s")
    for null in (False, True):
        print(f"speed ratio reference / engine {'with' if null else 'without'} null baseline: "
              f"{ref_seconds / engine_seconds[null]:.1f}x")
    engine = results[False]
    profile = engine.profile
    same = np.array_equal(profile["threshold"].to_numpy(), thresholds)
    ref_labels = label_units(counts.iou("netdissect"), index, names)
    same_labels = (profile["label"].equals(ref_labels["label"])
                   and np.array_equal(profile["iou"].to_numpy(), ref_labels["iou"].to_numpy()))
    inter, union = counts.counts("netdissect")
    table = engine.concept_iou
    col = {names[int(n)]: j for j, n in enumerate(index.numbers)}
    cols = table["concept"].map(col).to_numpy()
    same_counts = (len(table) == int((inter > 0).sum())
                   and np.array_equal(inter[table["unit"], cols], table["intersect"])
                   and np.array_equal(union[table["unit"], cols], table["union"]))
    print(f"identical thresholds: {same}, counts: {same_counts}, labels and IoU: {same_labels}")
    print(f"interpretable units (IoU > 0.04): {int(profile['interpretable'].sum())} of "
          f"{len(profile)}")


def peak_rss(model_name: str, n_images: int) -> None:
    """One case, in this process: dissect and print the peak resident set size."""
    import torchvision

    probe = GeneratedProbe(n_images)
    if model_name == "resnet18":
        torch.manual_seed(0)
        model = torchvision.models.resnet18()
    else:
        model = FakeMaps()
    start = time.perf_counter()
    dissect_model(model.eval(), probe, ["layer4"], MEAN, STD,
                  DissectParams(device="cpu", batch_size=32))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{model_name} layer4, {n_images} images: peak RSS {peak_mb:.0f} MiB, "
          f"{time.perf_counter() - start:.1f} s")


def memory() -> None:
    for model_name, n in (("resnet18", 1000), ("fake", 1000), ("fake", 10000)):
        subprocess.run([sys.executable, __file__, f"--threads={torch.get_num_threads()}", "rss",
                        model_name, str(n)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("speed").add_argument("--images", type=int, default=600)
    sub.add_parser("memory")
    rss = sub.add_parser("rss")
    rss.add_argument("model", choices=["resnet18", "fake"])
    rss.add_argument("images", type=int)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}")
    if args.command == "speed":
        speed(args.images)
    elif args.command == "memory":
        memory()
    else:
        peak_rss(args.model, args.images)


if __name__ == "__main__":
    main()
