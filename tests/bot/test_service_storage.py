"""The service on a real database: state saved every step, restarts continue, cases numbered."""

from __future__ import annotations

from datetime import UTC, date

from sqlalchemy import func, select

from bot.conversation.messages import ChatRef, Incoming
from bot.storage.models import Case, Conversation, OutboxMessage
from tests.bot.conftest import Factory
from tests.bot.helpers import Clock

CHAT = ChatRef("telegram", 42, 42, "zh-hans")
STEPS = [
    Incoming("command", command="start"),
    Incoming("button", text="x:begin"),
    Incoming("text", text="昨天下午3点"),
    Incoming("text", text="1,280.50"),
    Incoming("button", text="a:method:card"),
    Incoming("button", text="a:card_type:sale"),
    Incoming("button", text="a:terminal:success"),
    Incoming("button", text="a:records:success"),
    Incoming("button", text="a:received:none"),
    Incoming("button", text="a:cycle:t1"),
    # Not due yet, a card payment: neither the bank nor the acquirer nor the keys are asked.
    Incoming("button", text="a:account:none"),
]


def test_state_is_saved_after_every_step_and_survives_a_restart(
    database_url: str, make_components: Factory
) -> None:
    first = make_components(database_url)
    for step in STEPS[:6]:
        first.service.handle(CHAT, step)
    with first.db.transaction() as session:
        row = session.scalars(select(Conversation)).one()
        assert row.state == "asking_terminal"
        assert row.answers["amount"] == "1280.50"
        assert row.consented_at is not None
        assert row.consented_at.tzinfo is not None

    first.db.dispose()

    second = make_components(database_url)  # a new process on the same database
    for step in STEPS[6:]:
        second.service.handle(CHAT, step)
    review = second.service.handle(CHAT, Incoming("button", text="x:confirm")).messages
    assert "PB-20261125-0001" in review[0].text
    with second.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.number == "PB-20261125-0001"
        assert case.outcome == "A"
        assert case.due_date == date(2026, 11, 25)
        assert case.amount == 1280.50
        assert case.overdue_after is not None
        assert case.overdue_after.tzinfo == UTC


def test_case_numbers_count_per_day(database_url: str, make_components: Factory) -> None:
    clock = Clock()
    parts = make_components(database_url, clock)
    numbers = []
    for chat_id in (1, 2, 3):
        chat = ChatRef("telegram", chat_id, chat_id, "en")
        for step in STEPS:
            parts.service.handle(chat, step)
        text = parts.service.handle(chat, Incoming("button", text="x:confirm")).messages[0].text
        numbers.append(text.split("PB-")[1][:13])
    assert numbers == ["20261125-0001", "20261125-0002", "20261125-0003"]
    with parts.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 3
        assert session.scalar(select(func.count()).select_from(Conversation)) == 3


def test_locale_follows_language_code_and_lang_command(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    english = parts.service.handle(
        ChatRef("telegram", 7, 7, "en-GB"), Incoming("command", command="start")
    ).messages
    assert "Start" in english[0].keyboard[0][0][0]
    chinese = parts.service.handle(
        ChatRef("telegram", 8, 8, "zh-hans"), Incoming("command", command="start")
    ).messages
    assert "开始" in chinese[0].keyboard[0][0][0]
    switched = parts.service.handle(
        ChatRef("telegram", 8, 8, "zh-hans"), Incoming("command", text="en", command="lang")
    ).messages
    assert "Start" in switched[0].keyboard[0][0][0]


def test_bad_input_never_goes_silent(database_url: str, make_components: Factory) -> None:
    parts = make_components(database_url)
    for incoming in (
        Incoming("text", text="hello?"),
        Incoming("other"),
        Incoming("command", command="frobnicate"),
        Incoming("button", text="forged:data"),
        Incoming("photo", file_id="F1"),
    ):
        replies = parts.service.handle(CHAT, incoming).messages
        assert replies
        assert all(r.text for r in replies)


async def test_an_update_handled_twice_takes_effect_once(
    database_url: str, make_components: Factory
) -> None:
    """A polling bot fetches an update again after a crash (its offset was not confirmed), or a
    retry follows a commit whose answer was lost: the second run changes nothing."""
    parts = make_components(database_url)
    await parts.service.handle_update(CHAT, STEPS[0], update_id=900)
    first = await parts.service.handle_update(CHAT, STEPS[1], update_id=901)
    again = await parts.service.handle_update(CHAT, STEPS[1], update_id=901)
    assert first.messages
    assert not first.duplicate
    assert again.duplicate
    assert again.messages == []
    assert again.claimed == []
    with parts.db.transaction() as session:
        state = session.scalar(select(Conversation.state))
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert state == "asking_when"
    assert queued == 2  # the welcome and the first question, once each
