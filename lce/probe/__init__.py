"""Probe sets: Broden-format reading, validation, caching, writing and synthetic generation."""

from __future__ import annotations


def open_probe(probe_dir, cache_dir=None, **subset):
    """The probe set at ``probe_dir`` (optionally a subset: ``split``, ``categories``, ``limit``,
    ``sample``, ``seed``), served from its cache at ``cache_dir`` when one is given.

    Both return types share BrodenProbe's interface; the cache adds ``planes_of``, ``presence``
    and ``concept_totals``. Imports are local so that ``import lce.probe`` stays light.
    """
    from lce.probe.broden import BrodenProbe

    probe = BrodenProbe(probe_dir, **subset)
    if cache_dir is None:
        return probe
    from lce.probe.cache import ProbeCache

    return ProbeCache(cache_dir, probe)
