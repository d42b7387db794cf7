"""The `dissect` stage's output directory is replaced as a whole, never left half-written."""

import json

import pandas as pd
import pytest

import lce.dissect.artifact as stage
from lce.io import MARKER


def old_outputs(out):
    out.mkdir(parents=True)
    (out / MARKER).write_text("")  # written by LCE: it may replace it
    for name in ("units", "exemplars", "concepts"):
        (out / f"{name}.parquet").write_bytes(b"old " + name.encode())
    (out / "meta.json").write_text('{"old": true}\n')
    return {p.name: p.read_bytes() for p in out.iterdir()}


class PlainTable:
    """A stand-in for a table's contract: writes any frame (the contracts have their tests)."""

    def __init__(self, name, write=None):
        self.artifact = f"{name}.parquet"
        self._write = write

    def write(self, frame, path):
        return self._write(frame, path) if self._write else frame.to_parquet(path)


def plain_tables(monkeypatch, write=None):
    monkeypatch.setattr(stage, "DISSECTION", {name: PlainTable(name, write) for name in
                                              ("units", "exemplars", "concepts")})


def test_a_crash_while_writing_leaves_the_old_outputs(tmp_path, monkeypatch):
    out = tmp_path / "dissect" / "m"
    before = old_outputs(out)
    written = []

    def failing_write(frame, path):
        if written:
            raise OSError("disk full")
        written.append(path)
        path.write_bytes(b"new")

    plain_tables(monkeypatch, failing_write)
    tables = {"units": pd.DataFrame({"unit": [0]}), "exemplars": pd.DataFrame({"unit": [0]})}
    with pytest.raises(OSError, match="disk full"):
        stage.write_outputs(out, tables, {"model": "m"})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert written and written[0].parent != out


def test_new_outputs_replace_the_whole_directory(tmp_path, monkeypatch):
    plain_tables(monkeypatch)
    out = tmp_path / "dissect" / "m"
    old_outputs(out)
    (tmp_path / "dissect" / ".m.tmp").mkdir()  # left over by a crashed run
    stage.write_outputs(out, {"units": pd.DataFrame({"unit": [0, 1]})}, {"model": "m"})
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "meta.json", "units.parquet"]
    assert pd.read_parquet(out / "units.parquet")["unit"].tolist() == [0, 1]
    assert json.loads((out / "meta.json").read_text()) == {"model": "m"}
    assert sorted(p.name for p in out.parent.iterdir()) == ["m"]


@pytest.mark.parametrize("null_baseline", [True, False])
def test_the_stage_artifact_with_and_without_the_null_baseline(tmp_path, tiny_probe,
                                                               null_baseline):
    """``dissect_to`` as ``dissect@`` runs it: Dissect's setting (no null baseline, as the seed
    paper's preset asks) writes a profile without ``null_iou``, and the meta records it."""
    from lce.params import DissectParams
    from lce.probe.broden import BrodenProbe
    from lce.zoo.loading import materialize
    from lce.zoo.registry import get_spec

    materialize(get_spec("mobilenetv2-random"), tmp_path / "model", seed=0)
    settings = DissectParams(method="dissect", null_baseline=null_baseline, batch_size=6,
                             device="cpu", exemplars=2)
    stage.dissect_to(tmp_path / "out", "m", tmp_path / "model", ["features.3"],
                     BrodenProbe(tiny_probe), "tiny", settings)
    units = pd.read_parquet(tmp_path / "out" / "units.parquet")
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert len(units) == 24 and set(units["layer"]) == {"features.3"}
    assert ("null_iou" in units) == null_baseline
    assert meta["dissect"]["null_baseline"] is null_baseline
    assert meta["dissect"]["quantile"] == 0.01  # the method's own q, as run
