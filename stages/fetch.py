"""DVC stage `fetch@<key>`: materialize a registered model as data/models/<key>
(``model.pt`` + ``spec.json``), verified, so later stages and teammates never need its host.

The directory is written beside its place and renamed in whole, so a crash never leaves a
``model.pt`` without the ``spec.json`` that describes it.
"""

import sys

from lce.errors import LCEError
from lce.io import atomic_directory
from lce.params import FETCH_ROOT, fetch_params, load_params
from lce.progress import get_logger
from lce.stage import stage_main
from lce.zoo.fetch import FetchOptions
from lce.zoo.loading import materialize
from lce.zoo.registry import get_spec


@stage_main
def main(key: str) -> None:
    entries = fetch_params(load_params())
    if key not in entries:
        raise LCEError(f"params.yaml: fetch.{key}: no such entry")
    entry = entries[key]
    options = FetchOptions(source=entry.source, sha256=entry.sha256, retries=entry.retries)
    with atomic_directory(FETCH_ROOT / key) as tmp:
        spec = materialize(get_spec(entry.zoo), tmp, seed=entry.seed, options=options)
    get_logger("lce.stages.fetch").info(
        "%s: %s from %s (model.pt sha256 %s)%s", key, spec.arch, spec.source, spec.sha256[:12],
        f"; no classifier in the source: {len(spec.missing_keys)} keys left out"
        if spec.missing_keys else "")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python stages/fetch.py KEY")
    sys.exit(main(sys.argv[1]))
