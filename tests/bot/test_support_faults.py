"""The support group's updates through the real PostgreSQL behind a TCP proxy: an agent's relay,
a Claim press and a Resolve press, with the connection lost just before their transaction
commits or just after their effect went out. Whatever happens, Telegram's redelivery leaves
each one done once: the merchant hears the relay once, the case's state and audit are right,
and the group's card is updated once.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from bot.storage.models import Case, CaseEvent, OutboxMessage, TranscriptLine
from tests.bot.telegram_harness import CHAT
from tests.bot.test_database_faults import fresh_database, until
from tests.bot.test_support_e2e import AGENT, SUPPORT, card_message_id
from tests.bot.test_webhook import post, serving, settings_for
from tests.db_proxy import DbProxy
from tests.fake_bot_api import Call, FakeBotApi

pytestmark = pytest.mark.usefixtures("postgres_url")
__all__ = ["fresh_database"]  # the fixture, shared with the merchants' fault tests

RELAY = "您好，我们正在向收单机构核实。"
_ids = itertools.count(80_000)


@dataclass
class Desk:
    """A webhook worker with an escalated case whose card sits in a forum topic."""

    api: FakeBotApi
    client: httpx.AsyncClient
    url: str
    proxy: DbProxy
    database: str
    thread: int
    card: int

    async def post(self, update: dict[str, Any]) -> int:
        return (await post(self.client, self.url, update)).status_code

    def numbered(self, update: dict[str, Any]) -> dict[str, Any]:
        return {**update, "update_id": next(_ids)}

    def relay(self) -> dict[str, Any]:
        return self.numbered(
            self.api.text_update(
                SUPPORT, RELAY, user_id=AGENT, first_name="Wang", message_thread_id=self.thread
            )
        )

    def press(self, verb: str) -> dict[str, Any]:
        return self.numbered(
            self.api.callback_update(
                SUPPORT, f"s:{verb}:1", message_id=self.card, user_id=AGENT, first_name="Wang"
            )
        )

    def stored(self) -> tuple[str, int | None, list[str], int, list[str]]:
        """The case's status and owner, its audit, the agent's transcript lines, and the
        merchant's outbox rows."""
        engine = create_engine(self.database)
        try:
            with engine.connect() as connection:
                status, owner = connection.execute(select(Case.status, Case.owner_id)).one()
                audit = list(connection.scalars(select(CaseEvent.trigger).order_by(CaseEvent.id)))
                agent_lines = len(
                    connection.scalars(
                        select(TranscriptLine.id).where(TranscriptLine.author == "agent")
                    ).all()
                )
                outbox = list(
                    connection.scalars(
                        select(OutboxMessage.status)
                        .where(OutboxMessage.chat_id == CHAT)
                        .order_by(OutboxMessage.id)
                    )
                )
        finally:
            engine.dispose()
        return status, owner, audit, agent_lines, outbox


@asynccontextmanager
async def desk(database: str) -> AsyncIterator[Desk]:
    async with FakeBotApi() as api, httpx.AsyncClient(timeout=60) as client:
        api.set_chat(SUPPORT, is_forum=True, title="POS support")
        with DbProxy.to(database) as proxy:
            settings = settings_for(api, proxy.url, support_chat_id=SUPPORT, agent_ids=[AGENT])
            async with serving(settings) as url:
                for built in (
                    api.text_update(CHAT, "/start"),
                    api.callback_update(CHAT, "x:person"),
                ):
                    assert (
                        await post(client, url, {**built, "update_id": next(_ids)})
                    ).status_code == 200
                (card,) = api.sent_messages(SUPPORT)
                yield Desk(
                    api,
                    client,
                    url,
                    proxy,
                    database,
                    card["message_thread_id"],
                    card_message_id(api),
                )


def cut(proxy: DbProxy, when: Callable[[Call], bool]) -> Callable[[Call], bool]:
    """A hook for the fake Bot API: once `when` holds, every database connection is cut and
    new ones are refused until the test accepts them again."""

    def strike(call: Call) -> bool:
        if not when(call):
            return False
        proxy.refuse()
        proxy.drop()
        return True

    return strike


def to_merchant(call: Call) -> bool:
    return call.params.get("chat_id") == CHAT


def answered(call: Call) -> bool:
    return True


#: (action, statement of its transaction to lose the connection on, Telegram call after which
#: to lose it, and what is left once it is done: status, audit since the setup, agent
#: transcript lines, messages to the merchant)
ACTIONS = {
    "relay": (
        b"INSERT INTO transcript_lines",
        ("sendMessage", to_merchant),
        "assigned",
        ["claim"],
        1,
        1,
    ),
    "claim": (
        b"INSERT INTO case_events",
        ("answerCallbackQuery", answered),
        "assigned",
        ["claim"],
        0,
        0,
    ),
    "resolve": (
        b"INSERT INTO case_events",
        ("sendMessage", to_merchant),
        "resolved",
        ["resolve"],
        0,
        2,
    ),
}


async def redelivered_twice(desk: Desk, update: dict[str, Any]) -> None:
    desk.proxy.accept()
    assert await desk.post(update) == 200  # runs it, or knows it done
    assert await desk.post(update) == 200  # and again: nothing more


async def act(desk: Desk, action: str) -> dict[str, Any]:
    if action == "resolve":  # claimed first, without a fault
        assert await desk.post(desk.press("claim")) == 200
    return desk.relay() if action == "relay" else desk.press(action)


async def is_done_once(desk: Desk, action: str, mark: int, audit_before: int) -> None:
    _, _, status, audit, agent_lines, merchant_messages = ACTIONS[action]
    await until(lambda: set(desk.stored()[4]) <= {"sent"}, seconds=15)  # sends get recorded
    stored_status, owner, stored_audit, stored_lines, _ = desk.stored()
    assert (stored_status, owner) == (status, AGENT)
    assert stored_audit[audit_before:] == audit
    assert stored_lines == agent_lines
    to_merchant = desk.api.sent_messages(CHAT, since=mark)
    assert len(to_merchant) == merchant_messages, to_merchant
    if action == "relay":
        assert RELAY in to_merchant[0]["text"]
    # The group's card: its topic renamed once, one line about the change.
    assert len(desk.api.calls_to("editForumTopic", since=mark)) == 1
    assert len(desk.api.sent_messages(SUPPORT, since=mark)) == 1


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_lost_before_the_commit_the_redelivery_does_it_once(
    fresh_database: str, action: str
) -> None:
    async with desk(fresh_database) as d:
        update = await act(d, action)
        audit_before = len(d.stored()[2])
        mark = d.api.mark()
        d.proxy.drop_when(ACTIONS[action][0], refuse_for=3600)
        assert await d.post(update) == 503  # not done: Telegram delivers it again
        assert d.api.sent_messages(CHAT, since=mark) == []
        assert d.stored()[2][audit_before:] == []
        await redelivered_twice(d, update)
        await is_done_once(d, action, mark, audit_before)


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_lost_after_the_effect_the_redelivery_does_not_repeat_it(
    fresh_database: str, action: str
) -> None:
    async with desk(fresh_database) as d:
        update = await act(d, action)
        audit_before = len(d.stored()[2])
        mark = d.api.mark()
        method, when = ACTIONS[action][1]
        d.api.when_called(method, cut(d.proxy, when))
        await d.post(update)  # 503 or 200: either is right now
        assert d.proxy.count("dropped") == 1
        await redelivered_twice(d, update)
        await asyncio.sleep(0)
        await is_done_once(d, action, mark, audit_before)
