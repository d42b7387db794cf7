"""Helpers of the sharing tests: a temp git origin made from the project, clones, remotes, moto.

Every "machine" of a sharing scenario is a ``git clone`` of one bare origin repository that holds
the project files with a tiny ``params.yaml``; remotes are configured the way the README tells a
teammate to (``dvc remote add --local``), with absolute URLs and credentials only in the
environment, never in committed config.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.support.cli import REPO, cli_env

TINY_PARAMS = {
    "probes": {"synthetic": {"kind": "synthetic", "source": "lce/probe", "n_images": 8,
                             "image_size": 64, "seed": 1, "max_objects": 2}},
    "dissect_on": ["synthetic"],
    "fetch": {"mobilenetv2-imagenet": {}, "mobilenetv2-random": {"seed": 0}},
    "models": {
        key: {"weights": f"data/models/{key}", "layers": ["features.14"]}
        for key in ("mobilenetv2-imagenet", "mobilenetv2-random")
    },
    "dissect": {"quantile": 0.005, "denominator": "netdissect", "iou_cutoff": 0.04,
                "batch_size": 8, "device": "cpu"},
    "imports": {"profiles": [], "benchmarks": []},
    "analysis": {"models": [], "k": 0, "clustering": "kmeans", "seed": 0},
    "report": {"exemplar_units": 2, "exemplar_images": 3, "landscapes": 2},
    "bench": {"device": "cpu", "input_size": 32, "max_images": 300,
              "linear_datasets": ["digits"], "fewshot_datasets": ["digits"], "shots": [1],
              "queries": 5, "label_size": 16, "pixels_per_image": 16},
    # the study needs at least one run (its dep data/train must exist): one untrained anchor
    "deepcluster": {"defaults": {"n_images": 200, "labelled": 20},
                    "runs": {"mnist-random": {"method": "random"}}, "study": {"ks": [5]}},
}


def project_files() -> list[str]:
    """The files a clone of the repository would have (tracked or not ignored)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if (REPO / line).is_file()]


def copy_project(dest, params: dict):
    for rel in project_files():
        if rel == "dvc.lock":
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, target)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


MODELS = ("mobilenetv2-imagenet", "mobilenetv2-random")
TRAIN_RUNS = tuple(TINY_PARAMS["deepcluster"]["runs"])  # the tiny config's training runs
# Stages of the tiny configuration every sharing test computes or restores.
TARGETS = ()  # every stage: the tiny configuration makes each of them seconds of work
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_PROXY": "127.0.0.1",
    "no_proxy": "127.0.0.1",
}
_GIT_ENV = {"GIT_AUTHOR_NAME": "lce-test", "GIT_AUTHOR_EMAIL": "lce-test@example.invalid",
            "GIT_COMMITTER_NAME": "lce-test", "GIT_COMMITTER_EMAIL": "lce-test@example.invalid"}
_STAGE_RAN = re.compile(r"Running stage '([^']+)'")
_STAGE_RESTORED = re.compile(r"Stage '([^']+)' is cached - skipping run")


def tiny_params(models=MODELS, **overrides) -> dict:
    """The repository's params.yaml with every stage's section shrunk to seconds of work (6 probe
    images at 64 px, one early layer; the end-to-end test's tiny benchmark and training run), so
    sections other engineers add stay."""
    params = copy.deepcopy(yaml.safe_load((REPO / "params.yaml").read_text()))
    params.update(copy.deepcopy(TINY_PARAMS))
    params.update({
        "probes": {"synthetic": {"kind": "synthetic", "source": "lce/probe", "n_images": 6,
                                 "image_size": 64, "seed": 1, "max_objects": 2}},
        "dissect_on": ["synthetic"],
        "fetch": {key: {"zoo": key} for key in models},
        "models": {key: {"weights": f"data/models/{key}", "layers": ["features.3"]}
                   for key in models},
        "dissect": {"quantile": 0.005, "denominator": "netdissect", "iou_cutoff": 0.04,
                    "batch_size": 6, "device": "cpu"},
    })
    params.update(overrides)
    return params


def run(*args, cwd: Path, env: dict | None = None, check: bool = True,
        timeout: int = 300) -> subprocess.CompletedProcess:
    """Run a command in ``cwd``; on failure the assertion shows its whole output."""
    result = subprocess.run([*args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                            env=cli_env(**_GIT_ENV, **(env or {})))
    if check:
        assert result.returncode == 0, (f"{' '.join(map(str, args))} failed in {cwd}:\n"
                                        f"{result.stdout}\n{result.stderr}")
    return result


def dvc(*args, cwd: Path, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``dvc ARGS`` with the dummy S3 credentials of the moto server in the environment
    (where teammates keep real ones; harmless for local remotes)."""
    return run("dvc", *args, cwd=cwd, env=S3_ENV, check=check, timeout=timeout)


def make_origin(root: Path, params: dict) -> Path:
    """A bare git repository holding the project with ``params``, its one commit tagged ``code``
    (the state of a teammate who has the code but no ``dvc.lock``)."""
    seed = copy_project(root / "seed", params)
    run("git", "add", "-A", cwd=seed)
    run("git", "commit", "-q", "-m", "project", cwd=seed)
    run("git", "tag", "code", cwd=seed)
    origin = root / "origin.git"
    run("git", "clone", "-q", "--bare", str(seed), str(origin), cwd=root)
    return origin


def add_remote(project: Path, name: str, url: str, endpoint: str | None = None,
               default: bool = False) -> None:
    """Configure a remote in ``.dvc/config.local`` (never committed), with its absolute URL and,
    for S3, the endpoint of the moto server."""
    dvc("remote", "add", "--local", *(["--default"] if default else []), name, url, cwd=project)
    if endpoint:
        dvc("remote", "modify", "--local", name, "endpointurl", endpoint, cwd=project)


def clone(origin: Path, dest: Path, remote_url: str | None = None, endpoint: str | None = None,
          ref: str | None = None) -> Path:
    """``git clone`` the origin (optionally at ``ref``), with ``remote_url`` as its default DVC
    remote, as a teammate would set up their machine."""
    run("git", "clone", "-q", *(["--branch", ref] if ref else []), str(origin), str(dest),
        cwd=dest.parent)
    if remote_url:
        add_remote(dest, "store", remote_url, endpoint, default=True)
    return dest


def stages_ran(output: str) -> set[str]:
    """Stages whose command DVC executed (``Running stage 'x':``)."""
    return set(_STAGE_RAN.findall(output))


def stages_restored(output: str) -> set[str]:
    """Stages DVC restored from the run-cache instead of running them."""
    return set(_STAGE_RESTORED.findall(output))


def lock_outs(project: Path) -> dict[str, str]:
    """``{output path: md5}`` of every output recorded in the clone's ``dvc.lock``: two runs'
    outputs are byte-identical exactly when these hashes agree (a directory's md5 covers the
    md5 of every file in it)."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    return {out["path"]: out["md5"] for stage in lock["stages"].values()
            for out in stage.get("outs", [])}

