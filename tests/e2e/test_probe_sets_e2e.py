"""Two probe sets in one build: the synthetic set and a hand-written NetDissect-dialect Broden
directory tracked with ``dvc add``; every model is dissected on both, the warehouse holds each
model's units on each probe set, and changing one mask reruns only that probe set's stages."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.support.broden import MASK, encode, write_netdissect_probe
from tests.support.cli import run_lce
from tests.support.project import MODELS, copy_project, dvc, stages_ran, tiny_params

FIXTURE = "nd_fixture"


@pytest.mark.slow
def test_every_model_on_every_probe_set_and_one_mask_reruns_only_its_set(tmp_path):
    params = tiny_params()
    params["probes"][FIXTURE] = {"kind": "broden", "source": f"data/{FIXTURE}"}
    params["dissect_on"] = ["synthetic", FIXTURE]
    project = copy_project(tmp_path / "project", params)
    write_netdissect_probe(project / "data" / FIXTURE)
    dvc("add", f"data/{FIXTURE}", cwd=project)
    assert (project / f"data/{FIXTURE}.dvc").is_file()

    first = dvc("repro", "warehouse", cwd=project)
    ran = stages_ran(first.stdout)
    for model in MODELS:
        assert {f"dissect@{model}-synthetic", f"dissect@{model}-{FIXTURE}"} <= ran
    assert {"probe@synthetic", f"probe@{FIXTURE}", f"probe-cache@{FIXTURE}"} <= ran
    assert (project / f"data/probe/{FIXTURE}/images/dtd/banded_0002.jpg").is_file()

    counts = run_lce("query", "select model, probe, count(*) as n from units group by all "
                     "order by all", "-f", "csv", cwd=project)
    assert counts.returncode == 0, counts.stderr
    rows = counts.stdout.splitlines()[1:]
    assert [row.rsplit(",", 1)[0] for row in rows] == [
        f"{model},{probe}" for model in sorted(MODELS) for probe in sorted(
            ["synthetic", FIXTURE])]
    probes = run_lce("query", "select probe, n_images from probes order by probe", "-f", "csv",
                     cwd=project)
    assert probes.stdout.splitlines()[1:] == [f"{FIXTURE},5", "synthetic,6"]

    # one mask of the tracked directory changes: its probe set reruns, the synthetic one not
    mask = project / f"data/{FIXTURE}/images/pascal/2008_000001_object.png"
    plane = np.zeros((MASK, MASK), dtype=np.int64)
    plane[:, : MASK // 2] = 301
    Image.fromarray(encode(plane)).save(mask)
    dvc("add", f"data/{FIXTURE}", cwd=project)
    second = dvc("repro", "warehouse", cwd=project)
    ran = stages_ran(second.stdout)
    assert {f"probe@{FIXTURE}", f"probe-cache@{FIXTURE}",
            *(f"dissect@{model}-{FIXTURE}" for model in MODELS)} <= ran
    untouched = {"probe@synthetic", "probe-cache@synthetic",
                 *(f"{stage}@{model}" for stage in ("fetch", "weights", "bench")
                   for model in MODELS),
                 *(f"dissect@{model}-synthetic" for model in MODELS)}
    assert not ran & untouched, second.stdout
