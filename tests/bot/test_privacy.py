"""Sensitive data never stored or logged; /forget and purge erase what identifies a merchant."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from bot.conversation.privacy import parse_age, purge
from bot.storage.models import Case, Conversation, TranscriptLine
from tests.bot.helpers import Clock, written_logs
from tests.bot.telegram_harness import buttons, running_bot, step
from tests.bot.test_telegram_e2e import intake
from tests.fake_bot_api import FakeBotApi

SUPPORT = -1001234
SECRETS = {
    "card": "6222 0212 3456 7890 123",
    "card_dashes": "4392-2500-1234-5678",
    "id": "11010519491231002X",
    "mobile": "138 1234 5678",
    "code": "384912",
    "password": "Abc12345",
    "account": "6217000010012345678",
}
MESSAGES = [
    f"我的卡号是{SECRETS['card']}，帮我查一下",
    f"card {SECRETS['card_dashes']} exp 12/28",
    f"身份证{SECRETS['id']}",
    f"电话 {SECRETS['mobile']} 联系我",
    f"客服让我说验证码是 {SECRETS['code']}",
    f"我的密码：{SECRETS['password']}",
    f"结算账号 {SECRETS['account']}",
]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def dump_database(url: str) -> list[str]:
    """Every stored value of every table, as text."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    values: list[str] = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                values.extend(str(value) for value in row)
    engine.dispose()
    return values


def assert_no_secret(values: list[str], where: str) -> None:
    for name, secret in SECRETS.items():
        for value in values:
            assert secret not in value, f"{name} found in {where}: {value[:200]}"
            digits = _digits(secret)
            if len(digits) >= 6:
                assert digits not in _digits(value), f"{name} digits found in {where}"


