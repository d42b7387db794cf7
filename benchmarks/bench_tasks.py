"""Time and memory of the `bench@<model>` work for every model in params.yaml.

Target (issue 7): at most ~1-2 minutes per MobileNetV2 on 2 CPU cores with the default `bench:`
settings. Needs the probe set and the checkpoints (`dvc repro probe fetch@mobilenetv2-imagenet
fetch@mobilenetv2-random`). Each model runs in a fresh process, so its peak RSS is its own; nothing
is written to data/. Usage: python benchmarks/bench_tasks.py [MODEL_KEY ...]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

TARGET_SECONDS = 120.0


def measure_one(key: str) -> dict:
    """Run every benchmark task for ``key`` in this process; wall time and peak RSS."""
    import torch

    from lce.bench.run import benchmark_scores
    from lce.devices import pick_device
    from lce.params import bench_params, load_params, model_params
    from lce.probe.broden import BrodenProbe
    from lce.zoo.checkpoint import load_checkpoint

    params = load_params()
    model_cfg, settings = model_params(params)[key], bench_params(params)
    model, spec = load_checkpoint(model_cfg.weights)
    start = time.perf_counter()
    scores = benchmark_scores(key, model, spec, model_cfg.benchmark_layer,
                              BrodenProbe("data/probe"), settings,
                              pick_device(settings.device, "bench.device"))
    seconds = time.perf_counter() - start
    threads = settings.threads or torch.get_num_threads()
    return {"model": key, "seconds": seconds, "threads": threads,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "scores": scores[["task", "dataset", "metric", "value"]].values.tolist()}


def main(keys: list[str]) -> None:
    from lce.params import load_params, model_params

    keys = keys or list(model_params(load_params()))
    results = []
    for key in keys:
        run = subprocess.run([sys.executable, __file__, "--one", key], capture_output=True,
                             text=True, check=False)
        if run.returncode:
            sys.exit(f"{key}: failed\n{run.stderr}")
        results.append(json.loads(run.stdout.splitlines()[-1]))
    for result in results:
        print(f"\n{result['model']}: {result['seconds']:.1f} s "
              f"({result['seconds'] / TARGET_SECONDS:.2f} of the {TARGET_SECONDS:.0f} s target, "
              f"bench.threads = {result['threads']}), peak RSS {result['peak_rss_mib']:.0f} MiB")
        for task, dataset, metric, value in result["scores"]:
            print(f"  {task:<13}{dataset:<18}{metric:<18}{value:.4f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure_one(sys.argv[2])))
    else:
        main(sys.argv[1:])
