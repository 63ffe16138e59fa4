"""Hand-off to people through the real Application: follow-up, escalation, relay, resolution.

A merchant private chat and a support supergroup (with and without forum topics) on the tests'
fake Bot API. Time moves by an injected clock; timers are fired with `run_due`, as the bot's own
loop would, including after a restart.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.storage.models import Case, CaseEvent
from flows.settlement_calendar import SHANGHAI
from tests.bot.helpers import Clock
from tests.bot.telegram_harness import CHAT, Running, buttons, running_bot, step
from tests.bot.test_telegram_e2e import intake
from tests.fake_bot_api import FakeBotApi

SUPPORT = -1001234
AGENT = 9001
STRANGER = 9002
CASE = "PB-20261125-0001"


async def agent_says(
    api: FakeBotApi, text: str, expect_merchant: int = 1, **kwargs: Any
) -> list[dict[str, Any]]:
    mark = api.mark()
    api.send_text(
        SUPPORT,
        text,
        user_id=kwargs.pop("user_id", AGENT),
        first_name="Wang",
        language_code="zh-hans",
        **kwargs,
    )
    return await api.wait_for_messages(CHAT, expect_merchant, since=mark)


async def message_with(api: FakeBotApi, chat: int, snippet: str, since: int) -> dict[str, Any]:
    """The first message to `chat` containing `snippet` (other notices may arrive around it)."""
    call = await api.wait_for_call(
        "sendMessage",
        lambda c: c.params.get("chat_id") == chat and snippet in str(c.params.get("text")),
        since=since,
    )
    return call.params


def card_message_id(api: FakeBotApi) -> int:
    """The id Telegram gave the case card (the bot's message carrying the Claim button)."""
    ids = [
        mid
        for (chat, mid), message in api.messages.items()
        if chat == SUPPORT and "s:claim:" in str(message.get("reply_markup"))
    ]
    assert ids, api.dump_calls()
    return ids[0]


async def fire_timers(bot: Running) -> int:
    return await bot.support.run_due(bot.application.bot)


def case_row(bot: Running) -> Case:
    with bot.parts.db.transaction() as session:
        case = session.scalars(select(Case).where(Case.number == CASE)).one()
        session.expunge(case)
        return case


async def test_follow_up_to_escalation_relay_resolution_and_rating_in_a_forum(
    tmp_path: Path,
) -> None:
    clock = Clock()
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=True, title="POS support")
        async with running_bot(api, url, clock, support_chat_id=SUPPORT) as bot:
            for kind, value, count in intake():
                await step(api, kind, value, count)
            (summary,) = await step(api, "press", "x:confirm")
            assert "x:followup" in buttons(summary)
            (ack,) = await step(api, "press", "x:followup")
            assert "2026年11月27日" in ack["text"]
            assert "10:00" in ack["text"]
            assert await fire_timers(bot) == 0  # not due yet
            assert case_row(bot).status == "waiting"

        # Restart; two days later the follow-up fires from the database.
        clock.now = datetime(2026, 11, 27, 10, 1, tzinfo=SHANGHAI)
        async with running_bot(api, url, clock, support_chat_id=SUPPORT) as bot:
            mark = api.mark()
            assert await fire_timers(bot) == 1
            (question,) = await api.wait_for_messages(CHAT, 1, since=mark)
            assert buttons(question) == [f"k:yes:{CASE}", f"k:no:{CASE}"]
            assert await fire_timers(bot) == 0  # fired once only

            still_missing = await step(api, "press", f"k:no:{CASE}", expect=2)
            assert "已超过应到账时间" in still_missing[0]["text"]
            assert "人工客服" in still_missing[1]["text"]
            assert "签购单照片" in still_missing[1]["text"]  # the keys nobody asked for yet

            topic = await api.wait_for_call("createForumTopic")
            assert topic.params["name"].startswith(CASE)
            (card,) = await api.wait_for_messages(SUPPORT, 1)
            thread = card["message_thread_id"]
            assert CASE in card["text"]
            assert "参考号：未提供" in card["text"]  # not asked on the way: the card says so
            assert case_row(bot).status == "escalated"

            # An agent writes in the topic: relayed to the merchant, case claimed.
            (relayed,) = await agent_says(
                api, "您好，我们正在向收单机构核实。", message_thread_id=thread
            )
            assert "Wang" in relayed["text"]
            assert "正在向收单机构核实" in relayed["text"]
            assert case_row(bot).status == "assigned"
            assert case_row(bot).owner_id == AGENT
            rename = await api.wait_for_call("editForumTopic")
            assert rename.params["name"].startswith(CASE)

            # The merchant answers: relayed into the topic.
            mark = api.mark()
            (ack,) = await step(api, "say", "好的，谢谢")
            assert CASE in ack["text"]
            relay = await message_with(api, SUPPORT, "好的，谢谢", mark)
            assert relay["message_thread_id"] == thread

            # Resolve with a note; the merchant is told and rates.
            resolved = await agent_says(
                api, "/resolve 收单机构已重新出款", expect_merchant=2, message_thread_id=thread
            )
            assert "收单机构已重新出款" in resolved[0]["text"]
            assert f"k:rate:{CASE}:5" in buttons(resolved[1])
            (thanks,) = await step(api, "press", f"k:rate:{CASE}:5")
            assert "5/5" in thanks["text"]
            assert case_row(bot).rating == 5
            (again,) = await step(api, "press", f"k:rate:{CASE}:1")  # second rating refused
            assert case_row(bot).rating == 5
            assert again["text"]

            # Stats in the group.
            mark = api.mark()
            api.send_text(SUPPORT, "/stats", user_id=AGENT)
            stats = await message_with(api, SUPPORT, "查询单统计", mark)
            assert "已解决 1" in stats["text"]

            with bot.parts.db.transaction() as session:
                audit = [
                    (e.source, e.dest, e.actor)
                    for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id))
                ]
            assert [a[:2] for a in audit] == [
                ("draft", "open"),
                ("open", "waiting"),
                ("waiting", "escalated"),
                ("escalated", "assigned"),
                ("assigned", "resolved"),
            ]
            assert audit[3][2] == f"agent:{AGENT}"


