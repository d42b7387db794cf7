"""``lce probe segment``: its input errors are one line each, before anything is written."""

from __future__ import annotations

from tests.support.cli import assert_one_error_line, run_lce
from tests.support.segment import write_random_netpqc


def test_bad_source_and_missing_files_are_one_error_line(tmp_path):
    (tmp_path / "images").mkdir()
    assert_one_error_line(run_lce("probe", "segment", str(tmp_path / "images"), "--out",
                                  str(tmp_path / "probe"), "--source", "nodir"),
                          "expected COMPONENT=DIR")
    (tmp_path / "empty").mkdir()
    assert_one_error_line(run_lce("probe", "segment", str(tmp_path / "images"), "--out",
                                  str(tmp_path / "probe"), "--source",
                                  f"upp-resnet50-upernet={tmp_path / 'empty'}"),
                          "encoder_epoch_40.pth not found")
    assert not (tmp_path / "probe").exists()


def test_files_of_another_width_fail_the_strict_check(tmp_path):
    sources = write_random_netpqc(tmp_path / "seg")  # width-reduced: not the published shapes
    args = [f"--source={name}={path}" for name, path in sources.items()]
    result = run_lce("probe", "segment", str(tmp_path), "--out", str(tmp_path / "probe"), *args,
                     "--device", "cpu")
    assert_one_error_line(result, "tensors of the wrong shape: conv1.weight (4, 3, 3, 3) vs "
                                  "(64, 3, 3, 3)")
