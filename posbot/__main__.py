"""`python -m posbot …` runs the same command line as the `posbot` script."""

import sys

from bot.ops.cli import main

sys.exit(main(prog_name="posbot"))
