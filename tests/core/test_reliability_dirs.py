"""Issue 19 item 1: a command replaces only a directory it wrote (its marker), never somebody
else's files, its own input, a parent of its input or the current directory."""

import hashlib
import shutil

import pytest

from lce.errors import LCEError
from lce.io import MARKER, atomic_directory
from tests.support.cli import run_lce


def tree_bytes(root):
    """Every file under ``root`` (hidden ones too) and its sha256: what must survive."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def probe(tiny_probe, tmp_path):
    copy = tmp_path / "work" / "probe"
    shutil.copytree(tiny_probe, copy)
    return copy


def test_cache_refuses_a_foreign_non_empty_directory(probe, tmp_path):
    foreign = tmp_path / "d"
    foreign.mkdir()
    (foreign / "a").write_text("x\n")
    result = run_lce("probe", "cache", str(probe), str(foreign))
    err = result.stderr
    assert result.returncode == 1 and "refusing to replace a non-empty directory" in err
    assert err.startswith("Error: ") and "Traceback" not in err
    assert (foreign / "a").read_bytes() == b"x\n" and sorted(foreign.iterdir()) == [foreign / "a"]


@pytest.mark.parametrize("where", ["itself", "parent", "grandparent"])
def test_cache_refuses_its_input_and_the_directories_above_it(probe, where):
    out_dir = {"itself": probe, "parent": probe.parent, "grandparent": probe.parent.parent}[where]
    (out_dir / MARKER).write_text("")  # even a directory LCE wrote once
    before = tree_bytes(probe)
    result = run_lce("probe", "cache", str(probe), str(out_dir))
    assert result.returncode == 1 and "holds the input" in result.stderr, result.stderr
    assert tree_bytes(probe) == before


def test_cache_into_the_current_directory_is_one_error_line(probe, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    (here / "notes.txt").write_text("mine\n")
    monkeypatch.chdir(here)
    for target in (".", "..", str(here)):
        result = run_lce("probe", "cache", str(probe), target)
        err = result.stderr
        assert result.returncode == 1 and result.stdout == "" and err.count("\n") == 2, err
        assert "refusing to replace the current directory" in err  # and a Hint line
    assert (here / "notes.txt").read_text() == "mine\n"


def test_cache_writes_a_new_or_empty_directory_then_replaces_its_own(probe, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (tmp_path / "new", empty):
        result = run_lce("probe", "cache", str(probe), str(target))
        assert result.returncode == 0, result.stderr
        assert (target / MARKER).is_file() and (target / "planes.npy").is_file()
    (empty / "planes.npy").write_bytes(b"stale")  # ours: replaced whole on the next write
    assert run_lce("probe", "cache", str(probe), str(empty)).returncode == 0
    assert (empty / "planes.npy").read_bytes() != b"stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "new", "work"]


def test_a_foreign_leftover_beside_the_output_is_kept(tmp_path):
    (tmp_path / ".out.old").mkdir()
    (tmp_path / ".out.old" / "keep").write_text("k")
    with pytest.raises(LCEError, match="not LCE's own"), atomic_directory(tmp_path / "out"):
        pass
    assert (tmp_path / ".out.old" / "keep").read_text() == "k"
    assert not (tmp_path / "out").exists()


def test_stage_outputs_dvc_deleted_or_marked_are_replaced_and_crash_leftovers_cleared(tmp_path):
    out = tmp_path / "stage-out"
    with atomic_directory(out) as tmp:          # DVC deleted the output before the stage ran
        (tmp / "a.parquet").write_text("1")
    (tmp_path / ".stage-out.tmp").mkdir()       # a crashed run's half-written set: ours
    (tmp_path / ".stage-out.tmp" / MARKER).write_text("")
    with atomic_directory(out) as tmp:
        (tmp / "b.parquet").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stage-out"]


def test_a_symlinked_output_directory_is_replaced_at_its_target(tmp_path):
    real = tmp_path / "real"
    with atomic_directory(real) as tmp:
        (tmp / "x").write_text("old")
    (tmp_path / "link").symlink_to(real)
    with atomic_directory(tmp_path / "link") as tmp:
        (tmp / "x").write_text("new")
    assert (tmp_path / "link").is_symlink() and (real / "x").read_text() == "new"
