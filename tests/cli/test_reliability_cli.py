"""Issue 19 items 2, 6, 7, 9 and 10 as a careless or hostile user would try them: --output
never clobbers what it must not, results stream, every mistake is one Error line (exit 1, 130
for Ctrl-C), and filters that match nothing say so."""

import csv
import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from lce.errors import LCEError
from tests.support.cli import cli_env, run_lce
from tests.support.warehouse import planted_warehouse


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return planted_warehouse(tmp_path_factory.mktemp("reliability"))


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def lce():
    def run(*args, stdin=None):
        result = run_lce(*args, stdin=stdin)
        return result.returncode, result.stdout, result.stderr
    return run


def one_error(result, fragment, code=1):
    status, out, err = result
    assert status == code, (status, out, err)
    lines = err.strip().splitlines()
    assert lines and lines[0].startswith("Error: ") and fragment in lines[0], err
    assert all(line.startswith(("Error: ", "Hint: ")) for line in lines), err


# --- item 2: where --output writes -------------------------------------------------------------

def test_output_to_the_warehouse_being_read_is_refused(db, lce):
    before = digest(db)
    one_error(lce("--db", str(db), "query", "select 1", "-o", str(db)), "refusing to overwrite")
    link = db.parent / "db-link"
    link.symlink_to(db)
    one_error(lce("--db", str(db), "models", "-o", str(link)), "refusing to overwrite")
    assert digest(db) == before and link.is_symlink()


def test_output_through_a_symlink_replaces_its_target_and_keeps_the_link(db, lce, tmp_path):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    target.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    status, out, err = lce("--db", str(db), "query", "select 42 as x", "-f", "csv", "-o",
                           str(link))
    assert (status, out) == (0, ""), err
    assert link.is_symlink() and target.read_text() == "x\n42\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # the file keeps its permissions


def test_output_writes_through_devices_and_fifos(db, lce, tmp_path):
    assert lce("--db", str(db), "query", "select 1", "-o", "/dev/null")[0] == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    assert lce("--db", str(db), "query", "select 7 as n", "-f", "csv", "-o", str(fifo))[0] == 0
    reader.join(10)
    assert received == ["n\n7\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_read_only_files_directories_and_missing_directories_are_errors(db, lce, tmp_path):
    frozen = tmp_path / "frozen.csv"
    frozen.write_text("keep\n")
    frozen.chmod(0o444)
    one_error(lce("--db", str(db), "query", "select 1", "-o", str(frozen)), "is read-only")
    assert frozen.read_text() == "keep\n"
    one_error(lce("--db", str(db), "query", "select 1", "-o", "/proc/version"), "is read-only")
    one_error(lce("--db", str(db), "models", "-o", str(tmp_path / "no" / "x.csv")),
              "does not exist")
    assert not (tmp_path / "no").exists()


def test_a_query_failing_mid_stream_leaves_the_old_file(db, lce, tmp_path, monkeypatch):
    import lce.cli.query as query

    monkeypatch.setattr(query, "BATCH_ROWS", 2)
    old = tmp_path / "old.csv"
    old.write_text("previous result\n")
    bad = "select case when range < 5 then range::varchar else 'x' end::int as n from range(9)"
    for fmt in ("csv", "jsonl", "table"):
        one_error(lce("--db", str(db), "query", bad, "-f", fmt, "-o", str(old)), "Conversion")
    assert old.read_text() == "previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv"]  # no temporary file left


def test_import_through_a_db_symlink_writes_the_target(db, tmp_path, lce):
    from tests.support.warehouse import write_tidy_benchmarks

    real = tmp_path / "real.duckdb"
    real.write_bytes(db.read_bytes())
    link = tmp_path / "lce.duckdb"
    link.symlink_to(real)
    scores = write_tidy_benchmarks(tmp_path / "scores.csv")
    con = duckdb.connect(str(real))
    con.execute("delete from benchmarks")
    con.close()
    status, _, err = lce("--db", str(link), "import", "benchmarks", str(scores), "--format", "tidy")
    assert status == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    con = duckdb.connect(str(real), read_only=True)
    assert con.execute("select count(*) from benchmarks").fetchone()[0] == 27
    con.close()


