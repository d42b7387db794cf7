"""Benchmark of the segmenters (Dissect's netpqc) against the ResNet-50 forward pass.

    python benchmarks/bench_segment.py [--images 2] [--threads 1]

Builds the full-size networks with random weights (no download: the published files have the
same shapes, so the same cost), counts their floating-point operations per image with
``torch.utils.flop_counter`` and times them on this machine's CPU: the unified-parsing UPerNet
(input pooled to 256x256, scores at 56x56), the colour model, the label decoding (argmaxes and
the quadrant regions), and a torchvision ResNet-50 at 224 px to layer4. The ratio of operations
turns a GPU rate measured or assumed for ResNet-50 into one for the segmenter
(docs/SCALING.md, "The seed paper's configuration").
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode


def _flops(fn) -> float:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def _timed(fn, repeat: int = 2) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    import torchvision

    from lce.segment.decode import expand_quadrants
    from lce.segment.nets import ColorSegmenterNet, UPerNetResNet50

    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # the published vocabulary sizes (CSAILVision/unifiedparsing meta_file/joint_dataset);
    # 11 colour channels (Broden's colour names; the real count is in the colour labels.json)
    upp = UPerNetResNet50({"object": 336, "material": 26, "scene": 365, "part": 427}).eval()
    color = ColorSegmenterNet(11).eval()
    resnet = torchvision.models.resnet50().eval()
    body = torch.nn.Sequential(*list(resnet.children())[:-2])  # up to layer4
    n = args.images
    x256, x224 = torch.randn(n, 3, 256, 256), torch.randn(n, 3, 224, 224)
    cases = {
        "unified parsing (UPerNet-R50)": lambda: upp(x256, (56, 56)),
        "colour (dilated R18 + PPM)": lambda: color(x256, (56, 56)),
        "ResNet-50 to layer4, 224 px": lambda: body(x224),
    }
    with torch.no_grad():
        flops = {name: _flops(fn) / n for name, fn in cases.items()}
        seconds = {name: _timed(fn) / n for name, fn in cases.items()}
    objects = torch.randint(0, 336, (n, 56, 56)).numpy()
    decode = _timed(lambda: expand_quadrants(objects, 335)) / n
    base = flops["ResNet-50 to layer4, 224 px"]
    print(f"{'network':32s} {'GFLOP/image':>12s} {'CPU s/image':>12s} {'x ResNet-50':>12s}")
    for name in cases:
        print(f"{name:32s} {flops[name] / 1e9:12.1f} {seconds[name]:12.2f} "
              f"{flops[name] / base:12.1f}")
    print(f"quadrant decoding (random labels, worst case): {decode * 1e3:.1f} ms/image")
    segment = flops["unified parsing (UPerNet-R50)"] + flops["colour (dilated R18 + PPM)"]
    print(f"netpqc = {segment / base:.1f} ResNet-50 forward passes per image "
          f"({args.threads} thread(s), {n} images)")


if __name__ == "__main__":
    main()
