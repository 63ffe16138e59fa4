"""Incident notices through the real Application: posted in the support group, seen by the
merchants whose transaction is in range (a message on their open case, a block in their
summary), by no one else, once; ended, they stop; non-members are refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from bot.storage.models import Incident, IncidentNotice, OutboxMessage
from tests.bot.helpers import Clock
from tests.bot.telegram_harness import CHAT, Running, running_bot, step
from tests.bot.test_support_e2e import AGENT, STRANGER, SUPPORT
from tests.bot.test_telegram_e2e import intake
from tests.fake_bot_api import FakeBotApi

IN_RANGE = CHAT  # paid 2026-11-24 15:00 ("昨天下午3点" on 2026-11-25)
OUT_OF_RANGE = 5002  # paid 2026-11-18 10:00
LATER = 5003  # starts after the incident is posted, paid 2026-11-24 09:30
NOTICE = "拉卡拉11月24日结算批次延迟"


async def summary_of(api: FakeBotApi, chat: int, date: str) -> str:
    """A merchant completes the intake; the summary's text."""
    steps = intake(date=date, bank=date.startswith("11月18日"))  # overdue: the bank is asked
    for kind, value, count in steps:
        await step(api, kind, value, count, chat=chat)
    (summary,) = await step(api, "press", "x:confirm", chat=chat)
    return str(summary["text"])


async def group_answer(api: FakeBotApi, text: str, user_id: int = AGENT) -> str:
    mark = api.mark()
    api.send_text(SUPPORT, text, user_id=user_id, first_name="Wang", language_code="zh-hans")
    (answer,) = await api.wait_for_messages(SUPPORT, 1, since=mark)
    return str(answer["text"])


def count(bot: Running, model: type) -> int:
    with bot.parts.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


async def test_an_incident_reaches_the_merchants_in_range_only_once_until_ended(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=False, title="POS support")
        api.set_chat_member(SUPPORT, STRANGER, status="left")
        async with running_bot(
            api, f"sqlite:///{tmp_path}/bot.sqlite3", Clock(), support_chat_id=SUPPORT
        ) as bot:
            assert "客服通知" not in await summary_of(api, IN_RANGE, "昨天下午3点")
            assert "客服通知" not in await summary_of(api, OUT_OF_RANGE, "11月18日 10:00")

            # Not a member of the group: refused, nothing stored.
            refused = await group_answer(
                api, f"/incident 2026-11-24 2026-11-24 {NOTICE}", user_id=STRANGER
            )
            assert "只有客服组成员" in refused
            # An impossible range: a clear answer, nothing stored.
            wrong = await group_answer(api, f"/incident 2026-11-24 12:00 2026-11-24 08:00 {NOTICE}")
            assert "结束时间必须晚于开始时间" in wrong
            assert "没有发布任何通知" in wrong
            assert count(bot, Incident) == 0

            # Posted: the group gets the number, the merchant in range one message.
            mark = api.mark()
            posted = await group_answer(
                api, f"/incident 2026-11-24 08:00 2026-11-24 18:00 {NOTICE}"
            )
            assert "#1" in posted
            assert "1 个待处理查询单" in posted
            (notice,) = await api.wait_for_messages(IN_RANGE, 1, since=mark)
            assert NOTICE in notice["text"]
            assert "PB-20261125-0001" in notice["text"]
            assert "2026年11月24日 08:00 至 18:00" in notice["text"]

            # Never twice: the notify step again, the same /incident again.
            assert bot.support.incidents.notify() == []
            again = await group_answer(api, f"/incident 2026-11-24 08:00 2026-11-24 18:00 {NOTICE}")
            assert "已经发布过" in again
            assert "#1" in again
            await asyncio.sleep(0.3)
            assert len(api.sent_messages(IN_RANGE, since=mark)) == 1
            assert api.sent_messages(OUT_OF_RANGE, since=mark) == []
            assert count(bot, Incident) == 1
            assert count(bot, IncidentNotice) == 1
            with bot.parts.db.transaction() as session:
                pending = session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status != "sent")
                )
            assert pending == 0

            # Summaries: in range shows the notice, out of range does not.
            later = await summary_of(api, LATER, "2026-11-24 09:30")
            assert "客服通知" in later
            assert NOTICE in later
            # A case opened after the incident was posted: its one message on the timer tick.
            mark = api.mark()
            await bot.support.run_due(bot.application.bot)
            (notice,) = await api.wait_for_messages(LATER, 1, since=mark)
            assert NOTICE in notice["text"]
            assert "PB-20261125-0003" in notice["text"]
            assert bot.support.incidents.notify() == []  # told: the next tick tells no one
            assert len(api.sent_messages(LATER, since=mark)) == 1
            assert len(api.sent_messages(IN_RANGE, since=mark)) == 0
            assert api.sent_messages(OUT_OF_RANGE, since=mark) == []
            assert count(bot, IncidentNotice) == 2
            (recheck,) = await step(api, "press", "x:missing", chat=OUT_OF_RANGE)
            assert "客服通知" not in recheck["text"]

            listing = await group_answer(api, "/incidents")
            assert "生效中的事件通知" in listing
            assert NOTICE in listing
            assert "已通知 2 个查询单" in listing

            # A stranger cannot end it either.
            assert "只有客服组成员" in await group_answer(api, "/incident end 1", user_id=STRANGER)
            ended = await group_answer(api, "/incident end 1")
            assert "#1 已结束" in ended
            (recheck,) = await step(api, "press", "x:missing", chat=LATER)
            assert "客服通知" not in recheck["text"]
            listing = await group_answer(api, "/incidents")
            assert "目前没有生效中的事件通知" in listing
            assert "最近 7 天结束的" in listing

            usage = await group_answer(api, "/incident")
            assert "用法：/incident 开始 结束 说明" in usage