def test_import_into_a_directory_or_a_text_file_is_an_error(tmp_path, lce):
    from tests.support.warehouse import write_tidy_benchmarks

    scores = write_tidy_benchmarks(tmp_path / "scores.csv")
    before = digest(scores)
    one_error(lce("--db", str(tmp_path), "import", "benchmarks", str(scores), "--format", "tidy"),
              "is a directory")
    one_error(lce("--db", str(scores), "import", "benchmarks", str(scores), "--format", "tidy"),
              "not a DuckDB database")
    assert digest(scores) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scores.csv"]


# --- item 6: streaming and the capped table ---------------------------------------------------

def test_table_shows_the_first_rows_and_says_how_many_more(db, lce, monkeypatch):
    import lce.formats as formats

    monkeypatch.setattr(formats, "TABLE_ROWS", 3)
    status, out, _ = lce("--db", str(db), "query", "select * from range(10)")
    lines = out.splitlines()
    assert status == 0 and [line.strip() for line in lines[2:5]] == ["0", "1", "2"]
    assert lines[5].startswith("… 7 more rows not shown") and "--format csv" in lines[5]
    assert len(lines) == 6


def test_csv_is_rendered_by_duckdb_with_minimal_quoting(db, lce):
    sql = ("select 1 as a, 2 as a, 'x,\"y' as s, 'line\nbreak' as t, null as n, true as b, "
           "0.5::double as d, [1, 2] as l, 'plain' as p")
    status, out, _ = lce("--db", str(db), "query", sql, "-f", "csv")
    assert status == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["a", "a", "s", "t", "n", "b", "d", "l", "p"],
        ["1", "2", 'x,"y', "line\nbreak", "", "true", "0.5", "[1, 2]", "plain"]]
    assert out.splitlines()[1].startswith('1,2,"x,""y","line')
    # one column: an empty field is written "" so the row does not read as a blank line
    out = lce("--db", str(db), "query", "select * from (values (''), (null), ('a')) t(v)",
              "-f", "csv")[1]
    assert out == 'v\n""\n""\na\n'


def test_csv_keeps_the_order_across_batches(db, lce, monkeypatch):
    import lce.cli.query as query

    monkeypatch.setattr(query, "BATCH_ROWS", 1000)
    out = lce("--db", str(db), "query", "select range as r from range(50000) order by hash(r)",
              "-f", "csv")[1]
    con = duckdb.connect()
    want = [r for (r,) in con.execute("select range from range(50000) order by hash(range)")
            .fetchall()]
    assert [int(x) for x in out.splitlines()[1:]] == want


@pytest.mark.parametrize("n", [0, 1, 3])
def test_streamed_json_is_laid_out_as_one_dump(db, lce, n):
    out = lce("--db", str(db), "query", f"select range as i, 'r' || range as s from range({n})",
              "-f", "json")[1]
    records = [{"i": i, "s": f"r{i}"} for i in range(n)]
    assert out == json.dumps(records, indent=2) + "\n"


def test_rows_are_written_as_they_come(tmp_path):
    from lce.formats import Format, write_rows

    def rows():
        yield from [(1,), (2,)]
        raise RuntimeError("the source failed after two rows")

    for fmt in (Format.csv, Format.jsonl, Format.markdown):
        sink = io.StringIO()
        with pytest.raises(RuntimeError):
            write_rows(sink, ["n"], rows(), fmt)
        assert sink.getvalue().count("1") and sink.getvalue().count("2"), fmt


# --- item 7: one line, never a traceback ------------------------------------------------------

@pytest.mark.parametrize(("args", "stdin", "fragment"), [
    (("query", ";"), None, "empty SQL"),
    (("query", " ; -- nothing"), None, "empty SQL"),
    (("query", "-"), b"\xff\xfe\x00select 1", "stdin: not UTF-8"),
    (("query", "select 1; select 2"), None, "2 statements"),
])
def test_query_input_mistakes(db, lce, args, stdin, fragment):
    one_error(lce("--db", str(db), *args, stdin=stdin), fragment)


