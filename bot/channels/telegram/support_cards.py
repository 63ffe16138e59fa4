"""The support group's view of cases: a card per case (a forum topic where the group has
topics), its buttons, the notices of what happened to it, and who counts as an agent.

`SupportCards` holds what every part of the support group's desk shares; `SupportDesk`
(`bot.channels.telegram.support_group`) adds the agents' messages, buttons and commands and
the timer loop.
"""

from __future__ import annotations

import logging
import time as clock_time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Bot, Message
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.channels.telegram.keyboards import keyboard
from bot.config import Settings
from bot.conversation.case_views import case_view
from bot.conversation.outbox import Outbox
from bot.conversation.rendering import Outgoing
from bot.conversation.service import ConversationService
from bot.storage.models import Case, TranscriptLine
from bot.support.cases import SupportEvent
from bot.support.incidents import IncidentDesk
from flows.callbacks import AGENT_VERBS, AgentAction, encode
from flows.replies import Button, Reply, rows

log = logging.getLogger(__name__)
T = TypeVar("T")

AGENT_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
#: How long a membership answer from Telegram is trusted before asking again.
MEMBERSHIP_TTL = 60.0
#: The longest period `/report N` draws (one bar per month beyond two years).
REPORT_MAX_DAYS = 3660


@dataclass(frozen=True)
class CardView:
    """What posting about a case needs, read in the transaction that decided the event, so
    it is posted after the commit without asking the database again."""

    context: dict[str, Any]
    number: str
    thread: int | None
    card: int | None
    escalated: bool


@dataclass
class Acted:
    """What an agent's command or reply decided, committed with its update's inbox mark."""

    known: bool = True  # about a case (a reply in its topic or to its card)
    notice: list[Outgoing] = field(default_factory=list)  # for the group
    events: list[SupportEvent] = field(default_factory=list)
    merchant_chat: int = 0
    to_merchant: bool = False
    views: dict[int, CardView] = field(default_factory=dict)