async def test_a_conversation_full_of_secrets_leaves_none_in_the_database_or_logs(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    with written_logs() as logs:
        async with FakeBotApi() as api:
            api.set_chat(SUPPORT, is_forum=True)
            async with running_bot(api, url, Clock(), support_chat_id=SUPPORT):
                await step(api, "say", "/start")
                for message in MESSAGES[:2]:  # before the intake
                    warning, _ = await step(api, "say", message, expect=2)
                    assert "⚠️" in warning["text"]
                steps = intake()
                for index, (kind, value, count) in enumerate(steps):
                    await step(api, kind, value, count)
                    if index in (3, 9):  # at the amount and the account questions
                        for message in MESSAGES[2:5]:
                            await step(api, "say", message, expect=2)
                await step(api, "press", "x:confirm")
                await step(api, "press", "x:person")  # escalated: messages now go to support too
                await api.wait_for_call("createForumTopic")
                for message in MESSAGES:
                    replies = await step(api, "say", message, expect=2)
                    assert any("⚠️" in reply["text"] for reply in replies)
                secret_warning = (await step(api, "say", MESSAGES[4], expect=2))[0]
                assert "诈骗" in secret_warning["text"]
                deleted = api.calls_to("deleteMessage")
                assert len(deleted) >= len(MESSAGES) * 2
            outgoing = [str(call.params) for call in api.calls]
    assert_no_secret(dump_database(url), "the database")
    assert "Call to Bot API endpoint" in logs.getvalue()  # PTB's DEBUG lines carry the texts
    assert_no_secret([logs.getvalue()], "the logs")
    assert_no_secret(outgoing, "messages the bot sent (including relays to support)")


async def test_a_merchant_number_is_accepted_where_it_is_asked(tmp_path: Path) -> None:
    async with FakeBotApi() as api, running_bot(api, f"sqlite:///{tmp_path}/b.sqlite3"):
        for kind, value, count in [*intake(), ("press", "c:merchant_id", 1)]:
            await step(api, kind, value, count)  # not asked on the way: added on the review
        (review,) = await step(api, "say", "102100058120001")  # 15 digits, like a card
        assert "102100058120001" in review["text"]
        assert not api.calls_to("deleteMessage")


async def test_forget_erases_the_merchant_after_confirmation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    async with FakeBotApi() as api, running_bot(api, url, Clock()) as bot:
        for kind, value, count in intake():
            await step(api, kind, value, count)
        await step(api, "press", "x:confirm")
        await step(api, "say", "还有问题")
        (confirm,) = await step(api, "say", "/forget")
        assert buttons(confirm) == ["g:yes", "g:no"]
        (kept,) = await step(api, "press", "g:no")
        assert "没有删除" in kept["text"]
        with bot.parts.db.transaction() as session:
            assert session.scalars(select(Case)).one().facts
        await step(api, "say", "/forget")
        (done,) = await step(api, "press", "g:yes")
        assert "1" in done["text"]
        with bot.parts.db.transaction() as session:
            case = session.scalars(select(Case)).one()
            assert (case.chat_id, case.facts, case.reference) == (0, {}, None)
            assert case.outcome == "A"  # the anonymised count stays
            assert session.scalars(select(TranscriptLine)).all() == []
            row = session.scalars(select(Conversation)).one()
            assert (row.state, row.answers, row.consented_at) == ("idle", {}, None)
        (status,) = await step(api, "say", "/status")
        assert "PB-" not in status["text"]


def test_purge_removes_old_personal_data(tmp_path: Path, make_components: Any) -> None:
    from bot.conversation.messages import ChatRef, Incoming

    clock = Clock()
    parts = make_components(f"sqlite:///{tmp_path}/p.sqlite3", clock)
    chat = ChatRef("telegram", 7, 7, "zh")
    for incoming in [
        Incoming("command", command="start"),
        Incoming("button", text="x:person"),
        Incoming("text", text="在吗"),
    ]:
        parts.service.handle(chat, incoming)
    with parts.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        case.status = "resolved"
    clock.now += timedelta(days=200)
    with parts.db.transaction() as session:
        report = purge(session, timedelta(days=180), clock.now)
    assert (report.transcript_lines, report.cases, report.conversations) == (1, 1, 1)
    with parts.db.transaction() as session:
        assert session.scalars(select(Case)).one().chat_id == 0
        assert session.scalars(select(TranscriptLine)).all() == []
    with parts.db.transaction() as session:
        again = purge(session, timedelta(days=180), clock.now)
    assert again.cases == 0


@pytest.mark.parametrize(
    ("text", "age"),
    [("180d", timedelta(days=180)), ("12h", timedelta(hours=12)), ("30", timedelta(30))],
)
def test_parse_age(text: str, age: timedelta) -> None:
    assert parse_age(text) == age


@pytest.mark.parametrize("bad", ["", "abc", "-5d", "0d", "5y", "²d", "²"])
def test_parse_age_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="not an age"):
        parse_age(bad)


def test_log_lines_and_tracebacks_are_redacted_and_records_left_intact() -> None:
    logger = logging.getLogger("posbot.test")
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    logger.addHandler(keep)
    try:
        with written_logs(logging.INFO) as logs:
            logger.info("merchant said %s", "卡号 6222021234567890123 手机 13812345678")
            try:
                raise ValueError("bad card 6222021234567890123")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeHandler(keep)
    text = logs.getvalue()
    assert "6222021234567890123" not in text
    assert "13812345678" not in text
    assert "0123" in text
    assert "Traceback" in text
    # Other handlers (uvicorn's access formatter unpacks args) get the record as it was made.
    assert seen[0].args == ("卡号 6222021234567890123 手机 13812345678",)
    assert seen[1].exc_info is not None


def test_posbot_purge_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.ops.cli import main

    env = {"POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/c.sqlite3"}
    result = CliRunner().invoke(main, ["purge", "--older-than", "30d"], env=env)
    assert result.exit_code == 0, result.output
    assert "purged: 0 transcript lines" in result.output
    bad = CliRunner().invoke(main, ["purge", "--older-than", "soon"], env=env)
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
