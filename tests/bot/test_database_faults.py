"""The real PostgreSQL behind a TCP proxy that refuses, drops and freezes connections.

A stuck transaction holds up only its own chat; a database that does not answer gets every chat
an answer or a "try again" (503 for Telegram, the error reply in polling mode) instead of a hang;
and whatever fails, every update takes effect exactly once: the end state equals a lone run of
the same updates without faults.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from bot.storage.models import Conversation, OutboxMessage
from tests.bot.telegram_harness import CHAT, running_bot
from tests.bot.test_webhook import post, serving, settings_for
from tests.db_proxy import DbProxy
from tests.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.usefixtures("postgres_url")

_ids = itertools.count(70_000)
Script = list[tuple[str, str]]
START: Script = [("say", "/start"), ("press", "x:begin")]
TO_AMOUNT: Script = [*START, ("say", "昨天下午3点")]


@pytest.fixture
def fresh_database(postgres_url: str) -> str:
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return postgres_url


def update(api: FakeBotApi, chat: int, kind: str, value: str) -> dict[str, Any]:
    built = api.text_update(chat, value) if kind == "say" else api.callback_update(chat, value)
    return {**built, "update_id": next(_ids)}


def texts(api: FakeBotApi, chat: int) -> list[str]:
    return [str(message["text"]) for message in api.sent_messages(chat)]


def stored(url: str, chat: int) -> tuple[str, dict[str, Any], list[str]]:
    """What the updates left behind: the conversation's step and answers, the outbox rows."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            state, answers = connection.execute(
                select(Conversation.state, Conversation.answers).where(Conversation.chat_id == chat)
            ).one()
            outbox = list(
                connection.scalars(
                    select(OutboxMessage.status)
                    .where(OutboxMessage.chat_id == chat)
                    .order_by(OutboxMessage.id)
                )
            )
    finally:
        engine.dispose()
    return state, answers, outbox


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def play(
    api: FakeBotApi, client: httpx.AsyncClient, url: str, chat: int, script: Script
) -> None:
    for kind, value in script:
        assert (await post(client, url, update(api, chat, kind, value))).status_code == 200


async def same_as_a_lone_run(
    api: FakeBotApi,
    client: httpx.AsyncClient,
    url: str,
    database: str,
    chat: int,
    script: Script,
) -> None:
    """`chat` ended where a chat running `script` without any fault ends."""
    lone = chat + 1000
    await play(api, client, url, lone, script)
    await until(lambda: stored(database, chat)[2] == stored(database, lone)[2])
    assert texts(api, chat) == texts(api, lone)
    assert stored(database, chat) == stored(database, lone)
    assert set(stored(database, chat)[2]) == {"sent"}


async def test_a_stuck_transaction_holds_up_only_its_own_chat(fresh_database: str) -> None:
    async with FakeBotApi() as api, httpx.AsyncClient(timeout=60) as client:
        with DbProxy.to(fresh_database) as proxy:
            async with serving(settings_for(api, proxy.url)) as url:
                await play(api, client, url, CHAT, START[:1])
                proxy.freeze_when(b"FROM conversations")  # the next chat's transaction sticks
                stuck_update = update(api, CHAT, "press", "x:begin")
                stuck = asyncio.create_task(post(client, url, stuck_update))
                await until(lambda: proxy.count("frozen") == 1)

                other = await post(client, url, update(api, CHAT + 1, "say", "/start"))
                assert other.status_code == 200
                assert len(api.sent_messages(CHAT + 1)) == 1  # answered ...
                assert not stuck.done()  # ... while the first chat's transaction is stuck

                assert (await stuck).status_code == 503  # given up on: Telegram sends it again
                proxy.thaw()
                assert (await post(client, url, stuck_update)).status_code == 200  # runs it
                assert (await post(client, url, stuck_update)).status_code == 200  # not twice
                await same_as_a_lone_run(api, client, url, fresh_database, CHAT, START)


async def test_a_frozen_database_gets_every_chat_told_to_retry(fresh_database: str) -> None:
    async with FakeBotApi() as api, httpx.AsyncClient(timeout=60) as client:
        with DbProxy.to(fresh_database) as proxy:
            async with serving(settings_for(api, proxy.url)) as url:
                await play(api, client, url, CHAT, START[:1])
                proxy.freeze()
                updates = [
                    update(api, CHAT, "press", "x:begin"),
                    update(api, CHAT + 1, "say", "/start"),
                ]
                # Liveness, the bound: an answer within 6 s while nothing answers.
                async with asyncio.timeout(6):
                    responses = await asyncio.gather(*(post(client, url, u) for u in updates))
                assert [response.status_code for response in responses] == [503, 503]
                proxy.thaw()
                for redelivery in updates:  # Telegram delivers both again
                    assert (await post(client, url, redelivery)).status_code == 200
                await same_as_a_lone_run(api, client, url, fresh_database, CHAT, START)
                await same_as_a_lone_run(api, client, url, fresh_database, CHAT + 1, START[:1])


