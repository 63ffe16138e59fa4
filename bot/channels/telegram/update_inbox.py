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
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.door import redact_update
from bot.channels.telegram.handlers import REDELIVERED
from bot.channels.telegram.inbox_statements import (
    ANY_PENDING,
    CLAIM,
    LOCK,
    NEXT_AFTER,
    NEXT_PENDING,
    SEQUENCE_WINDOW,
    UNLOCK,
    Pending,
    inbox_row,
    is_done,
    mark_done,
)
from bot.channels.telegram.webhook_body import chat_of
from bot.monitoring.metrics import (
    DUPLICATES,
    HANDLER_SECONDS,
    OUT_OF_SEQUENCE,
    UPDATES,
    update_type,
)
from bot.storage.db import Database, watched
from bot.storage.models import InboxUpdate, utcnow

log = logging.getLogger(__name__)


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
        #: Chats that got an update while this process's holder was draining them.
        self.again: set[int] = set()

    def local(self, chat_id: int) -> asyncio.Lock:
        if len(self._local) > 1_000:
            self._local = {key: lock for key, lock in self._local.items() if lock.locked()}
        return self._local.setdefault(chat_id, asyncio.Lock())

    def connect(self) -> Connection:
        """A connection for holding one chat's lock (autocommit: each statement stands alone;
        not the handlers' pool, so lock traffic never starves handlers of connections)."""
        return self.db.autocommit.connect()


