"""Training that gives the same bytes on other CPUs: pinned kernel dispatch, deterministic kernels.

The math libraries choose their kernels by the CPU they run on: ATen's vectorised loops (AVX-512
where present, else AVX2), MKL's GEMM and oneDNN's convolutions. Kernels of different vector
widths split and order their float reductions differently, so one commit trains other weights on
another CPU generation. Each library reads a setting *once, when it loads*:

- ``ATEN_CPU_CAPABILITY``: the highest ATen kernel set (``default`` | ``avx2`` | ``avx512``);
- ``MKL_CBWR``: MKL's conditional bitwise reproducibility, one code path on every CPU that has
  the named instruction set (``STRICT``: also independent of memory alignment);
- ``MKL_ENABLE_INSTRUCTIONS``: the highest instruction set MKL dispatches to;
- ``ONEDNN_MAX_CPU_ISA``: the same for oneDNN (convolutions, batch norm on CPU).

:data:`PINNED` sets each to AVX2, the widest set every x86-64 CPU of the last decade (and this
project's machines) has, so an AVX-512 machine runs the AVX2 kernels too. They are set when
``lce.train`` is imported, which the ``train`` stage does before anything imports torch; a value
already in the environment wins (a user's choice, or a test comparing two settings). A process
that loaded torch earlier keeps what it had: :func:`dispatch` reports what torch really uses.
``OPENBLAS_CORETYPE`` is left to the machine (some set it because old OpenBLAS builds crash
without it); torch does not use OpenBLAS. Thread counts are fixed by :mod:`lce.threads`.
"""

from __future__ import annotations

import os
import platform
from contextlib import contextmanager

PINNED = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT",
          "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
# what a CPU without AVX2 would run: ATen's scalar loops, MKL's SSE2 path, oneDNN's SSE4.1 kernels
# (the other setting the spread across machines is measured against)
OLDER_CPU = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
             "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"}


def pin_kernel_dispatch() -> None:
    """Set :data:`PINNED` where unset (x86-64 only: the names mean nothing elsewhere)."""
    if platform.machine().lower() in ("x86_64", "amd64"):
        for name, value in PINNED.items():
            os.environ.setdefault(name, value)


def dispatch() -> dict[str, str]:
    """The dispatch settings in force: the environment's, and the ATen kernel set torch chose."""
    import torch

    return {**{name: os.environ.get(name, "") for name in PINNED},
            "aten": torch.backends.cpu.get_cpu_capability()}


@contextmanager
def deterministic():
    """Deterministic kernels for a block (an operation that has none raises instead of running
    a non-deterministic one), then the previous setting."""
    import torch

    before = torch.are_deterministic_algorithms_enabled(), torch.backends.mkldnn.deterministic
    torch.use_deterministic_algorithms(True)
    torch.backends.mkldnn.deterministic = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0])
        torch.backends.mkldnn.deterministic = before[1]
