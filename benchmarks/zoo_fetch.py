"""Model zoo figures: download throughput and what resuming saves, the cost of verified loading
of a ResNet-50 checkpoint, and the offline MobileNetV2's predictions.

Run: ``.venv/bin/python benchmarks/zoo_fetch.py`` (about a minute; no network: a server on
127.0.0.1 serves a synthetic SwAV-layout ResNet-50 file). Every ratio is measured in this run.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lce.zoo.architectures import build_architecture  # noqa: E402
from lce.zoo.checkpoint import load_checkpoint  # noqa: E402
from lce.zoo.fetch import FetchOptions, obtain  # noqa: E402
from lce.zoo.loading import build_model, materialize  # noqa: E402
from lce.zoo.registry import get_spec  # noqa: E402
from tests.support.http import FlakyRangeServer  # noqa: E402


def timed(func):
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def serve(payload: bytes, cut: int | None) -> FlakyRangeServer:
    server = FlakyRangeServer(payload, cut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def download(spec, payload: bytes, cut: int | None, cache: Path):
    """(seconds, bytes sent by the server) for one fetch into an empty cache."""
    os.environ["LCE_ZOO_CACHE"] = str(cache)
    server = serve(payload, cut)
    url = f"http://127.0.0.1:{server.server_address[1]}/weights/model-file.pth"
    _, seconds = timed(lambda: obtain(replace(spec, source=url), FetchOptions(retry_wait=0)))
    server.shutdown()
    server.server_close()
    ranges = [int(r.split("=")[1].rstrip("-")) if r else 0 for r in server.requests]
    sent = sum(len(payload) - start for start in ranges) - (len(payload) - cut if cut else 0)
    return seconds, sent


def mobilenet_predictions():
    import skimage.data
    from PIL import Image
    from torchvision.models import MobileNet_V2_Weights

    weights = MobileNet_V2_Weights.IMAGENET1K_V1
    model = build_model(get_spec("mobilenetv2-imagenet"))
    preprocess = weights.transforms()
    for name in ("chelsea", "coffee"):
        image = preprocess(Image.fromarray(getattr(skimage.data, name)()))[None]
        with torch.no_grad():
            probabilities = model(image).softmax(1)[0]
        top = int(probabilities.argmax())
        print(f"mobilenetv2-imagenet  {name:8s} -> {weights.meta['categories'][top]!r} "
              f"(p = {float(probabilities[top]):.3f})")


def main() -> None:
    torch.manual_seed(0)
    original = build_architecture("resnet50").state_dict()
    published = {f"module.{k}": v for k, v in original.items() if not k.startswith("fc.")}
    published["module.prototypes.weight"] = torch.randn(3000, 128)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "swav_800ep_pretrain.pth.tar"
        torch.save(published, source)
        payload = source.read_bytes()
        size_mb = len(payload) / 1e6
        spec = get_spec("resnet50-swav")
        print(f"synthetic SwAV ResNet-50 file: {size_mb:.1f} MB")

        seconds, sent = download(spec, payload, None, tmp / "cache-a")
        print(f"download, uninterrupted:        {seconds:6.2f} s  {size_mb / seconds:7.1f} MB/s  "
              f"{sent / len(payload):.2f}x the file sent")
        seconds, sent = download(spec, payload, len(payload) // 2, tmp / "cache-b")
        print(f"download, cut at 50% + resume:  {seconds:6.2f} s  "
              f"{sent / len(payload):.2f}x the file sent (a restart would send 1.50x)")

        options = FetchOptions(source=str(source))
        _, seconds = timed(lambda: build_model(spec, options=options))
        print(f"verified load (sha256, safe unpickle, remap, strict check): {seconds:.2f} s")
        _, seconds = timed(lambda: materialize(spec, tmp / "normalized", options=options))
        print(f"materialize as model.pt + spec.json:                      {seconds:.2f} s")
        (model, _), seconds = timed(lambda: load_checkpoint(tmp / "normalized"))
        print(f"load_checkpoint of the normalized file:                    {seconds:.2f} s")
        exact = all(torch.equal(model.state_dict()[k], v) for k, v in original.items()
                    if not k.startswith("fc."))
        print(f"normalized weights equal the original tensors: {exact}")
    mobilenet_predictions()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this run: {peak:.0f} MB")


if __name__ == "__main__":
    main()
