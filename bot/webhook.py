"""Webhook mode: an ASGI app (Starlette, served by uvicorn) for one or several workers.

Each update is claimed once in the `inbox` table (its update_id is the primary key, so a
redelivery is a no-op), then processed under a per-chat lock (a PostgreSQL advisory lock, or an
asyncio lock on SQLite's single process) by whichever worker holds it, oldest update first. No
state lives only in a worker: conversations, timers and the outbox are all in the database.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest

from bot.config import Settings
from bot.metrics import (
    DUPLICATES,
    HANDLER_SECONDS,
    REGISTRY,
    UPDATES,
    update_type,
    watch_database,
)
from bot.storage.db import Database
from bot.storage.models import InboxUpdate, utcnow
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.wiring import Components, build

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


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


class ChatLocks:
    """Mutual exclusion per chat: an asyncio lock within the process, and on PostgreSQL an
    advisory lock across workers, taken on a connection of its own (not from the pool the
    handlers use, so waiting for a lock can never starve them of connections)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local: dict[int, asyncio.Lock] = {}
        self._lock_engine: Engine | None = None

    def _engine(self) -> Engine:
        if self._lock_engine is None:
            self._lock_engine = create_engine(self.db.url, poolclass=NullPool)
        return self._lock_engine

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        if len(self._local) > 10_000:
            self._local = {key: lock for key, lock in self._local.items() if lock.locked()}
        lock = self._local.setdefault(chat_id, asyncio.Lock())
        async with lock:
            if self.db.is_sqlite:  # one process: the local lock is the whole story
                yield
                return
            connection = await asyncio.to_thread(self._engine().connect)
            try:
                await asyncio.to_thread(connection.execute, select(func.pg_advisory_lock(chat_id)))
                try:
                    yield
                finally:
                    await asyncio.to_thread(
                        connection.execute, select(func.pg_advisory_unlock(chat_id))
                    )
            finally:
                await asyncio.to_thread(connection.close)

    def dispose(self) -> None:
        if self._lock_engine is not None:
            self._lock_engine.dispose()


class UpdateInbox:
    """Claims updates once and runs each chat's updates in update-id order."""

    def __init__(self, db: Database, application: Application, settle: float = 0.02) -> None:
        self.db = db
        self.application = application
        self.locks = ChatLocks(db)
        self.settle = settle

    def claim(self, data: dict[str, Any]) -> bool:
        """Record the update; False when it was seen before (Telegram redelivered it)."""
        try:
            with self.db.transaction() as session:
                session.add(
                    InboxUpdate(
                        update_id=int(data["update_id"]),
                        chat_id=chat_of(data),
                        payload=data,
                        status="pending",
                    )
                )
        except IntegrityError:
            return False
        return True

    def _next(self, chat_id: int | None, update_id: int) -> tuple[int, dict[str, Any]] | None:
        with self.db.transaction() as session:
            query = select(InboxUpdate).where(InboxUpdate.status == "pending")
            if chat_id is None:
                query = query.where(InboxUpdate.update_id == update_id)
            else:
                query = query.where(InboxUpdate.chat_id == chat_id)
            row = session.scalars(query.order_by(InboxUpdate.update_id).limit(1)).first()
            return (row.update_id, dict(row.payload)) if row else None

    def _done(self, update_id: int) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id == update_id)
                .values(status="done", processed_at=utcnow(), payload={})
            )

    async def deliver(self, data: dict[str, Any]) -> bool:
        """Claim and process (with any earlier pending updates of the same chat)."""
        UPDATES.labels(update_type(data)).inc()
        if not self.claim(data):
            DUPLICATES.inc()
            return False
        chat_id = chat_of(data)
        if chat_id is None:
            await self._run(int(data["update_id"]), data)
            return True
        await asyncio.sleep(self.settle)  # let a sibling delivered at the same moment land
        async with self.locks.hold(chat_id):
            while (item := self._next(chat_id, int(data["update_id"]))) is not None:
                await self._run(*item)
        return True

    async def _run(self, update_id: int, data: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            await self.application.process_update(Update.de_json(data, self.application.bot))
        finally:
            self._done(update_id)
            HANDLER_SECONDS.observe(time.perf_counter() - started)


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
        watch_database(parts.db)
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
        state.update(parts=parts, inbox=UpdateInbox(parts.db, application))
        app.state.parts = parts
        try:
            yield
        finally:
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
            data = await request.json()
            int(data["update_id"])
        except (ValueError, KeyError, TypeError):
            return PlainTextResponse("bad update", status_code=400)
        await state["inbox"].deliver(data)
        return PlainTextResponse("ok")

    async def healthz(request: Request) -> Response:
        try:
            with state["parts"].db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # any database failure means "not healthy"
            return JSONResponse({"ok": False, "database": type(error).__name__}, status_code=503)
        return JSONResponse({"ok": True})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route(settings.webhook_path, receive, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