@dataclass
class Entered:
    """What `UpdateInbox._enter` did: `stored` the update (None: a redelivery of one already
    done, or no update given) as `safe` (redacted), `held` the chat with `head` to run, or
    found the chat held elsewhere or empty; `more`: an update came while it let go."""

    stored: bool | None
    safe: dict[str, Any] | None = None
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
                self.connection.scalar(UNLOCK, {"chat_id": self.chat_id})
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
#: Longest wait for an earlier update that has not arrived (it may never: ids can skip).
GAP_WAIT = 2.0
#: While waiting for one, how often the database is asked (it may reach another worker);
#: an update stored by this worker wakes the wait at once.
GAP_RECHECK = 0.05
#: Updates kept as read by the webhook until they run (`UpdateInbox._keep`).
PARSED_KEPT = 256


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
        #: Updates stored here as they came, as the webhook read them (`_keep`), by update_id.
        self._parsed: dict[int, Update] = {}
        #: Set (and replaced) whenever this worker stores an update: wakes drains waiting for it.
        self._arrival = asyncio.Event()

    def _keep(
        self, raw: dict[str, Any] | None, safe: dict[str, Any] | None, parsed: Update | None
    ) -> None:
        """Keep the webhook's reading of a stored update for its run (reading one again from
        the stored JSON was 4% of a worker's CPU), when the door stored it as it came; a few
        at most, since another worker may be the one that runs it."""
        if parsed is None or raw is None or safe != raw:
            return
        self._parsed[parsed.update_id] = parsed
        if len(self._parsed) > PARSED_KEPT:
            del self._parsed[next(iter(self._parsed))]

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
        if not self.db.is_sqlite:  # one statement on its own: no BEGIN and COMMIT round trips
            with self.db.autocommit.connect() as connection:
                return connection.scalar(CLAIM, inbox_row(data)) is not None
        try:
            with self.db.engine.begin() as connection:
                connection.execute(insert(InboxUpdate).values(**inbox_row(data)))
        except IntegrityError:
            return False
        return True

    def _floor_of(self, connection: Connection) -> int:
        if self._first_id is None:
            self._first_id = connection.scalar(select(func.min(InboxUpdate.update_id)))
        return max(self._first_id or 0, self._floor)

    def _head(
        self, connection: Connection, chat_id: int, done: int | None = None
    ) -> Pending | None:
        """The chat's oldest pending update, with whether every update before it (within the
        window) has arrived: one statement, so the head and the count see the same rows.
        `done` (PostgreSQL): marked done by the same statement."""
        floor = self._floor_of(connection)
        if done is None:
            row = connection.execute(NEXT_PENDING, {"head_chat": chat_id, "floor": floor}).first()
        else:
            row = connection.execute(
                NEXT_AFTER,
                {"head_chat": chat_id, "floor": floor, "done_id": done, "now": utcnow()},
            ).first()
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
                mark_done(connection, done)
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
        safe = None
        try:
            if data is not None:
                safe = redact_update(data, self.db)  # nothing raw is ever stored
                stored = connection.scalar(CLAIM, inbox_row(safe)) is not None
                if not stored and is_done(connection, int(data["update_id"])):
                    connection.close()
                    return Entered(None)
            if not connection.scalar(LOCK, {"chat_id": chat_id}):
                connection.close()  # the holder drains ours, and looks again after letting go
                return Entered(stored, safe)
            held = Held(connection, chat_id)
            head = self._head(connection, chat_id)
        except BaseException:  # closing the session lets go of the lock too
            connection.invalidate()
            connection.close()
            raise
        if head is not None:
            return Entered(stored, safe, held, head)
        held.release()  # another holder ran ours before we took the chat; one may have come since
        return Entered(stored, safe, more=self._pending(chat_id))

    def _next(self, held: Held, done: int | None) -> tuple[Pending | None, bool]:
        """After running `done`: mark it, read the chat's next pending update, and when there
        is none, let go of the chat and look whether one came meanwhile (another worker left it
        to us), all in one worker-thread call on the lock's connection. (head, more)."""
        try:
            with watched(held.connection):
                head = self._head(held.connection, held.chat_id, done)
        except BaseException:
            held.broken()
            raise
        if head is not None:
            return head, False
        held.release()
        return None, self._pending(held.chat_id)

    def _mark(self, update_id: int) -> None:
        with self.db.engine.begin() as connection:
            mark_done(connection, update_id)

    def _done(self, update_id: int) -> bool:
        with self.db.autocommit.connect() as connection:
            return is_done(connection, update_id)

    def _pending(self, chat_id: int) -> bool:
        with self.db.autocommit.connect() as connection:
            return connection.scalar(ANY_PENDING, {"chat_id": chat_id}) is not None

    async def deliver(self, data: dict[str, Any], parsed: Update | None = None) -> bool:
        """Store, then drain the chat's pending updates unless another task is draining it.
        False for a redelivery of an update already processed; a redelivery of one stored but
        never processed (its first delivery failed) runs it. `parsed`: `data` as the Update the
        webhook already read it as, run as it is when the door changed nothing in it."""
        UPDATES.labels(update_type(data)).inc()
        update_id, chat_id = int(data["update_id"]), chat_of(data)
        if chat_id is not None and not self.db.is_sqlite and not self.locks.local(chat_id).locked():
            # The usual case: store, lock and look in one hand-off (see `_enter`).
            if not await self._drain(chat_id, data, parsed):
                DUPLICATES.inc()
                return False
            return True
        raw = data
        stored, data = await self.db.offload(self._store, data)
        if stored:
            self._keep(raw, data, parsed)
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

    async def _drain(
        self,
        chat_id: int,
        arriving: dict[str, Any] | None = None,
        parsed: Update | None = None,
    ) -> bool:
        """Run the chat's pending updates in order, unless another task is already doing so
        (it then runs ours too: it looks again before letting go). `arriving` (PostgreSQL, the
        chat not held here): an update to store first, in the same hand-off as taking the
        chat (`parsed`: as `deliver`). False when it was a redelivery of an update already
        done."""
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
                    if entered.stored:
                        self._keep(arriving, entered.safe, parsed)
                        self._arrived()
                    arriving = None
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
        update = self._parsed.pop(update_id, None)
        if update is None:
            update = Update.de_json(data, self.application.bot)
        try:
            await self.application.process_update(update)
        except Exception:  # logged by PTB's error handler; the update still counts as done
            log.exception("update failed update_id=%s", update_id)
        finally:
            REDELIVERED.reset(token)
            HANDLER_SECONDS.observe(time.perf_counter() - started)
        if outage:
            raise outage[0]
