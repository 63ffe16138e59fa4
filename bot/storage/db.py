"""Engine and session setup: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Waits between attempts when the database is unreachable (a restart, a failover): bounded,
#: so a merchant gets an answer ("try again shortly") within about two seconds, never a hang.
RETRY_DELAYS = (0.2, 0.5, 1.0)


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached after the bounded retries."""


def is_disconnect(error: BaseException) -> bool:
    """A lost or refused connection (worth retrying), as opposed to a bug or a constraint."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError)


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine that checks connections before use, so a restarted server is reconnected."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})
        if parsed.database not in (None, "", ":memory:"):
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,  # a connection the server dropped (restart) is replaced, not used
        pool_size=5,
        max_overflow=5,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},  # an unreachable server fails fast, never hangs
    )


class Database:
    """Owns the engine; hands out sessions. One per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

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

    def run(self, work: Callable[[Session], T]) -> T:
        """`work` in one transaction, run again (a bounded number of times) when the connection
        was lost or refused; then DatabaseUnavailable. `work` must only touch the session."""
        for delay in (*RETRY_DELAYS, None):
            try:
                with self.transaction() as session:
                    return work(session)
            except (DBAPIError, OperationalError) as error:
                if not is_disconnect(error):
                    raise
                if delay is None:
                    raise DatabaseUnavailable(str(error.orig or error)[:200]) from error
                log.warning("database unreachable, retrying in %.1fs", delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
