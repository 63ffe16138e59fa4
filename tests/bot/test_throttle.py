"""Flood control: one notice to the flooder, nothing dropped for anyone else."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.channels.telegram.throttle import FloodGate
from bot.storage.models import Conversation
from tests.bot.telegram_harness import CHAT, running_bot, step
from tests.fake_bot_api import FakeBotApi


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_window_notice_once_then_drop_then_recover() -> None:
    ticks = Ticks()
    gate = FloodGate(per_window=3, window=10.0, per_day=100, clock=ticks)
    assert [gate.check(1) for _ in range(3)] == ["pass"] * 3
    assert [gate.check(1) for _ in range(3)] == ["notice", "drop", "drop"]
    assert gate.check(2) == "pass"  # another merchant is unaffected
    ticks.now = 10.5
    assert gate.check(1) == "pass"


def test_daily_limit() -> None:
    ticks = Ticks()
    gate = FloodGate(per_window=1000, window=1.0, per_day=5, clock=ticks)
    verdicts = []
    for second in range(8):
        ticks.now = float(second * 2)
        verdicts.append(gate.check(1))
    assert verdicts == ["pass"] * 5 + ["notice", "drop", "drop"]
    ticks.now = 86_400.0 + 1
    assert gate.check(1) == "pass"


def test_memory_stays_bounded() -> None:
    ticks = Ticks()
    gate = FloodGate(per_window=5, window=1.0, clock=ticks, max_chats=100)
    for chat in range(1000):
        ticks.now = chat * 0.01
        gate.check(chat)
    assert len(gate._chats) <= 100


async def test_a_flooding_merchant_is_throttled_and_others_still_answered(tmp_path: Path) -> None:
    other = CHAT + 1
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/f.sqlite3", flood_per_minute=10) as bot,
    ):
        await step(api, "say", "/start")
        mark = api.mark()
        for index in range(60):
            api.send_text(CHAT, f"flood {index}")
        api.send_text(other, "/start")
        await api.wait_for_messages(other, 1, since=mark)
        await api.wait_for_call("getUpdates", since=api.mark(), count=2)
        to_flooder = api.sent_messages(CHAT, since=mark)
        notices = [m for m in to_flooder if "太快" in m["text"]]
        assert len(notices) == 1
        assert len(to_flooder) <= 10  # the 9 allowed replies (one slot went to /start) + notice
        with bot.parts.db.transaction() as session:
            rows = session.scalars(select(Conversation).order_by(Conversation.chat_id)).all()
            assert [row.chat_id for row in rows] == [CHAT, other]


def test_a_merchant_costs_the_same_memory_however_much_they_send() -> None:
    ticks = Ticks()
    gate = FloodGate(per_window=5, window=1.0, per_day=10_000, clock=ticks)
    for n in range(3000):
        ticks.now = n * 0.5
        gate.check(1)
    chat = gate._chats[1]
    assert not hasattr(chat, "__dict__")  # slots: a fixed handful of numbers
    assert chat.day_count == 3000
