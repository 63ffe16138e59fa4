"""Asking the Bot API before serving, and what its errors mean to an operator.

The command line refuses a rejected token or an unreachable API with one line and an exit code
instead of PTB's traceback; this is where Telegram's exception types are read, so the operators'
tools never import them.
"""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Settings


class BotApiProblem(Exception):
    """The Bot API refused or did not answer; `configuration` when the operator's token is wrong."""

    def __init__(self, reason: str, *, configuration: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.configuration = configuration


def explain(error: BaseException) -> BotApiProblem | None:
    """The operator's reading of a python-telegram-bot error, or None for any other error."""
    if isinstance(error, InvalidToken):
        return BotApiProblem(
            f"TELEGRAM_BOT_TOKEN was refused by Telegram: {error.message}", configuration=True
        )
    if isinstance(error, NetworkError):
        return BotApiProblem(
            f"Telegram (TELEGRAM_API_URL) did not answer: {error.message}", configuration=False
        )
    if isinstance(error, TelegramError):
        return BotApiProblem(f"Telegram refused: {error.message}", configuration=False)
    return None


def check_bot_api(settings: Settings) -> None:
    """The token is accepted and the Bot API answers (getMe), or BotApiProblem says why not."""

    async def ask() -> None:
        api = settings.telegram_api_url
        async with Bot(
            settings.telegram_bot_token,
            base_url=f"{api}/bot",
            base_file_url=f"{api}/file/bot",
        ):
            pass  # entering asks getMe

    try:
        asyncio.run(ask())
    except TelegramError as error:
        problem = explain(error)
        assert problem is not None  # every TelegramError is explained
        raise problem from None
