"""A rendered message's buttons as Telegram's inline keyboard: used by every sender."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation.rendering import Outgoing


def keyboard(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in message.keyboard
        ]
    )
