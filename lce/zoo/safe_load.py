"""Reading checkpoint files without executing them.

``torch.load(weights_only=True)`` refuses any pickled global outside an allow-list, so a
malicious or merely odd file cannot run code. Old training scripts pickled a few harmless objects
next to the weights (``argparse.Namespace`` of their options, numpy scalars for best accuracies);
exactly those are allowed. A truncated download and a file of another format each get their own
one-line error instead of a traceback from deep inside the unpickler.
"""

from __future__ import annotations

import argparse
import pickle
import re
import zipfile
from pathlib import Path

from lce.errors import LCEError

_UNSUPPORTED_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def allowed_globals() -> list:
    import numpy as np

    scalar = np._core.multiarray.scalar
    return [argparse.Namespace, scalar, (scalar, "numpy.core.multiarray.scalar"), np.dtype,
            *(type(np.dtype(kind)) for kind in ("float64", "float32", "int64", "int32"))]


def safe_torch_load(path: Path, what: str):
    """``torch.load`` of ``path`` with weights_only=True and LCE's allow-list; ``what`` names the
    model in errors."""
    import torch

    try:
        with torch.serialization.safe_globals(allowed_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        found = _UNSUPPORTED_GLOBAL.search(str(exc))
        if found:
            raise LCEError(f"{what}: {path} pickles {found.group(1)}, which safe loading does "
                           "not allow", hint="check that it is the right file, or convert it "
                                             "to a plain state_dict of tensors") from None
        raise LCEError(f"{what}: {path} is not a readable PyTorch checkpoint "
                       f"({' '.join(str(exc).split())[:160]})",
                       hint="a truncated download? delete it and fetch again") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LCEError(f"{what}: {path} is truncated or not a PyTorch checkpoint "
                       f"({' '.join(str(exc).split())[:160]})",
                       hint="delete it and fetch again") from None
