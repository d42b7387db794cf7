"""DVC stage `probe`: write the synthetic Broden-format probe set to data/probe."""

import sys

from lce.params import load_params, probe_params
from lce.probe.synthetic import SyntheticConfig, generate
from lce.progress import get_logger
from lce.stage import stage_main

OUTPUT = "data/probe"


@stage_main
def main() -> None:
    params = probe_params(load_params())
    config = SyntheticConfig(n_images=params.n_images, image_size=params.image_size,
                             seed=params.seed, max_objects=params.max_objects)
    get_logger("lce.stages.probe").info("generating %d images of %d px into %s",
                                        config.n_images, config.image_size, OUTPUT)
    generate(OUTPUT, config)


if __name__ == "__main__":
    sys.exit(main())
