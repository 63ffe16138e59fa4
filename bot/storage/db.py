"""Engine and session setup: SQLAlchemy 2 on SQLite by default, PostgreSQL by URL.

The bot is one asyncio event loop serving every chat, while SQLAlchemy's ORM is synchronous.
Every transaction the async code runs therefore goes to a small pool of worker threads
(`Database.offload`, `Database.run_async`), sized with the connection pool, so a slow or frozen
database holds up only the chats waiting on it, never the loop. Threads rather than SQLAlchemy's
asyncio extension: the domain code (case operations, repositories, lazy attributes) stays one
synchronous code path shared with the command line and the terminal chat.

Nothing waits forever: PostgreSQL gets `statement_timeout` and `lock_timeout` on every
connection, SQLite a busy timeout, the pool a checkout timeout and connecting a timeout; and a
caller on the loop gives up on a transaction after CALL_TIMEOUT. A transaction given up on never
commits afterwards (its commit is refused) and its connection is shut, so the thread comes back
and the server rolls the work back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Waits between attempts when the database is unreachable (a restart, a failover): bounded,
#: so a merchant gets an answer ("try again shortly") within about two seconds, never a hang.
RETRY_DELAYS = (0.2, 0.5, 1.0)
#: Longest a coroutine waits for one piece of database work before giving up on it: under the
#: six seconds in which a merchant must be answered or told to try again.
CALL_TIMEOUT = 4.0
#: Server-side limits on every PostgreSQL connection (milliseconds): a runaway statement and a
#: wait for a row another transaction holds both end in an error instead of a hang.
STATEMENT_TIMEOUT_MS = 5_000
LOCK_TIMEOUT_MS = 3_000
#: Seconds to connect, to wait for a pooled connection, and (SQLite) for the write lock.
CONNECT_TIMEOUT = 3
POOL_TIMEOUT = 3.0
SQLITE_BUSY_TIMEOUT = 3.0
#: PostgreSQL pool: connections kept and extra ones under load. Most are kept: an extra one is
#: opened and closed again for each use, a new server process each time (with five kept, a busy
#: worker spent 2-3% of its CPU connecting). More are kept than there are worker threads, so
#: the threads never open extra ones; the rest serve the health probe and the command line.
POOL_SIZE = 8
MAX_OVERFLOW = 2
#: Worker threads running transactions (PostgreSQL). A thread mostly waits on the server, but
#: each one that wakes must take Python's interpreter lock back from the others: with ten, a
#: six-statement transaction cost 1.5 ms of CPU against 1.05 ms with two to four
#: (benchmarks/db_threads.py). Four keep a stuck transaction from holding up the rest.
DB_THREADS = 4


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached after the bounded retries, or did not answer in time."""


def is_disconnect(error: BaseException) -> bool:
    """A lost or refused connection, or a server-side timeout (worth retrying), as opposed to a
    bug or a constraint."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError)


class _Call:
    """One piece of work handed to a worker thread; the loop may give up on it."""

    def __init__(self) -> None:
        self.abandoned = False
        self.connections: list[Any] = []  # DBAPI connections the thread holds right now
        self._guard = threading.Lock()

    def abandon(self) -> None:
        """No commit from now on, and the connections in use are shut, which wakes the thread
        from a read that would never return (a frozen server or network)."""
        with self._guard:
            self.abandoned = True
            held = list(self.connections)
        for connection in held:
            _shut(connection)


_current = threading.local()


def _shut(dbapi_connection: Any) -> None:
    pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg; SQLite has no socket
    if pgconn is None:
        return
    try:
        duplicate = socket.socket(fileno=os.dup(pgconn.socket))
    except Exception:  # already closed: nothing to wake
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


def _on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    call: _Call | None = getattr(_current, "call", None)
    if call is not None:
        with call._guard:
            call.connections.append(dbapi_connection)
        if call.abandoned:
            _shut(dbapi_connection)


def _on_checkin(dbapi_connection: Any, record: Any) -> None:
    call: _Call | None = getattr(_current, "call", None)
    if call is not None:
        with call._guard:
            if dbapi_connection in call.connections:
                call.connections.remove(dbapi_connection)


@contextmanager
def watched(connection: Connection) -> Iterator[None]:
    """Use in this worker-thread call a connection an earlier call checked out (a chat lock's,
    held across calls): if the loop gives this call up, the connection is shut like the ones
    checked out in it, so a frozen server cannot keep the thread forever."""
    call: _Call | None = getattr(_current, "call", None)
    dbapi_connection = connection.connection.dbapi_connection
    if call is None or dbapi_connection is None:
        yield
        return
    with call._guard:
        call.connections.append(dbapi_connection)
    if call.abandoned:
        _shut(dbapi_connection)
    try:
        yield
    finally:
        with call._guard:
            if dbapi_connection in call.connections:
                call.connections.remove(dbapi_connection)


def _refuse_abandoned_commit(connection: Any) -> None:
    call: _Call | None = getattr(_current, "call", None)
    if call is not None and call.abandoned:
        raise DatabaseUnavailable("given up waiting: not committed")


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **options: Any) -> Engine:
    """An engine whose every wait is bounded; `options` go to create_engine (PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
        )
        if parsed.database not in (None, "", ":memory:"):
            event.listen(engine, "connect", _sqlite_pragmas)
    else:
        limits = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
        engine = create_engine(
            url,
            **{
                "pool_size": POOL_SIZE,
                "max_overflow": MAX_OVERFLOW,
                "pool_timeout": POOL_TIMEOUT,
                # A connection the server dropped (a restart) fails its first statement, and
                # the transaction is run again on a fresh one (`Database.run`): no ping per use.
                "pool_pre_ping": False,
                "connect_args": {"connect_timeout": CONNECT_TIMEOUT, "options": limits},
                **options,
            },
        )
    event.listen(engine, "checkout", _on_checkout)
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "commit", _refuse_abandoned_commit)
    return engine


