"""`python -m posbot`: an alias for the `posbot` command; the code lives in `bot/` and `flows/`."""
