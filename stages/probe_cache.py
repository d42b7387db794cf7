"""DVC stage `probe-cache`: validate data/probe and decode its masks once into data/probe-cache.

Every dissection reads the decoded label planes from here instead of decoding PNGs again.
"""

import sys

from lce.probe.broden import BrodenProbe
from lce.probe.cache import build_cache
from lce.progress import get_logger, progress
from lce.stage import stage_main

PROBE, OUTPUT = "data/probe", "data/probe-cache"


@stage_main
def main() -> None:
    total = len(BrodenProbe(PROBE))
    get_logger("lce.stages.probe_cache").info("decoding the masks of %d images of %s into %s",
                                              total, PROBE, OUTPUT)
    with progress() as bar:
        task = bar.add_task("decode masks", total=total)
        build_cache(PROBE, OUTPUT, on_image=lambda i: bar.advance(task))


if __name__ == "__main__":
    sys.exit(main())
