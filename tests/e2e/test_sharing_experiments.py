"""A parameter sweep through DVC's experiment queue: two queued experiments run by two workers
(``dvc queue start -j 2``), and ``dvc exp show`` lists the metrics of the `summary` stage."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.cli import REPO
from tests.support.project import copy_project, dvc, run, tiny_params

pytestmark = pytest.mark.slow

MODEL = "mobilenetv2-random"
QUANTILES = {"q-coarse": 0.05, "q-fine": 0.01}


def wait_for_queue(project, timeout: float = 400) -> str:
    """Poll ``dvc queue status`` until no experiment is queued or running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = dvc("queue", "status", cwd=project).stdout
        if not any(word in status for word in ("Queued", "Running")):
            return status
        time.sleep(3)
    raise AssertionError(f"the queue did not finish in {timeout} s:\n{status}")


def experiment_metrics(show: list[dict]) -> dict[str, dict]:
    """``{experiment name: metrics of metrics/summary.json}`` from ``dvc exp show --json``."""
    found = {}
    for baseline in show:
        for experiment in baseline.get("experiments") or []:
            for revision in experiment.get("revs", []):
                data = revision.get("data") or {}
                summary = (data.get("metrics") or {}).get("metrics/summary.json") or {}
                found[revision.get("name") or data.get("name")] = {
                    "metrics": summary.get("data"),
                    "params": ((data.get("params") or {}).get("params.yaml") or {}).get("data"),
                }
    return found


def test_queued_sweep_runs_on_two_workers_and_exp_show_lists_metrics(tmp_path):
    assert (REPO / "stages/summary.py").is_file()
    project = copy_project(tmp_path / "project", tiny_params(models=(MODEL,)))
    run("git", "add", "-A", cwd=project)
    run("git", "commit", "-q", "-m", "project", cwd=project)
    try:
        for name, quantile in QUANTILES.items():
            dvc("exp", "run", "--queue", "--name", name, "-S", f"dissect.quantile={quantile}",
                "summary", cwd=project)
        dvc("queue", "start", "-j", "2", cwd=project)
        status = wait_for_queue(project)
        assert status.count("Success") == len(QUANTILES), status
        show = json.loads(dvc("exp", "show", "--json", cwd=project).stdout)
    finally:
        dvc("queue", "stop", "--kill", cwd=project, check=False)

    metrics = experiment_metrics(show)
    assert set(QUANTILES) <= set(metrics), metrics
    for name, quantile in QUANTILES.items():
        assert metrics[name]["params"]["dissect"]["quantile"] == quantile
        summary = metrics[name]["metrics"]["models"][MODEL]
        assert summary["units"] == 24
        assert 0 <= summary["interpretable"] <= 24
        assert summary["interpretable_fraction"] == round(summary["interpretable"] / 24, 6)
