"""posbot's adapters: Telegram, the terminal, configuration, storage and the CLI."""
