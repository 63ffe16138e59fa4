"""How the outbox sends one message through Telegram, and what each Bot API error means to it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.conversation.outbox import SendFailed


def _markup(payload: dict[str, Any]) -> InlineKeyboardMarkup | None:
    rows: list[list[list[str]]] = payload.get("keyboard") or []
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def send_message(bot: Bot, chat_id: int, payload: dict[str, Any]) -> None:
    """The outbox's Send for Telegram (the order of the checks matters: BadRequest is a
    NetworkError to python-telegram-bot, and must not be retried)."""
    try:
        await bot.send_message(
            chat_id,
            str(payload["text"]),
            parse_mode=ParseMode.HTML,
            reply_markup=_markup(payload),
        )
    except RetryAfter as error:
        delay = error.retry_after
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        raise SendFailed("retry_after", "429", seconds) from error
    except Forbidden as error:
        raise SendFailed("unreachable", str(error)) from error
    except BadRequest as error:
        raise SendFailed("rejected", str(error)) from error
    except NetworkError as error:
        raise SendFailed("transient", type(error).__name__) from error
