"""`python -m bot` is `posbot`."""

from bot.cli import main

main()
