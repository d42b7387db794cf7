"""Slurm batch scripts for a :class:`~lce.cluster.plan.Plan`, and their submission.

``lce cluster slurm --out DIR`` writes into DIR:

- ``lce-job.sh``, the body every job sources: clone the commit into node-local scratch, copy the
  checkout's ``.dvc/config.local`` (the remote; never committed), ``dvc repro --pull TARGETS``,
  ``dvc push --run-cache``, remove the clone. Its last log line is ``lce-cluster: DONE <what>`` or
  ``lce-cluster: FAILED <what> in stage '<stage>'`` -- the model and the stage that broke;
- ``probe.sbatch``, ``tasks.sbatch`` (the array, one line of ``tasks.tsv`` per task) and
  ``integrate.sbatch`` (the whole pipeline; it copies the resulting ``dvc.lock`` into DIR);
- ``submit.sh``, which chains the three with ``--dependency=afterok`` (and
  ``--kill-on-invalid-dep=yes``, so a failed task cancels the integrator instead of leaving it
  pending for ever) and appends their ids to ``submissions.tsv``.

The scripts are plain files so that a lab can read, adapt and submit them without LCE; ``submit.sh``
is the one way they are submitted (``--submit`` runs it). Nothing here schedules or retries: that
is Slurm's job, and DVC's run-cache makes a resubmitted task restore what was already pushed.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lce.cluster.plan import Plan
from lce.errors import LCEError
from lce.io import atomic_path

JOB_BODY = "lce-job.sh"
TASKS_FILE = "tasks.tsv"
SUBMISSIONS_FILE = "submissions.tsv"
SUBMIT_SCRIPT = "submit.sh"
LOG_DIR = "logs"
CONFIG_LOCAL = "config.local"
LOCK_FILE = "dvc.lock"
SCRIPTS = {"probe": "probe.sbatch", "tasks": "tasks.sbatch", "integrator": "integrate.sbatch"}
# Slurm's own log names: %j the job id, %A_%a the array job id and task index.
LOG_PATTERNS = {"probe": "probe-%j.log", "tasks": "task-%A_%a.log",
                "integrator": "integrate-%j.log"}
MARK = "lce-cluster:"  # prefix of the job body's own log lines (START, DONE, FAILED)
HOLDS = {"probe": "probe job", "integrator": "integrator"}  # what those jobs say they hold

_SIZE = re.compile(r"^\d+[KMGT]?$")
_TIME = re.compile(r"^(\d+-)?\d+(:\d\d){0,2}$")
_NAME = re.compile(r"^[\w.,+-]*$")
_INDICES = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


@dataclass(frozen=True)
class SlurmOptions:
    """Resources of every job (the probe job and the integrator get no GPU). The defaults fit one
    ResNet-50 on full Broden per task (``docs/SCALING.md`` section 1): about 15 minutes of a GPU
    node, 16 loader cores, a 25 GB activation spill on node-local disk."""

    throttle: int = 25           # array tasks running at once (%N): the GPUs you may hold
    gpus: int = 1                # GPUs per array task (--gres=gpu:N); 0: none
    cpus: int = 16               # --cpus-per-task
    mem: str = "16G"             # --mem (per node); 0: all of it
    time: str = "04:00:00"       # --time per job
    tmp: str = "40G"             # --tmp: node-local disk each job needs; "" or 0: not asked for
    scratch: str = "${TMPDIR:-/tmp}"  # where a job clones (expanded on the node)
    partition: str = ""
    account: str = ""
    extra: tuple[str, ...] = ()  # more sbatch options for every job, e.g. --qos=long
    setup: str = ""              # shell line run first in every job, e.g. `module load cuda`

    def validate(self) -> SlurmOptions:
        checks = [
            (self.throttle >= 1, "--throttle: must be at least 1"),
            (self.gpus >= 0, "--gpus: must be 0 or more"),
            (self.cpus >= 1, "--cpus: must be at least 1"),
            (bool(_SIZE.match(self.mem)), f"--mem: {self.mem!r} is not a size like 16G"),
            (not self.tmp or bool(_SIZE.match(self.tmp)),
             f"--tmp: {self.tmp!r} is not a size like 40G"),
            (bool(_TIME.match(self.time)),
             f"--time: {self.time!r} is not a Slurm time (minutes, H:MM:SS or D-HH:MM:SS)"),
            (bool(_NAME.match(self.partition)), f"--partition: {self.partition!r}"),
            (bool(_NAME.match(self.account)), f"--account: {self.account!r}"),
            ("\n" not in self.scratch + self.setup, "--scratch and --setup: one line each"),
        ]
        for option in self.extra:
            checks.append((option.startswith("--") and "\n" not in option,
                           f"--sbatch: {option!r} is not one sbatch option (--name=value)"))
        for ok, message in checks:
            if not ok:
                raise LCEError(message)
        return self


@dataclass(frozen=True)
class Source:
    """What every job clones and runs: a commit of the repository, an environment that has LCE's
    dependencies (``bin/dvc``), and the checkout's local DVC config (its remote)."""

    root: Path  # the checkout whose dvc.yaml and params.yaml are planned
    repo: str
    rev: str
    venv: Path
    config_local: str | None = field(default=None, repr=False)


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if result.returncode:
        message = (result.stderr.strip().splitlines() or [""])[-1]
        raise LCEError(f"{root}: not a git checkout (the jobs clone the repository): {message}")
    return result.stdout.strip()


