"""DVC stage `params`: check all of params.yaml before any other stage runs.

DVC deletes a stage's outputs right before it runs the stage's command, so a params mistake that
the stage itself reports (an unknown layer, a checkpoint directory nobody writes) has already
cost the stage's previous results. Every stage is downstream of this one (the pipeline's first
stages depend on its output) and DVC runs no stage whose upstream failed: a mistake ends here,
as one ``Error: params.yaml: ...`` line, before DVC has deleted anything.

The output is a constant marker: its bytes never change, so editing params reruns this check and
then only the stages whose own params changed, and the run-cache is shared as before. The checks
themselves are :func:`lce.validation.validate_params`.
"""

import sys
from pathlib import Path

from lce.io import atomic_path
from lce.params import load_params
from lce.stage import stage_main
from lce.validation import validate_params

OUTPUT = Path("data/params.ok")
MARKER = "params.yaml passed the checks of the params stage\n"


@stage_main
def main() -> None:
    validate_params(load_params())
    with atomic_path(OUTPUT) as tmp:
        tmp.write_text(MARKER)


if __name__ == "__main__":
    sys.exit(main())
