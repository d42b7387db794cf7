"""``lce cluster slurm`` against a real Slurm: munged, slurmctld and slurmd on localhost.

The daemons run with a configuration generated in a temporary directory (root as SlurmUser,
proctrack/linuxproc, no cgroups, no accounting database), so nothing outside that directory is
touched. A lab checkout of the tiny sharing configuration with an absolute local-directory DVC
remote submits the probe job, the task array and the integrator; the tests read DVC's own output
in each job's log ("Running stage" exactly when a stage runs) to check that every job computed only
its share. A second submission, after a change to one model, loses that model's task to
``scancel`` mid-run; resubmitting that task alone recomputes only it. Meanwhile a single-machine
``dvc repro`` of the first configuration runs in another clone, and its warehouse must answer as
the integrated one does. Every daemon is stopped by its process id, and no process that saw this
Slurm's configuration may survive the module.

Skipped when the Slurm and munge binaries are absent or the tests do not run as root
(``.ci/run`` installs ``slurm-wlm`` and ``munge`` as root).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from lce.warehouse.connect import open_readonly
from tests.support.cli import cli_env, run_lce
from tests.support.project import (
    MODELS,
    TRAIN_RUNS,
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

BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
SHARED_STAGES = {"params", "probe@synthetic", "probe-cache@synthetic"}
COMBINING_STAGES = {"analyze", "study", "warehouse", "summary", "report"}
CHANGED = MODELS[1]  # the model the second submission changes, whose task is cancelled
JOB_OPTIONS = ("--gpus", "0", "--cpus", "1", "--mem", "100M", "--tmp", "0", "--time", "10",
               "--throttle", "4")
QUERIES = (  # what "the warehouse answers the same" means: every unit, score and coordinate
    "select model, layer, unit, label, category, iou, interpretable from units order by all",
    "select model, task, dataset, metric, value from benchmarks order by all",
    "select * from lce_coordinates order by all",
)
# byte-identical wherever they are computed (docs/SHARING.md: timings, the study quoting them and
# the DuckDB file are not; the report embeds the warehouse's build time)
WAREHOUSE = "warehouse/lce.duckdb"
STABLE = ("data/probe", "data/probe-cache", "data/models/", "data/dissect/", "data/bench/",
          "data/analysis")


def _search_path() -> str:
    """PATH and the directories Debian puts the daemons in (not on every PATH)."""
    return os.pathsep.join([cli_env()["PATH"], "/usr/sbin", "/sbin"])


def _missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name, path=_search_path()) is None]


def _process_table() -> dict[int, int]:
    """``{pid: parent pid}`` of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            table[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return table


def _descendants(pid: int) -> set[int]:
    table = _process_table()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {p for p, pp in table.items() if pp == parent} - found
        found |= children
        todo.extend(children)
    return found


def _seeing(marker: str) -> set[int]:
    """Processes whose environment holds ``marker`` (every daemon and job of this Slurm has its
    SLURM_CONF): what must not survive the module."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited: only its parent's wait is missing
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class LocalSlurm:
    """munged, slurmctld and slurmd in the foreground of this process, configured in ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.conf = root / "slurm.conf"
        self.env = cli_env(SLURM_CONF=str(self.conf), PATH=_search_path())
        self.daemons: list[subprocess.Popen] = []

    def _config(self) -> str:
        host = socket.gethostname().split(".")[0]
        sockets = [socket.socket() for _ in range(2)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        ctld_port, slurmd_port = (sock.getsockname()[1] for sock in sockets)
        for sock in sockets:
            sock.close()
        r = self.root
        # 4 CPUs at least, whatever the machine has: the tiny configuration's jobs wait on
        # start-up and I/O as much as they compute, and all three array tasks then run at once
        return f"""\
ClusterName=lcetest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={r}/munge.socket
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobCompType=jobcomp/filetxt
JobCompLoc={r}/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
SlurmdParameters=config_overrides
NodeName={host} NodeAddr=127.0.0.1 CPUs={max(4, os.cpu_count())} RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""

    def _start(self, *command: str) -> None:
        log = (self.root / f"{Path(command[0]).name}.out").open("w")
        self.daemons.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             env=self.env, cwd=self.root))

    def _wait(self, what: str, ready, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline or any(d.poll() is not None for d in self.daemons):
                logs = {p.name: p.read_text()[-2000:] for p in self.root.glob("*.out")}
                raise AssertionError(f"Slurm did not start ({what}): {logs}")
            time.sleep(0.5)

    def start(self) -> LocalSlurm:
        for sub in ("state", "spool"):
            (self.root / sub).mkdir()
        self.conf.write_text(self._config())
        key = self.root / "munge.key"
        subprocess.run(["mungekey", "--create", f"--keyfile={key}", "--force"], check=True,
                       env=self.env)
        self._start("munged", "--foreground", "--force", f"--socket={self.root}/munge.socket",
                    f"--key-file={key}", f"--pid-file={self.root}/munged.pid",
                    f"--log-file={self.root}/munged.log", f"--seed-file={self.root}/munged.seed")
        self._wait("munged", (self.root / "munge.socket").exists)
        self._start("slurmctld", "-D", "-i")
        self._wait("slurmctld", lambda: self.slurm("scontrol", "ping").returncode == 0)
        self._start("slurmd", "-D")
        self._wait("slurmd", lambda: self.slurm("sinfo", "-h", "-o", "%T").stdout.strip()
                   == "idle")
        return self

    def slurm(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=60)

    def wait_jobs(self, ids: list[str], timeout: float = 300) -> None:
        """Until none of the jobs is pending or running."""
        deadline = time.monotonic() + timeout
        while self.slurm("squeue", "-h", f"--jobs={','.join(ids)}", "-o", "%i").stdout.strip():
            assert time.monotonic() < deadline, self.slurm("squeue").stdout
            time.sleep(1)

    def stop(self) -> None:
        """Cancel what is left, then stop the daemons by process id (slurmd, which ends the jobs'
        step daemons, then slurmctld with its script daemon, then munged)."""
        self.slurm("scancel", f"--user={os.getuid()}")
        for daemon in reversed(self.daemons):
            tree = _descendants(daemon.pid)
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
            for pid in tree:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    missing = _missing_binaries()
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} missing): "
                    "apt-get install slurm-wlm munge, as .ci/run does")
    if os.geteuid() != 0:
        pytest.skip("the local Slurm runs as root (SlurmUser=root); run the tests as root")
    cluster = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        deadline = time.monotonic() + 30
        while (left := {p for p in _seeing(f"SLURM_CONF={cluster.conf}") if _alive(p)}):
            if time.monotonic() > deadline:
                for pid in left:
                    os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"processes of the test's Slurm were left running: {left}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> dict[str, Path]:
    """A lab's checkout of the tiny configuration with an absolute directory as DVC remote, the
    directory of its batch scripts, and the node-local scratch of its jobs."""
    root = tmp_path_factory.mktemp("lab")
    origin = make_origin(root, tiny_params())
    (root / "remote").mkdir()
    checkout = clone(origin, root / "checkout", str(root / "remote"))
    return {"origin": origin, "checkout": checkout, "jobs": root / "jobs",
            "scratch": root / "scratch", "root": root}


def submit(slurm: LocalSlurm, lab: dict[str, Path], *extra: str) -> dict[str, str]:
    """``lce cluster slurm --submit`` in the lab's checkout; the job ids it printed."""
    result = run_lce("cluster", "slurm", "--out", str(lab["jobs"]), "--submit", *JOB_OPTIONS,
                     "--scratch", str(lab["scratch"]), *extra, cwd=lab["checkout"],
                     SLURM_CONF=str(slurm.conf))
    assert result.returncode == 0, result.stdout + result.stderr
    words = dict(line.rsplit(" ", 1) for line in result.stdout.splitlines()
                 if line.startswith(("probe job ", "integrator ")))
    array = next(line.split()[2] for line in result.stdout.splitlines()
                 if line.startswith("task array "))
    return {"probe": words["probe job"], "tasks": array, "integrator": words["integrator"]}


def status(slurm: LocalSlurm, lab: dict[str, Path]) -> list[dict]:
    result = run_lce("cluster", "status", "--out", str(lab["jobs"]), "-f", "json",
                     SLURM_CONF=str(slurm.conf))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def log(lab: dict[str, Path], name: str) -> str:
    return (lab["jobs"] / "logs" / name).read_text()


def own_stages(task: int) -> set[str]:
    """What task ``task`` of the tiny configuration computes: a model's fetch, dissection and
    benchmarks, or the training run that no model uses (the study's)."""
    if task <= len(MODELS):
        model = MODELS[task - 1]
        return {f"fetch@{model}", f"weights@{model}", f"dissect@{model}-synthetic",
                f"bench@{model}"}
    return {f"train@{TRAIN_RUNS[task - len(MODELS) - 1]}"}


def every_model_stage() -> set[str]:
    """The stages of every model's task (what an integrator restores of them)."""
    return set().union(*(own_stages(task) for task in range(1, len(MODELS) + 1)))


@pytest.fixture(scope="module")
def first(slurm, lab) -> dict[str, str]:
    """The first submission, run to its end and timed, with nothing else of the module running."""
    start = time.monotonic()
    jobs = submit(slurm, lab)
    slurm.wait_jobs(list(jobs.values()))
    print(f"\nwall time, tiny configuration: local Slurm array (submit to integrated) "
          f"{time.monotonic() - start:.0f} s")
    return jobs


@pytest.fixture(scope="module")
def integrated(lab, first) -> Path:
    """The lab's checkout with the integrator's dvc.lock and everything it locks pulled, as a lab
    commits it (before a second submission replaces the dvc.lock of the jobs directory)."""
    checkout = lab["checkout"]
    shutil.copy(lab["jobs"] / "dvc.lock", checkout / "dvc.lock")
    pulled = dvc("pull", cwd=checkout)
    assert stages_ran(pulled.stdout + pulled.stderr) == set()
    return checkout


def _repro_alone(project: Path) -> tuple[Path, float]:
    start = time.monotonic()
    result = dvc("repro", cwd=project, timeout=900)
    assert {"dissect@mobilenetv2-random-synthetic", "warehouse"} <= stages_ran(result.stdout)
    return project, time.monotonic() - start


@pytest.fixture(scope="module")
def single_machine(lab, first):
    """One ``dvc repro`` of the same configuration in a clone of its own: a future of (clone,
    wall seconds). It starts once the first submission is done and runs beside the second one,
    whose jobs mostly follow one another and leave a core idle (the module takes a minute less;
    docs/SCALING.md has the two timed one after the other)."""
    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(_repro_alone, clone(lab["origin"], lab["root"] / "single"))


def test_every_job_of_the_first_submission_completed(slurm, lab, first):
    rows = status(slurm, lab)
    assert [(row["holds"], row["state"]) for row in rows] == [
        ("probe job", "COMPLETED"), *((f"model {m}", "COMPLETED") for m in MODELS),
        *((f"train {r}", "COMPLETED") for r in TRAIN_RUNS), ("integrator", "COMPLETED")]
    assert not any(lab["scratch"].iterdir()), "a job left its clone on the scratch disk"


def test_each_array_task_ran_only_its_own_stages(lab, first):
    probe = log(lab, f"probe-{first['probe']}.log")
    assert stages_ran(probe) == SHARED_STAGES
    for task in range(1, len(MODELS) + len(TRAIN_RUNS) + 1):
        output = log(lab, f"task-{first['tasks']}_{task}.log")
        assert stages_ran(output) == own_stages(task), output
        assert f"lce-cluster: DONE task {task}: " in output


def test_the_integrator_restored_every_model_and_computed_only_the_combining_stages(lab, first):
    output = log(lab, f"integrate-{first['integrator']}.log")
    assert stages_ran(output) == COMBINING_STAGES, output
    assert stages_restored(output) == {*SHARED_STAGES, *every_model_stage(),
                                       *(f"train@{r}" for r in TRAIN_RUNS)}


def test_a_cancelled_task_resubmitted_alone_is_the_only_one_that_recomputes(
        slurm, lab, first, integrated, single_machine):
    checkout = lab["checkout"]
    params = yaml.safe_load((checkout / "params.yaml").read_text())
    params["models"][CHANGED]["bench_layer"] = "features.2"  # only this model's bench@ changes
    (checkout / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run("git", "commit", "-q", "-m", "another benchmark layer", "params.yaml", cwd=checkout)
    second = submit(slurm, lab)
    task = MODELS.index(CHANGED) + 1
    task_log = lab["jobs"] / "logs" / f"task-{second['tasks']}_{task}.log"
    deadline = time.monotonic() + 240
    while f"Running stage 'bench@{CHANGED}'" not in (task_log.read_text() if task_log.is_file()
                                                      else ""):
        assert time.monotonic() < deadline, "the task never reached its benchmark stage"
        time.sleep(0.2)
    slurm.slurm("scancel", f"{second['tasks']}_{task}")
    slurm.wait_jobs(list(second.values()))

    rows = {row["holds"]: row for row in status(slurm, lab)}
    cancelled = rows[f"model {CHANGED}"]
    assert (cancelled["state"], cancelled["stage"]) == ("CANCELLED", f"bench@{CHANGED}")
    assert rows["integrator"]["state"] == "CANCELLED"  # its dependency can no longer be met
    assert f"FAILED task {task}: model {CHANGED} in stage 'bench@{CHANGED}'" in log(
        lab, f"task-{second['tasks']}_{task}.log")
    for other in set(range(1, len(MODELS) + len(TRAIN_RUNS) + 1)) - {task}:
        assert stages_ran(log(lab, f"task-{second['tasks']}_{other}.log")) == set()
    assert not any(lab["scratch"].iterdir()), "the cancelled task left its clone"

    again = submit(slurm, lab, "--tasks", str(task))
    slurm.wait_jobs(list(again.values()))
    assert stages_ran(log(lab, f"probe-{again['probe']}.log")) == set()
    assert stages_ran(log(lab, f"task-{again['tasks']}_{task}.log")) == {f"bench@{CHANGED}"}
    output = log(lab, f"integrate-{again['integrator']}.log")
    assert stages_ran(output) <= COMBINING_STAGES and "warehouse" in stages_ran(output)
    assert every_model_stage() <= stages_restored(output)
    rows = status(slurm, lab)
    assert {row["state"] for row in rows} == {"COMPLETED"}
    assert next(row["job"] for row in rows if row["holds"] == f"model {CHANGED}") == \
        f"{again['tasks']}_{task}"


def test_the_integrated_warehouse_answers_as_a_single_machine_run(integrated, single_machine):
    single, seconds = single_machine.result()
    print(f"\nwall time, tiny configuration: single machine {seconds:.0f} s "
          "(beside the second submission)")
    integrated_db, single_db = (open_readonly(project / WAREHOUSE)
                                for project in (integrated, single))
    for sql in QUERIES:
        answer = integrated_db.execute(sql).fetchall()
        assert answer == single_db.execute(sql).fetchall(), sql
        assert len(answer) >= len(MODELS), sql
    integrated_db.close()
    single_db.close()
    together, alone = lock_outs(integrated), lock_outs(single)
    stable = {path for path in alone if path.startswith(STABLE)}
    assert len(stable) >= 7
    assert {path: together[path] for path in stable} == {path: alone[path] for path in stable}