def _check_remote(root: Path) -> None:
    """Every job restores from and pushes to the default remote; the clones live elsewhere, so a
    relative local path would point at a different directory in each of them."""
    from dvc.config import Config, ConfigError
    from dvc.config_schema import RelPath

    try:
        config = Config(dvc_dir=str(root / ".dvc"))
    except ConfigError as exc:
        raise LCEError(f"{root / '.dvc'}: {exc}") from None
    name = config["core"].get("remote")
    if not name:
        raise LCEError("no default DVC remote: every job restores from it and pushes to it",
                       hint="dvc remote add --local --default shared s3://bucket/lce "
                            "(or an absolute directory every node mounts)")
    url = config["remote"].get(name, {}).get("url", "")
    if isinstance(url, RelPath):
        raise LCEError(f"DVC remote {name!r} is configured as a relative path (here {url}; "
                       "in each job's clone somewhere else): give it as an absolute path",
                       hint=f"dvc remote modify --local {name} url {url}")


def checkout_source(root: Path, repo: str | None = None, venv: Path | None = None) -> Source:
    """The commit checked out at ``root``, refused when tracked files differ from it (the jobs
    would run the commit, not the edits); ``dvc.lock`` may differ, the jobs write their own."""
    root = Path(_git(root, "rev-parse", "--show-toplevel"))
    rev = _git(root, "rev-parse", "HEAD")
    dirty = [path for path in _git(root, "diff", "--name-only", "HEAD").splitlines()
             if path != LOCK_FILE]
    if dirty:
        raise LCEError(f"{dirty[0]}: uncommitted changes; the jobs clone commit {rev[:12]}",
                       hint="commit (and push, if the jobs clone another URL) first")
    _check_remote(root)
    venv = Path(venv or sys.prefix).resolve()
    if not (venv / "bin" / "dvc").is_file():
        raise LCEError(f"{venv}/bin/dvc: not found; --venv must be an environment with LCE's "
                       "dependencies that every node can reach")
    config_local = root / ".dvc" / "config.local"
    return Source(root=root, repo=repo or str(root), rev=rev, venv=venv,
                  config_local=config_local.read_text() if config_local.is_file() else None)


def _directives(out: Path, job: str, options: SlurmOptions, gpus: int) -> str:
    lines = [f"--job-name=lce-{job}", f"--output={out / LOG_DIR / LOG_PATTERNS[job]}",
             f"--cpus-per-task={options.cpus}", f"--mem={options.mem}", f"--time={options.time}"]
    if gpus:
        lines.append(f"--gres=gpu:{gpus}")
    if options.tmp and options.tmp != "0":
        lines.append(f"--tmp={options.tmp}")
    if options.partition:
        lines.append(f"--partition={options.partition}")
    if options.account:
        lines.append(f"--account={options.account}")
    lines += options.extra
    return "".join(f"#SBATCH {line}\n" for line in lines)


