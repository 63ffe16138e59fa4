"""The acquirer's records answer in the conversation, through the real Application and the fake.

The records fake (bot/records/fake.py) runs in a thread with its own loop, as a remote system
would; the real PTB Application long-polls the fake Bot API. With [records] configured, the
intake asks for the reference number right after the date and amount; the lookup runs after that
turn is delivered and its answer is a turn of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.records.fake import FakeRecords
from bot.storage.models import Case
from flows.settlement_calendar import SHANGHAI
from tests.bot.conftest import Factory
from tests.bot.helpers import Clock
from tests.bot.records_server import SECTION, fake_records, serving
from tests.bot.telegram_harness import CHAT, buttons, running_bot, step
from tests.console_script import run_console
from tests.fake_bot_api import FakeBotApi

TOKEN = "tok-5ecret-Zq81"
#: Friday 2026-11-20: due (T+1) Monday 11-23, overdue after the 24th; "now" is the 25th.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)
DATE = "11月20日下午3点"
#: After the way of paying, the questions up to the acquirer (the records one is not here:
#: asked only where the records did not answer).
CARD = ["a:method:card", "a:card_type:sale", "a:terminal:success"]
AFTER_RECORDS = ["a:received:none", "a:cycle:t1", "a:bank:icbc", "a:account:none"]
#: When the payment cannot settle as usual (reversed, not listed), the cycle is not asked.
NO_DUE_DATE = [step for step in AFTER_RECORDS if not step.startswith("a:cycle:")]
SKIP_KEYS = ["a:terminal_id:skip", "a:merchant_id:skip", "a:voucher:skip"]


@pytest.fixture(scope="module")
def fake() -> FakeRecords:
    return fake_records(token=TOKEN)


@pytest.fixture(scope="module")
def records_url(fake: FakeRecords) -> Iterator[str]:
    with serving(fake) as url:
        yield url


@pytest.fixture(autouse=True)
def calm(fake: FakeRecords, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.switches.slow_s, fake.switches.fail, fake.switches.malformed = 0, False, False
    monkeypatch.setenv("POSBOT_RECORDS_TOKEN", TOKEN)


def deployment(tmp_path: Path, url: str, timeout: float = 2, extra: str = "") -> str:
    path = tmp_path / "deployment.toml"
    section = SECTION.format(url=url, timeout=timeout).replace(
        "[records.fields]", f'name = "Example Pay"\n{extra}\n[records.fields]'
    )
    path.write_text(section, encoding="utf-8")
    return str(path)


def bot(api: FakeBotApi, tmp_path: Path, url: str, **section: Any) -> Any:
    return running_bot(
        api,
        f"sqlite:///{tmp_path}/bot.sqlite3",
        Clock(NOW),
        deployment_file=deployment(tmp_path, url, **section),
    )


async def to_the_keys(api: FakeBotApi, chat: int = CHAT) -> dict[str, Any]:
    """Start, consent, date and amount: the keys question comes next (keys first)."""
    await step(api, "say", "/start", chat=chat)
    await step(api, "press", "x:begin", chat=chat)
    await step(api, "say", DATE, chat=chat)
    (question,) = await step(api, "say", "1280元", chat=chat)
    return question


async def press_all(api: FakeBotApi, data: list[str], chat: int = CHAT) -> list[dict[str, Any]]:
    asked: list[dict[str, Any]] = []
    for value in data:
        asked += await step(api, "press", value, chat=chat)
    return asked


async def until(condition: Callable[[], bool], limit_s: float = 30) -> None:
    """Wait for a lookup running after its turn was delivered (no reply says it ended)."""
    for _ in range(int(limit_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never happened")


def pressable(messages: list[dict[str, Any]]) -> list[str]:
    return [b for message in messages for b in buttons(message)]


async def test_found_success_gives_overdue_advice_without_the_records_question(
    tmp_path: Path, records_url: str, fake: FakeRecords, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    calls = fake.switches.calls
    async with FakeBotApi() as api, bot(api, tmp_path, records_url) as running:
        keys = await to_the_keys(api)
        assert "参考号" in keys["text"]
        assert "Example Pay" in keys["text"]
        method, shown = await step(api, "say", "123456789012", expect=2)
        assert "a:method:card" in buttons(method)
        assert "Example Pay的系统显示" in shown["text"]
        assert "交易成功" in shown["text"]
        asked = await press_all(api, CARD + AFTER_RECORDS)
        asked += await step(api, "say", "拉卡拉")
        asked += await press_all(api, SKIP_KEYS)
        assert not [b for b in pressable(asked) if b.startswith("a:records:")]
        (summary,) = await step(api, "press", "x:confirm")
        assert "已超过应到账时间" in summary["text"]  # E: overdue
        assert "依据：Example Pay的系统记录" in summary["text"]
        (detail,) = await step(api, "say", "/case PB-20261125-0001")
        assert "Example Pay的系统显示" in detail["text"]
        with running.parts.db.transaction() as session:
            case = session.scalars(select(Case)).one()
            assert case.facts["records_lookup"]["status"] == "success"
            assert case.outcome == "E"
    assert fake.switches.calls == calls + 1  # once per set of keys, however many turns follow
    assert TOKEN not in caplog.text


async def test_found_reversed_is_outcome_b_with_the_acquirers_reason(
    tmp_path: Path, records_url: str
) -> None:
    async with FakeBotApi() as api, bot(api, tmp_path, records_url):
        await to_the_keys(api)
        await step(api, "say", "223456789012", expect=2)
        asked = await press_all(api, CARD + NO_DUE_DATE)
        asked += await step(api, "say", "拉卡拉")
        asked += await press_all(api, SKIP_KEYS)
        assert not [b for b in pressable(asked) if b.startswith("a:records:")]
        (summary,) = await step(api, "press", "x:confirm")
        text = summary["text"]
        assert "Example Pay的系统显示这笔交易已冲正" in text
        assert "Reversed at 15:32: the terminal timed out waiting for the issuer" in text
        assert "不会产生结算款" in text


async def test_not_found_asks_to_check_the_keys(tmp_path: Path, records_url: str) -> None:
    async with FakeBotApi() as api, bot(api, tmp_path, records_url):
        await to_the_keys(api)
        method, shown, check = await step(api, "say", "999999999999", expect=3)
        assert "a:method:card" in buttons(method)
        assert "没有查到" in shown["text"]
        assert "999999999999" in shown["text"]
        assert "核对" in check["text"]
        assert "x:keys_ok" in buttons(check)
        (again,) = await step(api, "press", "x:keys_ok")
        assert "a:method:card" in buttons(again)  # back where the merchant was
        asked = await press_all(api, CARD)
        assert "a:records:missing" in buttons(asked[-1])  # not found: the merchant is asked
        await press_all(api, ["a:records:missing", *NO_DUE_DATE])
        await step(api, "say", "拉卡拉")
        await press_all(api, SKIP_KEYS)
        (summary,) = await step(api, "press", "x:confirm")
        assert "没有查到参考号为999999999999的交易" in summary["text"]
        assert "对照签购单核对" in summary["text"]


async def test_a_slow_system_is_announced_then_the_merchant_is_asked(
    tmp_path: Path, records_url: str, fake: FakeRecords
) -> None:
    fake.switches.slow_s = 4
    async with FakeBotApi() as api, bot(api, tmp_path, records_url, timeout=1.5):
        await to_the_keys(api)
        mark = api.mark()
        _method, checking = await step(api, "say", "123456789012", expect=2)
        assert "正在向Example Pay查询" in checking["text"]
        asked = await press_all(api, CARD)
        # The next turn was handled after the lookup gave up: the records question is asked.
        assert "a:records:success" in buttons(asked[-1])
        sent = [call.params["text"] for call in api.calls_to("sendMessage", mark)]
        assert sent.index(checking["text"]) < len(sent) - len(asked)
        assert not any("系统显示" in text for text in sent)


@pytest.mark.parametrize("switch", ["fail", "malformed"])
async def test_a_failing_or_malformed_system_falls_back_to_asking_and_logs_one_line(
    tmp_path: Path,
    records_url: str,
    fake: FakeRecords,
    caplog: pytest.LogCaptureFixture,
    switch: str,
) -> None:
    setattr(fake.switches, switch, True)
    caplog.set_level(logging.INFO)
    async with FakeBotApi() as api, bot(api, tmp_path, records_url):
        await to_the_keys(api)
        (_method,) = await step(api, "say", "123456789012")
        asked = await press_all(api, CARD)
        assert "a:records:success" in buttons(asked[-1])
    lines = [r.getMessage() for r in caplog.records if "records lookup" in r.getMessage()]
    kind = "server_error" if switch == "fail" else "bad_response"
    (line,) = lines
    assert f"unavailable: {kind}" in line
    assert TOKEN not in caplog.text


async def test_the_breaker_opens_after_failures_and_closes_when_the_system_answers(
    tmp_path: Path, records_url: str, fake: FakeRecords, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake.switches.fail = True
    seconds = [1000.0]
    extra = "breaker_failures = 2\nbreaker_cooldown_s = 60"
    async with FakeBotApi() as api, bot(api, tmp_path, records_url, extra=extra) as running:
        assert running.parts.records is not None
        running.parts.records.breaker.clock = lambda: seconds[0]
        breaker = running.parts.records.breaker
        for chat in (6001, 6002):  # two merchants meet the failing system
            await to_the_keys(api, chat)
            await step(api, "say", "123456789012", chat=chat)
            await until(lambda chat=chat: breaker.failures == chat - 6000)  # type: ignore[misc]
        calls = fake.switches.calls
        assert breaker.state == "open"
        await to_the_keys(api, 6003)  # open: not called, the merchant is asked
        await step(api, "say", "123456789012", chat=6003)
        asked = await press_all(api, CARD, chat=6003)
        assert "a:records:success" in buttons(asked[-1])
        assert fake.switches.calls == calls
        fake.switches.fail = False
        seconds[0] += 61  # the cooldown passed: one trial lookup goes out, and answers
        await to_the_keys(api, 6004)
        _, shown = await step(api, "say", "123456789012", expect=2, chat=6004)
        assert "Example Pay的系统显示" in shown["text"]
        assert breaker.state == "closed"
    messages = [r.getMessage() for r in caplog.records]
    assert any("not called for 60 s" in m for m in messages)
    assert "records lookup answering again" in messages
    assert TOKEN not in caplog.text


def test_the_terminal_chat_looks_the_records_up(
    tmp_path: Path, records_url: str, make_components: Factory
) -> None:
    parts = make_components(
        f"sqlite:///{tmp_path}/chat.sqlite3",
        Clock(NOW),
        deployment_file=deployment(tmp_path, records_url),
    )
    transcript = run_console(
        parts.service,
        [
            "1",
            DATE,
            "1280元",
            "123456789012",
            "1",
            "1",
            "1",
            "1",
            "1",
            "1",
            "1",
            "拉卡拉",
            "#1",
            "#1",
            "#1",
            "1",
        ],
        "en",
    )
    assert "Example Pay's system shows: successful" in transcript
    assert "Can you find this payment" not in transcript
    assert "(Based on Example Pay's system.)" in transcript
    assert "past the date it was due" in transcript
