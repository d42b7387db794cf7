"""DVC stage `probe`: write the synthetic Broden-format probe set to data/probe."""

import sys

from lce.params import load_params, probe_params
from lce.probe.synthetic import config_from_params, generate
from lce.progress import get_logger, progress
from lce.stage import stage_main

OUTPUT = "data/probe"


@stage_main
def main() -> None:
    config = config_from_params(probe_params(load_params()))
    get_logger("lce.stages.probe").info("generating %d images of %d px into %s",
                                        config.n_images, config.image_size, OUTPUT)
    with progress() as bar:
        task = bar.add_task("probe images", total=config.n_images)
        generate(OUTPUT, config, on_image=lambda: bar.advance(task))


if __name__ == "__main__":
    sys.exit(main())
