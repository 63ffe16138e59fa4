"""Thin handlers: Telegram update -> channel-neutral Incoming -> service -> sent replies."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.channels.telegram.door import door_findings
from bot.channels.telegram.keyboards import keyboard
from bot.channels.telegram.slips import SlipPhotos, picture_of
from bot.channels.telegram.throttle import FloodGate
from bot.conversation.lookups import look_up
from bot.conversation.messages import ChatRef, Incoming, Result
from bot.conversation.rendering import Outgoing
from bot.conversation.service import ConversationService
from bot.monitoring.metrics import ERRORS
from bot.storage.db import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.channels.telegram.support_group import SupportDesk
    from bot.conversation.outbox import Outbox

log = logging.getLogger(__name__)

#: Set by the webhook while it runs an update that Telegram delivers again unless answered
#: with 200. A database outage is then collected here instead of told to the merchant: the
#: redelivery runs the update (telling them to send it again would run it twice).
REDELIVERED: ContextVar[list[BaseException] | None] = ContextVar("redelivered", default=None)


def chat_of(update: Update) -> ChatRef | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return None
    return ChatRef(
        "telegram", chat.id, user.id if user else None, user.language_code if user else None
    )


def incoming_of(message: Message) -> Incoming:
    """Classify a merchant's message; commands keep their arguments, '@botname' is dropped."""
    if message.text is not None:
        found = door_findings(message)
        if message.text.startswith("/"):
            head, _, args = message.text[1:].partition(" ")
            command = head.split("@", 1)[0]
            return Incoming("command", text=args.strip(), command=command, found=found)
        return Incoming("text", text=message.text, found=found)
    if message.photo:
        return Incoming("photo", file_id=message.photo[-1].file_id)
    if picture_of(message) is not None:  # a picture sent as a file: read, but not attachable
        return Incoming("photo")
    return Incoming("other")


class TelegramHandlers:
    """Bound to one service; every merchant update funnels through `reply`."""

    def __init__(
        self,
        service: ConversationService,
        outbox: Outbox,
        support: SupportDesk | None = None,
        flood: FloodGate | None = None,
        slips: SlipPhotos | None = None,
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.support = support
        self.flood = flood
        self.slips = slips or SlipPhotos(service.clock)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text, commands, photos and everything else a merchant sends in a private chat."""
        chat, message = chat_of(update), update.effective_message
        if chat is None or message is None:
            return
        incoming = incoming_of(message)
        # As the update's own transaction: a lost connection is retried, then an outage (the
        # webhook leaves the update to its redelivery), never a failed update counted done.
        if incoming.kind == "photo" and await self.service.db.run_async(
            lambda session: self.service.reads_slip(session, chat)
        ):
            incoming = await self.slips.read(context.bot, message, incoming)
        result = await self.reply(context, chat, incoming, update.update_id)
        if result.delete_incoming:
            try:  # a private chat: the bot may delete the merchant's message
                await message.delete()
            except TelegramError as error:
                log.warning("could not delete a sensitive message: %s", type(error).__name__)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Inline button presses: acknowledge at once, then answer like a message."""
        query, chat = update.callback_query, chat_of(update)
        if query is None or chat is None:
            return
        await query.answer()
        if update.effective_chat is None or update.effective_chat.type != ChatType.PRIVATE:
            return
        try:  # a pressed keyboard is spent: removing it prevents double answers
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as error:  # "message is not modified", "message to edit not found"
            log.info("keyboard not removed: %s", error.message)
        await self.reply(context, chat, Incoming("button", text=query.data or ""), update.update_id)

    async def reply(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat: ChatRef,
        incoming: Incoming,
        update_id: int | None,
    ) -> Result:
        result = await self.service.handle_update(chat, incoming, update_id)
        delivery = await self.outbox.deliver(
            context.bot, chat.chat_id, result.claimed, result.queued
        )
        if self.support is not None:
            await self.support.publish(context.bot, result.events)
            if delivery.unreachable:
                await self.support.merchant_unreachable(context.bot, chat.chat_id)
        answer = await look_up(
            self.service, result, lambda notice: send_all(context, chat.chat_id, notice)
        )
        if answer is not None:  # what the records said is a turn of its own
            await self.reply(context, chat, answer, None)
        return result

    async def gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs before every handler: a flooding merchant gets one notice, then is ignored."""
        chat = update.effective_chat
        if self.flood is None or chat is None or chat.type != ChatType.PRIVATE:
            return
        verdict = self.flood.check(chat.id)
        if verdict == "pass":
            return
        if verdict == "notice":
            user = update.effective_user
            locale = user.language_code if user else None
            await send_all(context, chat.id, self.service.notice("slow_down", locale))
        log.info("flood: update dropped update_id=%s", update.update_id)
        raise ApplicationHandlerStop

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log with the update id only (no personal data), and never leave the merchant silent."""
        update_id = update.update_id if isinstance(update, Update) else None
        ERRORS.inc()
        if isinstance(context.error, DatabaseUnavailable):  # an outage, not a bug: no traceback
            log.error(
                "update failed update_id=%s: database unavailable (%s)", update_id, context.error
            )
            outage = REDELIVERED.get()
            if outage is not None:  # Telegram delivers it again: that run answers the merchant
                outage.append(context.error)
                return
        else:
            log.error(
                "update failed update_id=%s error=%s",
                update_id,
                type(context.error).__name__,
                exc_info=context.error,
            )
        if isinstance(update, Update):
            chat = chat_of(update)
            if chat is not None and chat.chat_id > 0:
                try:
                    await send_all(
                        context, chat.chat_id, self.service.error_reply(chat.language_code)
                    )
                except Exception:  # the error reply itself failed: logging is all that is left
                    log.exception("error reply failed update_id=%s", update_id)


async def send_all(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, messages: list[Outgoing]
) -> None:
    for message in messages:
        await context.bot.send_message(
            chat_id,
            message.text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(message),
            link_preview_options=None,
        )
