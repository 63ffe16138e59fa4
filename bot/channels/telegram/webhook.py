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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import (
    text,
)
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram.request import BaseRequest

from bot.channels.telegram.app import ALLOWED_UPDATES, build_application
from bot.channels.telegram.update_inbox import SWEEP_SECONDS, UpdateInbox
from bot.channels.telegram.webhook_body import (
    MAX_BODY_BYTES,
    BadUpdate,
    BodyTooLarge,
    read_body,
    read_update,
)
from bot.config import Settings
from bot.monitoring.metrics import (
    DATABASE_GAUGES,
    REGISTRY,
    read_database_numbers,
)
from bot.monitoring.probe import Probe
from bot.storage.db import Database, DatabaseUnavailable
from bot.wiring import Components, build

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: /healthz and /metrics answer within this, whatever the database does.
PROBE_SECONDS = 1.5


def _ping(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


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
            parts.db.dispose()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), settings.webhook_secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            data, parsed = read_update(await read_body(request), state["inbox"].application.bot)
        except BodyTooLarge:
            log.warning("update refused: body over %d bytes", MAX_BODY_BYTES)
            return PlainTextResponse("too large", status_code=413)
        except BadUpdate as error:  # Telegram would send it again forever: refuse it for good
            log.warning("update refused: %s", error)
            return PlainTextResponse("bad update", status_code=400)
        try:
            await state["inbox"].deliver(data, parsed)
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
