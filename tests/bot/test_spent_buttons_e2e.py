"""Buttons pressed again after they did their work: the effect happens once, and is said."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.storage.models import Case, Timer
from tests.bot.helpers import Clock
from tests.bot.telegram_harness import CHAT, buttons, running_bot, step
from tests.bot.test_telegram_e2e import intake
from tests.fake_bot_api import FakeBotApi

CASE = "PB-20261125-0001"


async def test_check_back_pressed_four_times_sets_one_follow_up(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        url = f"sqlite:///{tmp_path}/bot.sqlite3"
        async with running_bot(api, url, Clock()) as bot:
            for kind, value, count in intake():
                await step(api, kind, value, count)
            (summary,) = await step(api, "press", "x:confirm")
            assert "x:followup" in buttons(summary)
            replies = [(await step(api, "press", "x:followup"))[0]["text"] for _ in range(4)]
            assert replies[0].startswith("好的，我会在")
            assert all(text.startswith("提醒已经设置好了") for text in replies[1:])
            assert len({text.split("：", 1)[-1] for text in replies[1:]}) == 1
            with bot.parts.db.transaction() as session:
                assert session.scalar(select(func.count()).select_from(Timer)) == 1
                case = session.scalars(select(Case).where(Case.number == CASE)).one()
                assert case.status == "waiting"


async def test_it_arrived_asks_for_a_rating_once(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        url = f"sqlite:///{tmp_path}/bot.sqlite3"
        async with running_bot(api, url, Clock()) as bot:
            for kind, value, count in intake():
                await step(api, kind, value, count)
            await step(api, "press", "x:confirm")
            (arrived,) = await step(api, "press", "x:arrived")
            assert "打分" in arrived["text"]
            assert f"k:rate:{CASE}:5" in buttons(arrived)
            (again,) = await step(api, "press", "x:arrived")
            assert "已经标记为解决" in again["text"]
            assert not [data for data in buttons(again) if data.startswith("k:rate")]
            assert len(api.sent_messages(CHAT)) == len(intake()) + 3
            with bot.parts.db.transaction() as session:
                case = session.scalars(select(Case).where(Case.number == CASE)).one()
                assert case.status == "resolved"