def capacity(engine: Engine) -> int:
    """How many transactions run at once: DB_THREADS (SQLite: its one writer)."""
    if engine.dialect.name == "sqlite":
        return 1
    return DB_THREADS


class Database:
    """Owns the engine and the worker threads; hands out sessions. One per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._executor: ThreadPoolExecutor | None = None
        self._autocommit: Engine | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def autocommit(self) -> Engine:
        """An engine whose statements each commit on their own: one round trip where a
        transaction of one statement would take three (BEGIN, the statement, COMMIT). Its pool
        also holds the webhook's chat locks (session-level, so on connections of their own)."""
        if self._autocommit is None:
            if self.is_sqlite:  # the same pool (an in-memory database is one connection's)
                self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            else:
                self._autocommit = make_engine(
                    self.url,
                    # One per chat in flight (Telegram caps those: max_connections, 40 by
                    # default); kept rather than opened per update (opening one cost 1.5%).
                    pool_size=16,
                    max_overflow=-1,
                    isolation_level="AUTOCOMMIT",
                )
        return self._autocommit

    def ensure_schema(self, auto_upgrade: bool | None = None) -> None:
        """Bring or check the schema (Alembic); SQLite upgrades itself unless told otherwise."""
        from bot.storage.migrate import ensure_schema

        ensure_schema(
            self.engine, self.url, self.is_sqlite if auto_upgrade is None else auto_upgrade
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def _attempt(self, work: Callable[[Session], T]) -> T:
        with self.transaction() as session:
            return work(session)

    def run(self, work: Callable[[Session], T]) -> T:
        """`work` in one transaction, run again (a bounded number of times) when the connection
        was lost or refused; then DatabaseUnavailable. `work` must only touch the session.
        Blocking: for the command line and the terminal; coroutines use `run_async`."""
        for delay in (*RETRY_DELAYS, None):
            try:
                return self._attempt(work)
            except (DBAPIError, OperationalError) as error:
                _give_up_unless_retryable(error, delay)
                assert delay is not None
                time.sleep(delay)
        raise AssertionError("unreachable")

    async def run_async(self, work: Callable[[Session], T], within: float = CALL_TIMEOUT) -> T:
        """`run` for coroutines: each attempt in a worker thread, the waits between attempts on
        the loop. An attempt that takes longer than `within` seconds is given up (not retried: the
        database is not answering) and never commits."""
        return await self._retrying(self._attempt, work, within)

    async def execute_async(
        self, statement: Executable, parameters: dict[str, Any], within: float = CALL_TIMEOUT
    ) -> None:
        """One statement that commits on its own (`autocommit`), retried as `run_async` retries
        a transaction: for work that needs no transaction around it and runs for every update.
        The statement must be safe to apply twice (a retry after an unclear commit)."""
        await self._retrying(self._execute_alone, (statement, parameters), within)

    def _execute_alone(self, work: tuple[Executable, dict[str, Any]]) -> None:
        # SQLite: a transaction costs no round trip, and its own connection keeps its settings.
        with (self.engine if self.is_sqlite else self.autocommit).begin() as connection:
            connection.execute(*work)

    async def _retrying(self, attempt: Callable[[Any], T], work: Any, within: float) -> T:
        for delay in (*RETRY_DELAYS, None):
            try:
                return await self.offload(attempt, work, within=within)
            except (DBAPIError, OperationalError) as error:
                _give_up_unless_retryable(error, delay)
                assert delay is not None
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def offload(
        self, function: Callable[..., T], *args: Any, within: float = CALL_TIMEOUT
    ) -> T:
        """Run blocking database code in a worker thread; DatabaseUnavailable after `within`
        seconds (or on cancellation), when the work is given up on: it cannot commit any more
        and its connections are shut."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=capacity(self.engine), thread_name_prefix="posbot-db"
            )
        call = _Call()
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, _within, call, function, args
        )
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError:
            call.abandon()
            log.warning("database work given up after %.1fs", within)
            raise DatabaseUnavailable(f"no answer within {within:.1f}s") from None
        except asyncio.CancelledError:
            call.abandon()
            raise

    def dispose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        if self._autocommit is not None and not self.is_sqlite:
            self._autocommit.dispose()
        self.engine.dispose()


def _within(call: _Call, function: Callable[..., T], args: tuple[Any, ...]) -> T:
    """In a worker thread: run `function` as `call`, which the loop may abandon."""
    _current.call = call
    try:
        if call.abandoned:  # given up while queued for a thread
            raise DatabaseUnavailable("given up waiting: not started")
        return function(*args)
    finally:
        _current.call = None


def _give_up_unless_retryable(error: DBAPIError | OperationalError, delay: float | None) -> None:
    if not is_disconnect(error):
        raise error
    if delay is None:
        raise DatabaseUnavailable(str(error.orig or error)[:200]) from error
    log.warning("database unreachable, retrying in %.1fs", delay)
