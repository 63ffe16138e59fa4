"""The inbox keeps an update id only as long as Telegram may deliver the update again: done rows
older than the retention go (in batches, through their index), pending rows never do; from
`posbot purge` and from every worker's timer loop, by the same routine."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, insert, select, text

from bot.conversation.privacy import purge_inbox
from bot.ops.cli import main
from bot.storage.models import InboxUpdate
from tests.bot.conftest import Factory
from tests.bot.helpers import NOW
from tests.bot.test_webhook import serving, settings_for
from tests.fake_bot_api import FakeBotApi

KEPT = timedelta(hours=48)


def rows_at(now: datetime) -> list[dict[str, object]]:
    """Done just past and just within the retention, pending for a month, done long ago."""
    minute, hour = timedelta(minutes=1), timedelta(hours=1)
    table = [  # update id, status, received, processed (ago)
        (1, "done", 60 * hour, KEPT + minute),
        (2, "done", 47 * hour, KEPT - minute),
        (3, "pending", 720 * hour, None),
        (4, "done", 216 * hour, 216 * hour),
    ]
    return [
        {
            "update_id": update_id,
            "chat_id": 7,
            "status": status,
            "payload": {},
            "received_at": now - received,
            "processed_at": None if processed is None else now - processed,
        }
        for update_id, status, received, processed in table
    ]


def kept(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(select(InboxUpdate.update_id).order_by(InboxUpdate.update_id))
            )
    finally:
        engine.dispose()


def test_done_updates_past_retention_go_in_batches_and_pending_ones_stay(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    with parts.db.transaction() as session:
        session.execute(insert(InboxUpdate), rows_at(NOW))
    with parts.db.transaction() as session:
        assert purge_inbox(session, NOW - KEPT, limit=1) == 1  # a batch at a time
    with parts.db.transaction() as session:
        assert purge_inbox(session, NOW - KEPT, limit=1) == 1
    with parts.db.transaction() as session:
        assert purge_inbox(session, NOW - KEPT) == 0
    assert kept(database_url) == [2, 3]


def test_the_purge_reads_done_rows_through_their_index(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    before = NOW - KEPT
    with parts.db.transaction() as session:
        connection = session.connection()
        compiled = (
            select(InboxUpdate.update_id)
            .where(InboxUpdate.status == "done", InboxUpdate.processed_at < before)
            .limit(10)
            .compile(connection, compile_kwargs={"literal_binds": True})
        )
        if parts.db.is_sqlite:
            plan = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        else:  # a few rows read faster from the table: ask whether the index can serve at all
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = connection.execute(text(f"EXPLAIN {compiled}")).all()
    assert "ix_inbox_done" in str(plan), plan


def test_posbot_purge_forgets_old_update_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/purge.sqlite3"
    env = {"POSBOT_DATABASE_URL": url, "POSBOT_DEPLOYMENT_FILE": ""}
    first = CliRunner().invoke(main, ["purge"], env=env)  # creates the schema
    assert first.exit_code == 0, first.output
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(InboxUpdate), rows_at(datetime.now().astimezone()))
    engine.dispose()
    result = CliRunner().invoke(main, ["purge"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 processed update ids forgotten (older than 48h)" in result.output
    assert kept(url) == [2, 3]
    longer = {**env, "POSBOT_INBOX_RETENTION_HOURS": "240"}
    assert "0 processed update ids" in CliRunner().invoke(main, ["purge"], env=longer).output


@pytest.mark.parametrize("hours", ["12", "0", "100000", "two days"])
def test_a_retention_telegram_could_outlast_is_refused(tmp_path: Path, hours: str) -> None:
    env = {
        "POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite3",
        "POSBOT_INBOX_RETENTION_HOURS": hours,
    }
    result = CliRunner().invoke(main, ["purge"], env=env)
    assert result.exit_code == 2, result.output
    assert "POSBOT_INBOX_RETENTION_HOURS" in result.output
    assert "Traceback" not in result.output


async def test_a_webhook_workers_timer_loop_forgets_them_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/timers.sqlite3"
    async with FakeBotApi() as api, httpx.AsyncClient():
        settings = settings_for(api, url, timer_interval_seconds=0.05)
        async with serving(settings):  # the schema is there once the worker is up
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(insert(InboxUpdate), rows_at(NOW))  # the worker's clock
            engine.dispose()
            for _ in range(400):
                if kept(url) == [2, 3]:
                    break
                await asyncio.sleep(0.05)
            assert kept(url) == [2, 3]
