""" "Still missing" up to the bank's hotline in Telegram: the bank never asked on the way is
asked at that rung, and the step gives the hotline from the bank directory; the case keeps
the bank."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flows.callbacks import Action, Answer, CaseReply, encode
from flows.settlement_calendar import SHANGHAI
from tests.bot.helpers import Clock
from tests.bot.telegram_harness import CHAT, running_bot, step
from tests.bot.test_support_e2e import CASE, case_row, fire_timers
from tests.bot.test_telegram_e2e import intake
from tests.fake_bot_api import FakeBotApi


async def test_the_bank_is_asked_at_the_bank_rung_and_its_hotline_given(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3", Clock()) as bot,
    ):
        for kind, value, count in intake():  # not due yet: the bank is not asked on the way
            await step(api, kind, value, count)
        (summary,) = await step(api, "press", encode(Action("confirm")))
        assert "95588" not in summary["text"]
        texts = []
        for _ in range(4):
            (reply,) = await step(api, "press", encode(Action("missing")))
            texts.append(reply["text"])
            if "客服号码" in reply["text"]:
                break
        assert "客服号码" in texts[-1], texts  # the bank question, at the bank rung
        assert "卡背面" not in "".join(texts)  # never the step without the number
        (rung,) = await step(api, "press", encode(Answer("bank", "icbc")))
        assert "95588" in rung["text"]
        assert case_row(bot).facts["bank"] == {"code": "icbc"}
        assert case_row(bot).ladder[-1] == "bank_hotline"


async def test_at_the_follow_up_the_bank_rung_asks_the_bank_too(tmp_path: Path) -> None:
    clock = Clock()
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3", clock) as bot,
    ):
        for kind, value, count in intake():
            await step(api, kind, value, count)
        await step(api, "press", encode(Action("confirm")))
        await step(api, "press", encode(Action("followup")))
        clock.now = datetime(2026, 11, 27, 10, 1, tzinfo=SHANGHAI)
        mark = api.mark()
        assert await fire_timers(bot) == 1
        await api.wait_for_messages(CHAT, 1, since=mark)
        replies = await step(api, "press", encode(CaseReply("no", CASE)), expect=2)
        texts = [replies[0]["text"]]
        for _ in range(4):
            if "客服号码" in texts[-1]:
                break
            (reply,) = await step(api, "press", encode(CaseReply("next", CASE)))
            texts.append(reply["text"])
        assert "客服号码" in texts[-1], texts
        (rung,) = await step(api, "press", encode(Answer("bank", "icbc")))
        assert "95588" in rung["text"]
        assert case_row(bot).facts["bank"] == {"code": "icbc"}
