"""The same intake built "the common way": a PTB ConversationHandler with in-memory state.

Used only by benchmarks/bot_throughput.py as the baseline. It asks the same number of questions
with the same kind of inline keyboards, but validates nothing and stores nothing.
"""

from __future__ import annotations

import os

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

QUESTIONS = 17  # welcome + the questions of a card intake + review


def keyboard(step: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"choice {n}", callback_data=f"a:{step}:{n}") for n in range(3)],
            [InlineKeyboardButton("back", callback_data="x:back")],
        ]
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, "welcome", reply_markup=keyboard(0))
    return 1


def make_step(step: int):  # type: ignore[no-untyped-def]
    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if update.callback_query:
            await update.callback_query.answer()
        assert update.effective_chat is not None
        context.user_data[f"q{step}"] = (
            update.callback_query.data if update.callback_query else update.effective_message.text
        )  # type: ignore[union-attr]
        text = "summary" if step == QUESTIONS else f"question {step + 1}"
        await context.bot.send_message(
            update.effective_chat.id, text, parse_mode="HTML", reply_markup=keyboard(step + 1)
        )
        return ConversationHandler.END if step == QUESTIONS else step + 1

    return answer


def main() -> None:
    api = os.environ["TELEGRAM_API_URL"]
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .build()
    )
    states = {
        step: [
            CallbackQueryHandler(make_step(step)),
            MessageHandler(filters.TEXT & ~filters.COMMAND, make_step(step)),
        ]
        for step in range(1, QUESTIONS + 1)
    }
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states=states,
            fallbacks=[],
            per_message=False,
        )
    )
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
