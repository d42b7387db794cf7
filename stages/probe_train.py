"""DVC stage `probe-train`: the labelled training split of the probe's domain, data/probe-train."""

import sys

from lce.params import load_params, probe_params
from lce.probe.synthetic import config_from_params, generate_training_split
from lce.probe.training import write_training_split
from lce.progress import get_logger, progress
from lce.stage import stage_main

OUTPUT = "data/probe-train"


@stage_main
def main() -> None:
    config = config_from_params(probe_params(load_params()), training=True)
    get_logger("lce.stages.probe_train").info("generating %d labelled images of %d px into %s",
                                              config.n_images, config.image_size, OUTPUT)
    with progress() as bar:
        task = bar.add_task("training images", total=config.n_images)
        split = generate_training_split(config, on_image=lambda: bar.advance(task))
    write_training_split(OUTPUT, split)


if __name__ == "__main__":
    sys.exit(main())
