"""Raw layer activations spilled to a scratch file between the threshold pass and the tally pass.

The threshold of a unit is known only after the whole probe set has been seen, so its maps are
needed twice. Rather than holding a layer in RAM (the reference) or running the network twice, the
first pass appends each batch's maps to a flat float32 file and the second pass reads them back in
order -- or one image at a time, in any order, for the null baseline. Reads use ``os.pread`` into
fresh buffers (not a memory map), so the process's resident memory stays at one batch.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from lce.errors import LCEError


class ActivationSpill:
    """Append-then-read store of one layer's maps (N, C, h, w) float32."""

    def __init__(self, directory: str | Path, name: str):
        fd, path = tempfile.mkstemp(prefix="acts-", suffix=".f32", dir=directory)
        os.close(fd)
        self.path = Path(path)
        self.name = name
        self.shape: tuple[int, int, int] | None = None  # (C, h, w)
        self.count = 0
        self._file = self.path.open("r+b")

    def append(self, maps: np.ndarray) -> None:
        if self.shape is None:
            self.shape = tuple(maps.shape[1:])
        elif tuple(maps.shape[1:]) != self.shape:
            raise LCEError(f"layer {self.name}: map shape changed from {self.shape} to "
                             f"{tuple(maps.shape[1:])}; probe images must share one size")
        self._file.write(np.ascontiguousarray(maps, dtype=np.float32).tobytes())
        self.count += maps.shape[0]

    @property
    def image_bytes(self) -> int:
        return 4 * int(np.prod(self.shape))

    def read(self, start: int, stop: int) -> np.ndarray:
        """Maps of images start..stop-1 as (stop - start, C, h, w)."""
        self._file.flush()
        data = os.pread(self._file.fileno(), (stop - start) * self.image_bytes,
                        start * self.image_bytes)
        return np.frombuffer(bytearray(data), dtype=np.float32).reshape(-1, *self.shape)

    def read_images(self, images) -> np.ndarray:
        """Maps of the given images, in the given order."""
        return np.concatenate([self.read(i, i + 1) for i in images])

    def close(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)
