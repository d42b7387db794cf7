"""``lce cluster slurm`` and ``lce cluster status``: the pipeline as a Slurm job array over the
shared DVC remote (``docs/SCALING.md`` section 2).

The commands write and read plain files (batch scripts, ``tasks.tsv``, ``submissions.tsv``, the
jobs' logs), so everything they do can also be done, and inspected, with ``sbatch`` and ``cat``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lce.cli.app import app
from lce.cli.output import Format, FormatOption, OutputOption, emit
from lce.cluster.slurm import SlurmOptions
from lce.errors import LCEError

cluster_app = typer.Typer(help="Run the pipeline on a batch cluster (Slurm) over the DVC remote.",
                          no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")

_DEFAULTS = SlurmOptions()
OutDir = Annotated[Path, typer.Option("--out", help="Directory of the batch scripts and logs "
                                      "(on a file system the nodes share).", file_okay=False)]


@cluster_app.command("slurm")
def slurm(
    out: OutDir,
    submit: Annotated[bool, typer.Option(
        "--submit", help="Submit the jobs with sbatch (through DIR/submit.sh); print their ids.")
    ] = False,
    tasks: Annotated[str | None, typer.Option(
        help="With --submit: only these array tasks, e.g. 3 or 1,4-6 (a resubmission).")] = None,
    throttle: Annotated[int, typer.Option(
        help="Array tasks running at once.")] = _DEFAULTS.throttle,
    gpus: Annotated[int, typer.Option(help="GPUs per array task (0: none).")] = _DEFAULTS.gpus,
    cpus: Annotated[int, typer.Option(help="CPUs per job.")] = _DEFAULTS.cpus,
    mem: Annotated[str, typer.Option(help="Memory per job (0: the whole node).")] = _DEFAULTS.mem,
    time: Annotated[str, typer.Option(help="Time limit per job.")] = _DEFAULTS.time,
    tmp: Annotated[str, typer.Option(
        help="Node-local disk per job (sbatch --tmp; '' or 0: not asked for).")] = _DEFAULTS.tmp,
    scratch: Annotated[str, typer.Option(
        help="Where each job clones the repository, expanded on the node.")] = _DEFAULTS.scratch,
    partition: Annotated[str, typer.Option(help="Slurm partition.")] = _DEFAULTS.partition,
    account: Annotated[str, typer.Option(help="Slurm account.")] = _DEFAULTS.account,
    sbatch: Annotated[list[str] | None, typer.Option(
        help="Another sbatch option for every job, e.g. --sbatch=--qos=long (repeatable).")
    ] = None,
    setup: Annotated[str, typer.Option(
        help="A shell line every job runs first, e.g. 'module load cuda'.")] = _DEFAULTS.setup,
    repo: Annotated[str | None, typer.Option(
        help="What the jobs git-clone (default: this checkout's directory).")] = None,
    venv: Annotated[Path | None, typer.Option(
        help="The Python environment the jobs use (default: the one running lce).")] = None,
) -> None:
    """Write the batch scripts of the current params.yaml: the probe job, one array task per
    model (and per independent training run), and the integrator, chained with afterok."""
    from lce.cluster.plan import plan_checkout
    from lce.cluster.slurm import checkout_source, write_scripts
    from lce.cluster.slurm import submit as submit_jobs

    if tasks is not None and not submit:
        raise LCEError("--tasks: applies to --submit only")
    options = SlurmOptions(throttle=throttle, gpus=gpus, cpus=cpus, mem=mem, time=time, tmp=tmp,
                           scratch=scratch, partition=partition, account=account,
                           extra=tuple(sbatch or ()), setup=setup).validate()
    source = checkout_source(Path.cwd(), repo, venv)
    plan = plan_checkout(source.root)
    changed = write_scripts(out, plan, source, options)
    typer.echo(f"{out}: probe job ({len(plan.prep)} stages), {len(plan.tasks)} array tasks, "
               f"integrator ({', '.join(plan.combining)}) for commit {source.rev[:12]}"
               + ("" if changed else " (unchanged)"))
    if submit:
        typer.echo(submit_jobs(out.resolve(), len(plan.tasks), tasks), nl=False)


@cluster_app.command("status")
def status(
    out: OutDir,
    fmt: FormatOption = Format.table,
    output: OutputOption = None,
) -> None:
    """Which model each job of the last submission holds, its Slurm state and its stage (the
    one running, or the one that failed), with the log to read."""
    from lce.cluster.status import COLUMNS, submission_status

    emit(COLUMNS, submission_status(out), fmt, output)
