"""`python -m bot` is `posbot`."""

from bot.ops.cli import main

main()
