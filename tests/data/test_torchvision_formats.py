"""Torchvision-format dataset roots, read from tiny files written here in those exact formats."""

import gzip
import pickle
import struct

import numpy as np
import pytest

from lce.data.torchvision_formats import load_torchvision_root
from lce.errors import LCEError

RNG = np.random.default_rng(0)


def write_idx(path, array, compress=False):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        with gzip.open(f"{path}.gz", "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize(("name", "folder", "compress"),
                         [("mnist", "MNIST", False), ("fashion-mnist", "FashionMNIST", True)])
def test_idx_roots(tmp_path, name, folder, compress):
    raw = tmp_path / folder / "raw"
    images = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    write_idx(raw / "train-images-idx3-ubyte", images, compress)
    write_idx(raw / "train-labels-idx1-ubyte", labels, compress)
    write_idx(raw / "t10k-images-idx3-ubyte", images[:2], compress)
    write_idx(raw / "t10k-labels-idx1-ubyte", labels[:2], compress)
    got_images, got_labels = load_torchvision_root(name, tmp_path)
    np.testing.assert_array_equal(got_images, images)
    assert got_labels.dtype == np.int64 and got_labels.tolist() == [3, 1, 4, 1, 5]
    assert load_torchvision_root(name, tmp_path, train=False)[0].shape == (2, 28, 28)


def test_cifar10_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    expected = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = RNG.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
        expected.append(images)
        batch = {"data": images.transpose(0, 3, 1, 2).reshape(2, -1), "labels": [1, 9]}
        (folder / name).write_bytes(pickle.dumps(batch))
    images, labels = load_torchvision_root("cifar10", tmp_path)
    np.testing.assert_array_equal(images, np.concatenate(expected[:5]))
    assert labels.tolist() == [1, 9] * 5
    np.testing.assert_array_equal(load_torchvision_root("cifar10", tmp_path, False)[0],
                                  expected[5])


def test_svhn_mat_maps_class_10_to_digit_0(tmp_path):
    from scipy.io import savemat

    images = RNG.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    savemat(tmp_path / "train_32x32.mat", {"X": images.transpose(1, 2, 3, 0),
                                           "y": np.array([[10], [1], [7]], np.uint8)})
    got_images, labels = load_torchvision_root("svhn", tmp_path)
    np.testing.assert_array_equal(got_images, images)
    assert labels.tolist() == [0, 1, 7]


def test_errors_name_the_file(tmp_path):
    with pytest.raises(LCEError, match="dataset root not found"):
        load_torchvision_root("mnist", tmp_path / "nope")
    with pytest.raises(LCEError, match=r"train-images-idx3-ubyte: file not found \(nor \.gz\)"):
        load_torchvision_root("mnist", tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"garbage!")
    with pytest.raises(LCEError, match="train-images-idx3-ubyte: not an IDX file"):
        load_torchvision_root("mnist", tmp_path)
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((2, 4, 4), np.uint8))
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(LCEError, match="2 images but 3 labels"):
        load_torchvision_root("mnist", tmp_path)
    (tmp_path / "cifar-10-batches-py").mkdir()
    (tmp_path / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"not a pickle")
    with pytest.raises(LCEError, match="data_batch_1: not a CIFAR-10 python batch"):
        load_torchvision_root("cifar10", tmp_path)
    with pytest.raises(LCEError, match="unknown torchvision-format dataset 'stl10'"):
        load_torchvision_root("stl10", tmp_path)


def test_a_training_run_reads_a_torchvision_root(tmp_path):
    from lce.params import DeepClusterRun
    from lce.train.datasets import load_training_data

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        images = RNG.integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
        batch = {"data": images.transpose(0, 3, 1, 2).reshape(4, -1), "labels": [0, 1, 2, 3]}
        (folder / name).write_bytes(pickle.dumps(batch))
    run = DeepClusterRun(dataset="cifar10", data_root=str(tmp_path), image_size=16, k=4,
                         holdout=0.25, labelled=10)
    data = load_training_data(run)
    assert data.images.shape == (20, 3, 16, 16) and data.channels == 3
    assert len(data.train) == 15 and len(data.test) == 5 and len(data.labelled) == 10
    assert abs(float(data.images[data.train].mean())) < 0.05 and len(data.mean) == 3
