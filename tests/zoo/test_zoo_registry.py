"""The registry's entries and names, and the `lce zoo` commands."""

import csv
import io
import json
import re

import pytest

from lce.zoo.architectures import ZOO_ARCHITECTURES
from lce.zoo.families import FAMILIES
from lce.zoo.registry import REGISTRY, all_specs, get_spec, key_for_name
from tests.support.cli import run_lce

PUBLISHED = {
    "BYOL": "resnet50-byol", "DeepClusterV2": "resnet50-deepclusterv2",
    "InfoMin": "resnet50-infomin", "InsDis": "resnet50-insdis", "MoCoV1": "resnet50-mocov1",
    "MoCoV2": "resnet50-mocov2", "PCLV1": "resnet50-pclv1", "PCLV2": "resnet50-pclv2",
    "PIRL": "resnet50-pirl", "SeLaV1": "resnet50-selav1", "SeLaV2": "resnet50-selav2",
    "SimCLRV1": "resnet50-simclrv1", "SimCLRV2": "resnet50-simclrv2",
    "Supervised": "resnet50-supervised", "SwAV": "resnet50-swav",
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_names_map_to_the_agreed_keys(name):
    key = PUBLISHED[name]
    assert key_for_name(name) == key_for_name(f"{name}(R)") == key_for_name(name.upper()) == key
    assert get_spec(key).display_name == name


def test_every_model_of_the_reference_profiles_has_a_key(shared_data):
    with (shared_data / "mustapha2022/models_dissect_profiles_raw.csv").open() as fh:
        names = {row["name"] for row in csv.DictReader(fh)}
    assert len(names) == 20
    keys = {name: key_for_name(name) for name in names}
    assert None not in keys.values(), keys
    assert keys["SwAV400_2x244(R)"] == "resnet50-swav-400ep-2x224"
    assert keys["SwAV200bs256(R)"] == "resnet50-swav-200ep-bs256"
    assert keys["Random(R)"] == "resnet50-random"
    assert key_for_name("nothing like it") is None


def test_curated_specs_are_consistent():
    for key, spec in REGISTRY.items():
        assert "." not in key and spec.key == key
        assert spec.family in FAMILIES
        assert spec.source == "random" or spec.source.startswith(("http", "gs://", "package:"))
        assert spec.sha256 is None or re.fullmatch(r"[0-9a-f]{8,64}", spec.sha256)
        assert len(spec.mean) == len(spec.std) == 3
        assert spec.arch in ZOO_ARCHITECTURES or spec.arch in {"resnet50", "mobilenet_v2"}
    swav = get_spec("resnet50-swav-400ep")
    assert swav.epochs == 400 and swav.prefix == "module."
    assert get_spec("resnet50-simclrv1").mean == (0.0, 0.0, 0.0)
    assert get_spec("resnet50-simclrv2").std == (1.0, 1.0, 1.0)


def test_torchvision_architectures_are_registered():
    specs = all_specs()
    resnet18 = specs["resnet18-imagenet"]
    assert resnet18.arch == "resnet18" and resnet18.source.startswith("https://download.pytorch")
    assert resnet18.sha256 and resnet18.source.endswith(f"-{resnet18.sha256}.pth")
    assert {"alexnet-imagenet", "vgg16-imagenet", "resnet50-imagenet"} <= set(specs)
    assert get_spec("vit_b_16-imagenet").arch == "vit_b_16"


def invoke(*args):
    """The CLI in-process (the subprocess runs below check the real entry point)."""
    from typer.testing import CliRunner

    from lce.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_zoo_list_in_every_format(tmp_path):
    # from an empty directory: no data/models/ here, so packaged weights read as "offline"
    result = run_lce("zoo", "list", "--no-torchvision", "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(REGISTRY)
    byol = next(r for r in rows if r["key"] == "resnet50-byol")
    assert byol["method"] == "byol" and byol["epochs"] == "1000" and byol["license"]
    offline = next(r for r in rows if r["key"] == "mobilenetv2-imagenet")
    assert offline["cached"] == "offline"
    result = invoke("zoo", "list", "--format", "json", "--method", "supervised")
    keys = {row["key"] for row in json.loads(result.stdout)}
    assert {"resnet50-supervised", "resnet18-imagenet"} <= keys
    result = invoke("zoo", "list", "--no-torchvision", "--format", "markdown")
    assert result.stdout.startswith("| key | name | arch |")


def test_zoo_show_by_key_or_published_name():
    result = invoke("zoo", "show", "SwAV400_2x244(R)", "--format", "json")
    fields = {row["field"]: row["value"] for row in json.loads(result.stdout)}
    assert fields["key"] == "resnet50-swav-400ep-2x224"
    assert fields["drop"] == "module.projection_head., module.prototypes"
    assert fields["download_to"].endswith("resnet50-swav-400ep-2x224/"
                                          "swav_400ep_2x224_pretrain.pth.tar")
    result = run_lce("zoo", "show", "no-such-model")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: unknown model key 'no-such-model'")
    assert "Traceback" not in result.stderr
