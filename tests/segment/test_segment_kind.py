"""The ``segmented`` probe-set kind: params entry -> probe@<name>'s Broden-format directory."""

from __future__ import annotations

import json

import pytest

from lce.errors import LCEError
from lce.params import probe_sets
from lce.probe.broden import BrodenProbe
from lce.probe.sets import build_probe_set, check_probe_set
from tests.support.segment import TEST_SCALE, write_random_netpqc


def _params(tmp_path, **entry):
    return {"probes": {"places": {"kind": "segmented", **entry}}}


def test_a_segmented_probe_set_builds_from_params(tmp_path):
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (300, 260), (200, 30, 30)).save(tmp_path / "imgs" / "a.png")
    write_random_netpqc(tmp_path / "segmodel")
    sets = probe_sets(_params(tmp_path, source=str(tmp_path / "imgs"),
                              files=str(tmp_path / "segmodel"), scale=TEST_SCALE,
                              images="places365-val", device="cpu"))
    check_probe_set(sets["places"])
    out = build_probe_set(sets["places"], tmp_path / "probe")
    probe = BrodenProbe(out)
    assert len(probe) == 1 and probe.records[0].sh == 56
    assert json.loads((out / "labeller.json").read_text()) == {"images": "places365-val",
                                                                "labeller": "netpqc"}


def test_a_segmented_probe_set_names_what_is_wrong(tmp_path):
    with pytest.raises(LCEError, match="probes.places.source: missing"):
        probe_sets(_params(tmp_path))
    sets = probe_sets(_params(tmp_path, source=str(tmp_path), segmenter="nope"))
    with pytest.raises(LCEError, match="probe set places: unknown segmenter 'nope'"):
        check_probe_set(sets["places"])
