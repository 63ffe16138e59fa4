"""The webhook queue's statements on the `inbox` table, built once (building one costs more
than running it, and they run for every update), and the rows they read.

An update is stored pending on arrival (`CLAIM`), run under its chat's advisory lock (`LOCK`,
`UNLOCK`), and marked done by the transaction that ran it; `NEXT_PENDING` finds a chat's next
update and whether every update before it has arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Connection, Select, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from bot.channels.telegram.webhook_body import chat_of
from bot.storage.models import InboxUpdate, utcnow

#: How far back the sequence check looks: Telegram has at most 100 deliveries in flight.
SEQUENCE_WINDOW = 100

INBOX = cast(Table, InboxUpdate.__table__)
MARK_DONE = (
    update(INBOX)
    .where(INBOX.c.update_id == bindparam("done_id"), INBOX.c.status == "pending")
    .values(status="done", processed_at=bindparam("now"), payload={})
)

STATUS = select(INBOX.c.status).where(INBOX.c.update_id == bindparam("update_id"))
ANY_PENDING = (
    select(INBOX.c.update_id)
    .where(INBOX.c.chat_id == bindparam("chat_id"), INBOX.c.status == "pending")
    .limit(1)
)
#: Store an update unless it is there already (PostgreSQL; RETURNING says whether it was added).
CLAIM = postgresql_insert(INBOX).on_conflict_do_nothing().returning(INBOX.c.update_id)
LOCK = select(func.pg_try_advisory_lock(bindparam("chat_id", type_=BigInteger)))
UNLOCK = select(func.pg_advisory_unlock(bindparam("chat_id", type_=BigInteger)))


def inbox_row(data: dict[str, Any]) -> dict[str, Any]:
    """The inbox row of a (redacted) update, as it arrives."""
    return {
        "update_id": int(data["update_id"]),
        "chat_id": chat_of(data),
        "payload": data,
        "status": "pending",
        "received_at": utcnow(),
    }


def mark_done(connection: Connection, update_id: int) -> None:
    """Processed: kept as a redelivery guard, without what the merchant typed (a no-op when
    the transaction that processed it already said so)."""
    connection.execute(MARK_DONE, {"done_id": update_id, "now": utcnow()})


@dataclass(frozen=True)
class Pending:
    """A chat's oldest unprocessed update, and whether all updates before it have arrived."""

    update_id: int
    payload: dict[str, Any]
    received_at: datetime
    in_sequence: bool

    def waited(self) -> float:
        received = self.received_at
        if received.tzinfo is None:
            received = received.replace(tzinfo=UTC)
        return (datetime.now(UTC) - received).total_seconds()


def is_done(connection: Connection, update_id: int) -> bool:
    return connection.scalar(STATUS, {"update_id": update_id}) == "done"


def next_pending(after: bool = False) -> Select[Any]:
    """A chat's oldest pending update, and how many of the ids just below it have arrived.
    One statement, so the head and the count see the same committed rows; built once (it runs
    for every update). `after` (PostgreSQL): the same statement also marks update `done_id`
    done and leaves it out of the head, one round trip instead of two."""
    inbox = cast(Table, InboxUpdate.__table__)
    # "head_chat", not "chat_id": within an UPDATE a parameter named after a column sets it.
    pending = [inbox.c.chat_id == bindparam("head_chat"), inbox.c.status == "pending"]
    if after:  # the statement reads the rows as they were before its own mark
        pending.append(inbox.c.update_id != bindparam("done_id"))
    head = (
        select(inbox.c.update_id, inbox.c.payload, inbox.c.received_at)
        .where(*pending)
        .order_by(inbox.c.update_id)
        .limit(1)
        .subquery()
    )
    earlier = inbox.alias("earlier")
    present = (
        select(func.count())
        .select_from(earlier)
        .where(
            earlier.c.update_id >= head.c.update_id - SEQUENCE_WINDOW,
            earlier.c.update_id >= bindparam("floor"),
            earlier.c.update_id < head.c.update_id,
        )
        .scalar_subquery()
    )
    statement = select(head, present.label("present"))
    if after:  # PostgreSQL runs a data-modifying WITH once, whether or not it is read
        statement = statement.add_cte(MARK_DONE.cte("marked"))
    return statement


NEXT_PENDING = next_pending()
NEXT_AFTER = next_pending(after=True)
