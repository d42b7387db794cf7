"""The entry points as a user starts them, each in a new interpreter: what the in-process runs of
every other CLI test (``tests/support/cli.run_lce``) cannot show. The console script and
``python -m lce`` start, a failing command is exit status 1 with one ``Error:`` line from the
real process, and ``lce query`` loads none of torch and the scientific stack."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import assert_one_error_line, cli_env, spawn_lce

pytestmark = pytest.mark.slow  # a new interpreter each: the default loop runs lce in-process


def test_console_script_and_python_m_lce_start():
    script = Path(sys.executable).with_name("lce")
    for command in ([str(script)], [sys.executable, "-m", "lce"]):
        result = subprocess.run([*command, "--help"], capture_output=True, text=True,
                                env=cli_env(), timeout=120)
        assert result.returncode == 0, result.stderr
        assert "query" in result.stdout and "categorize" in result.stdout


def test_a_failing_command_exits_1_with_one_error_line(tmp_path):
    result = spawn_lce("--db", str(tmp_path / "none.duckdb"), "query", "select 1")
    assert_one_error_line(result, "no warehouse at")


def test_query_does_not_import_torch_and_starts_fast(warehouse_db):
    argv = ["lce", "--db", str(warehouse_db), "query", "select 1"]
    code = (f"import sys, runpy; sys.argv = {argv!r}\n"
            "try:\n    runpy.run_module('lce', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'pandas', 'sklearn', 'torchvision') "
            "if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=cli_env())
    elapsed = time.perf_counter() - start
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr
    assert elapsed < 5  # generous: the point is that nothing heavy is imported
