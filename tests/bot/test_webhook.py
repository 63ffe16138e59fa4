"""Webhook mode: secret checked, duplicates ignored, one chat in order across workers, health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.channels.telegram.webhook import SECRET_HEADER, create_app
from bot.config import Settings
from tests.bot.helpers import Clock
from tests.bot.telegram_harness import CHAT
from tests.fake_bot_api import FakeBotApi

SECRET = "s3cret-token"


def settings_for(api: FakeBotApi, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "telegram_bot_token": "123456:TEST",
        "telegram_api_url": api.root,
        "webhook_secret": SECRET,
        "auto_migrate": True,
        "flood_per_minute": 100_000,
        "webhook_url": "https://bot.example.invalid",
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """A worker: the ASGI app under uvicorn on a free loopback port, inside this event loop."""
    app = create_app(settings, clock=Clock())
    serving.last_app = app  # type: ignore[attr-defined]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        assert not task.done(), "the server failed to start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def post(
    client: httpx.AsyncClient, url: str, update: dict[str, Any], secret: str | None = SECRET
) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return await client.post(f"{url}/telegram", json=update, headers=headers)


async def test_secret_duplicates_health_and_metrics(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        httpx.AsyncClient() as client,
        serving(settings_for(api, f"sqlite:///{tmp_path}/w.sqlite3")) as url,
    ):
        registered = api.last_call("setWebhook").params
        assert registered["secret_token"] == SECRET
        assert registered["allowed_updates"] == ["message", "callback_query"]

        update = {**api.text_update(CHAT, "/start"), "update_id": 1001}
        assert (await post(client, url, update, secret=None)).status_code == 403
        assert (await post(client, url, update, secret="wrong")).status_code == 403
        assert api.sent_messages(CHAT) == []

        assert (await post(client, url, update)).status_code == 200
        assert (await post(client, url, update)).status_code == 200  # redelivered
        assert len(api.sent_messages(CHAT)) == 1

        assert (
            await client.post(f"{url}/telegram", content=b"{", headers={SECRET_HEADER: SECRET})
        ).status_code == 400

        health = await client.get(f"{url}/healthz")
        assert health.json() == {"ok": True}
        metrics = (await client.get(f"{url}/metrics")).text
        for name in (
            "posbot_updates_total",
            "posbot_duplicate_updates_total",
            "posbot_handler_seconds_bucket",
            "posbot_outbox_depth",
            'posbot_cases{state="escalated"}',
            "posbot_errors_total",
        ):
            assert name in metrics


async def test_health_reports_an_unreachable_database(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    async with (
        FakeBotApi() as api,
        httpx.AsyncClient() as client,
        serving(settings_for(api, f"sqlite:///{tmp_path}/h.sqlite3")) as url,
    ):
        parts = serving.last_app.state.parts  # type: ignore[attr-defined]
        healthy_engine = parts.db.engine
        parts.db.engine = create_engine(
            "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1}
        )
        try:
            response = await client.get(f"{url}/healthz")
        finally:
            parts.db.engine.dispose()
            parts.db.engine = healthy_engine
        assert response.status_code == 503
        assert response.json()["ok"] is False


@pytest.mark.usefixtures("postgres_url")
async def test_two_workers_keep_one_chat_in_order_and_process_each_update_once(
    postgres_url: str,
) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    async with FakeBotApi() as api, httpx.AsyncClient() as client:
        settings = settings_for(api, postgres_url)
        async with serving(settings) as first, serving(settings) as second:
            chats = [CHAT + n for n in range(6)]
            updates = []
            update_id = 5000
            for chat in chats:
                for text_value in ("/start", "/help", "/lang en"):
                    update_id += 1
                    updates.append(
                        (chat, {**api.text_update(chat, text_value), "update_id": update_id})
                    )
            # Every update is delivered to both workers at the same moment (a redelivery).
            sends = [post(client, url, update) for _, update in updates for url in (first, second)]
            responses = await asyncio.gather(*sends)
            assert all(response.status_code == 200 for response in responses)
            for chat in chats:
                texts = [m["text"] for m in api.sent_messages(chat)]
                assert len(texts) == 4, texts  # welcome; help + welcome; welcome in English
                assert "POS" in texts[0]
                assert "/back" in texts[1]
                assert "Hello" in texts[-1]


async def _early_bird(api: FakeBotApi, first: str, second: str) -> list[str]:
    """A chat's third update reaches `first` before its second reaches `second`."""
    async with httpx.AsyncClient() as client:
        updates = [
            {**api.text_update(CHAT, text_value), "update_id": 9001 + n}
            for n, text_value in enumerate(("/start", "/help", "/lang en"))
        ]
        assert (await post(client, first, updates[0])).status_code == 200
        late = asyncio.create_task(post(client, first, updates[2]))
        await asyncio.sleep(0.3)  # the worker holding update 9003 waits for 9002...
        assert (await post(client, second, updates[1])).status_code == 200
        assert (await late).status_code == 200
    return [message["text"] for message in api.sent_messages(CHAT)]


def _in_order(texts: list[str]) -> None:
    assert len(texts) == 4, texts  # welcome; help + welcome; welcome in English
    assert "/back" in texts[1]
    assert "POS" in texts[2]
    assert "Hello" in texts[-1]


async def test_a_later_update_that_arrives_first_waits_for_the_earlier_one(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        settings = settings_for(api, f"sqlite:///{tmp_path}/order.sqlite3")
        async with serving(settings) as worker:
            _in_order(await _early_bird(api, worker, worker))


@pytest.mark.usefixtures("postgres_url")
async def test_two_workers_put_a_chat_back_in_update_id_order(postgres_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    async with FakeBotApi() as api:
        settings = settings_for(api, postgres_url)
        async with serving(settings) as first, serving(settings) as second:
            _in_order(await _early_bird(api, first, second))


@pytest.mark.usefixtures("postgres_url")
async def test_an_update_stored_while_the_holder_takes_the_chat_is_run_at_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker takes a chat and finds nothing pending; just then another worker stores an
    update for it and, finding the chat taken, leaves it to the holder. The holder must run it
    when it lets go, not leave it for the periodic sweep half a minute later."""
    from sqlalchemy import create_engine, text

    from bot.channels.telegram.update_inbox import UpdateInbox

    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    async with FakeBotApi() as api:
        settings = settings_for(api, postgres_url)
        async with serving(settings):
            first: UpdateInbox = serving.last_app.state.inbox  # type: ignore[attr-defined]
            async with serving(settings):
                second: UpdateInbox = serving.last_app.state.inbox  # type: ignore[attr-defined]
                update = {**api.text_update(CHAT, "/start"), "update_id": 7001}
                real_head = UpdateInbox._head
                arrived: list[bool] = []

                def head_then_arrival(
                    self: UpdateInbox, connection: Any, chat_id: int, done: int | None = None
                ) -> Any:
                    found = real_head(self, connection, chat_id, done)
                    if self is second and not arrived:  # the holder has looked: now it comes
                        entered = first._enter(chat_id, update)
                        arrived.append(bool(entered.stored) and entered.held is None)
                    return found

                monkeypatch.setattr(UpdateInbox, "_head", head_then_arrival)
                await second._drain(CHAT)  # a look at the chat (as after letting go of it)
                assert arrived == [True]
                assert len(api.sent_messages(CHAT)) == 1  # the welcome, without the sweep
