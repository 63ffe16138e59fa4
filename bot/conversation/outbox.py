"""Delivery to merchants through a database outbox: nothing decided is lost to a crash or a fault.

Messages are queued in the same transaction as the state change that decided them, then sent in
order, per chat, by the channel's `Send` (Telegram's is `bot.channels.telegram.delivery`, which also
says what each of its errors means: `SendFailed`). Telegram's 429 is honoured (retried after
`retry_after`), timeouts and 5xx are retried a bounded number of times with backoff, 400s are
dropped with a log line, and 403 (the merchant blocked the bot) marks the merchant unreachable
instead of retrying forever. A row is claimed ("sending") before the HTTP call, so two workers never
send it twice; a worker that dies mid-call leaves a stale claim that the drain re-queues
(at-least-once for that one message).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import Table, bindparam, case, exists, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from bot.conversation.rendering import Outgoing
from bot.storage.db import Database, DatabaseUnavailable
from bot.storage.models import Case, OutboxMessage
from flows.case import OPEN_STATES

log = logging.getLogger(__name__)

#: Attempts at one message before it is given up (logged as failed).
MAX_ATTEMPTS = 5
#: A claim older than this belongs to a worker that died mid-send.
STALE_CLAIM = timedelta(minutes=2)
#: Longest in-process wait before a retry; longer ones are left to the periodic drain.
MAX_INLINE_RETRY = 60.0
#: How long, and how often, a worker tries to record messages it sent while the database was
#: away (well under STALE_CLAIM).
RECORD_PATIENCE = 90.0
RECORD_RETRY = 2.0


#: A queued message claimed for sending: (row id, attempts so far, payload).
Claimed = tuple[int, int, dict[str, Any]]
#: The channel's client (python-telegram-bot's Bot), handed through to its Send untouched.
Bot = Any


class SendFailed(Exception):
    """Why one message did not go, in the outbox's terms.

    retry_after: the channel asked to wait `seconds` (Telegram's 429); unreachable: the merchant
    blocked the bot; rejected: this message can never go (skipped); transient: a timeout or 5xx.
    """

    def __init__(
        self,
        kind: Literal["retry_after", "unreachable", "rejected", "transient"],
        reason: str,
        seconds: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.seconds = kind, reason, seconds


#: Sends one queued message (text, and a keyboard as rows of (label, data)) to a chat, or
#: raises SendFailed.
Send = Callable[[Bot, int, dict[str, Any]], Awaitable[None]]


# Statements that run for every reply, built once (building one costs more than running it).
_OUTBOX = cast(Table, OutboxMessage.__table__)
_WAITING = (  # two comparisons, not IN: an IN list is rendered again on every execution
    select(_OUTBOX.c.id)
    .where(
        or_(_OUTBOX.c.status == "pending", _OUTBOX.c.status == "sending"),
        _OUTBOX.c.chat_id == bindparam("chat_id"),
    )
    .limit(1)
)
_ADD = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)


def _add_claimed_unless_waiting() -> Any:
    """One reply, claimed for sending unless an older message of the chat waits (then queued
    behind it): the check and the insert in one statement, which sees the chat's rows as they
    were before its own (a round trip fewer for every update; RETURNING says which it was)."""
    columns = _OUTBOX.c
    waiting = select(exists(_WAITING).label("waiting")).subquery("older")
    return (
        insert(_OUTBOX)
        .from_select(
            [
                "chat_id",
                "case_id",
                "created_at",
                "next_attempt_at",
                "status",
                "attempts",
                "payload",
            ],
            select(
                bindparam("chat_id", type_=columns.chat_id.type),
                bindparam("case_id", type_=columns.case_id.type),
                bindparam("created_at", type_=columns.created_at.type),
                bindparam("next_attempt_at", type_=columns.next_attempt_at.type),
                case((waiting.c.waiting, literal("pending")), else_=literal("sending")),
                case((waiting.c.waiting, literal(0)), else_=literal(1)),
                bindparam("payload", type_=columns.payload.type),
            ).select_from(waiting),
        )
        .returning(columns.id, columns.status, columns.attempts)
    )


_ADD_CLAIMED = _add_claimed_unless_waiting()
_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(status="sent", sent_at=bindparam("now"), error=None, payload={})
)


def enqueue(
    session: Session,
    chat_id: int,
    messages: Sequence[Outgoing],
    now: datetime,
    case_id: int | None = None,
    claim: bool = False,
) -> list[Claimed]:
    """Queue messages for a chat inside the caller's transaction.

    With `claim`, the caller is about to send them itself (the handler that decided them): when
    nothing older is waiting for this chat, the rows are written already claimed and returned,
    which saves the separate claim transaction of `Outbox.flush` on every update. When older
    messages wait (a retry after 429, say), the new ones queue behind them and nothing is
    returned, so the chat's order holds; `Outbox.flush` then sends them all.
    """
    if not messages:
        return []
    connection = session.connection()
    if claim and len(messages) == 1:  # the usual reply: one statement (_ADD_CLAIMED)
        payload = _payload(messages[0])
        added = connection.execute(
            _ADD_CLAIMED,
            {
                "chat_id": chat_id,
                "case_id": case_id,
                "created_at": now,
                "next_attempt_at": now,
                "payload": payload,
            },
        ).one()
        return [(added.id, added.attempts, payload)] if added.status == "sending" else []
    if claim:
        claim = connection.scalar(_WAITING, {"chat_id": chat_id}) is None
    status, attempts = ("sending", 1) if claim else ("pending", 0)
    rows: list[dict[str, Any]] = [
        {
            "chat_id": chat_id,
            "case_id": case_id,
            "created_at": now,
            "next_attempt_at": now,
            "status": status,
            "attempts": attempts,
            "payload": _payload(message),
        }
        for message in messages
    ]
    ids = connection.execute(_ADD, rows)
    if not claim:
        return []
    return [
        (row_id, attempts, row["payload"]) for row_id, row in zip(ids.scalars(), rows, strict=True)
    ]


def _payload(message: Outgoing) -> dict[str, Any]:
    return {
        "text": message.text,
        "keyboard": [[list(button) for button in row] for row in message.keyboard],
    }


@dataclass
class Delivery:
    sent: int = 0
    unreachable: bool = False
    pending: bool = False


class Outbox:
    """Sends queued messages; one per process, shared by every handler."""

    def __init__(self, db: Database, clock: Callable[[], datetime], send: Send) -> None:
        self.db = db
        self.clock = clock
        self.send = send
        self._locks: dict[int, asyncio.Lock] = {}
        self._retries: set[asyncio.Task[None]] = set()

    def _lock(self, chat_id: int) -> asyncio.Lock:
        if len(self._locks) > 1_000:  # forget idle chats' locks (kept: the ones in use)
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(chat_id, asyncio.Lock())

    def _claim(self, chat_id: int, force: bool) -> list[tuple[int, int, dict[str, Any]]]:
        """The chat's due messages, oldest first, claimed in one transaction (id, attempts,
        payload); nothing when another worker is sending this chat's messages."""
        now = self.clock()
        with self.db.transaction() as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.chat_id == chat_id,
                        OutboxMessage.status.in_(("pending", "sending")),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(20)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows or rows[0].status == "sending":
                return []
            if not force and rows[0].next_attempt_at > now:
                return []
            claimed = []
            for row in rows:
                if row.status != "pending":
                    break
                row.status, row.attempts, row.next_attempt_at = "sending", row.attempts + 1, now
                claimed.append((row.id, row.attempts, dict(row.payload)))
            return claimed

    def _settle(
        self,
        session: Session,
        sent: list[int],
        failed: dict[int, tuple[str, str | None, float | None]],
        release: list[int],
    ) -> None:
        """Record a flush in one transaction: sent rows, failed or retried rows, and claims
        given back because an earlier message of the chat could not go out. Run again as a
        whole after a lost connection: every change in it may be applied twice."""
        now = self.clock()
        table = _OUTBOX
        if sent:  # a plain UPDATE (no ORM bookkeeping): this runs for every reply sent
            session.connection().execute(_SENT, {"ids": sent, "now": now})
        if release:
            session.connection().execute(
                update(table)
                .where(table.c.id.in_(release), table.c.status == "sending")
                .values(status="pending", attempts=table.c.attempts - 1)
            )
        for row_id, (status, error, retry_in) in failed.items():
            row = session.get(OutboxMessage, row_id)
            if row is None or row.status != "sending":
                continue
            row.error = error[:200] if error else None
            if retry_in is not None and row.attempts < MAX_ATTEMPTS:
                row.status, row.next_attempt_at = "pending", now + timedelta(seconds=retry_in)
            else:
                row.status = status if retry_in is None else "failed"
            if row.status == "failed":
                log.error(
                    "outbox message dropped after %d attempts error=%s", row.attempts, row.error
                )

    @staticmethod
    def _unreachable(session: Session, chat_id: int) -> None:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status.in_(("pending", "sending")),
            )
            .values(status="unreachable")
        )
        for open_case in session.scalars(
            select(Case).where(Case.chat_id == chat_id, Case.status.in_(sorted(OPEN_STATES)))
        ):
            open_case.merchant_unreachable = True

    async def flush(self, bot: Bot, chat_id: int, force: bool = True) -> Delivery:
        """Send the chat's queued messages in order until one fails or none is left."""
        delivery = Delivery()
        async with self._lock(chat_id):
            while claimed := await self.db.offload(self._claim, chat_id, force):
                if await self._send(bot, chat_id, claimed, delivery):
                    break
        return delivery

    async def deliver(
        self, bot: Bot, chat_id: int, claimed: list[Claimed], queued: bool
    ) -> Delivery:
        """Send what a handler just decided: the rows it claimed in its own transaction, then,
        if it had to queue behind older messages, everything waiting for the chat."""
        delivery = Delivery()
        if claimed:
            async with self._lock(chat_id):
                if await self._send(bot, chat_id, claimed, delivery):
                    return delivery
        if queued:
            flushed = await self.flush(bot, chat_id)
            delivery.sent += flushed.sent
            delivery.pending, delivery.unreachable = flushed.pending, flushed.unreachable
        return delivery

    async def _send(
        self, bot: Bot, chat_id: int, claimed: list[Claimed], delivery: Delivery
    ) -> bool:
        """Send claimed rows in order and record the outcome; True when sending must stop
        (429, a network fault, or the merchant blocked the bot)."""
        sent: list[int] = []
        failed: dict[int, tuple[str, str | None, float | None]] = {}
        stop = False
        release: list[int] = []
        for index, (row_id, attempts, payload) in enumerate(claimed):
            try:
                await self.send(bot, chat_id, payload)
            except SendFailed as failure:
                if failure.kind == "retry_after":
                    seconds = failure.seconds or 1.0
                    failed[row_id] = ("pending", "429", seconds)
                    self._retry_later(bot, chat_id, seconds)
                    delivery.pending = stop = True
                elif failure.kind == "unreachable":
                    failed[row_id] = ("unreachable", failure.reason, None)
                    delivery.unreachable = stop = True
                elif failure.kind == "rejected":  # this message can never go: skip it
                    failed[row_id] = ("failed", failure.reason, None)
                    log.error("outbox message rejected: %s", failure.reason)
                else:  # transient: timeouts and 5xx
                    seconds = min(2.0**attempts / 2, MAX_INLINE_RETRY)
                    failed[row_id] = ("pending", failure.reason, seconds)
                    self._retry_later(bot, chat_id, seconds)
                    delivery.pending = stop = True
            else:
                sent.append(row_id)
            if stop:
                release = [item[0] for item in claimed[index + 1 :]]
                break

        def record(session: Session) -> None:
            self._settle(session, sent, failed, release)

        try:
            if failed or release:
                await self.db.run_async(record)
            elif sent:  # the usual case: one statement, no transaction around it
                await self.db.execute_async(_SENT, {"ids": sent, "now": self.clock()})
        except DatabaseUnavailable:  # sent all the same: recorded when the database is back
            log.error("outbox: sending not recorded yet (database unavailable)")
            self._background(self._record_later(bot, chat_id, record))
            return True
        delivery.sent += len(sent)
        if delivery.unreachable:
            await self.db.run_async(lambda session: self._unreachable(session, chat_id))
            log.warning("merchant unreachable (403): queued messages dropped")
        return stop

    async def _record_later(
        self, bot: Bot, chat_id: int, record: Callable[[Session], None]
    ) -> None:
        """Keep trying to record a flush that was sent while the database was away, well
        within STALE_CLAIM, after which its rows would be taken for unsent and sent again;
        then send what queued up behind it meanwhile."""
        deadline = asyncio.get_running_loop().time() + RECORD_PATIENCE
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(RECORD_RETRY)
            try:
                await self.db.run_async(record)
            except DatabaseUnavailable:
                continue
            log.info("outbox: sending recorded after the database came back")
            try:
                await self.flush(bot, chat_id)
            except Exception:  # the drain will try again
                log.exception("outbox flush after recording failed")
            return
        log.error("outbox: sending never recorded; those messages may be sent again")

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    def _retry_later(self, bot: Bot, chat_id: int, seconds: float) -> None:
        if seconds > MAX_INLINE_RETRY:
            return  # the periodic drain takes it

        async def retry() -> None:
            await asyncio.sleep(seconds)
            try:
                await self.flush(bot, chat_id)
            except Exception:  # the drain will try again
                log.exception("outbox retry failed")

        self._background(retry())

    def deliver_later(self, bot: Bot, chat_ids: Sequence[int]) -> None:
        """Flush many chats in the background, one after another, so a bulk notice neither
        blocks the caller nor outruns the rate limiter; the periodic drain finishes whatever a
        stop interrupts."""
        chats = list(dict.fromkeys(chat_ids))
        if not chats:
            return

        async def deliver() -> None:
            for chat_id in chats:
                await asyncio.sleep(0)  # a turn for other updates, even when nothing is sent
                try:
                    await self.flush(bot, chat_id, force=False)
                except Exception:  # the drain will try again
                    log.exception("outbox background delivery failed")

        self._background(deliver())

    async def drain(self, bot: Bot) -> int:
        """Every chat with a due message (and stale claims of dead workers) gets a flush."""
        sent = 0
        for chat_id in await self.db.run_async(self._due_chats):
            sent += (await self.flush(bot, chat_id, force=False)).sent
        return sent

    def _due_chats(self, session: Session) -> list[int]:
        """Stale claims given back, then the chats with a message due."""
        now = self.clock()
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "sending",
                OutboxMessage.next_attempt_at < now - STALE_CLAIM,
            )
            .values(status="pending")
        )
        return list(
            session.scalars(
                select(OutboxMessage.chat_id)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .distinct()
            )
        )

    async def close(self) -> None:
        for task in list(self._retries):
            task.cancel()
        await asyncio.gather(*self._retries, return_exceptions=True)

    def depth(self) -> int:
        with self.db.transaction() as session:
            return len(
                session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.status.in_(("pending", "sending")))
                ).all()
            )
