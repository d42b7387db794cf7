"""The labelled training split as a DVC artifact: ``images.npy`` + ``labels.parquet``.

Trainers (DeepCluster) and benchmarks read the same images from disk instead of regenerating them,
and DVC shares them like any other output. ``images.npy`` is (N, S, S, 3) uint8 and
memory-mappable; ``labels.parquet`` has one row per image (``image, scene, scene_name, object,
object_name``; ``object = -1`` when every object of the image was hidden); ``classes.json`` keeps
the full class lists, so class indices stay meaningful even for classes no image drew.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lce.errors import LCEError
from lce.io import atomic_directory
from lce.probe.synthetic import TrainingSplit


def write_training_split(root: str | Path, split: TrainingSplit) -> Path:
    """Write ``split`` to the directory ``root``, replacing it atomically."""
    with atomic_directory(root) as tmp:
        _write_split(tmp, split)
    return Path(root)


def _write_split(tmp: Path, split: TrainingSplit) -> None:
    import pandas as pd

    from lce.io import write_parquet

    np.save(tmp / "images.npy", split.images)
    names = {"scene": split.scene_names, "object": split.object_names}
    frame = pd.DataFrame({"image": np.arange(len(split.scene), dtype=np.int64)})
    for kind, index in (("scene", split.scene), ("object", split.object)):
        frame[kind] = index.astype(np.int64)
        frame[f"{kind}_name"] = [names[kind][k] if k >= 0 else "" for k in index.tolist()]
    write_parquet(frame, tmp / "labels.parquet")
    classes = {"scene_names": list(split.scene_names), "object_names": list(split.object_names)}
    (tmp / "classes.json").write_text(json.dumps(classes, indent=2) + "\n")


def load_training_split(root: str | Path, mmap: bool = True) -> TrainingSplit:
    """Read a split written by :func:`write_training_split` (images memory-mapped by default)."""
    import pandas as pd

    root = Path(root)
    for name in ("images.npy", "labels.parquet", "classes.json"):
        if not (root / name).is_file():
            raise LCEError(f"{root / name}: file not found (not a training split directory)",
                           hint="build it with `dvc repro probe-train`")
    images = np.load(root / "images.npy", mmap_mode="r" if mmap else None)
    labels = pd.read_parquet(root / "labels.parquet")
    classes = json.loads((root / "classes.json").read_text())
    if len(labels) != len(images):
        raise LCEError(f"{root / 'labels.parquet'}: {len(labels)} rows for {len(images)} images")
    return TrainingSplit(images, labels["scene"].to_numpy(np.int64),
                         labels["object"].to_numpy(np.int64), tuple(classes["scene_names"]),
                         tuple(classes["object_names"]))
