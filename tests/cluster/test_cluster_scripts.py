"""The batch scripts of ``lce cluster slurm``, run without Slurm: stand-in ``dvc``, ``sbatch``,
``squeue`` and ``scancel`` executables record what they were asked and answer like the real ones,
so the job body, the submission chain and the status read-back are checked in milliseconds.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from lce.cluster.plan import Plan, Task
from lce.cluster.slurm import SlurmOptions, Source, checkout_source, submit, write_scripts
from lce.cluster.status import log_outcome, submission_status
from lce.errors import LCEError
from tests.support.cli import run_lce

PLAN = Plan(prep=("probe", "probe-cache"),
            tasks=(Task("model", "alex", ("dissect@alex", "bench@alex"),
                        ("fetch@alex", "dissect@alex", "bench@alex")),
                   Task("train", "run-1", ("train@run-1",), ("train@run-1",))),
            combining=("analyze", "warehouse"))
TEST_OPTIONS = SlurmOptions(gpus=0, tmp="0", cpus=1, mem="100M", time="5")


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/bash\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A committed git repository with a DVC directory and an absolute default remote."""
    repo = tmp_path / "checkout"
    (repo / ".dvc").mkdir(parents=True)
    (repo / ".dvc" / "config").write_text("[core]\n    no_scm = false\n")
    (repo / ".dvc" / ".gitignore").write_text("/config.local\n")
    (repo / "params.yaml").write_text("models: {}\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "code")
    (repo / ".dvc" / "config.local").write_text(
        f"[core]\n    remote = store\n['remote \"store\"']\n    url = {tmp_path / 'remote'}\n")
    return repo


@pytest.fixture
def venv(tmp_path) -> Path:
    """An environment whose ``dvc`` logs its arguments, prints DVC's stage lines for the targets
    it is given, writes dvc.lock, and fails on ``$FAIL_STAGE``."""
    root = tmp_path / "venv"
    executable(root / "bin" / "dvc", """
echo "$*" >> "$DVC_CALLS"
[ "$1" = repro ] || exit 0
shift 2
for stage in "$@"; do
    echo "Running stage '$stage':"
    [ "$stage" != "${FAIL_STAGE:-}" ] || { echo "Error: broken"; exit 1; }
done
echo "lock of $*" > dvc.lock
""")
    return root


def job_env(tmp_path: Path, **extra) -> dict[str, str]:
    return {**os.environ, "DVC_CALLS": str(tmp_path / "calls"), "SLURM_JOB_ID": "77", **extra}


def written(tmp_path, checkout, venv, options=TEST_OPTIONS) -> Path:
    out = tmp_path / "jobs"
    write_scripts(out, PLAN, checkout_source(checkout, venv=venv),
                  SlurmOptions(**{**options.__dict__, "scratch": str(tmp_path / "scratch")}))
    return out


def test_scripts_carry_the_options_and_the_plan(tmp_path, checkout, venv):
    out = written(tmp_path, checkout, venv, SlurmOptions())
    for name in ("probe.sbatch", "tasks.sbatch", "integrate.sbatch", "submit.sh", "lce-job.sh"):
        subprocess.run(["bash", "-n", str(out / name)], check=True)
    tasks = (out / "tasks.sbatch").read_text()
    for directive in ("--array=1-2%25", "--gres=gpu:1", "--tmp=40G", "--cpus-per-task=16",
                      "--mem=16G", "--time=04:00:00", f"--output={out}/logs/task-%A_%a.log"):
        assert f"#SBATCH {directive}\n" in tasks
    assert "--gres" not in (out / "probe.sbatch").read_text()  # GPUs for the array only
    assert 'lce_job "probe job" probe probe-cache\n' in (out / "probe.sbatch").read_text()
    assert (out / "tasks.tsv").read_text().splitlines()[1:] == [
        "1\tmodel\talex\tdissect@alex bench@alex", "2\ttrain\trun-1\ttrain@run-1"]
    assert stat.S_IMODE((out / "config.local").stat().st_mode) == 0o600
    lean = (written(tmp_path, checkout, venv) / "tasks.sbatch").read_text()
    assert "--gres" not in lean and "--tmp" not in lean


def test_site_options_reach_every_job_and_bad_ones_are_refused(tmp_path, checkout, venv):
    site = SlurmOptions(**{**TEST_OPTIONS.__dict__, "partition": "gpu", "account": "lab",
                           "extra": ("--qos=long",), "setup": "module load cuda"})
    out = written(tmp_path, checkout, venv, site)
    for name in ("probe.sbatch", "tasks.sbatch", "integrate.sbatch"):
        text = (out / name).read_text()
        for directive in ("--partition=gpu", "--account=lab", "--qos=long"):
            assert f"#SBATCH {directive}\n" in text, (name, directive)
    assert "\nmodule load cuda\n" in (out / "lce-job.sh").read_text()
    for bad, message in [({"extra": ("qos=long",)}, "not one sbatch option"),
                         ({"time": "soon"}, "not a Slurm time"), ({"throttle": 0}, "--throttle"),
                         ({"partition": "a b"}, "--partition")]:
        with pytest.raises(LCEError, match=message):
            SlurmOptions(**bad).validate()


def test_a_new_plan_forgets_the_earlier_submissions(tmp_path, checkout, venv):
    out = written(tmp_path, checkout, venv)
    (out / "submissions.tsv").write_text("#\n1\t2\t3\tall\n")
    written(tmp_path, checkout, venv)
    assert (out / "submissions.tsv").is_file()  # same scripts: same tasks
    written(tmp_path, checkout, venv, SlurmOptions(**{**TEST_OPTIONS.__dict__, "cpus": 2}))
    assert not (out / "submissions.tsv").exists()


def test_a_task_clones_computes_its_targets_pushes_and_cleans_up(tmp_path, checkout, venv):
    out = written(tmp_path, checkout, venv)
    result = subprocess.run(["bash", str(out / "tasks.sbatch")], capture_output=True, text=True,
                            env=job_env(tmp_path, SLURM_ARRAY_TASK_ID="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "lce-cluster: DONE task 1: model alex"
    assert (tmp_path / "calls").read_text().splitlines() == [
        "repro --pull dissect@alex bench@alex", "push --run-cache"]
    assert not any((tmp_path / "scratch").iterdir())


def test_a_failed_task_names_its_model_and_stage(tmp_path, checkout, venv):
    out = written(tmp_path, checkout, venv)
    result = subprocess.run(["bash", str(out / "tasks.sbatch")], capture_output=True, text=True,
                            env=job_env(tmp_path, SLURM_ARRAY_TASK_ID="1",
                                        FAIL_STAGE="bench@alex"))
    assert result.returncode != 0
    last = result.stdout.splitlines()[-1]
    assert last == "lce-cluster: FAILED task 1: model alex in stage 'bench@alex' (exit 1)"
    assert "push" not in (tmp_path / "calls").read_text()
    assert not any((tmp_path / "scratch").iterdir())
    log = tmp_path / "task.log"
    log.write_text(result.stdout)
    assert log_outcome(log) == ("FAILED", "bench@alex")


def test_an_index_outside_the_table_runs_nothing(tmp_path, checkout, venv):
    out = written(tmp_path, checkout, venv)
    result = subprocess.run(["bash", str(out / "tasks.sbatch")], capture_output=True, text=True,
                            env=job_env(tmp_path, SLURM_ARRAY_TASK_ID="3"))
    assert result.returncode == 1
    assert "FAILED task 3: not in tasks.tsv" in result.stdout
    assert not (tmp_path / "calls").exists()


def test_the_integrator_runs_the_whole_pipeline_and_hands_back_dvc_lock(tmp_path, checkout,
                                                                         venv):
    out = written(tmp_path, checkout, venv)
    result = subprocess.run(["bash", str(out / "integrate.sbatch")], capture_output=True,
                            text=True, env=job_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "calls").read_text().splitlines() == ["repro --pull", "push --run-cache"]
    assert (out / "dvc.lock").read_text() == "lock of \n"
    assert result.stdout.splitlines()[-1] == "lce-cluster: DONE integrator"


@pytest.fixture
def fake_slurm(tmp_path, monkeypatch) -> Path:
    """sbatch answers job ids 101, 102, ... (failing at call ``$SBATCH_FAIL_AT``); squeue knows
    the jobs listed in ``$SQUEUE_ANSWER``; sacct has no accounting; every call is logged."""
    bin_dir = tmp_path / "slurm-bin"
    calls = tmp_path / "slurm-calls"
    executable(bin_dir / "sbatch", f"""
n=$(( $(grep -c '^sbatch' {calls} 2>/dev/null || true) + 1 ))
echo "sbatch $*" >> {calls}
if [ "$n" = "${{SBATCH_FAIL_AT:-}}" ]; then
    echo "sbatch: error: Batch job submission failed" >&2
    exit 1
fi
echo "$((100 + n));cluster"
""")
    executable(bin_dir / "scancel", f'echo "scancel $*" >> {calls}\n')
    executable(bin_dir / "squeue", 'printf "%b" "${SQUEUE_ANSWER:-}"\n')
    executable(bin_dir / "sacct", 'echo "Slurm accounting storage is disabled" >&2; exit 1\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return calls


def test_submit_chains_the_jobs_with_afterok_and_records_them(tmp_path, checkout, venv,
                                                               fake_slurm):
    out = written(tmp_path, checkout, venv)
    printed = submit(out, len(PLAN.tasks))
    assert printed.splitlines() == ["probe job 101", "task array 102 (2 tasks: all)",
                                    "integrator 103"]
    assert fake_slurm.read_text().splitlines() == [
        "sbatch --parsable probe.sbatch",
        "sbatch --parsable --dependency=afterok:101 --kill-on-invalid-dep=yes tasks.sbatch",
        "sbatch --parsable --dependency=afterok:102 --kill-on-invalid-dep=yes integrate.sbatch"]
    submit(out, len(PLAN.tasks), "2")
    assert "--array=2%25 tasks.sbatch" in fake_slurm.read_text().splitlines()[4]
    assert (out / "submissions.tsv").read_text().splitlines()[1:] == [
        "101\t102\t103\tall", "104\t105\t106\t2"]


def test_a_failed_submission_cancels_what_it_had_submitted(tmp_path, checkout, venv, fake_slurm,
                                                           monkeypatch):
    out = written(tmp_path, checkout, venv)
    monkeypatch.setenv("SBATCH_FAIL_AT", "3")
    with pytest.raises(LCEError, match="sbatch failed: sbatch: error: Batch job submission"):
        submit(out, len(PLAN.tasks))
    assert fake_slurm.read_text().splitlines()[-1] == "scancel 101 102"
    assert not (out / "submissions.tsv").exists()
    with pytest.raises(LCEError, match="numbered 1 to 2"):
        submit(out, len(PLAN.tasks), "1-3")
    with pytest.raises(LCEError, match="not a list of task numbers"):
        submit(out, len(PLAN.tasks), "all")


def test_status_tells_which_task_holds_which_model_and_where_it_stands(tmp_path, checkout, venv,
                                                                       fake_slurm, monkeypatch):
    out = written(tmp_path, checkout, venv)
    (out / "submissions.tsv").write_text("#\n11\t12\t13\tall\n21\t22\t23\t2\n")
    logs = out / "logs"
    (logs / "probe-21.log").write_text("lce-cluster: START probe job\n"
                                       "lce-cluster: DONE probe job\n")
    (logs / "task-12_1.log").write_text("Running stage 'fetch@alex':\n"
                                        "Running stage 'dissect@alex':\n")
    (logs / "task-22_2.log").write_text(
        "Running stage 'train@run-1':\nError: out of memory\n"
        "lce-cluster: FAILED task 2: train run-1 in stage 'train@run-1' (exit 1)\n")
    monkeypatch.setenv("SQUEUE_ANSWER", "12_1|RUNNING\\n23|CANCELLED\\n")
    rows = submission_status(out)
    assert [row[:5] for row in rows] == [
        ("21", None, "probe job", "COMPLETED", ""),            # from its log
        ("12_1", 1, "model alex", "RUNNING", "dissect@alex"),  # the latest job that holds task 1
        ("22_2", 2, "train run-1", "FAILED", "train@run-1"),
        ("23", None, "integrator", "CANCELLED", ""),           # Slurm's state
    ]
    assert rows[1][5] == str(logs / "task-12_1.log") and rows[3][5] == ""


def test_cli_errors_are_one_line(tmp_path, checkout, venv):
    result = run_lce("cluster", "slurm", "--out", str(tmp_path / "j"), "--mem", "lots",
                     cwd=checkout)
    assert (result.returncode, result.stderr.splitlines()[0]) == (
        1, "Error: --mem: 'lots' is not a size like 16G")
    result = run_lce("cluster", "status", "--out", str(tmp_path / "j"), cwd=checkout)
    assert result.returncode == 1 and result.stderr.startswith("Error: ")
    assert "tasks.tsv: not found" in result.stderr and "Traceback" not in result.stderr


def test_the_checkout_must_be_committed_and_have_an_absolute_remote(tmp_path, checkout, venv):
    source = checkout_source(checkout, venv=venv)
    assert isinstance(source, Source) and source.repo == str(checkout)
    assert source.rev == git(checkout, "rev-parse", "HEAD").strip()
    (checkout / "dvc.lock").write_text("jobs write their own\n")
    checkout_source(checkout, venv=venv)  # an untracked or edited dvc.lock is fine
    (checkout / "params.yaml").write_text("models: {a: {}}\n")
    with pytest.raises(LCEError, match="params.yaml: uncommitted changes"):
        checkout_source(checkout, venv=venv)
    git(checkout, "commit", "-q", "-am", "params")
    (checkout / ".dvc" / "config.local").write_text(
        "[core]\n    remote = store\n['remote \"store\"']\n    url = ../../remote\n")
    with pytest.raises(LCEError, match="relative path"):
        checkout_source(checkout, venv=venv)
    (checkout / ".dvc" / "config.local").unlink()
    with pytest.raises(LCEError, match="no default DVC remote"):
        checkout_source(checkout, venv=venv)
    (checkout / ".dvc" / "config").write_text(  # a committed remote travels with the clone
        f"[core]\n    remote = team\n['remote \"team\"']\n    url = {tmp_path / 'remote'}\n")
    git(checkout, "commit", "-q", "-am", "team remote")
    assert checkout_source(checkout, venv=venv).config_local is None
    with pytest.raises(LCEError, match="bin/dvc: not found"):
        checkout_source(checkout, venv=tmp_path)
