"""A merchant types their story in Telegram (the real Application on the fake Bot API) and in
`posbot chat`: "this is what I understood", consent, only the open questions, the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.storage.models import Case, Conversation, TranscriptLine
from tests.bot.conftest import Factory
from tests.bot.telegram_harness import CHAT, Running, buttons, running_bot, step
from tests.console_script import run_console
from tests.fake_bot_api import FakeBotApi

SUPPORT = -1001234
STORY = "我昨天下午刷了一笔5000块的，到现在还没到账，怎么回事"
#: What is still open after that story: everything but the date, amount, method and arrival.
OPEN = [
    "a:card_type:sale",
    "a:terminal:success",
    "a:records:success",
    "a:cycle:t1",
    "a:account:none",  # not due yet, a card payment: no bank, acquirer or receipt keys
]


def stored(bot: Running) -> dict[str, Any]:
    with bot.parts.db.transaction() as session:
        row = session.scalars(select(Conversation).where(Conversation.chat_id == CHAT)).one()
        return {
            "answers": dict(row.answers or {}),
            "consented_at": row.consented_at,
            "state": row.state,
            "transcript": session.scalar(select(func.count()).select_from(TranscriptLine)),
            "cases": session.scalar(select(func.count()).select_from(Case)),
        }


async def test_the_story_after_start_is_understood_agreed_and_summarized(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await step(api, "say", "/start")
        (understood,) = await step(api, "say", STORY)
        text = understood["text"]
        assert "我是这样理解的" in text
        for shown in ("2026年11月24日", "¥5,000.00", "银行卡", "一分都没到"):
            assert shown in text, shown
        assert "隐私说明" in text
        assert "同意并继续" in text
        assert buttons(understood)[0] == "x:slip_ok"
        # Read in memory only: no transcript line, no consent, no case yet.
        before = stored(bot)
        assert before["consented_at"] is None
        assert before["transcript"] == 0
        assert before["cases"] == 0

        (question,) = await step(api, "press", "x:slip_ok")
        assert "a:card_type:sale" in buttons(question)  # the first question still open
        asked = [question]
        for data in OPEN:
            asked += await step(api, "press", data)
        review = asked[-1]
        assert "x:confirm" in buttons(review)
        (summary,) = await step(api, "press", "x:confirm")
        assert "PB-20261125-0001" in summary["text"]
        assert "¥5,000.00" in summary["text"]
        # Never asked again: the date, the amount, the method, what arrived.
        offered = {b.split(":")[1] for m in asked for b in buttons(m) if b.startswith("a:")}
        assert offered.isdisjoint({"when", "amount", "method", "received"})
        after = stored(bot)
        assert after["consented_at"] is not None
        assert after["cases"] == 1


async def test_declining_keeps_nothing(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await step(api, "say", "/start")
        await step(api, "say", STORY)
        goodbye, welcome = await step(api, "press", "x:slip_no", expect=2)
        assert "没有保存" in goodbye["text"]
        assert "x:begin" in buttons(welcome)
        after = stored(bot)
        assert after["answers"] == {}
        assert after["consented_at"] is None
        assert after["transcript"] == 0
        assert after["cases"] == 0
        assert after["state"] == "idle"


async def test_a_story_at_a_question_and_a_pasted_bank_sms(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await step(api, "say", "/start")
        await step(api, "press", "x:begin")
        await step(api, "say", "昨天下午3点")
        (understood,) = await step(api, "say", "5000，工行卡")
        assert "我是这样理解的" in understood["text"]
        assert "中国工商银行" in understood["text"] or "工商银行" in understood["text"]
        assert "隐私说明" not in understood["text"]  # consent was given with Start
        (method,) = await step(api, "press", "x:slip_ok")
        assert "a:method:card" in buttons(method)
        for data in ("a:method:card", "a:card_type:sale", "a:terminal:success"):
            await step(api, "press", data)
        (received,) = await step(api, "press", "a:records:success")
        assert "a:received:none" in buttons(received)
        (sms,) = await step(api, "say", "您尾号1234的账户11月24日入账4,970.00元")
        assert "¥4,970.00" in sms["text"]
        (cycle,) = await step(api, "press", "x:slip_ok")
        assert "a:cycle:t1" in buttons(cycle)
        answers = stored(bot)["answers"]
        assert answers["amount"] == "5000.00"
        assert answers["bank"] == {"code": "icbc"}
        assert answers["received"] == "partial"
        assert answers["received_amount"] == "4970.00"
        assert answers["received_day"] == "2026-11-24"
        assert stored(bot)["transcript"] >= 2  # after consent the chat is kept as before


def test_the_console_reads_the_story_too(tmp_path: Path, make_components: Factory) -> None:
    parts = make_components(f"sqlite:///{tmp_path}/chat.sqlite3")
    # Agree (button 1), then the first choice of each open question; acquirer and the
    # receipt keys by their Skip / No receipt buttons; confirm the review.
    script = [STORY, "1", "1", "1", "1", "1", "1", "1", "#1", "#2", "1"]
    transcript = run_console(parts.service, script, "zh")
    assert "我是这样理解的" in transcript
    assert "同意并继续" in transcript
    assert "PB-20261125-0001" in transcript, transcript[-2000:]


async def test_a_photo_before_consent_is_neither_read_nor_kept(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await step(api, "say", "/start")
        await step(api, "say", STORY)
        mark = api.mark()
        api.send_photo(CHAT, "early-1", data=b"\xff\xd8 a jpeg")
        (notice,) = await api.wait_for_messages(CHAT, 1, since=mark)
        assert "开始排查" in notice["text"]
        assert api.calls_to("getFile") == []
        with bot.parts.db.transaction() as session:
            row = session.scalars(select(Conversation).where(Conversation.chat_id == CHAT)).one()
            assert not row.photo_file_ids


async def test_back_after_the_story_goes_to_questions_shown_then_to_the_story(
    tmp_path: Path,
) -> None:
    """Back twice after Agree: the previous question shown (its number again), then the story's
    "this is what I understood" (kept across updates in the row's asked record), never the way
    of paying or the amount the story gave."""
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await step(api, "say", "/start")
        await step(api, "say", STORY)
        (first,) = await step(api, "press", "x:slip_ok")
        assert "a:card_type:sale" in buttons(first)
        assert "1." in first["text"]
        (second,) = await step(api, "press", "a:card_type:sale")
        assert "a:terminal:success" in buttons(second)
        assert "2." in second["text"]
        (again,) = await step(api, "press", "x:back")
        assert "a:card_type:sale" in buttons(again)
        assert "1." in again["text"]
        (story,) = await step(api, "press", "x:back")
        assert "我是这样理解的" in story["text"]
        assert "¥5,000.00" in story["text"]
        assert "同意并继续" not in story["text"]  # consent was given: no second privacy notice
        assert stored(bot)["state"] == "confirming_slip"
        (resumed,) = await step(api, "press", "x:slip_ok")
        # The card type keeps its answer: the first question still open is the terminal, 2.
        assert "a:terminal:success" in buttons(resumed)
        assert "2." in resumed["text"]


async def _summarized(api: FakeBotApi) -> dict[str, Any]:
    await step(api, "say", "/start")
    await step(api, "say", STORY)
    await step(api, "press", "x:slip_ok")
    for data in OPEN:
        await step(api, "press", data)
    (summary,) = await step(api, "press", "x:confirm")
    return summary


def case_status(bot: Running) -> str:
    with bot.parts.db.transaction() as session:
        return session.scalars(select(Case.status)).one()


async def test_noted_at_the_summary_is_asked_not_taken_as_arrived(tmp_path: Path) -> None:
    """A "收到" is a chat's "noted" as often as "the money came": the bot asks which."""
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await _summarized(api)
        opened = case_status(bot)
        (asked,) = await step(api, "say", "收到了")
        assert "钱已经到账" in asked["text"], asked["text"]
        assert buttons(asked) == ["x:arrived", "x:missing"]
        assert case_status(bot) == opened
        (question,) = await step(api, "say", "钱到了吗？")  # asked, not told
        assert "看不到" in question["text"], question["text"]
        assert buttons(question) == ["x:arrived", "x:missing"]
        assert case_status(bot) == opened
        (thanks,) = await step(api, "say", "ok got it, thanks")  # small talk: a hint
        assert "已标记为解决" not in thanks["text"]
        assert case_status(bot) == opened
        (arrived,) = await step(api, "press", "x:arrived")
        assert "已标记为解决" in arrived["text"]
        assert case_status(bot) == "resolved"


async def test_small_talk_after_resolution_does_not_reopen_the_case(tmp_path: Path) -> None:
    """Thanks or a greeting on a resolved case says how to reopen it; "still missing" does."""
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3", support_chat_id=SUPPORT) as bot,
    ):
        await _summarized(api)
        await step(api, "press", "x:arrived")
        mark = api.mark()
        for text in ("谢谢", "你好", "收到", "👍"):
            (reply,) = await step(api, "say", text)
            assert "PB-20261125-0001" in reply["text"], (text, reply["text"])
            assert "重新打开" not in reply["text"] or "还是没到账" in reply["text"], reply["text"]
            assert case_status(bot) == "resolved", text
        assert not api.sent_messages(SUPPORT, since=mark), "support was told of small talk"
        (reopened,) = await step(api, "say", "还是没到账")
        assert "已重新打开" in reopened["text"]
        assert case_status(bot) != "resolved"
        assert await api.wait_for_messages(SUPPORT, 1, since=mark), "support was not told"


async def test_a_typed_correction_updates_what_was_understood(tmp_path: Path) -> None:
    """At "this is what I understood", "金额不对，是5800" corrects the amount shown."""
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3"),
    ):
        await step(api, "say", "/start")
        (understood,) = await step(api, "say", STORY)
        assert "¥5,000.00" in understood["text"]
        (corrected,) = await step(api, "say", "金额不对，是5800")
        assert "¥5,800.00" in corrected["text"], corrected["text"]
        assert "¥5,000.00" not in corrected["text"]
        assert buttons(corrected)[0] == "x:slip_ok"
