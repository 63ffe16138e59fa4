"""Typed SQLAlchemy models: conversations (source of truth), cases, audit, timers, transcript."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: UTCDateTime,
        list[str]: JSON,
    }


class Conversation(Base):
    """One chat's intake: stored after every step, so any process can continue it."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_id", name="uq_conversation_chat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    failures: Mapped[int] = mapped_column(default=0)
    revising: Mapped[bool] = mapped_column(default=False)
    consented_at: Mapped[datetime | None]
    person_requested: Mapped[str | None] = mapped_column(String(32))
    person_requested_at: Mapped[datetime | None]
    case_number: Mapped[str | None] = mapped_column(String(32))
    photo_file_ids: Mapped[list[str]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it


class Case(Base):
    """A merchant's case: what they reported, what the rules concluded, who handles it."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    outcome: Mapped[str | None] = mapped_column(String(1))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    trade_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    due_estimated: Mapped[bool] = mapped_column(default=False)
    overdue_after: Mapped[datetime | None]
    reference: Mapped[str | None] = mapped_column(String(32), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    photo_file_ids: Mapped[list[str]] = mapped_column(default=list)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))
    #: The rungs of the "still missing" ladder given to the merchant so far, in order.
    ladder: Mapped[list[str]] = mapped_column(default=list)
    escalation_reason: Mapped[str | None] = mapped_column(String(32))
    escalated_at: Mapped[datetime | None]
    owner_id: Mapped[int | None] = mapped_column(BigInteger)
    owner_name: Mapped[str | None] = mapped_column(String(64))
    support_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    support_card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    first_reply_at: Mapped[datetime | None]
    last_merchant_message_at: Mapped[datetime | None]
    last_agent_reply_at: Mapped[datetime | None]
    merchant_unreachable: Mapped[bool] = mapped_column(default=False)
    rating: Mapped[int | None]
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None]


class CaseEvent(Base):
    """The audit trail: every lifecycle transition with who, when, from, to and why."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    dest: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)


class Timer(Base):
    """A persisted timer (follow-up, SLA reminder): armed in the database, so restarts keep it."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_pending", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TranscriptLine(Base):
    """What merchant and agents wrote on a case (redacted), for the case card and the audit."""

    __tablename__ = "transcript_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)


class OutboxMessage(Base):
    """A message decided but maybe not yet delivered: written in the same transaction as the
    state change, deleted from the queue only once Telegram accepted it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class InboxUpdate(Base):
    """Every Telegram update once: the primary key makes a redelivered update a no-op, and
    pending rows let whichever worker holds a chat's lock process them in update-id order."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_chat_pending", "chat_id", "status", "update_id"),
        # The retention purge finds old done rows through it, without reading the table.
        Index("ix_inbox_done", "status", "processed_at"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


class CaseCounter(Base):
    """Per-day sequence behind case numbers like PB-20261125-0042."""

    __tablename__ = "case_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Incident(Base):
    """A notice support posted about a range of transaction times (text redacted), until ended."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(64))


class IncidentNotice(Base):
    """One incident told to one case: the unique pair is what keeps a case from hearing twice."""

    __tablename__ = "incident_notices"
    __table_args__ = (UniqueConstraint("incident_id", "case_id", name="uq_incident_notice"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
