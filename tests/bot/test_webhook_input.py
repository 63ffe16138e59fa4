"""What the webhook refuses for good (400, 413) before the database sees it, and what it cleans."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select, text

from bot.channels.telegram.webhook import SECRET_HEADER
from bot.channels.telegram.webhook_body import MAX_BODY_BYTES
from bot.storage.models import InboxUpdate, TranscriptLine
from tests.bot.telegram_harness import CHAT
from tests.bot.test_webhook import SECRET, serving, settings_for
from tests.fake_bot_api import FakeBotApi

ERROR_REPLY = "系统刚才出了点问题"


def start(update_id: int, **message: Any) -> dict[str, Any]:
    """A valid /start update with `message` fields replaced."""
    base = FakeBotApi().text_update(CHAT, "/start")
    return {"update_id": update_id, "message": {**base["message"], **message}}


def deep(levels: int) -> str:
    return '{"update_id": 3, "message": ' + "[" * levels + "]" * levels + "}"


CHAT_OBJECT = start(1)["message"]["chat"]
SENDER = start(1)["message"]["from"]
#: (what, raw JSON body): every one is refused with 400.
BAD_BODIES = [
    ("chat is text", json.dumps(start(10, chat="x"))),
    ("chat is null", json.dumps(start(11, chat=None))),
    ("no chat", json.dumps({"update_id": 12, "message": {"message_id": 1, "date": 1}})),
    ("message is text", json.dumps({"update_id": 13, "message": "hi"})),
    ("callback sender is text", json.dumps({"update_id": 14, "callback_query": {"from": "x"}})),
    (
        "callback message chat is null",
        json.dumps(
            {
                "update_id": 15,
                "callback_query": {
                    "id": "1",
                    "from": SENDER,
                    "chat_instance": "1",
                    "message": {"message_id": 1, "date": 1, "chat": None},
                },
            }
        ),
    ),
    ("update_id Infinity", '{"update_id": Infinity}'),
    ("update_id NaN", '{"update_id": NaN}'),
    ("a float beyond range", json.dumps(start(28)).replace('"date": ', '"x": 1e400, "date": ')),
    ("update_id float", json.dumps(start(1)).replace('"update_id": 1', '"update_id": 16.5')),
    ("update_id text", json.dumps({**start(1), "update_id": "17"})),
    ("update_id true", json.dumps({**start(1), "update_id": True})),
    ("update_id negative", json.dumps(start(-18))),
    ("update_id over 64 bits", json.dumps(start(2**64))),
    ("no update_id", json.dumps({"message": start(1)["message"]})),
    ("chat.id float", json.dumps(start(19, chat={**CHAT_OBJECT, "id": 5001.5}))),
    ("chat.id float, whole", json.dumps(start(20, chat={**CHAT_OBJECT, "id": 5001.0}))),
    ("chat.id over 64 bits", json.dumps(start(21, chat={**CHAT_OBJECT, "id": 2**63}))),
    ("chat.id below 64 bits", json.dumps(start(22, chat={**CHAT_OBJECT, "id": -(2**63) - 1}))),
    ("from.id float", json.dumps(start(23, **{"from": {**SENDER, "id": 1.5}}))),
    ("message_id huge", json.dumps(start(24, message_id=10**30))),
    ("text is a number", json.dumps(start(25, text=5))),
    (
        "date missing (not an Update)",
        json.dumps({"update_id": 26, "message": {"chat": CHAT_OBJECT}}),
    ),
    ("deep nesting", deep(100_000)),
    ("nesting past the limit", deep(60)),
    ("a list", "[]"),
    ("not JSON", "{"),
    ("not UTF-8", b'{"update_id": 27, "x": "\xff"}'.decode("latin-1")),
]


@pytest.fixture
async def worker(tmp_path: Path) -> AsyncIterator[tuple[FakeBotApi, str, str]]:
    url = f"sqlite:///{tmp_path}/in.sqlite3"
    async with FakeBotApi() as api, serving(settings_for(api, url)) as address:
        yield api, address, url


async def send(address: str, body: bytes | str, **headers: str) -> httpx.Response:
    data = body.encode("latin-1" if "\xff" in body else "utf-8") if isinstance(body, str) else body
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            f"{address}/telegram",
            content=data,
            headers={SECRET_HEADER: SECRET, "Content-Type": "application/json", **headers},
        )


def inbox_count(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(InboxUpdate)) or 0)
    finally:
        engine.dispose()


async def test_malformed_updates_are_refused_once_with_400(
    worker: tuple[FakeBotApi, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    api, address, url = worker
    caplog.set_level(logging.INFO)
    for what, body in BAD_BODIES:
        caplog.clear()
        response = await send(address, body)
        assert response.status_code == 400, what
        records = [r for r in caplog.records if r.name.startswith(("bot", "posbot"))]
        assert len(records) == 1, (what, [r.getMessage() for r in records])
        assert records[0].levelno == logging.WARNING
        assert records[0].exc_info is None
        assert "\n" not in records[0].getMessage()
        assert "update refused" in records[0].getMessage()
    assert inbox_count(url) == 0  # nothing reached the database
    assert api.sent_messages(CHAT) == []
    assert (await send(address, json.dumps(start(500)))).status_code == 200  # still working
    assert len(api.sent_messages(CHAT)) == 1


async def test_bodies_over_a_megabyte_are_refused_with_413(
    worker: tuple[FakeBotApi, str, str],
) -> None:
    _, address, url = worker
    big = json.dumps(start(600, text="x" * MAX_BODY_BYTES)).encode()
    assert (await send(address, big)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for offset in range(0, len(big), 64 * 1024):
            yield big[offset : offset + 64 * 1024]

    async with httpx.AsyncClient(timeout=30) as client:
        chunked = await client.post(
            f"{address}/telegram", content=chunks(), headers={SECRET_HEADER: SECRET}
        )
    assert chunked.status_code == 413
    assert inbox_count(url) == 0
    just_under = json.dumps(start(601, text="y" * (MAX_BODY_BYTES - 2048))).encode()
    assert len(just_under) <= MAX_BODY_BYTES
    assert (await send(address, just_under)).status_code == 200


async def test_nul_and_lone_surrogates_are_removed_on_the_way_in(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    async with FakeBotApi() as api, serving(settings_for(api, database_url)) as address:
        assert (await send(address, json.dumps(start(700)))).status_code == 200
        begin = {**api.callback_update(CHAT, "x:begin"), "update_id": 702}
        assert (await send(address, json.dumps(begin))).status_code == 200  # consent: kept
        escaped = json.dumps(start(703, text="hel\u0000lo \ud800wor\udfffld"))
        assert "\\u0000" in escaped
        assert "\\ud800" in escaped
        assert (await send(address, escaped)).status_code == 200
        texts = [message["text"] for message in api.sent_messages(CHAT)]
        assert len(texts) == 3
        assert ERROR_REPLY not in texts[-1]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        lines = list(connection.scalars(select(TranscriptLine.text)))
    engine.dispose()
    assert "hello world" in lines