async def test_person_request_card_buttons_authority_and_sla_without_topics(
    tmp_path: Path,
) -> None:
    clock = Clock()
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=False, title="POS support")
        api.set_chat_member(SUPPORT, STRANGER, status="left")
        async with running_bot(
            api, url, clock, support_chat_id=SUPPORT, sla_unclaimed_minutes=30
        ) as bot:
            await step(api, "say", "/start")
            (told,) = await step(api, "press", "x:person")
            assert "09:00-21:00" in told["text"]
            (card,) = await api.wait_for_messages(SUPPORT, 1)
            assert not api.calls_to("createForumTopic")
            assert "s:claim:1" in buttons(card)
            card_id = card_message_id(api)

            # SLA: unclaimed for 31 minutes -> a reminder in the group.
            clock.now += timedelta(minutes=31)
            mark = api.mark()
            assert await fire_timers(bot) == 1
            reminder = await message_with(api, SUPPORT, "⏰", mark)
            assert "30" in reminder["text"]

            # A stranger presses Claim: refused, nothing changes.
            mark = api.mark()
            api.press(SUPPORT, "s:claim:1", message_id=card_id, user_id=STRANGER)
            refusal = await api.wait_for_call("answerCallbackQuery", since=mark)
            assert refusal.params.get("show_alert") is True
            assert case_row(bot).status == "escalated"

            # Forged data (another case id, a digit int() refuses) and an unknown verb are
            # refused as stale.
            for forged in ("s:claim:999", "s:claim:²", "s:delete:1"):
                mark = api.mark()
                api.press(SUPPORT, forged, message_id=card_id, user_id=AGENT)
                await api.wait_for_call("answerCallbackQuery", since=mark)
            assert case_row(bot).status == "escalated"

            # The agent claims with the button, then answers by replying to the card.
            mark = api.mark()
            api.press(SUPPORT, "s:claim:1", message_id=card_id, user_id=AGENT)
            done = await api.wait_for_call("answerCallbackQuery", since=mark)
            assert case_row(bot).status == "assigned", done.params
            (relayed,) = await agent_says(api, "请发一张签购单照片", reply_to_message_id=card_id)
            assert "签购单照片" in relayed["text"]

            # A stranger's reply is refused and never reaches the merchant.
            mark = api.mark()
            api.send_text(SUPPORT, "hello", user_id=STRANGER, reply_to_message_id=card_id)
            await api.wait_for_messages(SUPPORT, 1, since=mark)
            assert not api.sent_messages(CHAT, since=mark)

            # Resolve, then a reply to the closed case is refused with a notice.
            mark = api.mark()
            api.press(SUPPORT, "s:resolve:1", message_id=card_id, user_id=AGENT)
            await api.wait_for_messages(CHAT, 2, since=mark)
            mark = api.mark()
            api.send_text(SUPPORT, "还有问题吗", user_id=AGENT, reply_to_message_id=card_id)
            await message_with(api, SUPPORT, "没有转发给商户", mark)
            assert not api.sent_messages(CHAT, since=mark)

            # The merchant writes again within 7 days: the case reopens instead of a new one.
            mark = api.mark()
            (reopened,) = await step(api, "say", "钱还是没到")
            assert "重新打开" in reopened["text"]
            assert case_row(bot).status == "escalated"  # reopened, and back with people

            # /status shows the merchant their own cases only; /case of another's is refused.
            (status,) = await step(api, "say", "/status")
            assert CASE in status["text"]
            (other,) = await step(api, "say", "/case PB-20261125-0002")
            assert "PB-20261125-0002" in other["text"]
            # /case without a number lists them, as /status does (no "case “” not found").
            (bare,) = await step(api, "say", "/case")
            assert bare["text"] == status["text"]


