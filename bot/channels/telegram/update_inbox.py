"""The webhook's queue: every update stored once in the `inbox` table, run per chat in order.

An update's row is stored on arrival (its update_id is the primary key, so a redelivery is a
duplicate), then run under a per-chat lock (a PostgreSQL advisory lock, or an asyncio lock on
SQLite's single process) by whichever worker holds it, oldest first; the transaction that runs it
marks it done. A holder looks again before letting go, so an update stored while it worked is
run at once rather than by the sweep.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.door import redact_update
from bot.channels.telegram.handlers import REDELIVERED
from bot.channels.telegram.webhook_body import chat_of
from bot.monitoring.metrics import (
    DUPLICATES,
    HANDLER_SECONDS,
    OUT_OF_SEQUENCE,
    UPDATES,
    update_type,
)
from bot.storage.db import Database, make_engine, watched
from bot.storage.models import InboxUpdate, utcnow

log = logging.getLogger(__name__)


_INBOX = cast(Table, InboxUpdate.__table__)
_MARK_DONE = (
    update(_INBOX)
    .where(_INBOX.c.update_id == bindparam("done_id"), _INBOX.c.status == "pending")
    .values(status="done", processed_at=bindparam("now"), payload={})
)


# Statements that run for every update, built once (building one costs more than running it).
_STATUS = select(_INBOX.c.status).where(_INBOX.c.update_id == bindparam("update_id"))
_ANY_PENDING = (
    select(_INBOX.c.update_id)
    .where(_INBOX.c.chat_id == bindparam("chat_id"), _INBOX.c.status == "pending")
    .limit(1)
)
#: Store an update unless it is there already (PostgreSQL; RETURNING says whether it was added).
_CLAIM = postgresql_insert(_INBOX).on_conflict_do_nothing().returning(_INBOX.c.update_id)
_LOCK = select(func.pg_try_advisory_lock(bindparam("chat_id", type_=BigInteger)))
_UNLOCK = select(func.pg_advisory_unlock(bindparam("chat_id", type_=BigInteger)))


def _inbox_row(data: dict[str, Any]) -> dict[str, Any]:
    """The inbox row of a (redacted) update, as it arrives."""
    return {
        "update_id": int(data["update_id"]),
        "chat_id": chat_of(data),
        "payload": data,
        "status": "pending",
        "received_at": utcnow(),
    }


def _mark_done(connection: Connection, update_id: int) -> None:
    """Processed: kept as a redelivery guard, without what the merchant typed (a no-op when
    the transaction that processed it already said so)."""
    connection.execute(_MARK_DONE, {"done_id": update_id, "now": utcnow()})


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


def _is_done(connection: Connection, update_id: int) -> bool:
    return connection.scalar(_STATUS, {"update_id": update_id}) == "done"


class ChatLocks:
    """Who drains a chat's inbox: an asyncio lock within the process, and on PostgreSQL a
    session-level advisory lock across workers, taken on pooled connections of their own (not
    the handlers' pool, so lock traffic never starves handlers of connections).

    Locks are only ever *tried*: a worker that finds the chat taken leaves its (already stored)
    update to the holder, which drains every pending update of the chat and looks once more
    before letting go (within the process: `again`) and after (across workers: the inbox).
    Nobody waits on a lock, so a burst on one chat ties up no connections.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local: dict[int, asyncio.Lock] = {}
        self._lock_engine: Engine | None = None
        #: Chats that got an update while this process's holder was draining them.
        self.again: set[int] = set()

    def local(self, chat_id: int) -> asyncio.Lock:
        if len(self._local) > 1_000:
            self._local = {key: lock for key, lock in self._local.items() if lock.locked()}
        return self._local.setdefault(chat_id, asyncio.Lock())

    def connect(self) -> Connection:
        """A connection for holding one chat's lock (autocommit: each statement stands alone)."""
        if self._lock_engine is None:
            self._lock_engine = make_engine(
                self.db.url,
                # One per chat in flight; Telegram caps those (max_connections, 40 by default).
                # Kept rather than opened per update: opening one cost about 1.5% of the CPU.
                pool_size=16,
                max_overflow=-1,
                isolation_level="AUTOCOMMIT",
            )
        return self._lock_engine.connect()

    def dispose(self) -> None:
        if self._lock_engine is not None:
            self._lock_engine.dispose()


@dataclass
class Entered:
    """What `UpdateInbox._enter` did: `stored` the update (None: a redelivery of one already
    done, or no update given), `held` the chat with `head` to run, or found the chat held
    elsewhere or empty; `more`: an update came while it let go."""

    stored: bool | None
    held: Held | None = None
    head: Pending | None = None
    more: bool = False


@dataclass
class Held:
    """A chat held across workers: the connection whose session holds its advisory lock."""

    connection: Connection
    chat_id: int
    released: bool = False

    def release(self) -> None:
        """Let go of the lock (closing the session lets go of it too, when unlocking fails)."""
        if self.released:
            return
        self.released = True
        try:
            with watched(self.connection):
                self.connection.scalar(_UNLOCK, {"chat_id": self.chat_id})
        except BaseException:
            self.connection.invalidate()
            raise
        finally:
            self.connection.close()

    def broken(self) -> None:
        """A statement on the connection failed: shut the session, and the lock with it."""
        if not self.released:
            self.released = True
            self.connection.invalidate()
            self.connection.close()


#: How often a worker takes up updates left unprocessed (by a crash or a database outage).
SWEEP_SECONDS = 30.0
#: How far back the sequence check looks: Telegram has at most 100 deliveries in flight.
SEQUENCE_WINDOW = 100
#: Longest wait for an earlier update that has not arrived (it may never: ids can skip).
GAP_WAIT = 2.0
#: While waiting for one, how often the database is asked (it may reach another worker);
#: an update stored by this worker wakes the wait at once.
GAP_RECHECK = 0.05


def _next_pending() -> Select[Any]:
    """A chat's oldest pending update, and how many of the ids just below it have arrived.
    One statement, so the head and the count see the same committed rows; built once (it runs
    for every update)."""
    inbox = cast(Table, InboxUpdate.__table__)
    head = (
        select(inbox.c.update_id, inbox.c.payload, inbox.c.received_at)
        .where(inbox.c.chat_id == bindparam("chat_id"), inbox.c.status == "pending")
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
    return select(head, present.label("present"))


NEXT_PENDING = _next_pending()


class UpdateInbox:
    """Claims updates once and runs each chat's updates in update-id order.

    Telegram numbers a bot's updates sequentially and may deliver several at once over
    parallel connections, so a chat's second update can reach a worker before its first one
    has been stored. Before running an update, the worker holding the chat checks that every
    update id just below it has arrived (the ids are global, so a gap may belong to any chat);
    while one is missing it waits, up to GAP_WAIT after the update was received, and then
    takes the chat's oldest pending update again, which may now be the late one.
    """

    def __init__(self, db: Database, application: Application) -> None:
        self.db = db
        self.application = application
        self.locks = ChatLocks(db)
        self._first_id: int | None = None
        #: Ids below this that never came are not waited for again (a jump in the sequence).
        self._floor = 0
        #: Set (and replaced) whenever this worker stores an update: wakes drains waiting for it.
        self._arrival = asyncio.Event()

    def _arrived(self) -> None:
        self._arrival.set()
        self._arrival = asyncio.Event()

    async def _next_arrival(self) -> None:
        """Until this worker stores another update, or GAP_RECHECK has passed."""
        arrival = self._arrival
        try:
            async with asyncio.timeout(GAP_RECHECK):
                await arrival.wait()
        except TimeoutError:
            pass

    def claim(self, data: dict[str, Any]) -> bool:
        """Record the update; False when it was seen before (Telegram redelivered it)."""
        try:
            with self.db.engine.begin() as connection:
                connection.execute(insert(InboxUpdate).values(**_inbox_row(data)))
        except IntegrityError:
            return False
        return True

    def _floor_of(self, connection: Connection) -> int:
        if self._first_id is None:
            self._first_id = connection.scalar(select(func.min(InboxUpdate.update_id)))
        return max(self._first_id or 0, self._floor)

    def _head(self, connection: Connection, chat_id: int) -> Pending | None:
        """The chat's oldest pending update, with whether every update before it (within the
        window) has arrived: one statement, so the head and the count see the same rows."""
        floor = self._floor_of(connection)
        row = connection.execute(NEXT_PENDING, {"chat_id": chat_id, "floor": floor}).first()
        if row is None:
            return None
        low = max(row.update_id - SEQUENCE_WINDOW, floor)
        return Pending(
            row.update_id,
            dict(row.payload),
            row.received_at,
            row.present >= row.update_id - low,
        )

    def _advance(self, chat_id: int, done: int | None) -> Pending | None:
        """Mark `done` processed and fetch the chat's oldest pending update, in one transaction."""
        with self.db.engine.begin() as connection:
            if done is not None:
                _mark_done(connection, done)
            return self._head(connection, chat_id)

    def _store(self, data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Redact, then claim (in a worker thread: the redaction may read the conversation)."""
        safe = redact_update(
            data, self.db
        )  # nothing raw is ever stored (bot.channels.telegram.door)
        return self.claim(safe), safe

    def _enter(self, chat_id: int, data: dict[str, Any] | None) -> Entered:
        """PostgreSQL, in one worker-thread call on one connection: store `data` (redacted),
        try the chat's advisory lock and, if taken, read the chat's head; with nothing to run,
        let go at once and look whether an update came meanwhile (as `_next` does)."""
        connection = self.locks.connect()
        stored = None if data is None else False
        try:
            if data is not None:
                safe = redact_update(data, self.db)  # nothing raw is ever stored
                stored = connection.scalar(_CLAIM, _inbox_row(safe)) is not None
                if not stored and _is_done(connection, int(data["update_id"])):
                    connection.close()
                    return Entered(None)
            if not connection.scalar(_LOCK, {"chat_id": chat_id}):
                connection.close()  # the holder drains ours, and looks again after letting go
                return Entered(stored)
            held = Held(connection, chat_id)
            head = self._head(connection, chat_id)
        except BaseException:  # closing the session lets go of the lock too
            connection.invalidate()
            connection.close()
            raise
        if head is not None:
            return Entered(stored, held, head)
        held.release()  # another holder ran ours before we took the chat; one may have come since
        return Entered(stored, more=self._pending(chat_id))

    def _next(self, held: Held, done: int | None) -> tuple[Pending | None, bool]:
        """After running `done`: mark it, read the chat's next pending update, and when there
        is none, let go of the chat and look whether one came meanwhile (another worker left it
        to us), all in one worker-thread call on the lock's connection. (head, more)."""
        try:
            with watched(held.connection):
                if done is not None:
                    _mark_done(held.connection, done)
                head = self._head(held.connection, held.chat_id)
        except BaseException:
            held.broken()
            raise
        if head is not None:
            return head, False
        held.release()
        return None, self._pending(held.chat_id)

    def _mark(self, update_id: int) -> None:
        with self.db.engine.begin() as connection:
            _mark_done(connection, update_id)

    def _done(self, update_id: int) -> bool:
        with self.db.engine.connect() as connection:
            return _is_done(connection, update_id)

    def _pending(self, chat_id: int) -> bool:
        with self.db.engine.connect() as connection:
            return connection.scalar(_ANY_PENDING, {"chat_id": chat_id}) is not None

    async def deliver(self, data: dict[str, Any]) -> bool:
        """Store, then drain the chat's pending updates unless another task is draining it.
        False for a redelivery of an update already processed; a redelivery of one stored but
        never processed (its first delivery failed) runs it."""
        UPDATES.labels(update_type(data)).inc()
        update_id, chat_id = int(data["update_id"]), chat_of(data)
        if chat_id is not None and not self.db.is_sqlite and not self.locks.local(chat_id).locked():
            # The usual case: store, lock and look in one hand-off (see `_enter`).
            if not await self._drain(chat_id, data):
                DUPLICATES.inc()
                return False
            return True
        stored, data = await self.db.offload(self._store, data)
        if stored:
            self._arrived()
        elif await self.db.offload(self._done, update_id):
            DUPLICATES.inc()
            return False
        if chat_id is None:
            await self._run(update_id, data)
            await self.db.offload(self._mark, update_id)
            return True
        await self._drain(chat_id)
        return True

    async def sweep(self, older_than: float = 30.0) -> int:
        """Take up updates stored but left unprocessed (a worker died mid-way, or the database
        failed after the claim): each such chat is drained as if an update had just come."""
        chats = await self.db.offload(self._left_over, older_than)
        for chat_id in chats:
            if chat_id is None:
                continue
            await self._drain(chat_id)
        return len(chats)

    def _left_over(self, older_than: float) -> list[int | None]:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        with self.db.engine.connect() as connection:
            return list(
                connection.scalars(
                    select(InboxUpdate.chat_id)
                    .where(InboxUpdate.status == "pending", InboxUpdate.received_at < cutoff)
                    .distinct()
                    .limit(500)
                )
            )

    async def _drain(self, chat_id: int, arriving: dict[str, Any] | None = None) -> bool:
        """Run the chat's pending updates in order, unless another task is already doing so
        (it then runs ours too: it looks again before letting go). `arriving` (PostgreSQL, the
        chat not held here): an update to store first, in the same hand-off as taking the
        chat. False when it was a redelivery of an update already done."""
        lock = self.locks.local(chat_id)
        while True:
            if lock.locked():
                self.locks.again.add(chat_id)
                return True
            async with lock:
                self.locks.again.discard(chat_id)
                if self.db.is_sqlite:  # one process: the local lock is the whole story
                    await self._run_pending(
                        chat_id, await self.db.offload(self._advance, chat_id, None)
                    )
                    more = False
                else:
                    entered = await self.db.offload(self._enter, chat_id, arriving)
                    if entered.stored is None and arriving is not None:
                        return False
                    arriving = None
                    if entered.stored:
                        self._arrived()
                    more = entered.more
                    if entered.held is not None and entered.head is not None:
                        more = await self._run_held(entered.held, entered.head)
                more = more or chat_id in self.locks.again
            if not more:
                return True

    async def _run_pending(self, chat_id: int, item: Pending | None) -> None:
        """SQLite: run the chat's pending updates from `item` on, in order."""
        while item is not None:
            if not item.in_sequence and await self._gap(item):
                item = await self.db.offload(self._advance, chat_id, None)
                continue
            await self._run(item.update_id, item.payload)
            item = await self.db.offload(self._advance, chat_id, item.update_id)

    async def _run_held(self, held: Held, first: Pending) -> bool:
        """PostgreSQL: run the held chat's pending updates from `first` on, then let go of it;
        True when an update was left to us while letting go."""
        more = False
        next_item: Pending | None = first
        try:
            while (item := next_item) is not None:
                if not item.in_sequence and await self._gap(item):
                    next_item, more = await self.db.offload(self._next, held, None)
                    continue
                await self._run(item.update_id, item.payload)
                next_item, more = await self.db.offload(self._next, held, item.update_id)
        finally:
            if not held.released:
                try:  # given up on, its connection is shut: the server lets go of the lock
                    await self.db.offload(held.release, within=1.0)
                except Exception as error:
                    log.warning("chat lock released by closing: %s", type(error).__name__)
        return more

    async def _gap(self, item: Pending) -> bool:
        """An earlier update has not arrived: True after waiting a moment for it (look at the
        chat again); False when it has been waited for long enough (run this one)."""
        if item.waited() < GAP_WAIT:
            await self._next_arrival()  # an earlier update is on its way
            return True
        # Ids can skip; what has not come by now is not expected any more.
        self._floor = max(self._floor, item.update_id)
        OUT_OF_SEQUENCE.inc()
        log.warning("update_id=%s run before earlier ids arrived", item.update_id)
        return False

    async def _run(self, update_id: int, data: dict[str, Any]) -> None:
        """Process one update. A database outage while processing it raises (the request gets
        503 and the update stays pending, for the redelivery or the sweep); any other failure
        is logged, and the update counts as done (its handler's transaction did not commit)."""
        started = time.perf_counter()
        outage: list[BaseException] = []
        token = REDELIVERED.set(outage)
        try:
            await self.application.process_update(Update.de_json(data, self.application.bot))
        except Exception:  # logged by PTB's error handler; the update still counts as done
            log.exception("update failed update_id=%s", update_id)
        finally:
            REDELIVERED.reset(token)
            HANDLER_SECONDS.observe(time.perf_counter() - started)
        if outage:
            raise outage[0]
