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

_UNSUPPORTED_GLOBAL = re.compile(r"unsupported (?:global: )?GLOBAL ([\w.]+)", re.IGNORECASE)
_WEIGHTS_ONLY = "WeightsUnpickler error:"


def _reason(exc: BaseException) -> str:
    """What a failed ``torch.load`` says is wrong, as a whole sentence: the line after torch's
    ``WeightsUnpickler error:`` when there is one (its first sentence is advice about
    ``weights_only``), else the error's first sentence."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if _WEIGHTS_ONLY in line:
            after = line.partition(_WEIGHTS_ONLY)[2].strip()
            return after or (lines[i + 1] if i + 1 < len(lines) else "")
    sentence = " ".join(str(exc).split()).split(". ")[0].rstrip(".")
    if isinstance(exc, pickle.UnpicklingError | RuntimeError | OSError) and sentence:
        return sentence
    return f"{type(exc).__name__}: {sentence}" if sentence else type(exc).__name__


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
                           "not allow (nothing in the file was run)",
                           hint="check that it is the right file, or convert it to a plain "
                                "state_dict of tensors") from None
        raise LCEError(f"{what}: {path} holds a pickle that safe loading refuses "
                       f"({_reason(exc)}); nothing in it was run",
                       hint="a checkpoint saved as a plain state_dict loads; check that this "
                            "is one (a corrupt file reads the same way)") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise LCEError(f"{what}: {path} is truncated or not a PyTorch checkpoint "
                       f"({_reason(exc)})", hint="delete it and fetch again") from None
    except Exception as exc:  # the unpickler's own errors on a garbled file (KeyError, ...)
        raise LCEError(f"{what}: {path} is corrupt or not a PyTorch checkpoint "
                       f"({_reason(exc)})", hint="delete it and fetch again") from None
