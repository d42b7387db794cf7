"""Which torch device a run uses: ``auto`` means CUDA when this machine has it."""

from __future__ import annotations

from lce.errors import LCEError


def pick_device(requested: str, key: str = "dissect.device") -> str:
    """The device for ``requested`` (``auto``, ``cpu`` or ``cuda``); ``key`` names the setting
    in the error when CUDA is asked for but absent."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise LCEError(f"{key} is 'cuda' but no CUDA device is available")
    return requested
