"""The one place a merchant's message is handled, whatever the channel.

Load the conversation row (locked), turn the incoming message into a flow event, fire it,
save the record and any case in the same transaction, then render the replies. Telegram,
the terminal and (later) webhooks all call `ConversationService.handle`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from bot.rendering import Outgoing, Renderer, split_message
from bot.storage.db import Database
from bot.storage.models import Case, Conversation
from bot.storage.repository import Cases, Conversations
from flows.diagnosis import Diagnosis
from flows.facts import Facts
from flows.intake import (
    IDLE,
    Event,
    IntakeFlow,
    IntakeRecord,
    event_from_button,
    event_from_command,
)
from flows.questions import BY_STATE
from flows.replies import Reply
from flows.settlement_calendar import SHANGHAI

log = logging.getLogger(__name__)

Kind = Literal["text", "command", "button", "photo", "other"]


@dataclass(frozen=True)
class ChatRef:
    """Who wrote: the channel's chat id and the sender's language as the client reports it."""

    channel: str
    chat_id: int
    user_id: int | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Incoming:
    """A merchant's message, channel-neutral. `text` holds the text, command args or data."""

    kind: Kind
    text: str = ""
    command: str = ""
    file_id: str = ""


def locale_for(language_code: str | None, default: str) -> str:
    """zh* means Chinese; any other language English; unknown means the deployment default."""
    if not language_code:
        return default
    return "zh" if language_code.lower().startswith("zh") else "en"


class _Desk:
    """The flow's CaseDesk, bound to this update's session and conversation."""

    def __init__(self, session: Session, row: Conversation, now: datetime) -> None:
        self.cases = Cases(session)
        self.row = row
        self.now = now

    def open_case(self, facts: Facts, diagnosis: Diagnosis, answers: dict[str, Any]) -> str:
        number = self.cases.next_number(self.now.astimezone(SHANGHAI).date())
        due = diagnosis.due
        self.cases.add(
            Case(
                number=number,
                channel=self.row.channel,
                chat_id=self.row.chat_id,
                user_id=self.row.user_id,
                locale=self.row.locale,
                status="open",
                outcome=diagnosis.outcome.value,
                amount=facts.amount,
                trade_date=facts.day,
                due_date=due.expected if due else None,
                due_estimated=bool(due and due.estimated),
                overdue_after=due.overdue_after if due else None,
                reference=facts.reference,
                facts=answers,
                photo_file_ids=list(self.row.photo_file_ids or []),
            )
        )
        log.info("case opened case=%s outcome=%s", number, diagnosis.outcome.value)
        return number

    def case_resolved(self, case_number: str) -> None:
        self.cases.mark_resolved(case_number, self.now)


class ConversationService:
    """Channel-neutral conversation handling on top of the database."""

    def __init__(
        self,
        db: Database,
        flow: IntakeFlow,
        renderer: Renderer,
        default_locale: str = "zh",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.flow = flow
        self.renderer = renderer
        self.default_locale = default_locale
        self.clock = clock

    def handle(self, chat: ChatRef, incoming: Incoming) -> list[Outgoing]:
        now = self.clock()
        with self.db.transaction() as session:
            row = Conversations(session).get_or_create(
                chat.channel,
                chat.chat_id,
                chat.user_id,
                locale_for(chat.language_code, self.default_locale),
                IDLE,
            )
            record = _record_of(row)
            before = record.state
            replies = self._dispatch(session, row, record, incoming, now)
            _store(row, record, now)
            locale = record.locale
        log.info("handled kind=%s state=%s->%s", incoming.kind, before, record.state)
        return self.render(replies, locale)

    def render(self, replies: list[Reply], locale: str) -> list[Outgoing]:
        rendered: list[Outgoing] = []
        for reply in replies:
            outgoing = self.renderer.render(reply, locale)
            parts = split_message(outgoing.text)
            rendered.extend(Outgoing(part) for part in parts[:-1])
            rendered.append(Outgoing(parts[-1], outgoing.keyboard))
        return rendered

    def error_reply(self, language_code: str | None) -> list[Outgoing]:
        """What the merchant sees when handling failed: never silence, never a traceback."""
        return self.render([Reply("error")], locale_for(language_code, self.default_locale))

    def _dispatch(
        self,
        session: Session,
        row: Conversation,
        record: IntakeRecord,
        incoming: Incoming,
        now: datetime,
    ) -> list[Reply]:
        desk = _Desk(session, row, now)
        event: Event | None
        if incoming.kind == "command":
            event = event_from_command(incoming.command, incoming.text)
            if event is None:
                return [Reply("unknown_command")]
        elif incoming.kind == "button":
            event = event_from_button(incoming.text)
            if event is None:
                return [Reply("stale_button"), *self.flow.replay(record, now, desk)]
        elif incoming.kind == "text":
            if record.state not in BY_STATE:
                return [Reply("off_topic", {"state": record.state})]
            event = Event("answer", {"value": incoming.text, "pressed": False})
        elif incoming.kind == "photo":
            row.photo_file_ids = [*(row.photo_file_ids or []), incoming.file_id][-5:]
            return [Reply("photo_received")]
        else:
            return [Reply("non_text")]
        return self.flow.handle(record, event, now, desk)


def _record_of(row: Conversation) -> IntakeRecord:
    return IntakeRecord(
        state=row.state,
        locale=row.locale,
        answers=dict(row.answers or {}),
        failures=row.failures,
        revising=row.revising,
        consented_at=row.consented_at,
        person_requested=row.person_requested,
        case_number=row.case_number,
    )


def _store(row: Conversation, record: IntakeRecord, now: datetime) -> None:
    row.state = record.state
    row.locale = record.locale
    row.answers = dict(record.answers)
    row.failures = record.failures
    row.revising = record.revising
    row.consented_at = record.consented_at
    if record.person_requested and record.person_requested != row.person_requested:
        row.person_requested_at = now
    row.person_requested = record.person_requested
    row.case_number = record.case_number
    row.updated_at = now
