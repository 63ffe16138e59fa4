"""Repositories: the few queries the service needs, each on a session it is given."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import Case, CaseCounter, Conversation, InboxUpdate

# Statements that run for every update, built once (building one costs more than running it).
_CONVERSATION = (
    select(Conversation)
    .where(
        Conversation.channel == bindparam("channel"), Conversation.chat_id == bindparam("chat_id")
    )
    .with_for_update()
)
_INBOX = cast(Table, InboxUpdate.__table__)
_TAKE = (
    update(_INBOX)
    .where(_INBOX.c.update_id == bindparam("taken_id"), _INBOX.c.status == "pending")
    .values(status="done", processed_at=bindparam("now"), payload={})
)
_ADD = {  # RETURNING says whether the row was added (psycopg gives no rowcount for it)
    "sqlite": sqlite_insert(_INBOX).on_conflict_do_nothing().returning(_INBOX.c.update_id),
    "postgresql": postgresql_insert(_INBOX).on_conflict_do_nothing().returning(_INBOX.c.update_id),
}


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


class Cases:
    def __init__(self, session: Session) -> None:
        self.session = session

    def next_number(self, day: date) -> str:
        """PB-YYYYMMDD-NNNN from a per-day counter row, safe under concurrent workers."""
        counters = cast(Table, CaseCounter.__table__)
        bump = (  # a plain UPDATE: the ORM's version evaluates it against loaded objects
            update(counters)
            .where(counters.c.day == day)
            .values(last=counters.c.last + 1)
            .returning(counters.c.last)
        )
        value = self.session.connection().execute(bump).scalar_one_or_none()
        if value is None:
            try:
                with self.session.begin_nested():
                    self.session.add(CaseCounter(day=day, last=1))
                value = 1
            except IntegrityError:
                value = self.session.connection().execute(bump).scalar_one()
        return f"PB-{day:%Y%m%d}-{value:04d}"

    def add(self, case: Case) -> Case:
        self.session.add(case)
        self.session.flush()
        return case

    def by_number(self, number: str) -> Case | None:
        return self.session.scalars(select(Case).where(Case.number == number)).one_or_none()


def take_update(session: Session, update_id: int, chat_id: int | None, now: datetime) -> bool:
    """Mark a Telegram update processed inside the transaction that processes it; False when
    an earlier transaction already did (a redelivery, or a retry after an unclear commit).

    The conversation change, its outbox rows and this mark commit together, so an update takes
    effect once or not at all. Taking the row locks it: two workers cannot both take it. In
    webhook mode the row was stored (pending) on arrival; in polling mode it is written here.
    """
    connection = session.connection()  # plain statements: no unit of work for one row
    if connection.execute(_TAKE, {"taken_id": update_id, "now": now}).rowcount:
        return True
    added = connection.execute(
        _ADD[connection.dialect.name],
        {
            "update_id": update_id,
            "chat_id": chat_id,
            "payload": {},
            "status": "done",
            "received_at": now,
            "processed_at": now,
        },
    )
    return added.first() is not None
