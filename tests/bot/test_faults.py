"""Telegram faults: 429, 5xx, timeouts, 400 on edits, 403, and a crash between decide and send.

Each fault is injected by the tests' fake Bot API; the bot must deliver every decided message
exactly once (or mark the merchant unreachable), and never raise out of a handler.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.conversation.messages import ChatRef, Incoming
from bot.conversation.outbox import STALE_CLAIM
from bot.storage.models import OutboxMessage
from tests.bot.helpers import Clock
from tests.bot.telegram_harness import CHAT, running_bot, step
from tests.fake_bot_api import FakeBotApi

WELCOME = "POS到账排查助手"


def delivered(api: FakeBotApi, snippet: str) -> list[dict[str, Any]]:
    return [m for m in api.sent_messages(CHAT) if snippet in str(m.get("text"))]


def outbox_statuses(parts: Any) -> list[str]:
    with parts.db.transaction() as session:
        return [row.status for row in session.scalars(select(OutboxMessage))]


async def settled(parts: Any, expected: list[str]) -> None:
    """The outbox reaches `expected` (the bot records the send just after Telegram answers)."""
    for _ in range(100):
        if outbox_statuses(parts) == expected:
            return
        await asyncio.sleep(0.02)
    assert outbox_statuses(parts) == expected


@pytest.mark.parametrize(
    ("status", "description", "retry_after", "times"),
    [
        (429, "Too Many Requests: retry after 1", 1, 1),
        (500, "Internal Server Error", None, 2),
        (502, "Bad Gateway", None, 1),
    ],
    ids=["429-retry-after", "500-twice", "502"],
)
async def test_transient_faults_are_retried_and_deliver_once(
    tmp_path: Path, status: int, description: str, retry_after: int | None, times: int
) -> None:
    async with FakeBotApi() as api, running_bot(api, f"sqlite:///{tmp_path}/f.sqlite3") as bot:
        api.fail_next(
            "sendMessage",
            status=status,
            description=description,
            retry_after=retry_after,
            times=times,
        )
        api.send_text(CHAT, "/start")
        await api.wait_for_messages(CHAT, 1, timeout=10)
        await asyncio.sleep(0.2)
        assert len(delivered(api, WELCOME)) == 1
        faulted = [c for c in api.calls_to("sendMessage") if c.faulted]
        assert len(faulted) == times
        await settled(bot.parts, ["sent"])
        # The conversation went on normally afterwards.
        (question,) = await step(api, "press", "x:begin")
        assert "什么时候" in question["text"]


async def test_a_timeout_is_retried(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/t.sqlite3", telegram_timeout=0.5) as bot,
    ):
        api.fail_next("sendMessage", status=200, delay=1.0)
        api.send_text(CHAT, "/start")
        await api.wait_for_messages(CHAT, 1, timeout=10)
        assert len(delivered(api, WELCOME)) == 1
        await settled(bot.parts, ["sent"])


@pytest.mark.parametrize(
    "description",
    ["Bad Request: message is not modified", "Bad Request: message to edit not found"],
)
async def test_edit_errors_on_a_pressed_keyboard_are_harmless(
    tmp_path: Path, description: str
) -> None:
    async with FakeBotApi() as api, running_bot(api, f"sqlite:///{tmp_path}/e.sqlite3"):
        await step(api, "say", "/start")
        api.fail_next(
            "editMessageReplyMarkup", status=400, description=description, retry_after=None
        )
        (question,) = await step(api, "press", "x:begin")
        assert "什么时候" in question["text"]
        assert api.calls_to("editMessageReplyMarkup")[0].faulted


async def test_blocked_by_the_merchant_is_not_retried(tmp_path: Path) -> None:
    async with FakeBotApi() as api, running_bot(api, f"sqlite:///{tmp_path}/b.sqlite3") as bot:
        api.fail_next(
            "sendMessage",
            status=403,
            description="Forbidden: bot was blocked by the user",
            retry_after=None,
        )
        api.send_text(CHAT, "/start")
        await api.wait_for_call("sendMessage")
        await asyncio.sleep(0.3)
        assert len(api.calls_to("sendMessage")) == 1
        await settled(bot.parts, ["unreachable"])


async def test_a_crash_between_deciding_and_sending_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.sqlite3"
    clock = Clock()
    async with FakeBotApi() as api:
        async with running_bot(api, url, clock) as bot:
            # The decision is committed with its messages queued; the process dies before sending.
            bot.parts.service.handle(
                ChatRef("telegram", CHAT, CHAT, "zh"),
                Incoming("command", command="start"),
                outbox=True,
            )
        assert api.sent_messages(CHAT) == []
        async with running_bot(api, url, clock) as bot:
            outbox = bot.support.outbox
            # The dead handler's claim holds until it is stale (it might still be sending)...
            assert await outbox.drain(bot.application.bot) == 0
            clock.now += STALE_CLAIM + timedelta(seconds=1)
            # ...then the drain takes the message over, once.
            assert await outbox.drain(bot.application.bot) == 1
            assert await outbox.drain(bot.application.bot) == 0
        assert len(delivered(api, WELCOME)) == 1


async def test_an_agent_reply_survives_a_429(tmp_path: Path) -> None:
    support = -1001234
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/a.sqlite3", Clock(), support_chat_id=support),
    ):
        await step(api, "say", "/start")
        await step(api, "press", "x:person")
        await api.wait_for_messages(support, 1)
        card_id = next(
            mid
            for (chat, mid), m in api.messages.items()
            if chat == support and "s:claim" in str(m.get("reply_markup"))
        )
        api.fail_next(
            "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
        )
        mark = api.mark()
        api.send_text(support, "我们在查，请稍等", user_id=9001, reply_to_message_id=card_id)
        call = await api.wait_for_call(
            "sendMessage",
            lambda c: c.params.get("chat_id") == CHAT and not c.faulted,
            since=mark,
            timeout=10,
        )
        assert "我们在查" in call.params["text"]


async def test_runs_behind_the_rate_limiter(tmp_path: Path) -> None:
    from telegram.ext import AIORateLimiter

    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/r.sqlite3", rate_limit=True) as bot,
    ):
        assert isinstance(bot.application.bot.rate_limiter, AIORateLimiter)
        (welcome,) = await step(api, "say", "/start")
        assert WELCOME in welcome["text"]
