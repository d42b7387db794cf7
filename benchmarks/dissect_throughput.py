"""Dissection throughput on this machine, the measured basis of docs/SCALING.md.

Prints, from one run: forward-pass throughput (images/s) of MobileNetV2 and ResNet-50 at the
probe's image size (their ratio scales MobileNetV2 figures to ResNet-50), the whole dissection's
throughput for MobileNetV2 (forward + exact thresholds + IoU tally) on the synthetic probe, the
time per phase, and the peak resident memory. Run it with the environment active:

    python benchmarks/dissect_throughput.py                 # 96 images at 224 px
    python benchmarks/dissect_throughput.py --n-images 300  # the default probe of params.yaml
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def forward_rate(model, images, batch_size: int, repeats: int = 2) -> float:
    """Images per second of ``model`` in inference mode, best of ``repeats`` passes."""
    import torch

    best = float("inf")
    with torch.inference_mode():
        model(images[:batch_size])  # warm-up: allocator, kernels
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, len(images), batch_size):
                model(images[i:i + batch_size])
            best = min(best, time.perf_counter() - start)
    return len(images) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=96)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--layer", default="features.18")
    args = parser.parse_args()

    import torch
    import torchvision

    from lce.dissect.run import dissect
    from lce.params import DissectParams
    from lce.probe.broden import BrodenProbe
    from lce.probe.synthetic import SyntheticOptions, generate
    from lce.zoo.loading import build_model
    from lce.zoo.registry import get_spec

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate(Path(tmp) / "probe", SyntheticOptions(n_images=args.n_images,
                                                      image_size=args.image_size, seed=0))
        probe = BrodenProbe(Path(tmp) / "probe")
        print(f"probe: {len(probe)} images at {args.image_size} px, generated in "
              f"{time.perf_counter() - start:.1f} s")

        spec = get_spec("mobilenetv2-imagenet")
        mobilenet = build_model(spec).eval()
        resnet = torchvision.models.resnet50(weights=None).eval()
        batch = torch.randn(min(args.n_images, 64), 3, args.image_size, args.image_size)
        rate_mobilenet = forward_rate(mobilenet, batch, args.batch_size)
        rate_resnet = forward_rate(resnet, batch, args.batch_size)
        print(f"forward only: MobileNetV2 {rate_mobilenet:.1f} images/s, "
              f"ResNet-50 {rate_resnet:.1f} images/s, "
              f"ratio MobileNetV2/ResNet-50 {rate_mobilenet / rate_resnet:.2f}")

        start = time.perf_counter()
        profiles = dissect(mobilenet, probe, [args.layer], spec.mean, spec.std,
                           DissectParams(batch_size=args.batch_size, device="cpu"))
        elapsed = time.perf_counter() - start
        units = len(profiles[args.layer])
        print(f"dissect MobileNetV2 {args.layer} ({units} units): {elapsed:.1f} s, "
              f"{len(probe) / elapsed:.1f} images/s end to end "
              f"(forward share {len(probe) / rate_mobilenet / elapsed:.0%})")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
