"""Personal data: erasing a merchant's data (/forget) and retention purges (logs: see monitoring).

One erasure routine serves both /forget and `posbot purge`, so "deleted" means the same thing
everywhere: cases keep only anonymised counts (status, outcome, dates, amount), never who or what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from bot.storage.models import (
    Case,
    Conversation,
    InboxUpdate,
    OutboxMessage,
    Timer,
    TranscriptLine,
)
from flows.case import CaseState
from flows.intake_table import IDLE

#: Where an erased case's merchant used to be.
ERASED_CHANNEL = "erased"


def anonymise_case(case: Case, now: datetime) -> None:
    """Drop everything that identifies the merchant or the payment; keep the counts."""
    case.channel = ERASED_CHANNEL
    case.chat_id = 0
    case.user_id = None
    case.facts = {}
    case.reference = None
    case.photo_file_ids = []
    case.resolution_note = None
    case.updated_at = now


def reset_conversation(row: Conversation) -> None:
    row.state = IDLE
    row.answers = {}
    row.failures = 0
    row.revising = False
    row.consented_at = None
    row.person_requested = None
    row.person_requested_at = None
    row.case_number = None
    row.photo_file_ids = []
    row.user_id = None


def _close_timers(session: Session, case_ids: Iterable[int], now: datetime) -> None:
    ids = list(case_ids)
    if ids:
        for timer in session.scalars(
            select(Timer).where(Timer.case_id.in_(ids), Timer.done_at.is_(None))
        ):
            timer.done_at = now


def forget_chat(session: Session, channel: str, chat_id: int, now: datetime) -> int:
    """Erase one merchant's personal data; returns how many cases were anonymised."""
    session.execute(
        delete(TranscriptLine).where(
            TranscriptLine.channel == channel, TranscriptLine.chat_id == chat_id
        )
    )
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.chat_id == chat_id, OutboxMessage.status != "pending"
        )
    )
    session.execute(update(InboxUpdate).where(InboxUpdate.chat_id == chat_id).values(payload={}))
    cases = list(
        session.scalars(select(Case).where(Case.channel == channel, Case.chat_id == chat_id))
    )
    _close_timers(session, (case.id for case in cases), now)
    for case in cases:
        anonymise_case(case, now)
    return len(cases)


@dataclass(frozen=True)
class PurgeReport:
    transcript_lines: int
    cases: int
    conversations: int
    inbox_updates: int = 0


#: Done inbox rows deleted per statement: a small batch never nears the statement timeout,
#: whatever backlog a first purge finds (the worker's timer takes one batch per tick).
INBOX_BATCH = 5_000


def purge_inbox(session: Session, before: datetime, limit: int = INBOX_BATCH) -> int:
    """Forget update ids processed before `before` (`Settings.inbox_retention_hours`: Telegram
    no longer redelivers them), at most `limit` of them; returns how many. Pending updates are
    never touched: they are still to be run. The one place the inbox is purged, from
    `posbot purge` and from every worker's timer loop."""
    inbox = cast(Table, InboxUpdate.__table__)
    oldest = (
        select(InboxUpdate.update_id)
        .where(InboxUpdate.status == "done", InboxUpdate.processed_at < before)
        .limit(limit)
    )
    removed = session.connection().execute(
        delete(inbox).where(inbox.c.update_id.in_(oldest.scalar_subquery()))
    )
    return int(removed.rowcount or 0)


def purge(
    session: Session, older_than: timedelta, now: datetime, inbox_kept: timedelta | None = None
) -> PurgeReport:
    """Retention: old transcripts go, finished cases and idle conversations lose personal data,
    and (`inbox_kept`) update ids Telegram no longer redelivers are forgotten."""
    inbox_updates = 0
    if inbox_kept is not None:
        while batch := purge_inbox(session, now - inbox_kept):
            inbox_updates += batch
            if batch < INBOX_BATCH:
                break
    cutoff = now - older_than
    old_lines = list(session.scalars(select(TranscriptLine).where(TranscriptLine.at < cutoff)))
    for line in old_lines:
        session.delete(line)
    lines = len(old_lines)
    cases = list(
        session.scalars(
            select(Case).where(
                Case.status.in_((CaseState.RESOLVED.value, CaseState.CLOSED.value)),
                Case.updated_at < cutoff,
                Case.channel != ERASED_CHANNEL,
            )
        )
    )
    _close_timers(session, (case.id for case in cases), now)
    for case in cases:
        anonymise_case(case, now)
    rows = list(session.scalars(select(Conversation).where(Conversation.updated_at < cutoff)))
    for row in rows:
        reset_conversation(row)
    return PurgeReport(
        transcript_lines=lines,
        cases=len(cases),
        conversations=len(rows),
        inbox_updates=inbox_updates,
    )


#: The longest age `posbot purge --older-than` takes: the longest retention there is (3650 days).
MAX_AGE = timedelta(days=3650)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "w": 7 * 86400}


def parse_age(text: str) -> timedelta:
    """'180d', '12h', '90m', '4w' or a plain number of days, up to MAX_AGE."""
    value = text.strip().lower()
    unit = value[-1:] if value[-1:] in _UNIT_SECONDS else ""
    number = value[:-1] if unit else value
    if not number.isdecimal() or int(number) <= 0:
        raise ValueError(f"not an age: {text!r} (use e.g. 180d, 12h)")
    seconds = int(number) * _UNIT_SECONDS[unit or "d"]
    if seconds > MAX_AGE.total_seconds():
        raise ValueError(f"not an age: {text!r} is over {MAX_AGE.days} days")
    return timedelta(seconds=seconds)
