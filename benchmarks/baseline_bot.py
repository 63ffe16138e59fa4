"""The same intake built "the common way": a PTB ConversationHandler, answers in memory.

Used by benchmarks/bot_throughput.py as the baseline. It asks the same questions in the same
order, with the same parsers and validation (flows.questions), the same messages and keyboards
(templates/, through bot.conversation.rendering.Renderer), and ends with the same diagnosis and
summary (flows.diagnosis). What it leaves out is what posbot adds around that: the `transitions`
machine, the conversation committed to the database at every step, the outbox, the transcript,
redaction, cases and the removal of spent keyboards. The state lives in `context.user_data`,
so a restart forgets every merchant; that is the comparison the benchmark makes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.conversation.rendering import Outgoing, Renderer
from bot.deployment import resolve
from flows.answers import InvalidAnswer
from flows.diagnosis import diagnose
from flows.facts import Facts
from flows.intake_core import asked_on_the_way
from flows.intake_replies import summary_reply
from flows.questions import RECEIPT_FIELDS, SKIP, Question, applicable, parse_answer
from flows.replies import Button, Reply, rows

WELCOME, ASKING, REVIEWING = range(3)
LOCALE = "zh"

DEPLOYMENT = resolve(Settings())
RENDERER = Renderer(
    settings={**DEPLOYMENT.template_globals(), "slip_reading": False}, banks=DEPLOYMENT.banks
)
POLICY = DEPLOYMENT.policy()


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    assert update.effective_chat is not None
    outgoing: Outgoing = RENDERER.render(reply, LOCALE)
    markup = (
        InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                for row in outgoing.keyboard
            ]
        )
        if outgoing.keyboard
        else None
    )
    await context.bot.send_message(
        update.effective_chat.id, outgoing.text, parse_mode=ParseMode.HTML, reply_markup=markup
    )


def next_question(answers: dict[str, Any]) -> Question | None:
    """posbot's order and its rule for which questions are asked at all (flows.intake)."""
    now = datetime.now(UTC)
    return next(
        (
            q
            for q in applicable(answers)
            if q.field not in answers and asked_on_the_way(q, answers, now, POLICY)
        ),
        None,
    )


def ask(question: Question, answers: dict[str, Any]) -> Reply:
    extra = [Button("skip", f"a:{question.field}:{SKIP}")] if question.optional else []
    if question.field in RECEIPT_FIELDS:
        extra.append(Button("no_receipt", f"a:{question.field}:noreceipt"))
    extra.append(Button("back", "x:back"))
    choices = [Button(f"{question.field}.{c}", f"a:{question.field}:{c}") for c in question.choices]
    return Reply(
        f"ask_{question.field}",
        {
            "current": None,
            "revising": False,
            "optional": question.optional,
            "choices": question.choices,
        },
        rows(*choices, per_row=question.per_row) + rows(*extra),
    )


def review(answers: dict[str, Any]) -> Reply:
    questions = applicable(answers)
    now = datetime.now(UTC)
    shown = [
        q for q in questions if q.field in answers or asked_on_the_way(q, answers, now, POLICY)
    ]
    items = [
        {"field": q.field, "value": answers.get(q.field), "answered": q.field in answers}
        for q in shown
    ]
    unasked = [q.field for q in questions if q not in shown]
    changes = [Button(f"change.{q.field}", f"c:{q.field}") for q in questions]
    buttons = (
        (Button("confirm", "x:confirm"),),
        *rows(*changes, per_row=3),
        (Button("back", "x:back"), Button("cancel", "x:cancel")),
    )
    return Reply("review", {"items": items, "unasked": unasked}, buttons)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data.clear()  # type: ignore[union-attr]
    buttons = (
        (Button("start", "x:begin"),),
        (Button("person", "x:person"),),
        (Button("lang_zh", "l:zh"), Button("lang_en", "l:en")),
    )
    await send(update, context, Reply("welcome", {}, buttons))
    return WELCOME


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.callback_query is not None
    await update.callback_query.answer()
    answers: dict[str, Any] = {}
    context.user_data["answers"] = answers  # type: ignore[index]
    question = next_question(answers)
    assert question is not None
    await send(update, context, ask(question, answers))
    return ASKING


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    answers: dict[str, Any] = context.user_data["answers"]  # type: ignore[index]
    question = next_question(answers)
    assert question is not None
    query = update.callback_query
    if query is not None:
        await query.answer()
        prefix = f"a:{question.field}:"
        if not (query.data or "").startswith(prefix):
            await send(update, context, Reply("stale_button"))
            return ASKING
        value, pressed = (query.data or "").removeprefix(prefix), True
    else:
        assert update.effective_message is not None
        value, pressed = update.effective_message.text or "", False
    try:
        answers[question.field] = parse_answer(
            question, value, pressed=pressed, now=datetime.now(UTC)
        )
    except InvalidAnswer as error:
        invalid = {
            "field": question.field,
            "reason": error.reason,
            "attempt": 1,
            "offer_help": False,
            "optional": question.optional,
        }
        await send(update, context, Reply("invalid", invalid))
        return ASKING
    following = next_question(answers)
    if following is None:
        await send(update, context, review(answers))
        return REVIEWING
    await send(update, context, ask(following, answers))
    return ASKING


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.callback_query is not None
    await update.callback_query.answer()
    answers: dict[str, Any] = context.user_data["answers"]  # type: ignore[index]
    facts = Facts.from_answers(answers)
    now = datetime.now(UTC)
    diagnosis = diagnose(facts, now, POLICY)
    # posbot's own summary (the same context), without a case number or incidents.
    await send(update, context, summary_reply(None, facts, answers, diagnosis, now, []))
    return ConversationHandler.END


def main() -> None:
    api = os.environ["TELEGRAM_API_URL"]
    application = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(64)
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                WELCOME: [CallbackQueryHandler(begin, pattern="^x:begin$")],
                ASKING: [
                    CallbackQueryHandler(answer, pattern="^a:"),
                    MessageHandler(filters.TEXT & ~filters.COMMAND, answer),
                ],
                REVIEWING: [CallbackQueryHandler(confirm, pattern="^x:confirm$")],
            },
            fallbacks=[CommandHandler("start", start)],
            per_message=False,
        )
    )
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
