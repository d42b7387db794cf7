import pytest

from lce.errors import LCEError
from lce.params import (
    dissect_on,
    dissect_params,
    fetch_params,
    load_params,
    model_params,
    probe_sets,
)


def test_repository_params_are_valid():
    from lce.validation import check_dissect
    from tests.support.cli import REPO

    params = load_params(REPO / "params.yaml")
    assert probe_sets(params)[dissect_on(params)[0]].settings.n_images > 0
    assert check_dissect(dissect_params(params)) == 0.005  # null: the method's own q
    models = model_params(params)
    assert {"mobilenetv2-imagenet", "mobilenetv2-random"} <= set(models)
    fetched = fetch_params(params)
    for model in models.values():  # every compared model's checkpoint is produced by a stage
        assert model.weights.startswith("data/")
    assert fetched["mobilenetv2-random"].zoo == "mobilenetv2-random"


def _synthetic(**settings):
    return {"probes": {"syn": {"kind": "synthetic", **settings}}, "dissect_on": ["syn"]}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (_synthetic(n_images="many"), "probes.syn.n_images: expected int"),
        (_synthetic(n_image=3), "probes.syn.n_image: unknown key"),
        (_synthetic(image_size=31), "probes.syn.image_size"),
        (_synthetic(sample=3), "probes.syn.sample: unknown key"),  # a broden setting
        ({"probes": {"syn": {"kind": "lmdb"}}}, "probes.syn.kind: must be one of synthetic"),
        ({"probes": {"b": {"kind": "broden"}}}, "probes.b.source: missing"),
        ({"probes": {"a.b": {"kind": "synthetic"}}}, "probes.a.b: keys must not contain dots"),
        ({}, "missing or invalid section 'probes'"),
        ({**_synthetic(), "dissect_on": ["other"]}, r"dissect_on\[0\]: no probe set 'other'"),
        ({**_synthetic(), "dissect_on": ["syn", "syn"]}, r"dissect_on\[1\]: 'syn' is listed"),
        ({**_synthetic(), "dissect_on": []}, "dissect_on: expected a non-empty list"),
    ],
)
def test_probe_params_errors_name_the_key(params, message):
    with pytest.raises(LCEError, match=message):
        dissect_on(params)


def test_dissect_params_reject_unknown_denominator():
    with pytest.raises(LCEError, match="dissect.denominator"):
        dissect_params({"dissect": {"denominator": "mean"}})


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ({"resnet50.v1": {"weights": "w", "layers": ["layer4"]}}, "must not contain dots"),
        ({"m": {"weights": "w", "layers": []}}, "models.m.layers"),
        ({"m": {"weights": "w", "layers": ["x"], "lr": 1}}, "models.m.lr: unknown key"),
        ({"m": {"layers": ["x"]}}, "models.m.weights: missing"),
        ({"m": "resnet"}, "expected a mapping"),
    ],
)
def test_model_params_errors_name_the_key(models, message):
    with pytest.raises(LCEError, match=message):
        model_params({"models": models})


def test_fetch_zoo_key_defaults_to_the_entry_key():
    fetched = fetch_params({"fetch": {"mobilenetv2-random": None, "twin": {
        "zoo": "mobilenetv2-random", "seed": 4}}})
    assert fetched["mobilenetv2-random"].zoo == "mobilenetv2-random"
    assert (fetched["twin"].zoo, fetched["twin"].seed) == ("mobilenetv2-random", 4)


def test_bad_yaml_is_one_clear_error(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("probe: [unclosed\n")
    with pytest.raises(LCEError, match="invalid YAML"):
        load_params(path)


def test_params_yaml_states_the_code_defaults():
    """The dataclass defaults are the one source of each setting's default; params.yaml states
    every knob for users (and `dvc params diff`) and must agree with them, so a tiny test
    configuration that leaves a key out trains with the documented setting."""
    import dataclasses

    from lce import params as p
    from tests.support.cli import REPO

    yaml_params = load_params(REPO / "params.yaml")
    sections = {("probes", "synthetic"): p.SyntheticProbeParams, ("dissect",): p.DissectParams,
                ("analysis",): p.AnalysisParams, ("report",): p.ReportParams,
                ("bench",): p.BenchParams, ("deepcluster", "defaults"): p.DeepClusterRun,
                ("deepcluster", "study"): p.DeepClusterStudy}
    differing = {}
    for keys, cls in sections.items():
        stated = yaml_params
        for key in keys:
            stated = stated[key]
        for field in dataclasses.fields(cls):
            if field.name == "key":
                continue
            default = field.default if field.default is not dataclasses.MISSING \
                else field.default_factory()
            value = stated.get(field.name, "<missing>")
            if (tuple(value) if isinstance(value, list) else value) != default:
                differing[".".join((*keys, field.name))] = (value, default)
    assert differing == {}
