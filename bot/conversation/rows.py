"""A chat's conversation row: loaded row-locked, created once however many workers race for it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.conversation.messages import ChatRef
from bot.storage.db import Database
from bot.storage.models import Conversation
from flows.answers import InvalidAnswer
from flows.intake_core import IntakeRecord
from flows.questions import BY_STATE
from flows.readings import SLIP

# Run for every update, so built once (building a statement costs more than running it).
_CONVERSATION = (
    select(Conversation)
    .where(
        Conversation.channel == bindparam("channel"), Conversation.chat_id == bindparam("chat_id")
    )
    .with_for_update()
)


class Conversations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_for_update(self, channel: str, chat_id: int) -> Conversation | None:
        """Row-locked on PostgreSQL, so two workers never interleave one chat's updates."""
        found = self.session.scalars(_CONVERSATION, {"channel": channel, "chat_id": chat_id})
        return found.one_or_none()

    def get_or_create(
        self, channel: str, chat_id: int, user_id: int | None, locale: str, state: str
    ) -> Conversation:
        row = self.get_for_update(channel, chat_id)
        if row is not None:
            return row
        row = Conversation(
            channel=channel,
            chat_id=chat_id,
            user_id=user_id,
            locale=locale,
            state=state,
            answers={},
            photo_file_ids=[],
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            existing = self.get_for_update(channel, chat_id)
            assert existing is not None
            return existing
        return row


#: Key in the conversation row's answers JSON for the slip's pending values and mode.
SLIP_KEY = "_slip"
#: Key of which answers came from a slip or a story rather than their question (flows.readings).
ORIGINS_KEY = "_from"
#: Key of the questions shown on the way (what numbers the next one).
ASKED_KEY = "_asked"
#: Key of the mark that the bank question is asked for the "still missing" ladder.
CLIMBING_KEY = "_climbing"


def record_of(row: Conversation) -> IntakeRecord:
    answers = dict(row.answers or {})
    slip = answers.pop(SLIP_KEY, None) or {}
    origins = answers.pop(ORIGINS_KEY, None) or {}
    asked = answers.pop(ASKED_KEY, None) or []
    climbing = bool(answers.pop(CLIMBING_KEY, False))
    return IntakeRecord(
        state=row.state,
        locale=row.locale,
        answers=answers,
        pending_slip=slip.get("pending"),
        open_only=bool(slip.get("open_only")),
        pending_source=slip.get("source") or SLIP,
        fresh=bool(slip.get("fresh")),
        origins=dict(origins),
        asked=list(asked),
        climbing=climbing,
        failures=row.failures,
        revising=row.revising,
        consented_at=row.consented_at,
        person_requested=row.person_requested,
        case_number=row.case_number,
    )


def store_record(row: Conversation, record: IntakeRecord, now: datetime) -> None:
    row.state = record.state
    row.locale = record.locale
    row.answers = dict(record.answers)
    if record.pending_slip is not None or record.open_only:
        row.answers[SLIP_KEY] = {
            "pending": record.pending_slip,
            "open_only": record.open_only,
            "source": record.pending_source,
            "fresh": record.fresh,
        }
    if record.origins:
        row.answers[ORIGINS_KEY] = dict(record.origins)
    if record.asked:
        row.answers[ASKED_KEY] = list(record.asked)
    if record.climbing:
        row.answers[CLIMBING_KEY] = True
    row.failures = record.failures
    row.revising = record.revising
    row.consented_at = record.consented_at
    if record.person_requested and record.person_requested != row.person_requested:
        row.person_requested_at = now
    row.person_requested = record.person_requested
    row.case_number = record.case_number
    row.updated_at = now


#: Questions whose valid answers may look like card numbers to the redaction rules.
KEY_FIELDS = frozenset({"merchant_id"})  # 15 characters, the length of some card numbers


def answers_key(db: Database, chat: ChatRef, text: str) -> bool:
    """Whether `text` answers the receipt-key question the chat is on now, so that redaction
    at the webhook's door lets it through as `_screen` does (read outside the update's turn:
    a rare race makes it a needless warning, never a kept secret, since `_screen` runs too)."""
    with db.transaction() as session:
        state = session.scalar(
            select(Conversation.state).where(
                Conversation.channel == chat.channel, Conversation.chat_id == chat.chat_id
            )
        )
    return state is not None and answers_key_question(state, text)


def answers_key_question(state: str, text: str) -> bool:
    question = BY_STATE.get(state)
    if question is None or question.field not in KEY_FIELDS or question.parse is None:
        return False
    try:
        question.parse(text, datetime.now(UTC))
    except InvalidAnswer:
        return False
    return True