async def test_a_connection_lost_after_the_reply_keeps_the_update_done(
    fresh_database: str,
) -> None:
    """The reply went out and the update committed; recording the send fails for a while.
    The redelivery is a duplicate, and the next message is taken as the next answer."""
    async with FakeBotApi() as api, httpx.AsyncClient(timeout=60) as client:
        with DbProxy.to(fresh_database) as proxy:
            async with serving(settings_for(api, proxy.url)) as url:
                await play(api, client, url, CHAT, START)
                proxy.drop_when(b"UPDATE outbox", refuse_for=3.0)  # right after the send
                answer = update(api, CHAT, "say", "昨天下午3点")
                await post(client, url, answer)  # 503 or 200: either is right now
                assert proxy.count("dropped") == 1
                await until(lambda: proxy.count("refused") > 0)
                proxy.accept()
                assert (await post(client, url, answer)).status_code == 200  # a duplicate
                await play(api, client, url, CHAT, [("say", "1280")])
                await same_as_a_lone_run(
                    api, client, url, fresh_database, CHAT, [*TO_AMOUNT, ("say", "1280")]
                )


async def test_a_connection_lost_before_the_commit_leaves_the_update_to_its_redelivery(
    fresh_database: str,
) -> None:
    """The transaction never committed: Telegram is told to retry, the merchant is not told
    to send again (that would run it twice), and the redelivery runs it once."""
    async with FakeBotApi() as api, httpx.AsyncClient(timeout=60) as client:
        with DbProxy.to(fresh_database) as proxy:
            async with serving(settings_for(api, proxy.url)) as url:
                await play(api, client, url, CHAT, TO_AMOUNT)
                before = len(api.sent_messages(CHAT))
                proxy.drop_when(b"FROM conversations", refuse_for=3.0)
                amount = update(api, CHAT, "say", "1280")
                assert (await post(client, url, amount)).status_code == 503
                assert len(api.sent_messages(CHAT)) == before  # no "please send it again"
                proxy.accept()
                assert (await post(client, url, amount)).status_code == 200  # runs it
                assert (await post(client, url, amount)).status_code == 200  # once only
                await same_as_a_lone_run(
                    api, client, url, fresh_database, CHAT, [*TO_AMOUNT, ("say", "1280")]
                )


async def test_a_refused_database_answers_every_polling_chat_at_once(
    fresh_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Ten merchants write while the database refuses connections: the retries of all ten
    run side by side, not one chat's after another's (which took 17 s for the tenth), and each
    merchant is told once to send again."""
    chats = [CHAT + n for n in range(10)]
    async with FakeBotApi() as api:
        with DbProxy.to(fresh_database) as proxy:
            async with running_bot(api, proxy.url):
                proxy.refuse()
                proxy.drop()
                mark = api.mark()
                for chat in chats:
                    api.send_text(chat, "/start")
                for chat in chats:
                    await api.wait_for_messages(chat, 1, since=mark, timeout=30)
                given_up = min(
                    record.created for record in caplog.records if "unavailable" in record.message
                )
                # Before the first chat's attempts ran out, every chat had tried (one chat
                # after another, the first would have given up after its own four attempts).
                assert proxy.count("refused", before=given_up) >= 2 * len(chats)
                for chat in chats:
                    (reply,) = api.sent_messages(chat, since=mark)
                    assert "请再发一次" in reply["text"]


async def test_a_photo_whose_first_look_loses_the_connection_is_left_to_its_redelivery(
    fresh_database: str,
) -> None:
    """Whether a photo is read is asked before its update's transaction: a connection lost
    there is an outage too (503, the merchant told nothing), not a failed update counted done."""
    chat = CHAT + 50  # the session's database is shared: a chat no other test leaves halfway
    async with FakeBotApi() as api, httpx.AsyncClient(timeout=60) as client:
        with DbProxy.to(fresh_database) as proxy:
            async with serving(settings_for(api, proxy.url)) as url:
                for each in (chat, chat + 1000):
                    await play(api, client, url, each, TO_AMOUNT)
                mark = api.mark()
                photo = {
                    **api.photo_update(chat, "slip-1", data=b"not a picture"),
                    "update_id": next(_ids),
                }
                proxy.drop_when(b"SELECT conversations.state, conversations.consented_at", 3600)
                assert (await post(client, url, photo)).status_code == 503
                assert api.sent_messages(chat, since=mark) == []
                proxy.accept()
                assert (await post(client, url, photo)).status_code == 200  # runs it
                assert (await post(client, url, photo)).status_code == 200  # once only
                lone = {
                    **api.photo_update(chat + 1000, "slip-2", data=b"not a picture"),
                    "update_id": next(_ids),
                }
                assert (await post(client, url, lone)).status_code == 200
                assert texts(api, chat) == texts(api, chat + 1000)
                assert stored(fresh_database, chat)[:2] == stored(fresh_database, chat + 1000)[:2]
