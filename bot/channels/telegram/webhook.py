"""Webhook mode: an ASGI app (Starlette, served by uvicorn) for one or several workers.

Each update is stored once in the `inbox` table (its update_id is the primary key), then
processed under a per-chat lock (a PostgreSQL advisory lock, or an asyncio lock on SQLite's single
process) by whichever worker holds it, oldest update first. The transaction that processes an
update also marks its row done, so an update takes effect once or not at all: a redelivery of a
done update is a no-op, and a redelivery of one that never committed runs it. No state lives
only in a worker: conversations, timers and the outbox are all in the database. Every database
call runs in a worker thread (`Database.offload`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
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
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest

from bot.channels.telegram.app import ALLOWED_UPDATES, build_application
from bot.channels.telegram.door import redact_update
from bot.channels.telegram.handlers import REDELIVERED
from bot.channels.telegram.webhook_body import (
    MAX_BODY_BYTES,
    BadUpdate,
    BodyTooLarge,
    parse_update,
    read_body,
)
from bot.config import Settings
from bot.monitoring.metrics import (
    DATABASE_GAUGES,
    DUPLICATES,
    HANDLER_SECONDS,
    OUT_OF_SEQUENCE,
    REGISTRY,
    UPDATES,
    read_database_numbers,
    update_type,
)
from bot.monitoring.probe import Probe
from bot.storage.db import Database, DatabaseUnavailable, make_engine
from bot.storage.models import InboxUpdate, utcnow
from bot.wiring import Components, build

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: /healthz and /metrics answer within this, whatever the database does.
PROBE_SECONDS = 1.5

T = TypeVar("T")


def chat_of(data: dict[str, Any]) -> int | None:
    """The chat an update belongs to (the unit of ordering), from the raw JSON."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if isinstance(data.get(key), dict):
            return data[key].get("chat", {}).get("id")
    query = data.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message") or {}
        return message.get("chat", {}).get("id") or query.get("from", {}).get("id")
    return None