def _job_body(out: Path, source: Source, options: SlurmOptions) -> str:
    q = shlex.quote
    copy_config = (f'cp {q(str(out / CONFIG_LOCAL))} "$LCE_WORK/repo/.dvc/config.local"'
                   if source.config_local is not None else "# no .dvc/config.local to copy")
    return f"""\
# Generated by `lce cluster slurm` for commit {source.rev}; sourced by the job scripts beside it.
# A job clones that commit into node-local scratch, restores from the DVC remote's run-cache what
# is there (dvc repro --pull), computes the rest of its targets, pushes its run-cache and removes
# its clone. Its last log line says DONE, or FAILED and the stage that broke.
set -euo pipefail
LCE_REPO={q(source.repo)}
LCE_REV={source.rev}
LCE_VENV={q(str(source.venv))}
LCE_SCRATCH="{options.scratch}"
{options.setup}

lce_finish() {{
    local rc=$? stage=""
    if [ "$rc" -eq 0 ]; then
        echo "{MARK} DONE $LCE_LABEL"
    elif [ "$LCE_STEP" = repro ]; then
        stage=$(sed -n "s/^Running stage '\\(.*\\)':\\$/\\1/p" "$LCE_WORK/repro.log" | tail -n 1)
        echo "{MARK} FAILED $LCE_LABEL in stage '${{stage:-none: restoring}}' (exit $rc)"
    else
        echo "{MARK} FAILED $LCE_LABEL while $LCE_STEP (exit $rc)"
    fi
    cd / && rm -rf "$LCE_WORK"
}}

# lce_job LABEL [TARGET...]: no target = the whole pipeline (the integrator)
lce_job() {{
    LCE_LABEL=$1
    shift
    LCE_WORK="$LCE_SCRATCH/lce-$SLURM_JOB_ID"
    LCE_STEP=cloning
    trap lce_finish EXIT
    trap 'exit 143' TERM
    echo "{MARK} START $LCE_LABEL: job $SLURM_JOB_ID on $(hostname), clone in $LCE_WORK"
    rm -rf "$LCE_WORK"
    mkdir -p "$LCE_WORK/tmp"
    git clone --quiet --no-checkout "$LCE_REPO" "$LCE_WORK/repo"
    git -C "$LCE_WORK/repo" checkout --quiet --detach "$LCE_REV"
    {copy_config}
    cd "$LCE_WORK/repo"
    export PATH="$LCE_VENV/bin:$PATH" PYTHONPATH="$LCE_WORK/repo" TMPDIR="$LCE_WORK/tmp"
    export DVC_NO_ANALYTICS=1
    LCE_STEP=repro
    dvc repro --pull "$@" 2>&1 | tee "$LCE_WORK/repro.log"
    LCE_STEP=pushing
    dvc push --run-cache
}}
"""


