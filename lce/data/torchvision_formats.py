"""Readers for dataset roots in the layouts torchvision downloads them to, without torchvision.

Users who already have MNIST, Fashion-MNIST, CIFAR-10 or SVHN on disk point LCE at the same root
they pass to ``torchvision.datasets``; nothing is downloaded. Every reader returns
``(images uint8 (N, H, W) or (N, H, W, 3), labels int64 (N,))`` and fails with one line naming the
file that is missing or malformed.

Layouts: ``<root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`` (Fashion-MNIST:
``<root>/FashionMNIST/raw/...``), ``<root>/cifar-10-batches-py/{data_batch_1..5,test_batch}``,
``<root>/{train,test}_32x32.mat``.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

from lce.errors import LCEError

TORCHVISION_DATASETS = ("mnist", "fashion-mnist", "cifar10", "svhn")
_IDX_FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def load_torchvision_root(name: str, root: str | Path, train: bool = True):
    """(images, labels) of the train (or test) split of dataset ``name`` under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise LCEError(f"{root}: dataset root not found")
    if name in _IDX_FOLDERS:
        prefix = "train" if train else "t10k"
        raw = root / _IDX_FOLDERS[name] / "raw"
        images = read_idx(_find(raw, f"{prefix}-images-idx3-ubyte"), ndim=3)
        labels = read_idx(_find(raw, f"{prefix}-labels-idx1-ubyte"), ndim=1)
    elif name == "cifar10":
        folder = root / "cifar-10-batches-py"
        files = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        parts = [_read_cifar_batch(folder / f) for f in files]
        images = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
    elif name == "svhn":
        images, labels = _read_svhn(root / ("train_32x32.mat" if train else "test_32x32.mat"))
    else:
        raise LCEError(f"unknown torchvision-format dataset {name!r}",
                       hint=f"one of: {', '.join(TORCHVISION_DATASETS)}")
    if len(images) != len(labels):
        raise LCEError(f"{root}: {len(images)} images but {len(labels)} labels")
    return images, labels.astype(np.int64)


def _find(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise LCEError(f"{folder / stem}: file not found (nor .gz)")


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """An IDX file (LeCun's format: magic 0x0000 08 <ndim>, big-endian int32 sizes, uint8 data)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise LCEError(f"{path}: cannot read ({exc})") from None
    if len(data) < 4 + 4 * ndim or data[:2] != b"\0\0" or data[2] != 0x08 or data[3] != ndim:
        raise LCEError(f"{path}: not an IDX file of {ndim} dimension(s) of uint8")
    shape = tuple(int(v) for v in np.frombuffer(data, ">i4", count=ndim, offset=4))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise LCEError(f"{path}: header says {shape} but holds {body.size} bytes")
    return body.reshape(shape).copy()


def _read_cifar_batch(path: Path):
    if not path.is_file():
        raise LCEError(f"{path}: file not found")
    try:
        with open(path, "rb") as fh:
            # CIFAR's own distribution format is a pickle; only open roots you trust.
            batch = pickle.load(fh, encoding="latin1")  # noqa: S301
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch.get("labels", batch.get("fine_labels")), dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise LCEError(f"{path}: not a CIFAR-10 python batch ({exc})") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise LCEError(f"{path}: data has shape {data.shape}, expected (N, 3072)")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def _read_svhn(path: Path):
    from scipy.io import loadmat

    if not path.is_file():
        raise LCEError(f"{path}: file not found")
    try:
        mat = loadmat(path)
        images, labels = mat["X"], mat["y"].astype(np.int64).reshape(-1)
    except (ValueError, KeyError, OSError) as exc:
        raise LCEError(f"{path}: not an SVHN .mat file ({exc})") from None
    if images.ndim != 4 or images.shape[2] != 3:
        raise LCEError(f"{path}: X has shape {images.shape}, expected (32, 32, 3, N)")
    labels[labels == 10] = 0  # SVHN stores the digit 0 as class 10, torchvision maps it back
    return np.ascontiguousarray(images.transpose(3, 0, 1, 2), dtype=np.uint8), labels