async def test_blocked_merchant_is_marked_and_support_told(tmp_path: Path) -> None:
    clock = Clock()
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=False)
        async with running_bot(api, url, clock, support_chat_id=SUPPORT) as bot:
            await step(api, "say", "/start")
            await step(api, "press", "x:person")
            await api.wait_for_messages(SUPPORT, 1)
            card_id = card_message_id(api)
            api.fail_next(
                "sendMessage",
                status=403,
                description="Forbidden: bot was blocked by the user",
                retry_after=None,
            )
            mark = api.mark()
            api.send_text(SUPPORT, "您好", user_id=AGENT, reply_to_message_id=card_id)
            await message_with(api, SUPPORT, "屏蔽", mark)
            assert case_row(bot).merchant_unreachable is True


AGENT_2 = 9003


async def test_large_amount_duplicates_ask_reassign_photo_and_reply_sla(tmp_path: Path) -> None:
    clock = Clock()
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=False)
        async with running_bot(
            api, url, clock, support_chat_id=SUPPORT, escalation_amount="50000", sla_reply_hours=4
        ) as bot:
            steps = intake()
            steps[3] = ("say", "6万元", 1)
            for kind, value, count in steps:
                await step(api, kind, value, count)
            summary, handed_over = await step(api, "press", "x:confirm", expect=2)
            assert "¥60,000.00" in summary["text"]
            assert "金额较大" in handed_over["text"]
            card = await message_with(api, SUPPORT, "金额超过阈值", 0)
            assert "s:claim:1" in buttons(card)
            card_id = card_message_id(api)

            # The same payment reported again: flagged to the merchant and to support.
            mark = api.mark()
            await step(api, "press", "x:begin")
            for kind, value, count in steps[2:]:
                await step(api, kind, value, count)
            replies = await step(api, "press", "x:confirm", expect=3)
            assert any(
                CASE in m["text"] and "PB-20261125-0002" not in m["text"] for m in replies[2:]
            )
            await message_with(api, SUPPORT, "可能与 " + CASE, mark)

            # Claim by one agent, take over by another (reassign), both by command.
            for agent in (AGENT, AGENT_2):
                mark = api.mark()
                await agent_says(
                    api, "/claim", expect_merchant=0, reply_to_message_id=card_id, user_id=agent
                )
                await message_with(api, SUPPORT, "处理中", mark)
            with bot.parts.db.transaction() as session:
                first = session.scalars(select(Case).where(Case.number == CASE)).one()
                assert (first.status, first.owner_id) == ("assigned", AGENT_2)

            # /ask reaches the merchant; a photo from the merchant reaches the card's thread.
            (asked,) = await agent_says(
                api, "/ask 请拍一张签购单", reply_to_message_id=card_id, user_id=AGENT_2
            )
            assert "请拍一张签购单" in asked["text"]
            mark = api.mark()
            api.send_photo(CHAT, "photo-1")
            photo = await api.wait_for_call("sendPhoto", since=mark)
            assert photo.params["chat_id"] == SUPPORT
            assert photo.params["photo"] == "photo-1"

            # The merchant waits more than 4 hours for an answer: support is reminded.
            clock.now += timedelta(hours=4, minutes=1)
            mark = api.mark()
            assert await fire_timers(bot) >= 1
            await message_with(api, SUPPORT, "4", mark)

            # /cases lists the open cases with owner and age.
            mark = api.mark()
            api.send_text(SUPPORT, "/cases", user_id=AGENT)
            cases = await message_with(api, SUPPORT, "待处理查询单", mark)
            assert CASE in cases["text"]
            assert "4小时" in cases["text"]


async def test_support_is_not_told_of_cases_it_never_had(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/q.sqlite3", Clock(), support_chat_id=SUPPORT),
    ):
        for kind, value, count in intake():
            await step(api, kind, value, count)
        await step(api, "press", "x:confirm")
        (arrived,) = await step(api, "press", "x:arrived")
        assert "PB-20261125-0001" in arrived["text"]
        assert f"k:rate:{CASE}:5" in buttons(arrived)
        await asyncio.sleep(0.2)
        assert api.sent_messages(SUPPORT) == []
