"""One training run end to end, and the files it leaves in ``data/train/<run>/``.

- ``model/``: the normalized checkpoint (``model.pt`` + ``spec.json``) ``dissect@`` reads;
- ``metrics.parquet``: ``run, cycle, metric, value`` (deterministic: no wall times in it, so the
  same params give byte-identical Parquet), ``linear_top1`` at the last cycle;
- ``run.json``: the run's params as a JSON object (the warehouse's ``training_runs.params``);
- ``timings.json``: wall seconds per cycle and phase (features, clustering, training): the only
  output that differs between two runs of the same params;
- ``summary.json``: the final figures, declared as DVC metrics for ``dvc exp show``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from lce.contracts import TRAINING_METRICS, check_summary
from lce.io import write_json
from lce.progress import get_logger
from lce.threads import cpu_threads
from lce.train.datasets import load_training_data
from lce.train.linear_probe import linear_probe_top1
from lce.train.trainer import arch_kwargs, train
from lce.zoo.checkpoint import save_checkpoint

log = get_logger(__name__)
# the layers a dissection of each architecture reads by default (last conv block of the trunk)
DISSECT_LAYERS = {"lenet": ("features.relu2",), "small_alexnet": ("features.relu5",),
                  "small_resnet": ("features.layer3_0",)}


def run_params(run) -> dict:
    params = asdict(run)
    params.pop("key")
    return params


def execute_run(run, out: str | Path) -> dict:
    """Train ``run``, write its artifacts under ``out``; returns the summary."""
    out = Path(out)
    with cpu_threads(1):
        return _execute(run, out)


def _execute(run, out: Path) -> dict:
    started = time.perf_counter()
    data = load_training_data(run)
    log.info("%s: %s %s on %s (%d train / %d held-out images, %d channel(s), %d px)", run.key,
             run.method, run.arch, run.dataset, len(data.train), len(data.test), data.channels,
             run.image_size)
    return write_run(run, data, train(run, data), out, started)


def write_run(run, data, result, out: Path, started: float | None = None) -> dict:
    """Score ``result`` (the trained ``run``) with the linear probe and write its artifacts under
    ``out``; returns the summary. ``total_s`` in timings.json is the wall time since ``started``
    or, without it (a run branched off its twin), its cycles' and the probe's seconds."""
    import pandas as pd

    probe_start = time.perf_counter()
    top1 = linear_probe_top1(result.model, data)
    probe_s = time.perf_counter() - probe_start
    last = max(run.cycles - 1, 0) if run.method != "random" else 0
    rows = [(run.key, rec.cycle, name, float(value))
            for rec in result.cycles for name, value in sorted(rec.metrics.items())]
    rows.append((run.key, last, "linear_top1", top1))
    frame = pd.DataFrame(rows, columns=TRAINING_METRICS.names)
    frame["cycle"] = frame["cycle"].astype("int32")
    result.model.top_layer = None
    state = result.model.state_dict()
    save_checkpoint(out / "model", state, {
        "key": run.key, "arch": run.arch, "method": run.method, "source": f"trained:{run.key}",
        "mean": data.mean, "std": data.std, "layers": DISSECT_LAYERS[run.arch],
        "arch_kwargs": arch_kwargs(run, data.channels)})
    TRAINING_METRICS.write(frame, out / TRAINING_METRICS.artifact)
    write_json(run_params(run), out / "run.json")
    total = (time.perf_counter() - started if started is not None else
             sum(sum(rec.seconds.values()) for rec in result.cycles) + probe_s)
    write_json({
        "cycles": [{"cycle": rec.cycle, **{k: round(v, 4) for k, v in rec.seconds.items()}}
                   for rec in result.cycles],
        "linear_probe_s": round(probe_s, 4), "total_s": round(total, 4)}, out / "timings.json")
    final = result.cycles[-1].metrics if result.cycles else {}
    # no wall time here: summary.json must be byte-identical on every machine (timings.json is
    # the one output that is not, by nature)
    summary = {"linear_top1": round(top1, 6), "cycles": len(result.cycles)}
    summary.update({k: round(final[k], 6) for k in ("nmi_labels", "nmi_prev", "loss")
                    if k in final})
    write_json(check_summary(summary, out), out / "summary.json")
    log.info("%s: linear-probe top-1 %.4f (%.1f s)", run.key, top1, total)
    return summary
