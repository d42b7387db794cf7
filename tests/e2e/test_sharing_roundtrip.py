"""Sharing across machines: the three round trips of the README's "Sharing" section, on a local
directory remote and on an S3 remote served by moto on 127.0.0.1.

One clone A computes the tiny pipeline once and pushes it (with its run-cache) to both remotes;
two "split" clones each compute one model and push to two fresh remotes without committing
``dvc.lock``. Every other clone only pulls, and the tests assert from DVC's own output that no
stage command ran where none should ("Running stage" is printed exactly when one does).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.cli import run_lce
from tests.support.project import (
    MODELS,
    S3_ENV,
    TARGETS,
    TRAIN_RUNS,
    add_remote,
    clone,
    dvc,
    lock_outs,
    make_origin,
    run,
    stages_ran,
    stages_restored,
    tiny_params,
)

pytestmark = pytest.mark.slow

UNITS_SQL = "select model, count(*) as n from units group by model order by model"
# features.3 of MobileNetV2 has 24 channels: every model contributes 24 units.
EXPECTED_UNITS = ["model,n", *(f"{model},24" for model in MODELS)]
WAREHOUSE = "warehouse/lce.duckdb"
# what every model's stages depend on
SHARED_STAGES = ("params", "probe@synthetic", "probe-cache@synthetic")
TRAINING_STAGES = (*(f"train@{run}" for run in TRAIN_RUNS), "study")
# what is left for an integrator: the stages that combine every model's results
COMBINING_STAGES = {"analyze", "warehouse", "summary", "report"}


def model_stages(model: str) -> tuple[str, ...]:
    """A model's own stages after its checkpoint: its weights' digest, its dissection on the
    synthetic probe set and its benchmarks."""
    return (f"weights@{model}", f"dissect@{model}-synthetic", f"bench@{model}")


@dataclass(frozen=True)
class Remote:
    shared: str              # where clone A pushed everything
    split: str               # where the two split clones pushed one model each
    endpoint: str | None     # the S3 endpoint (moto), None for a directory


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on 127.0.0.1 with the two buckets, stopped after the module."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=S3_ENV["AWS_DEFAULT_REGION"],
                          aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"])
        for bucket in ("lce-shared", "lce-split"):
            s3.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="module")
def remotes(tmp_path_factory, s3_endpoint) -> dict[str, Remote]:
    root = tmp_path_factory.mktemp("remotes")
    return {
        "local": Remote(str(root / "shared"), str(root / "split"), None),
        "s3": Remote("s3://lce-shared/dvc", "s3://lce-split/dvc", s3_endpoint),
    }


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Path:
    return make_origin(tmp_path_factory.mktemp("origin"), tiny_params())


def with_all_remotes(project: Path, remotes: dict[str, Remote], which: str) -> Path:
    for kind, remote in remotes.items():
        add_remote(project, kind, getattr(remote, which), remote.endpoint)
    return project


@pytest.fixture(scope="module")
def clone_a(origin, remotes, tmp_path_factory) -> Path:
    """Teammate A: computes the pipeline, pushes data and run-cache to both remotes, then
    commits and pushes ``dvc.lock``."""
    project = with_all_remotes(clone(origin, tmp_path_factory.mktemp("a") / "A"), remotes,
                               "shared")
    result = dvc("repro", *TARGETS, cwd=project)
    assert {"probe@synthetic", "dissect@mobilenetv2-random-synthetic",
            "warehouse"} <= stages_ran(result.stdout)
    for kind in remotes:
        dvc("push", "--run-cache", "-r", kind, cwd=project)
    run("git", "add", "-A", cwd=project)
    run("git", "commit", "-q", "-m", "results of the tiny pipeline", cwd=project)
    run("git", "push", "-q", "origin", "HEAD", cwd=project)
    return project


@pytest.fixture(scope="module")
def split_clones(origin, remotes, tmp_path_factory) -> dict[str, Path]:
    """Two teammates at the code-only commit, each computing one model's stages (at the same time,
    as on two machines; the first also trains the configuration's networks, runs their study and
    writes the training split) and pushing their run-cache to both split remotes, without
    committing ``dvc.lock``."""
    root = tmp_path_factory.mktemp("split")

    def compute(model: str) -> Path:
        project = with_all_remotes(clone(origin, root / model, ref="code"), remotes, "split")
        extra = TRAINING_STAGES if model == MODELS[0] else ()
        result = dvc("repro", *model_stages(model), *extra, cwd=project)
        assert stages_ran(result.stdout) == {*SHARED_STAGES, f"fetch@{model}",
                                             *model_stages(model), *extra}
        for kind in remotes:
            dvc("push", "--run-cache", "-r", kind, cwd=project)
        status = run("git", "status", "--porcelain", "dvc.lock", cwd=project).stdout
        assert status.startswith("?? dvc.lock"), status
        return project

    with ThreadPoolExecutor(len(MODELS)) as pool:
        return dict(zip(MODELS, pool.map(compute, MODELS), strict=True))


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_pull_gives_a_fresh_clone_a_queryable_warehouse_without_running_stages(
        kind, clone_a, origin, remotes, tmp_path):
    remote = remotes[kind]
    project = clone(origin, tmp_path / "B", remote.shared, remote.endpoint)
    pulled = dvc("pull", cwd=project)
    assert stages_ran(pulled.stdout + pulled.stderr) == set()
    status = dvc("status", *TARGETS, "--with-deps", cwd=project)
    assert "Data and pipelines are up to date." in status.stdout, status.stdout

    result = run_lce("query", UNITS_SQL, "-f", "csv", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED_UNITS
    assert (project / WAREHOUSE).read_bytes() == (clone_a / WAREHOUSE).read_bytes()


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_repro_pull_restores_every_stage_from_the_run_cache(kind, clone_a, origin, remotes,
                                                            tmp_path):
    remote = remotes[kind]
    # At the code-only commit there is no dvc.lock: only the run-cache can spare the work.
    project = clone(origin, tmp_path / "C", remote.shared, remote.endpoint, ref="code")
    assert not (project / "dvc.lock").exists()
    result = dvc("repro", "--pull", *TARGETS, cwd=project)
    output = result.stdout + result.stderr
    assert stages_ran(output) == set(), output
    computed_by_a = set(yaml.safe_load((clone_a / "dvc.lock").read_text())["stages"])
    assert stages_restored(output) == computed_by_a
    assert lock_outs(project) == lock_outs(clone_a)

    info = run_lce("warehouse", "info", "-s", "meta", "-f", "csv", cwd=project)
    assert info.returncode == 0, info.stderr
    code_commit = run("git", "rev-parse", "HEAD", cwd=project).stdout.strip()
    # The restored warehouse is A's: built from this same commit, on A's machine.
    assert f"meta,source_revision,{code_commit}" in info.stdout.splitlines()


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_integrator_builds_the_warehouse_from_teammates_models_without_computing_one(
        kind, split_clones, origin, remotes, tmp_path):
    remote = remotes[kind]
    project = clone(origin, tmp_path / "integrator", remote.split, remote.endpoint, ref="code")
    result = dvc("repro", "--pull", *TARGETS, cwd=project)
    output = result.stdout + result.stderr
    assert stages_ran(output) == COMBINING_STAGES, output
    assert stages_restored(output) == {*SHARED_STAGES, *TRAINING_STAGES,
                                       *(f"fetch@{model}" for model in MODELS),
                                       *(stage for model in MODELS
                                         for stage in model_stages(model))}

    result = run_lce("query", UNITS_SQL, "-f", "csv", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == EXPECTED_UNITS


def test_independent_runs_give_byte_identical_outputs(clone_a, split_clones):
    """A and each split clone computed the probe set, the checkpoints, the dissections, the
    benchmarks and the training runs separately, in different directories: every output (Parquet,
    PNG masks, CSVs, checkpoints, JSON) must hash the same, or run-caches pushed from different
    machines would disagree."""
    outs_a = lock_outs(clone_a)
    for model, project in split_clones.items():
        outs = lock_outs(project)
        assert {"data/probe/synthetic", "data/probe-cache/synthetic", f"data/models/{model}",
                f"data/dissect/{model}/synthetic", f"data/bench/{model}"} <= set(outs)
        for path, md5 in outs.items():
            if path.endswith("/timings.json") or path == "data/study":
                continue  # wall-clock seconds of training runs (and the study quoting them)
            assert md5 == outs_a[path], f"{path} differs between two runs"
        parquet = f"data/dissect/{model}/synthetic/units.parquet"
        assert (project / parquet).read_bytes() == (clone_a / parquet).read_bytes()