def _ping(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


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
_LOCK = select(func.pg_try_advisory_lock(bindparam("chat_id", type_=BigInteger)))
_UNLOCK = select(func.pg_advisory_unlock(bindparam("chat_id", type_=BigInteger)))


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


@dataclass
class Hold(Generic[T]):
    """A try at holding a chat: whether it is held, what `first` found, and (once let go)
    whether updates are pending again."""

    held: bool
    first: T | None = None
    more: bool = False


class ChatLocks:
    """Who drains a chat's inbox: an asyncio lock within the process, and on PostgreSQL a
    session-level advisory lock across workers, taken on pooled connections of their own (not
    the handlers' pool, so lock traffic never starves handlers of connections).

    Locks are only ever *tried*: a worker that finds the chat taken leaves its (already stored)
    update to the holder, which drains every pending update of the chat and looks once more
    after letting go. Nobody waits on a lock, so a burst on one chat ties up no connections.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local: dict[int, asyncio.Lock] = {}
        self._lock_engine: Engine | None = None

    def _engine(self) -> Engine:
        if self._lock_engine is None:
            self._lock_engine = make_engine(
                self.db.url,
                pool_size=4,
                max_overflow=-1,  # one per chat in flight; Telegram caps those (max_connections)
                isolation_level="AUTOCOMMIT",
            )
        return self._lock_engine

    def _take(self, chat_id: int, first: Callable[[], T]) -> tuple[Connection, bool, T | None]:
        connection = self._engine().connect()
        try:
            taken = bool(connection.scalar(_LOCK, {"chat_id": chat_id}))
            return connection, taken, first() if taken else None
        except BaseException:  # closing the session lets go of the lock too
            connection.invalidate()
            connection.close()
            raise

    @staticmethod
    def _release(
        connection: Connection, chat_id: int, taken: bool, after: Callable[[], bool]
    ) -> bool:
        try:
            if taken:
                connection.scalar(_UNLOCK, {"chat_id": chat_id})
        except BaseException:  # the session ends with the connection, and the lock with it
            connection.invalidate()
            raise
        finally:
            connection.close()
        return taken and after()

    @asynccontextmanager
    async def try_hold(
        self, chat_id: int, first: Callable[[], T], after: Callable[[], bool]
    ) -> AsyncIterator[Hold[T]]:
        """Holds the chat for this task if nobody else does (`held`). `first` runs as soon as
        the chat is held, `after` once it is let go (`more`), each in the same worker-thread
        call as taking or releasing the lock: one hop off the loop instead of two."""
        if len(self._local) > 1_000:
            self._local = {key: lock for key, lock in self._local.items() if lock.locked()}
        lock = self._local.setdefault(chat_id, asyncio.Lock())
        if lock.locked():
            yield Hold(False)
            return
        async with lock:
            if self.db.is_sqlite:  # one process: the local lock is the whole story
                hold = Hold(True, await self.db.offload(first))
                try:
                    yield hold
                finally:
                    hold.more = await self.db.offload(after)
                return
            connection, taken, head = await self.db.offload(self._take, chat_id, first)
            hold = Hold(taken, head)
            try:
                yield hold
            finally:
                try:  # given up on, its connection is shut: the server lets go of the lock
                    hold.more = await self.db.offload(
                        self._release, connection, chat_id, taken, after, within=1.0
                    )
                except Exception as error:
                    log.warning("chat lock released by closing: %s", type(error).__name__)

    def dispose(self) -> None:
        if self._lock_engine is not None:
            self._lock_engine.dispose()


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
                connection.execute(
                    insert(InboxUpdate).values(
                        update_id=int(data["update_id"]),
                        chat_id=chat_of(data),
                        payload=data,
                        status="pending",
                        received_at=utcnow(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def _advance(self, chat_id: int, done: int | None) -> Pending | None:
        """Mark `done` processed and fetch the chat's oldest pending update, in one transaction,
        with whether every update before it (within the window) has arrived."""
        with self.db.engine.begin() as connection:
            if done is not None:
                _mark_done(connection, done)
            if self._first_id is None:
                self._first_id = connection.scalar(select(func.min(InboxUpdate.update_id)))
            floor = max(self._first_id or 0, self._floor)
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

    def _store(self, data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Redact, then claim (in a worker thread: the redaction may read the conversation)."""
        safe = redact_update(
            data, self.db
        )  # nothing raw is ever stored (bot.channels.telegram.door)
        return self.claim(safe), safe

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

    async def _drain(self, chat_id: int) -> None:
        """Run the chat's pending updates in order, unless another task is already doing so."""
        while True:
            async with self.locks.try_hold(
                chat_id, lambda: self._advance(chat_id, None), lambda: self._pending(chat_id)
            ) as hold:
                if not hold.held:  # the holder drains ours too, and looks again after letting go
                    return
                item = hold.first
                while item is not None:
                    if not item.in_sequence:
                        if item.waited() < GAP_WAIT:
                            await self._next_arrival()  # an earlier update is on its way
                            item = await self.db.offload(self._advance, chat_id, None)
                            continue
                        # Ids can skip; what has not come by now is not expected any more.
                        self._floor = max(self._floor, item.update_id)
                        OUT_OF_SEQUENCE.inc()
                        log.warning("update_id=%s run before earlier ids arrived", item.update_id)
                    await self._run(item.update_id, item.payload)
                    item = await self.db.offload(self._advance, chat_id, item.update_id)
            if not hold.more:  # none came while letting go
                return

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


def create_app(
    settings: Settings | None = None,
    request: BaseRequest | None = None,
    clock: Callable[[], Any] | None = None,
) -> Starlette:
    """The ASGI app; `posbot run --webhook` serves it with uvicorn (as a factory per worker)."""
    settings = settings or Settings()
    if not settings.webhook_secret:
        raise ValueError("POSBOT_WEBHOOK_SECRET is required in webhook mode")
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        parts: Components = build(settings, clock=clock)
        application = build_application(
            parts.settings, parts.service, parts.renderer, request=request, polling=False
        )
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        if settings.webhook_url:
            await application.bot.set_webhook(
                f"{settings.webhook_url.rstrip('/')}{settings.webhook_path}",
                secret_token=settings.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        inbox = UpdateInbox(parts.db, application)
        state.update(
            parts=parts,
            inbox=inbox,
            health=Probe(lambda: _ping(parts.db), PROBE_SECONDS, "posbot-healthz"),
            numbers=Probe(lambda: read_database_numbers(parts.db), PROBE_SECONDS, "posbot-metrics"),
        )
        app.state.parts, app.state.inbox = parts, inbox

        async def sweeping() -> None:
            while True:
                await asyncio.sleep(SWEEP_SECONDS)
                try:
                    await inbox.sweep()
                except Exception:  # the database may be down: the next round tries again
                    log.exception("inbox sweep failed")

        sweeper = asyncio.create_task(sweeping())
        try:
            yield
        finally:
            sweeper.cancel()
            await application.stop()
            if application.post_shutdown:
                await application.post_shutdown(application)
            await application.shutdown()
            state["inbox"].locks.dispose()
            parts.db.dispose()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), settings.webhook_secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            data = parse_update(await read_body(request), state["inbox"].application.bot)
        except BodyTooLarge:
            log.warning("update refused: body over %d bytes", MAX_BODY_BYTES)
            return PlainTextResponse("too large", status_code=413)
        except BadUpdate as error:  # Telegram would send it again forever: refuse it for good
            log.warning("update refused: %s", error)
            return PlainTextResponse("bad update", status_code=400)
        try:
            await state["inbox"].deliver(data)
        except (DBAPIError, DatabaseUnavailable) as error:
            # Not stored (or not finished): Telegram delivers it again later, and a stored but
            # unfinished update is taken up by the chat's next update or the periodic sweep.
            log.error("update not taken: database unavailable (%s)", type(error).__name__)
            return PlainTextResponse("database unavailable", status_code=503)
        return PlainTextResponse("ok")

    async def healthz(request: Request) -> Response:
        try:
            await state["health"]()
        except TimeoutError:
            return JSONResponse({"ok": False, "database": "timeout"}, status_code=503)
        except Exception as error:  # any database failure means "not healthy"
            return JSONResponse({"ok": False, "database": type(error).__name__}, status_code=503)
        return JSONResponse({"ok": True})

    async def metrics(request: Request) -> Response:
        try:
            DATABASE_GAUGES.numbers = await state["numbers"]()
        except Exception:  # down or too slow: posbot_database_up 0, the counters still go out
            DATABASE_GAUGES.numbers = None
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route(settings.webhook_path, receive, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