@pytest.mark.parametrize("sql", ["attach 'x.db'", "install httpfs", "load httpfs",
                                 "set enable_external_access = true",
                                 "select * from read_text('/etc/passwd')"])
def test_the_sandbox_refuses(db, lce, sql, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one_error(lce("--db", str(db), "query", sql), "")
    assert list(tmp_path.iterdir()) == []


def test_a_duckdb_file_without_lce_tables(tmp_path, lce):
    foreign = tmp_path / "foreign.duckdb"
    duckdb.connect(str(foreign)).close()
    for args in (["concepts", "X"], ["units", "X"], ["models"], ["categorize"],
                 ["deepcluster", "runs"], ["neighbors", "X"]):
        one_error(lce("--db", str(foreign), *args), "not an LCE warehouse")


def lce_process(db, *args, **popen):
    return subprocess.Popen([sys.executable, "-m", "lce", "--db", str(db), *args],
                            env=cli_env(), text=True, stderr=subprocess.PIPE, **popen)


@pytest.mark.slow  # the lce_process tests: a signal, a closed pipe, fds need a real process
@pytest.mark.parametrize("to_file", [False, True])
def test_ctrl_c_during_a_query_exits_130_without_a_traceback(db, tmp_path, to_file):
    slow = "select count(*) from range(10000000000) t(a), range(10) u(b) where a + b > 5"
    old = tmp_path / "old.csv"
    old.write_text("previous\n")
    process = lce_process(db, "query", slow, *(["-o", str(old)] if to_file else []),
                          stdout=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(os.listdir(f"/proc/{process.pid}/task")) < 3:  # DuckDB's threads: it is querying
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()  # never leave a ten-billion-row query running when the test fails
    assert process.returncode == 130 and out == "" and "Traceback" not in err, err
    assert old.read_text() == "previous\n" and list(tmp_path.iterdir()) == [old]


@pytest.mark.slow
def test_a_full_disk_on_stdout_is_one_error_line(db):
    with open("/dev/full", "w") as full:
        process = lce_process(db, "query", "select * from range(100000)", "-f", "csv",
                              stdout=full)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "Traceback" not in err and "Exception" not in err, err
    assert err.startswith("Error: cannot write to stdout (No space left on device)")


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(db):
    process = lce_process(db, "query", "select * from range(3000000)", "-f", "csv",
                          stdout=subprocess.PIPE)
    assert process.stdout.readline() == "range\n"
    process.stdout.close()  # `| head -1`
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1 and err == ""


@pytest.mark.slow
def test_output_to_a_pipe_given_as_dev_fd(db):
    read_end, write_end = os.pipe()
    process = lce_process(db, "query", "select 5 as five", "-f", "csv", "-o",
                          f"/dev/fd/{write_end}", pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        received = pipe.read()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert received == "five\n5\n"


# --- item 9: filters that match nothing, parameter types, fetch leftovers --------------------

def test_unknown_layer_and_concept_are_errors_known_ones_work(db, lce):
    one_error(lce("--db", str(db), "concepts", "AnimalNet1", "--layer", "layer9"),
              "has no layer 'layer9'")
    one_error(lce("--db", str(db), "units", "AnimalNet1", "--concept", "unicorn"),
              "no concept 'unicorn'")
    assert lce("--db", str(db), "concepts", "AnimalNet1", "--layer", "layer4")[0] == 0
    status, out, _ = lce("--db", str(db), "units", "AnimalNet1", "--concept", "dog (object)",
                         "-f", "jsonl")
    assert status == 0 and {json.loads(x)["label"] for x in out.splitlines()} == {"dog"}
    # a concept of the probe set that this model has no unit of is an empty answer, not an error
    assert lce("--db", str(db), "units", "Blank", "--concept", "car")[0] == 0


def test_unknown_training_method_and_an_empty_model_list_are_errors(db, lce):
    one_error(lce("--db", str(db), "deepcluster", "runs", "--method", "deepclustr"),
              "no training run of method 'deepclustr'")
    one_error(lce("--db", str(db), "categorize", "--models", ","), "names no model")
    one_error(lce("--db", str(db), "neighbors", "--complementary", "--models", " , "),
              "names no model")


@pytest.mark.parametrize(("text", "value"), [
    ("m=007", "007"), ("m=7", 7), ("m=-12", -12), ("m=0", 0), ("m=1.5", 1.5),
    ("m=-2.5e-3", -0.0025), ("m=1_000", "1_000"), ("m=+5", "+5"), ("m=nan", "nan"),
    ("m= 7", " 7"), ("m=", ""), ("m=a=b", "a=b"),
])
def test_parameter_typing(text, value):
    from lce.cli.query import parse_parameter

    name, parsed = parse_parameter(text)
    assert name == "m" and parsed == value and type(parsed) is type(value)


def test_parameter_007_reaches_the_sql_as_a_string(db, lce):
    out = lce("--db", str(db), "query", "select $m as m, typeof($m) as t", "-p", "m=007",
              "-f", "csv")[1]
    assert out == "m,t\n007,VARCHAR\n"


def test_a_failed_download_leaves_no_empty_cache_folder(tmp_path, monkeypatch):
    from lce.zoo.fetch import FetchOptions, download

    target = tmp_path / "cache" / "some-model" / "weights.pth"
    with pytest.raises(LCEError, match="cannot reach"):
        download("http://127.0.0.1:9/weights.pth", target, FetchOptions(retries=0), "model m",
                 "")
    assert not (tmp_path / "cache").exists()


# --- item 10: messages ------------------------------------------------------------------------

def test_header_only_imports_and_empty_cells_are_plain_messages(tmp_path, lce):
    header = tmp_path / "header.csv"
    header.write_text(",name,unit,iou,label,category\n")
    target = tmp_path / "new.duckdb"
    one_error(lce("--db", str(target), "import", "profiles", str(header)),
              "header.csv: no data rows to import")
    tidy = tmp_path / "tidy.csv"
    tidy.write_text("model,task,dataset,metric,value,higher_is_better\n")
    one_error(lce("--db", str(target), "import", "benchmarks", str(tidy), "--format", "tidy"),
              "tidy.csv: no data rows to import")
    tidy.write_text("model,task,dataset,metric,value,higher_is_better\nA,t,d,m,,true\n")
    result = lce("--db", str(target), "import", "benchmarks", str(tidy), "--format", "tidy")
    one_error(result, "line 2: column 'value': expected a number, got an empty cell")
    assert "np." not in result[2] and not target.exists()


def test_torch_load_refusals_are_whole_sentences_and_not_called_truncated(tmp_path):
    import pickle

    import torch

    from lce.zoo.safe_load import safe_torch_load

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo never",))

    torch.save({"w": torch.zeros(2), "x": Evil()}, tmp_path / "evil.pt")
    (tmp_path / "raw.pt").write_bytes(pickle.dumps({"x": Evil()}))
    good = tmp_path / "good.pt"
    torch.save({"w": torch.zeros(1000)}, good)
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    (tmp_path / "text.pt").write_text("hello\n")
    messages = {}
    for name in ("evil", "raw", "cut", "text"):
        with pytest.raises(LCEError) as info:
            safe_torch_load(tmp_path / f"{name}.pt", "model m")
        messages[name] = f"{info.value} | {info.value.hint}"
    assert "pickles posix.system, which safe loading does not allow" in messages["evil"]
    assert "refuses (Unsupported operand" in messages["raw"]
    assert "(PytorchStreamReader failed reading zip archive: failed finding central " \
           "directory)" in messages["cut"]
    assert "corrupt or not a PyTorch checkpoint" in messages["text"]
    for name in ("evil", "raw"):
        assert "truncated" not in messages[name] and "nothing in" in messages[name]
    for text in messages.values():
        assert ")" in text.split("|")[0] and "`torch." not in text  # no sentence cut short


def test_no_model_filter_none_in_messages(tmp_path):
    from lce.analysis.matrix import resolve_models

    con = duckdb.connect()
    with pytest.raises(LCEError) as info:
        resolve_models(con, [], None, "some-probe")
    assert "None" not in str(info.value) and "models" in str(info.value)
