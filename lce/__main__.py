"""``python -m lce`` is the ``lce`` command."""

from lce.cli import main

main()
