"""The exactly-once mark of a Telegram update, taken inside the transaction that handles it.

Merchants' updates, the support group's and the webhook's queue all mark updates here, so "done"
means the same thing on every path.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.storage.models import InboxUpdate

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
