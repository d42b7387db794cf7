"""DVC stage `probe@<name>`: build the probe set `probes.<name>` of params.yaml into
data/probe/<name>/ (a Broden-format directory; lce.probe.sets says what each kind does)."""

import sys

from lce.errors import LCEError
from lce.params import load_params, probe_sets
from lce.probe.sets import build_probe_set
from lce.progress import get_logger
from lce.stage import stage_main


@stage_main
def main(name: str) -> None:
    sets = probe_sets(load_params())
    if name not in sets:
        raise LCEError(f"params.yaml: probes.{name}: no such probe set")
    get_logger("lce.stages.probe").info("building probe set %s (%s) into %s", name,
                                        sets[name].kind, sets[name].directory)
    build_probe_set(sets[name])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/probe.py PROBE_SET")
    sys.exit(main(sys.argv[1]))
