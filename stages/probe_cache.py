"""DVC stage `probe-cache@<name>`: validate data/probe/<name> and decode its masks once into
data/probe-cache/<name>; every model's dissection on that probe set reads the decoded label planes
from here instead of decoding PNGs again."""

import sys

from lce.errors import LCEError
from lce.params import load_params, probe_sets
from lce.probe.broden import BrodenProbe
from lce.probe.cache import build_cache
from lce.progress import get_logger, progress
from lce.stage import stage_main


@stage_main
def main(name: str) -> None:
    sets = probe_sets(load_params())
    if name not in sets:
        raise LCEError(f"params.yaml: probes.{name}: no such probe set")
    probe_set = sets[name]
    total = len(BrodenProbe(probe_set.directory))
    get_logger("lce.stages.probe_cache").info("decoding the masks of %d images of %s into %s",
                                              total, probe_set.directory, probe_set.cache)
    with progress() as bar:
        task = bar.add_task("decode masks", total=total)
        try:
            build_cache(probe_set.directory, probe_set.cache,  # workers: the CPUs it may use
                        on_image=lambda i: bar.advance(task), workers=0)
        except LCEError as exc:
            raise LCEError(f"probe set {name}: {exc}", hint=exc.hint) from None


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/probe_cache.py PROBE_SET")
    sys.exit(main(sys.argv[1]))
