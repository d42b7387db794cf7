"""Running the real CLI as a user would: this checkout's code, the venv's tools, one `Error:`
line."""

from __future__ import annotations

import os
import subprocess
import sys
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


def run_lce(*args: str, stdin: str | None = None, cwd: Path | None = None,
            **env) -> subprocess.CompletedProcess:
    """Run ``python -m lce ARGS`` as a user would and capture its output."""
    return subprocess.run([sys.executable, "-m", "lce", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, env=cli_env(**env), timeout=120)

def assert_one_error_line(result, fragment):
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Error: ") and fragment in lines[0], result.stderr
    assert all(line.startswith(("Error: ", "Hint: ")) for line in lines), result.stderr
    assert "Traceback" not in result.stderr