class SupportCards:
    """Adapts case events to the support group: cards, topics, notices, membership."""

    def __init__(self, settings: Settings, service: ConversationService, outbox: Outbox) -> None:
        self.settings = settings
        self.service = service
        self.outbox = outbox
        self.db = service.db
        self.chat_id: int = settings.support_chat_id or 0  # 0: no support group configured
        self.locale = settings.default_locale
        self._is_forum: bool | None = None
        self._members: dict[int, tuple[bool, float]] = {}
        self.incidents = IncidentDesk(service, outbox, self.locale)

    # -- rendering ---------------------------------------------------------------------------

    def _render(
        self,
        template: str,
        context: dict[str, Any],
        locale: str | None = None,
        buttons: tuple[tuple[Button, ...], ...] = (),
        quoted: str | None = None,
    ) -> list[Outgoing]:
        """The message in as many parts as Telegram needs (`quoted`: see render_parts)."""
        reply = Reply(template, context, buttons)
        return self.service.render([reply], locale or self.locale, quoted)

    def _card_buttons(self, case: Case) -> tuple[tuple[Button, ...], ...]:
        return self._buttons_of(case.id)

    @staticmethod
    def _buttons_of(case_id: int) -> tuple[tuple[Button, ...], ...]:
        return rows(
            *(Button(verb, encode(AgentAction(verb, case_id))) for verb in AGENT_VERBS),
            per_row=3,
        )

    def topic_name(self, case: Case) -> str:
        status = self.service.renderer.label(self.locale, f"status.{case.status}")
        return f"{case.number} · {status}"[:128]

    # -- merchant -> support -----------------------------------------------------------------

    async def forum(self, bot: Bot) -> bool:
        if self._is_forum is None and self.chat_id:
            chat = await bot.get_chat(self.chat_id)
            self._is_forum = bool(chat.is_forum)
        return bool(self._is_forum)

    async def publish(
        self,
        bot: Bot,
        events: Sequence[SupportEvent],
        views: Mapping[int, CardView] | None = None,
    ) -> None:
        """Tell the support group what happened; Telegram's failures are logged, never raised.
        `views`: the cases as the transaction that decided the events read them (`card_views`);
        the others are read now."""
        if not self.chat_id:
            if events:
                log.warning(
                    "no POSBOT_SUPPORT_CHAT_ID: %d support event(s) not posted", len(events)
                )
            return
        for event in events:
            try:
                await self._publish_one(bot, event, (views or {}).get(event.case_id))
            except TelegramError as error:
                log.error(
                    "support event failed kind=%s case_id=%s error=%s",
                    event.kind,
                    event.case_id,
                    type(error).__name__,
                )

    def card_views(self, session: Session, events: Sequence[SupportEvent]) -> dict[int, CardView]:
        """The cases of `events` as this transaction leaves them, for `publish`."""
        views = {}
        for case_id in dict.fromkeys(event.case_id for event in events):
            case = session.get(Case, case_id)
            if case is not None:
                views[case_id] = CardView(
                    self._card_context(session, case),
                    case.number,
                    case.support_thread_id,
                    case.support_card_message_id,
                    case.escalated_at is not None,
                )
        return views

    async def _publish_one(self, bot: Bot, event: SupportEvent, read: CardView | None) -> None:
        if read is None or (read.thread is None and read.card is None):
            # Not read yet, or without a card, which posting one changes: read it now.
            views = await self.db.run_async(lambda session: self.card_views(session, [event]))
            read = views.get(event.case_id)
        if read is None:
            return
        view, number, thread, card = read.context, read.number, read.thread, read.card
        escalated = read.escalated
        target: dict[str, Any] = {}
        if thread is None and card is None:
            if not escalated:  # support never had this case: only a duplicate is worth a line
                if event.kind != "duplicate":
                    return
            else:
                await self.post_card(bot, event.case_id)
                if event.kind == "escalated":
                    return
                thread, card = await self.db.run_async(
                    lambda session: self._card_place(session, event.case_id)
                )
        if thread:
            target = {"message_thread_id": thread}
        elif card:
            target = {"reply_to_message_id": card}
        if event.kind == "merchant_message":
            if event.photo_file_id:
                (caption,) = self._render("support_relay", {"number": number, "text": None})
                await bot.send_photo(
                    self.chat_id,
                    event.photo_file_id,
                    caption=caption.text,
                    parse_mode=ParseMode.HTML,
                    **target,
                )
            if event.text:
                # Each part of a long message carries the case number.
                relay = self._render(
                    "support_relay", {"number": number, "text": event.text}, quoted="text"
                )
                await self._send(bot, relay, **target)
        elif event.kind in ("changed", "duplicate"):
            if thread and await self.forum(bot):
                await bot.edit_forum_topic(self.chat_id, thread, name=view["topic"])
            if event.text == "keys" and card:
                await self._refresh_card(bot, event.case_id, view, card)
            message = self._render(
                "support_change",
                {
                    "case": view["case"],
                    "what": event.kind,
                    "detail": event.text,
                    "facts": view["facts"],
                },
            )
            await self._send(bot, message, **target)

    async def _refresh_card(self, bot: Bot, case_id: int, view: dict[str, Any], card: int) -> None:
        """The card rendered again as the case is now, in place (the merchant gave what it
        said was missing). A card too long for one message is left; the notice says it."""
        parts = self._render("support_card", view, buttons=self._buttons_of(case_id))
        if len(parts) != 1:
            return
        try:
            await bot.edit_message_text(
                parts[0].text,
                chat_id=self.chat_id,
                message_id=card,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(parts[0]),
            )
        except BadRequest as error:  # "message is not modified": the card already says it
            log.info("card not edited: %s", error.message)

    @staticmethod
    def _card_place(session: Session, case_id: int) -> tuple[int | None, int | None]:
        """Where a case's card is: its forum topic, or the card message."""
        case = session.get(Case, case_id)
        assert case is not None
        return case.support_thread_id, case.support_card_message_id

    def _card_context(self, session: Any, case: Case) -> dict[str, Any]:
        lines = session.scalars(
            select(TranscriptLine)
            .where(TranscriptLine.channel == case.channel, TranscriptLine.chat_id == case.chat_id)
            .order_by(TranscriptLine.id.desc())
            .limit(10)
        ).all()
        return {
            "case": case_view(case),
            "facts": case.facts or {},
            "reason": case.escalation_reason,
            "transcript": [{"author": line.author, "text": line.text} for line in reversed(lines)],
            "topic": self.topic_name(case),
        }

    async def post_card(self, bot: Bot, case_id: int) -> None:
        """The case card: in a new forum topic where topics are enabled, else with buttons."""

        def load(session: Session) -> tuple[dict[str, Any], list[Outgoing], list[str]] | None:
            case = session.get(Case, case_id)
            if case is None:
                return None
            context = self._card_context(session, case)
            card = self._render("support_card", context, buttons=self._card_buttons(case))
            return context, card, list(case.photo_file_ids or [])

        loaded = await self.db.run_async(load)
        if loaded is None:
            return
        context, card, photos = loaded
        thread_id = None
        if await self.forum(bot):
            topic = await bot.create_forum_topic(self.chat_id, context["topic"])
            thread_id = topic.message_thread_id
        sent = await self._send(bot, card, message_thread_id=thread_id)
        for file_id in photos[-3:]:
            await bot.send_photo(
                self.chat_id,
                file_id,
                message_thread_id=thread_id,
                reply_to_message_id=None if thread_id else sent.message_id,
            )

        def store(session: Session) -> None:
            case = session.get(Case, case_id)
            assert case is not None
            case.support_thread_id = thread_id
            case.support_card_message_id = sent.message_id

        await self.db.run_async(store)

    async def _send(self, bot: Bot, messages: list[Outgoing], **kwargs: Any) -> Message:
        """Every part, in order; returns the last (the one with the buttons)."""
        sent: list[Message] = []
        for message in messages:
            sent.append(
                await bot.send_message(
                    self.chat_id,
                    message.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(message),
                    **kwargs,
                )
            )
        return sent[-1]

    # -- authority ---------------------------------------------------------------------------

    async def is_agent(self, bot: Bot, user_id: int | None) -> bool:
        """Configured agent ids, or a member of the support group (asked, then cached briefly)."""
        if user_id is None:
            return False
        if user_id in self.settings.agent_ids:
            return True
        cached = self._members.get(user_id)
        if cached is not None and clock_time.monotonic() - cached[1] < MEMBERSHIP_TTL:
            return cached[0]
        try:
            member = await bot.get_chat_member(self.chat_id, user_id)
            allowed = member.status in AGENT_STATUSES or (
                member.status == ChatMemberStatus.RESTRICTED
                and bool(getattr(member, "is_member", False))
            )
        except TelegramError:
            allowed = False
        self._members[user_id] = (allowed, clock_time.monotonic())
        return allowed

    # -- support group updates ---------------------------------------------------------------