def _scripts(out: Path, plan: Plan, options: SlurmOptions) -> dict[str, str]:
    body = shlex.quote(str(out / JOB_BODY))
    tasks = shlex.quote(str(out / TASKS_FILE))
    n = len(plan.tasks)
    probe = f"""\
#!/bin/bash
{_directives(out, "probe", options, 0)}\
# The stages every task needs, computed once before the array: {" ".join(plan.prep)}
source {body}
lce_job "{HOLDS['probe']}" {" ".join(plan.prep)}
"""
    array = f"""\
#!/bin/bash
{_directives(out, "tasks", options, options.gpus)}\
#SBATCH --array=1-{n}%{options.throttle}
# Task i computes line i of tasks.tsv: one model's stages, or one independent training run.
source {body}
task=$(awk -F'\\t' -v i="$SLURM_ARRAY_TASK_ID" '$1 == i' {tasks})
[ -n "$task" ] || {{ echo "{MARK} FAILED task $SLURM_ARRAY_TASK_ID: not in {TASKS_FILE}"; exit 1; }}
IFS=$'\\t' read -r _ kind key targets <<< "$task"
lce_job "task $SLURM_ARRAY_TASK_ID: $kind $key" $targets
"""
    integrate = f"""\
#!/bin/bash
{_directives(out, "integrator", options, 0)}\
# The whole pipeline: restores every task's stages, computes {" ".join(plan.combining)}
source {body}
lce_job "{HOLDS['integrator']}"
LCE_STEP="copying dvc.lock"
cp dvc.lock {shlex.quote(str(out / f".{LOCK_FILE}.tmp"))}
mv {shlex.quote(str(out / f".{LOCK_FILE}.tmp"))} {shlex.quote(str(out / LOCK_FILE))}
"""
    submit = f"""\
#!/bin/bash
# Generated by `lce cluster slurm`: submits the probe job, the task array and the integrator,
# chained with --dependency=afterok, and appends their job ids to {SUBMISSIONS_FILE}.
# Usage: bash {SUBMIT_SCRIPT} [TASKS]   TASKS: array indices to (re)submit, e.g. 3 or 1,4-6
set -euo pipefail
cd "$(dirname "$0")"
submitted=()
trap '[ ${{#submitted[@]}} -eq 0 ] || scancel "${{submitted[@]}}"' ERR
array=()
[ $# -eq 0 ] || array=("--array=$1%{options.throttle}")
probe=$(sbatch --parsable {SCRIPTS["probe"]})
probe=${{probe%%;*}}
submitted+=("$probe")
tasks=$(sbatch --parsable --dependency="afterok:$probe" --kill-on-invalid-dep=yes \\
    "${{array[@]}}" {SCRIPTS["tasks"]})
tasks=${{tasks%%;*}}
submitted+=("$tasks")
integrator=$(sbatch --parsable --dependency="afterok:$tasks" --kill-on-invalid-dep=yes \\
    {SCRIPTS["integrator"]})
integrator=${{integrator%%;*}}
[ -f {SUBMISSIONS_FILE} ] || printf '#probe\\ttasks\\tintegrator\\tindices\\n' > {SUBMISSIONS_FILE}
printf '%s\\t%s\\t%s\\t%s\\n' "$probe" "$tasks" "$integrator" "${{1:-all}}" >> {SUBMISSIONS_FILE}
echo "probe job $probe"
echo "task array $tasks ({n} tasks: ${{1:-all}})"
echo "integrator $integrator"
"""
    table = "#task\tkind\tkey\ttargets\n" + "".join(
        f"{i}\t{task.kind}\t{task.key}\t{' '.join(task.targets)}\n"
        for i, task in enumerate(plan.tasks, start=1))
    return {SCRIPTS["probe"]: probe, SCRIPTS["tasks"]: array,
            SCRIPTS["integrator"]: integrate, SUBMIT_SCRIPT: submit, TASKS_FILE: table}


def write_scripts(out: Path, plan: Plan, source: Source, options: SlurmOptions) -> bool:
    """Write the job files into ``out``; returns whether they changed. A changed plan forgets
    the earlier submissions (``lce cluster status`` would match them to other tasks)."""
    out, options = out.resolve(), options.validate()
    files = {JOB_BODY: _job_body(out, source, options), **_scripts(out, plan, options)}
    changed = any(not (out / name).is_file() or (out / name).read_text() != text
                  for name, text in files.items())
    (out / LOG_DIR).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        with atomic_path(out / name) as tmp:
            tmp.write_text(text)
            if name.endswith((".sh", ".sbatch")):
                tmp.chmod(0o755)
    if source.config_local is not None:
        with atomic_path(out / CONFIG_LOCAL) as tmp:
            tmp.chmod(0o600)
            tmp.write_text(source.config_local)
    if changed:
        (out / SUBMISSIONS_FILE).unlink(missing_ok=True)
    return changed


def submit(out: Path, n_tasks: int, tasks: str | None = None) -> str:
    """Run ``submit.sh`` (every task, or the array indices ``tasks``); returns what it printed."""
    if tasks is not None:
        if not _INDICES.match(tasks):
            raise LCEError(f"--tasks: {tasks!r} is not a list of task numbers like 3 or 1,4-6")
        numbers = [int(n) for part in tasks.split(",") for n in part.split("-")]
        if not all(1 <= n <= n_tasks for n in numbers):
            raise LCEError(f"--tasks: {tasks}: the tasks are numbered 1 to {n_tasks}")
    try:
        result = subprocess.run(["bash", str(out / SUBMIT_SCRIPT), *([tasks] if tasks else [])],
                                capture_output=True, text=True)
    except OSError as exc:
        raise LCEError(f"cannot run {out / SUBMIT_SCRIPT}: {exc}") from None
    if result.returncode:
        lines = result.stderr.strip().splitlines() or ["(no message)"]
        raise LCEError(f"sbatch failed: {lines[-1]}", hint="nothing stays submitted: "
                       f"{SUBMIT_SCRIPT} cancels the jobs it had submitted")
    return result.stdout
