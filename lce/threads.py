"""One way to fix the thread count of torch and of the BLAS/OpenMP pools for a block of work.

Oversubscribed thread pools spin-wait: on a CPU shared with other jobs, one thread runs small
matrix products many times faster than two (measured: 20 ms vs 160 ms per LeNet batch on a loaded
2-core machine), and a fixed count fixes the summation order, so results do not depend on the
machine's core count (reductions split across threads round differently).
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def cpu_threads(threads: int):
    """Limit torch and BLAS/OpenMP pools to ``threads`` (0: leave the libraries' defaults), then
    restore them."""
    if threads == 0:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)
