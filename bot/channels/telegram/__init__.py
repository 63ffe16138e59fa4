"""The Telegram channel: python-telegram-bot application and thin handlers."""
