"""Fetching: local files, downloads over HTTP with retries and resume (a server on 127.0.0.1),
sha256 checks (published, pinned, recorded on first download), and the clear errors."""

import argparse
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from lce.errors import LCEError
from lce.zoo.fetch import FetchOptions, cached_file, obtain, sha256_of
from lce.zoo.loading import build_model, materialize
from lce.zoo.registry import get_spec
from lce.zoo.safe_load import safe_torch_load
from tests.support.http import FlakyRangeServer


@pytest.fixture
def serve(tmp_path, monkeypatch):
    monkeypatch.setenv("LCE_ZOO_CACHE", str(tmp_path / "cache"))
    servers = []

    def start(payload: bytes, cut: int | None = None) -> FlakyRangeServer:
        server = FlakyRangeServer(payload, cut)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _swav_file(tmp_path):
    torch.manual_seed(0)
    from lce.zoo.architectures import build_architecture

    state = build_architecture("resnet18").state_dict()
    path = tmp_path / "published.pth"
    torch.save({"module." + k: v for k, v in state.items() if not k.startswith("fc.")}, path)
    return path, state


def _url(server):
    return f"http://127.0.0.1:{server.server_address[1]}/weights/model-file.pth"


def test_interrupted_download_resumes_and_is_verified(tmp_path, serve):
    path, state = _swav_file(tmp_path)
    payload = path.read_bytes()
    server = serve(payload, cut=len(payload) // 3)
    spec = replace(get_spec("resnet50-swav"), arch="resnet18", source=_url(server),
                   sha256=sha256_of(path))
    written = materialize(spec, tmp_path / "m", options=FetchOptions(retry_wait=0))
    assert server.requests == [None, f"bytes={len(payload) // 3}-"]
    cached = cached_file(spec.key, spec.source)
    assert cached.read_bytes() == payload and not cached.with_name(cached.name + ".part").exists()
    assert written.source_sha256 == sha256_of(path)
    model = build_model(spec)  # from the cache: no second download
    assert len(server.requests) == 2
    assert torch.equal(model.state_dict()["layer4.1.conv2.weight"], state["layer4.1.conv2.weight"])


def test_sha256_is_recorded_on_first_download_and_checked_after(tmp_path, serve):
    path, _ = _swav_file(tmp_path)
    server = serve(path.read_bytes())
    spec = replace(get_spec("resnet50-swav"), arch="resnet18", source=_url(server))
    _, digest = obtain(spec)
    cached = cached_file(spec.key, spec.source)
    assert cached.with_name(cached.name + ".sha256").read_text().strip() == digest
    with cached.open("r+b") as fh:  # bit rot in the cache
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(LCEError, match=f"has sha256 .*, expected {digest}"):
        obtain(spec)


def test_file_put_in_the_cache_by_hand_is_recorded_on_first_use_and_checked_after(
        tmp_path, monkeypatch):
    monkeypatch.setenv("LCE_ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("LCE_OFFLINE", "1")  # the situation where files are placed by hand
    path, _ = _swav_file(tmp_path)
    spec = replace(get_spec("resnet50-swav"), arch="resnet18",
                   source="http://127.0.0.1:9/weights/model-file.pth")
    cached = cached_file(spec.key, spec.source)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(path.read_bytes())
    assert obtain(spec) == (cached, sha256_of(path))
    assert cached.with_name(cached.name + ".sha256").read_text().strip() == sha256_of(path)
    with cached.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(LCEError, match=f"has sha256 .*, expected {sha256_of(path)}"):
        obtain(spec)


def test_published_sha256_mismatch_keeps_the_file_out_of_the_cache(tmp_path, serve):
    path, _ = _swav_file(tmp_path)
    server = serve(path.read_bytes())
    spec = replace(get_spec("resnet50-swav"), arch="resnet18", source=_url(server),
                   sha256="0" * 64)
    with pytest.raises(LCEError, match="expected 0000000000"):
        obtain(spec)
    cached = cached_file(spec.key, spec.source)
    assert not cached.exists() and not cached.with_name(cached.name + ".part").exists()


def test_http_errors_and_exhausted_retries_say_where_to_put_the_file(tmp_path, serve):
    server = serve(b"x" * 1000, cut=10)
    spec = replace(get_spec("resnet50-swav"), arch="resnet18",
                   source=_url(server).replace("model-file", "other"))
    with pytest.raises(LCEError, match="HTTP 404") as info:
        obtain(spec)
    assert str(cached_file(spec.key, spec.source)) in info.value.hint
    spec = replace(spec, source=_url(server))
    with pytest.raises(LCEError, match="failed after 1 attempts"):
        obtain(spec, FetchOptions(retries=0))


def test_offline_fails_at_once_with_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LCE_ZOO_CACHE", str(tmp_path / "cache"))
    spec = get_spec("resnet50-mocov2")
    target = tmp_path / "cache/resnet50-mocov2/moco_v2_800ep_pretrain.pth.tar"
    monkeypatch.setenv("LCE_OFFLINE", "1")
    with pytest.raises(LCEError, match="not cached and LCE_OFFLINE is set") as info:
        obtain(spec)
    assert str(target) in info.value.hint
    monkeypatch.delenv("LCE_OFFLINE")
    closed = replace(spec, source="http://127.0.0.1:9/moco_v2_800ep_pretrain.pth.tar")
    with pytest.raises(LCEError, match="cannot reach 127.0.0.1:9.*no network") as info:
        obtain(closed, FetchOptions(retry_wait=60))  # no retry: it would wait a minute
    assert str(target) in info.value.hint


def test_missing_truncated_and_unsafe_files(tmp_path):
    spec = replace(get_spec("resnet50-swav"), arch="resnet18")
    with pytest.raises(LCEError, match="weights file .*nothing.pth not found"):
        obtain(spec, FetchOptions(source=str(tmp_path / "nothing.pth")))
    path, _ = _swav_file(tmp_path)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(LCEError, match="truncated or not a PyTorch checkpoint"):
        build_model(spec, options=FetchOptions(source=str(truncated)))
    options = tmp_path / "with-options.pth"  # what old training scripts pickled beside weights
    torch.save({"opt": argparse.Namespace(lr=0.03), "best_acc1": np.float64(61.7),
                "epoch": np.int64(200), "state_dict": {"w": torch.ones(1)}}, options)
    assert safe_torch_load(options, "model x")["opt"].lr == 0.03
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"state_dict": {}, "callback": print}, unsafe)
    with pytest.raises(LCEError, match="unsafe.pth pickles print, which safe loading does not"):
        safe_torch_load(unsafe, "model x")


def test_pinned_sha256_and_conversion_requirements(tmp_path):
    path, _ = _swav_file(tmp_path)
    spec = replace(get_spec("resnet50-swav"), arch="resnet18")
    with pytest.raises(LCEError, match="expected abc123"):
        obtain(spec, FetchOptions(source=str(path), sha256="abc123"))
    assert obtain(spec, FetchOptions(source=str(path), sha256=sha256_of(path)[:8]))[0] == path
    with pytest.raises(LCEError, match="resnet50-byol: .* needs the Haiku pickle converted"):
        obtain(get_spec("resnet50-byol"))
