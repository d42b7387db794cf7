"""`lce query` as a user runs it: formats, parameters, output files and every error path."""

import csv
import io
import json
import subprocess
import sys

import pytest

from tests.support.cli import assert_one_error_line, cli_env, run_lce

SQL = "select model, count(*) as n from units group by model order by model"


def test_table_format_lists_both_models(warehouse_db):
    result = run_lce("--db", str(warehouse_db), "query", SQL)
    assert result.returncode == 0, result.stderr
    assert "mobilenetv2-imagenet" in result.stdout and "mobilenetv2-random" in result.stdout


def test_csv_json_jsonl_markdown(warehouse_db):
    def q(fmt):
        result = run_lce("--db", str(warehouse_db), "query", SQL, "--format", fmt)
        assert result.returncode == 0, result.stderr
        return result.stdout

    rows = list(csv.DictReader(io.StringIO(q("csv"))))
    assert rows == [{"model": "mobilenetv2-imagenet", "n": "160"},
                    {"model": "mobilenetv2-random", "n": "160"}]
    assert json.loads(q("json")) == [{"model": "mobilenetv2-imagenet", "n": 160},
                                     {"model": "mobilenetv2-random", "n": 160}]
    lines = q("jsonl").splitlines()
    assert [json.loads(x)["model"] for x in lines] == ["mobilenetv2-imagenet",
                                                       "mobilenetv2-random"]
    md = q("markdown").splitlines()
    assert md[0] == "| model | n |" and md[1] == "| --- | --- |"
    assert md[2] == "| mobilenetv2-imagenet | 160 |"


def test_table_prints_values_that_look_like_markup_as_they_are(warehouse_db):
    result = run_lce("--db", str(warehouse_db), "query",
                     "select '[bold]x[/bold]' as \"[i]h\", ':smile:' as e, 'a[1]' as b")
    assert result.returncode == 0, result.stderr
    header, _, row = result.stdout.splitlines()[:3]
    assert "[i]h" in header
    assert "[bold]x[/bold]" in row and ":smile:" in row and "a[1]" in row


def test_text_table_aligns_columns_without_wrapping():
    from lce.formats import Format, render

    long = "x" * 300
    text = render(["name", "n"], [("日本", 1), ("line\nbreak", None), (long, 2.5)], Format.table)
    lines = text.splitlines()
    assert len(lines) == 5                      # header, rule, one line per row: never wrapped
    assert lines[0] == " name" + " " * 297 + "┃ n"
    # the separator sits after 300 display columns on every row; 日本 takes four of them
    assert lines[2] == " 日本" + " " * 297 + "│ 1"
    assert lines[3] == " line break" + " " * 291 + "│"
    assert lines[4] == " " + long + " │ 2.5"


def test_named_parameters_and_stdin(warehouse_db):
    result = run_lce("--db", str(warehouse_db), "query", "-", "-p", "m=mobilenetv2-random",
                     "-p", "k=3", "-f", "json",
                     stdin="select unit from units where model = $m order by unit limit $k")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"unit": 0}, {"unit": 1}, {"unit": 2}]


def test_output_file(warehouse_db, tmp_path):
    out = tmp_path / "out.csv"
    result = run_lce("--db", str(warehouse_db), "query", SQL, "-f", "csv", "-o", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text().splitlines()[0] == "model,n"


def test_db_from_environment(warehouse_db):
    result = run_lce("query", "select count(*) as n from models", "-f", "csv",
                     LCE_DB=str(warehouse_db))
    assert result.stdout.splitlines() == ["n", "2"]



@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("selec 1", "syntax error"),
        ("select * from no_such_table", "no_such_table"),
        ("insert into meta values ('a', 'b')", "read-only"),
        ("drop table units", "read-only"),
        ("select * from read_csv('/etc/passwd')", "disabled by configuration"),
        ("copy units to '/tmp/lce-leak.csv'", "disabled by configuration"),
        ("select $missing", "missing"),
        ("   ", "empty SQL"),
    ],
)
def test_query_errors_are_one_line(warehouse_db, sql, fragment):
    assert_one_error_line(run_lce("--db", str(warehouse_db), "query", sql), fragment)


def test_bad_parameter_syntax(warehouse_db):
    result = run_lce("--db", str(warehouse_db), "query", "select 1", "-p", "novalue")
    assert_one_error_line(result, "bad parameter")


def test_missing_warehouse(tmp_path):
    result = run_lce("--db", str(tmp_path / "none.duckdb"), "query", "select 1")
    assert_one_error_line(result, "no warehouse at")
    assert "make repro" in result.stderr


def test_not_a_duckdb_file(tmp_path):
    bogus = tmp_path / "bogus.duckdb"
    bogus.write_text("hello")
    assert_one_error_line(run_lce("--db", str(bogus), "query", "select 1"), str(bogus))


def test_locked_by_a_writer(warehouse_db, tmp_path):
    copy = tmp_path / "locked.duckdb"
    copy.write_bytes(warehouse_db.read_bytes())
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(copy)!r})\n"
         "print('ready', flush=True)\n"
         "time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True, env=cli_env())
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run_lce("--db", str(copy), "query", "select 1")
        assert_one_error_line(result, "locked")
        assert "retry" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_help_lists_query():
    result = run_lce("--help")
    assert result.returncode == 0 and "query" in result.stdout
