"""A TCP proxy between the bot and PostgreSQL that refuses, drops or freezes connections.

It runs on a thread and event loop of its own, so whatever the bot does to its own loop, the
proxy keeps its word. Faults are switched on and off from the test (thread-safe), or armed to
strike when a client sends a given piece of SQL, which puts a fault at an exact point of a
transaction (before its commit, or after the reply was sent)::

    with DbProxy.to(postgres_url) as proxy:
        proxy.url          # the same database, through the proxy
        proxy.freeze()     # connections stay open, no byte goes through
        proxy.thaw()
        proxy.drop_when(b"UPDATE outbox", refuse_for=3.0)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    frozen: bool = False
    thawed: asyncio.Event = field(default_factory=asyncio.Event)

    def abort(self) -> None:
        self.client.transport.abort()
        if self.server is not None:
            self.server.transport.abort()


@dataclass
class _Trigger:
    pattern: bytes
    action: str  # "drop" (all connections, then refuse for a while) or "freeze" (that one)
    refuse_for: float = 0.0


class DbProxy:
    """Forwards 127.0.0.1:<port> to the database server; see the module docstring."""

    def __init__(self, database_url: str) -> None:
        parsed = make_url(database_url)
        self._target = (parsed.host or "127.0.0.1", parsed.port or 5432)
        self._database_url = parsed
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._links: set[_Link] = set()
        self._refusing_until = 0.0
        self._frozen = False
        self._triggers: list[_Trigger] = []
        self._server: asyncio.Server | None = None
        #: (what, time.time()) for every connection accepted, refused, dropped or frozen (the
        #: clock of log records, so the two can be put in order).
        self.events: list[tuple[str, float]] = []

    @classmethod
    def to(cls, database_url: str) -> DbProxy:
        return cls(database_url)

    @property
    def url(self) -> str:
        return self._database_url.set(host="127.0.0.1", port=self.port).render_as_string(
            hide_password=False
        )

    def __enter__(self) -> DbProxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for link in list(self._links):
                link.abort()

        self._call(close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    # -- faults, from the test's thread ----------------------------------------------------

    def refuse(self, seconds: float = 3600.0) -> None:
        """New connections are closed at once, for `seconds` (until `accept`)."""
        self._refusing_until = time.monotonic() + seconds

    def accept(self) -> None:
        self._refusing_until = 0.0

    def drop(self) -> None:
        """Every open connection is cut."""

        async def cut() -> None:
            self._drop_all()

        self._call(cut())

    def freeze(self) -> None:
        """No byte goes through, either way, on open or new connections, until `thaw`."""

        async def freeze() -> None:
            self._frozen = True
            for link in self._links:
                self._freeze(link)

        self._call(freeze())

    def thaw(self) -> None:
        async def thaw() -> None:
            self._frozen = False
            self._triggers.clear()
            for link in self._links:
                link.frozen = False
                link.thawed.set()

        self._call(thaw())

    def drop_when(self, pattern: bytes, refuse_for: float) -> None:
        """When a client next sends `pattern`: that message is not passed on, every connection
        is cut and new ones are refused for `refuse_for` seconds."""
        self._triggers.append(_Trigger(pattern, "drop", refuse_for))

    def freeze_when(self, pattern: bytes) -> None:
        """When a client next sends `pattern`: that one connection freezes (until `thaw`),
        the others go on."""
        self._triggers.append(_Trigger(pattern, "freeze"))

    def count(self, what: str, before: float | None = None) -> int:
        return sum(
            1 for kind, at in list(self.events) if kind == what and (before is None or at < before)
        )

    # -- the proxy, on its own loop ----------------------------------------------------------

    def _drop_all(self) -> None:
        self.events.append(("dropped", time.time()))
        for link in list(self._links):
            link.abort()
        self._links.clear()

    def _freeze(self, link: _Link) -> None:
        link.frozen = True
        link.thawed.clear()
        self.events.append(("frozen", time.time()))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._refusing_until:
            self.events.append(("refused", time.time()))
            writer.transport.abort()
            return
        self.events.append(("accepted", time.time()))
        link = _Link(writer)
        if self._frozen:
            self._freeze(link)
        else:
            link.thawed.set()
        self._links.add(link)
        try:
            server_reader, link.server = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            self._links.discard(link)
            return
        await asyncio.gather(
            self._pipe(reader, link.server, link, upstream=True),
            self._pipe(server_reader, writer, link, upstream=False),
            return_exceptions=True,
        )
        link.abort()
        self._links.discard(link)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: _Link,
        upstream: bool,
    ) -> None:
        while data := await reader.read(65536):
            if upstream and self._strike(data, link):
                return
            await link.thawed.wait()
            writer.write(data)
            await writer.drain()
        link.abort()

    def _strike(self, data: bytes, link: _Link) -> bool:
        """Fire the first armed trigger `data` matches; True when the data must not go on."""
        for trigger in self._triggers:
            if trigger.pattern in data:
                self._triggers.remove(trigger)
                if trigger.action == "drop":
                    self._refusing_until = time.monotonic() + trigger.refuse_for
                    self._drop_all()
                    return True
                self._freeze(link)
                return False
        return False
