"""Running the CLI as a user would: this checkout's code, the venv's tools, one `Error:` line.

:func:`run_lce` runs ``lce`` in this process the way its console script does (``lce.cli.main``),
so a test sees the exit code and the exact ``Error:`` lines without paying for a new interpreter
and its imports (about a second each, once most of a CLI test's time). What a process would give
the command of its own is given to it for the call: ``sys.argv``, stdin, stdout and stderr
(click's :meth:`~click.testing.CliRunner.isolation`), the environment and the working directory.
What an in-process run cannot show — that the console script and ``python -m lce`` start, the
exit code the interpreter returns, which modules a command imports — a new interpreter shows, in
the few subprocess tests marked slow (``tests/cli/test_entry_points.py``, :func:`spawn_lce`).
"""

from __future__ import annotations

import contextlib
import os
import runpy
import subprocess
import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


def cli_env(**extra) -> dict[str, str]:
    """Environment for subprocesses: this checkout's code first, the venv's tools on PATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["DVC_NO_ANALYTICS"] = "1"
    env.update(extra)
    return env


def run_lce(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None,
            **env: str) -> subprocess.CompletedProcess:
    """``lce ARGS`` run in this process through :func:`lce.cli.main`, reported as
    ``subprocess.run(capture_output=True, text=True)`` would report it."""
    from lce.cli import main

    return _in_process(main, ["lce", *args], stdin, cwd, env)


def run_stage(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """A stage script of this checkout (``stages/params.py``) run in this process as
    ``python stages/X.py ARGS`` in ``cwd``, the way DVC runs it."""
    path = str(REPO / script)
    return _in_process(lambda: runpy.run_path(path, run_name="__main__"), [path, *args], None,
                       cwd, {})


def _in_process(entry, argv: list[str], stdin, cwd: Path | None,
                env: dict) -> subprocess.CompletedProcess:
    """Call ``entry()`` as a process would run it; an exception escaping it is a traceback on
    stderr and exit code 1, as the interpreter would make it."""
    from click.testing import CliRunner

    code = 0
    with CliRunner().isolation(input=stdin, env=cli_env(**env)) as (out, err, _), \
            contextlib.chdir(cwd or Path.cwd()):
        saved, sys.argv = sys.argv, argv
        try:
            entry()
        except SystemExit as stop:
            code = _exit_status(stop.code)
        except Exception:  # noqa: BLE001 - what an uncaught exception does to a process
            traceback.print_exc()
            code = 1
        finally:
            sys.argv = saved
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    return subprocess.CompletedProcess(argv, code, stdout, stderr)


def _exit_status(code) -> int:
    """The status ``sys.exit(code)`` gives a process: None is 0, a message is printed and 1."""
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)
    return 1


def spawn_lce(*args: str, stdin: str | None = None, cwd: Path | None = None,
              **env) -> subprocess.CompletedProcess:
    """Run ``python -m lce ARGS`` in a new interpreter and capture its output."""
    return subprocess.run([sys.executable, "-m", "lce", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, env=cli_env(**env), timeout=120)


def assert_one_error_line(result, fragment):
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Error: ") and fragment in lines[0], result.stderr
    assert all(line.startswith(("Error: ", "Hint: ")) for line in lines), result.stderr
    assert "Traceback" not in result.stderr
