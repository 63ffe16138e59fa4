"""A database that restarts or goes away: reconnected, retried a bounded number of times, then a
clear error (and a 503 to Telegram in webhook mode), never a hang; left-over updates are swept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.channels.telegram.webhook import UpdateInbox
from bot.conversation.messages import ChatRef, Incoming
from bot.storage import db as db_module
from bot.storage.db import Database, DatabaseUnavailable
from bot.storage.models import Conversation, InboxUpdate
from tests.bot.conftest import Factory
from tests.bot.telegram_harness import CHAT
from tests.bot.test_webhook import post, serving, settings_for
from tests.fake_bot_api import FakeBotApi

MERCHANT = ChatRef("telegram", CHAT, CHAT, "zh")


def _lost_connection() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_a_lost_connection_is_retried_and_a_bug_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    db = Database(f"sqlite:///{tmp_path}/retry.sqlite3")
    attempts: list[int] = []

    def flaky(session: Any) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise _lost_connection()
        return "done"

    assert db.run(flaky) == "done"
    assert len(attempts) == 3

    def broken(session: Any) -> None:
        attempts.append(1)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    attempts.clear()
    with pytest.raises(IntegrityError):
        db.run(broken)
    assert len(attempts) == 1

    def down(session: Any) -> None:
        attempts.append(1)
        raise _lost_connection()

    attempts.clear()
    with pytest.raises(DatabaseUnavailable):
        db.run(down)
    assert len(attempts) == 4  # the first try and three retries, then a clear error
    db.dispose()


def test_an_unreachable_server_gives_a_clear_error_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db_module, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    db = Database("postgresql+psycopg://posbot@127.0.0.1:9/nowhere")  # the discard port
    with pytest.raises(DatabaseUnavailable):
        db.run(lambda session: session.execute(text("SELECT 1")))
    db.dispose()


@pytest.mark.usefixtures("postgres_url")
def test_the_bot_carries_on_after_a_postgresql_restart(
    postgres_url: str, make_components: Factory
) -> None:
    parts = make_components(postgres_url)
    parts.service.handle(MERCHANT, Incoming("command", command="start"))
    # What a restart does to the pool: every server-side connection is gone.
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    admin.dispose()
    assert killed >= 1
    result = parts.service.handle(MERCHANT, Incoming("button", text="x:begin"))
    assert result.messages  # answered on a fresh connection
    with parts.db.transaction() as session:
        state = session.scalar(select(Conversation.state).where(Conversation.chat_id == CHAT))
    assert state == "asking_when"


async def test_webhook_answers_503_while_the_database_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(self: UpdateInbox, data: dict[str, Any], parsed: Any = None) -> bool:
        raise DatabaseUnavailable("connection refused")

    async with FakeBotApi() as api:
        settings = settings_for(api, f"sqlite:///{tmp_path}/down.sqlite3")
        async with serving(settings) as worker, httpx.AsyncClient() as client:
            monkeypatch.setattr(UpdateInbox, "deliver", down)
            update = {**api.text_update(CHAT, "/start"), "update_id": 1}
            response = await post(client, worker, update)
    assert response.status_code == 503  # Telegram will deliver it again


async def test_an_update_left_unprocessed_is_swept_up(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = settings_for(api, f"sqlite:///{tmp_path}/sweep.sqlite3")
        async with serving(settings) as worker, httpx.AsyncClient() as client:
            update = {**api.text_update(CHAT, "/start"), "update_id": 1}
            assert (await post(client, worker, update)).status_code == 200
            inbox: UpdateInbox = serving.last_app.state.inbox  # type: ignore[attr-defined]
            # Stored, then the worker died before running it.
            assert inbox.claim({**api.text_update(CHAT, "/help"), "update_id": 2})
            assert len(api.sent_messages(CHAT)) == 1
            assert await inbox.sweep(older_than=0) == 1
            with inbox.db.transaction() as session:
                pending = session.scalars(
                    select(InboxUpdate).where(InboxUpdate.status == "pending")
                ).all()
    assert pending == []
    assert len(api.sent_messages(CHAT)) >= 2  # the help, taken up by the sweep
