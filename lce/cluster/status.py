"""Where a submission stands: which model each job holds, its state and the stage it is at.

Slurm knows the state (``squeue`` while the controller remembers a job, ``sacct`` afterwards where
accounting is enabled); the job's own log knows what it holds and where it is, because the job
body (:mod:`lce.cluster.slurm`) tees DVC's ``Running stage '...'`` lines into it and ends with
``lce-cluster: DONE ...`` or ``lce-cluster: FAILED ... in stage '...'``. When Slurm has forgotten a
job and keeps no accounting, the log alone decides.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lce.cluster.slurm import (
    HOLDS,
    LOG_DIR,
    LOG_PATTERNS,
    MARK,
    SUBMISSIONS_FILE,
    TASKS_FILE,
)
from lce.errors import LCEError

COLUMNS = ["job", "task", "holds", "state", "stage", "log"]
_RUNNING = re.compile(r"^Running stage '([^']+)':$")
_FAILED = re.compile(rf"^{MARK} FAILED .*?(?: in stage '([^']*)'| while (.*)) \(exit \d+\)$")


@dataclass(frozen=True)
class Submission:
    probe: str
    tasks: str
    integrator: str
    indices: frozenset[int] | None  # the array indices submitted; None: all of them


def _indices(spec: str) -> frozenset[int] | None:
    if spec == "all":
        return None
    numbers = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        numbers.update(range(int(first), int(last or first) + 1))
    return frozenset(numbers)


def _rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise LCEError(f"{path}: not found",
                       hint="write and submit the jobs first: lce cluster slurm --out DIR --submit")
    return [line.split("\t") for line in path.read_text().splitlines()
            if line and not line.startswith("#")]


def read_tasks(out: Path) -> dict[int, str]:
    """Task number -> what it holds (``model syn-dc-k8``, ``train mnist-k10-s0``)."""
    return {int(index): f"{kind} {key}" for index, kind, key, _ in _rows(out / TASKS_FILE)}


def read_submissions(out: Path) -> list[Submission]:
    return [Submission(probe, tasks, integrator, _indices(spec))
            for probe, tasks, integrator, spec in _rows(out / SUBMISSIONS_FILE)]


def _slurm(command: list[str]) -> dict[str, str]:
    """``{job id: state}`` from a ``JobID|State`` listing; empty when the command is missing or
    fails (sacct without accounting, squeue for jobs the controller has forgotten)."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    states = {}
    for line in result.stdout.splitlines():
        job, _, state = line.strip().partition("|")
        if state:
            states[job] = state.split()[0]  # "CANCELLED by 0" -> CANCELLED
    return states


def slurm_states(ids: list[str]) -> dict[str, str]:
    """States by job id (array tasks as ``<array id>_<index>``): squeue first, sacct for the
    jobs squeue no longer lists."""
    jobs = ",".join(sorted(set(ids)))
    states = _slurm(["sacct", "--noheader", "--parsable2", "--allocations", f"--jobs={jobs}",
                     "--format=JobID,State"])
    states.update(_slurm(["squeue", "--noheader", "--array", "--states=all", f"--jobs={jobs}",
                          "--format=%i|%T"]))
    return states


def log_outcome(path: Path) -> tuple[str | None, str]:
    """``(state, stage)`` told by a job's log: COMPLETED or FAILED with the stage that broke, or
    no state yet and the stage running now."""
    if not path.is_file():
        return None, ""
    state, stage = None, ""
    for line in path.read_text(errors="replace").splitlines():
        if match := _RUNNING.match(line):
            stage = match.group(1)
        elif line.startswith(f"{MARK} DONE "):
            state, stage = "COMPLETED", ""
        elif match := _FAILED.match(line):
            state, stage = "FAILED", match.group(1) or match.group(2)
    return state, stage


def _log(out: Path, job: str, job_id: str, index: int | None = None) -> Path:
    name = LOG_PATTERNS[job].replace("%j", job_id).replace("%A", job_id)
    return out / LOG_DIR / name.replace("%a", str(index))


def submission_status(out: Path) -> list[tuple]:
    """One row per job of the latest submission, and per task the latest job that ran it."""
    out = out.resolve()
    tasks = read_tasks(out)
    submissions = read_submissions(out)
    if not submissions:
        raise LCEError(f"{out / SUBMISSIONS_FILE}: no submission recorded")
    last = submissions[-1]
    jobs = [("probe", last.probe, None, HOLDS["probe"])]
    for index, holds in tasks.items():
        sub = next(s for s in reversed(submissions) if s.indices is None or index in s.indices)
        jobs.append(("tasks", f"{sub.tasks}_{index}", (sub.tasks, index), holds))
    jobs.append(("integrator", last.integrator, None, HOLDS["integrator"]))
    states = slurm_states([job_id for _, job_id, _, _ in jobs])
    rows = []
    for job, job_id, array, holds in jobs:
        log = _log(out, job, *array) if array else _log(out, job, job_id)
        told, stage = log_outcome(log)
        state = states.get(job_id) or told or "UNKNOWN"
        rows.append((job_id, array[1] if array else None, holds, state, stage,
                     str(log) if log.is_file() else ""))
    return rows
