"""The real PTB Application, long polling a fake Bot API on loopback, driven like a merchant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.telegram_harness import CHAT, Step, buttons, running_bot, step
from tests.fake_bot_api import FakeBotApi


def intake(
    date: str = "昨天下午3点",
    card_type: str = "sale",
    terminal: str = "success",
    records: str = "success",
    received: str = "none",
    cycle: bool = True,
    bank: bool = False,
) -> list[Step]:
    steps: list[Step] = [
        ("say", "/start", 1),
        ("press", "x:begin", 1),
        ("say", date, 1),
        ("say", "1,280.50", 1),
        ("press", "a:method:card", 1),
        ("press", f"a:card_type:{card_type}", 1),
        ("press", f"a:terminal:{terminal}", 1),
        ("press", f"a:records:{records}", 1),
        ("press", f"a:received:{received}", 1),
        *([("press", "a:cycle:t1", 1)] if cycle else []),  # only where it can move a date
        # The bank only where the summary calls it (overdue); the acquirer's name and the
        # receipt keys are not asked for a card payment without a records lookup.
        *([("press", "a:bank:icbc", 1)] if bank else []),
        ("press", "a:account:none", 1),
    ]
    return steps


OUTCOMES = [
    ("A", {}, ["今天（2026年11月25日", "应到账日", "2026年11月26日"]),
    (
        "B",
        {"terminal": "failed", "records": "cantcheck", "cycle": False},
        ["POS机显示这笔交易失败", "不会有结算款"],
    ),
    (
        "C",
        {"terminal": "noresult", "records": "cantcheck", "cycle": False},
        ["交易结果还不确定", "不要直接重刷"],
    ),
    ("D", {"card_type": "preauth", "cycle": False}, ["预授权", "预授权完成"]),
    (
        "E",
        {"date": "11月18日 10:00", "bank": True},
        ["已超过应到账时间", "95588", "12363", "参考号最有用"],
    ),
    ("F", {"received": "partial"}, ["到账金额比交易金额少", "对账单"]),
]


@pytest.mark.parametrize(("outcome", "answers", "expected"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
async def test_each_outcome_is_reachable_in_telegram(
    tmp_path: Any, outcome: str, answers: dict[str, Any], expected: list[str]
) -> None:
    async with FakeBotApi() as api, running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3"):
        for kind, value, count in intake(**answers):
            await step(api, kind, value, count)
        review = api.sent_messages(CHAT)[-1]
        assert "x:confirm" in buttons(review)
        (summary,) = await step(api, "press", "x:confirm")
        assert summary["parse_mode"] == "HTML"
        assert "PB-20261125-0001" in summary["text"]
        for snippet in expected:
            assert snippet in summary["text"], (outcome, snippet, summary["text"])
        assert {"x:arrived", "x:missing", "x:person", "x:begin"} <= set(buttons(summary))
        assert ("x:followup" in buttons(summary)) is (outcome == "A")
        assert all(len(m["text"]) <= 4096 for m in api.sent_messages(CHAT))
        assert api.calls_to("answerCallbackQuery")
        assert api.calls[0].token == "123456:TEST"


async def test_english_merchant_gets_english(tmp_path: Any) -> None:
    async with FakeBotApi() as api, running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3"):
        (welcome,) = await step(api, "say", "/start", language_code="en")
        assert "can't" in welcome["text"] or "cannot" in welcome["text"]
        (question,) = await step(api, "press", "x:begin", language_code="en")
        assert "When" in question["text"] or "when" in question["text"]
        (switched,) = await step(api, "say", "/lang zh", language_code="en")
        assert "什么时候" in switched["text"]


async def test_bad_input_gets_an_answer(tmp_path: Any) -> None:
    async with FakeBotApi() as api, running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3"):
        await step(api, "say", "/start")
        await step(api, "press", "x:begin")
        (first,) = await step(api, "say", "asdf")
        (second,) = await step(api, "say", "asdf")
        assert first["text"] != second["text"]
        third, handed_over = await step(api, "say", "asdf", expect=2)
        assert "x:person" in buttons(third)
        assert "PB-20261125-0001" in handed_over["text"]
        (unknown,) = await step(api, "say", "/frobnicate")
        assert "/start" in unknown["text"]
        mark = api.mark()
        api.send_sticker(CHAT)
        (sticker,) = await api.wait_for_messages(CHAT, 1, since=mark)
        assert sticker["text"]
        (forged,) = (await step(api, "press", "a:account:none", expect=2))[:1]
        assert forged["text"]


async def test_restart_mid_intake_continues_where_the_merchant_was(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    steps = intake()
    async with FakeBotApi() as api:
        async with running_bot(api, url):
            for kind, value, count in steps[:7]:
                await step(api, kind, value, count)
        async with running_bot(api, url):
            for kind, value, count in steps[7:]:
                await step(api, kind, value, count)
            (summary,) = await step(api, "press", "x:confirm")
        assert "PB-20261125-0001" in summary["text"]
        assert "应到账日" in summary["text"]
