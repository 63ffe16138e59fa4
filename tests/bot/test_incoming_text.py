"""Text no database can store (NUL, lone surrogates) is removed where every channel's message
enters the service, so the merchant gets the answer, not the error reply."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.conversation.messages import ChatRef, Incoming
from bot.storage.models import TranscriptLine
from flows.text import storable, utf16_len
from tests.bot.conftest import Factory

CHAT = ChatRef("telegram", 77, 77, "en")


def test_a_message_with_nul_and_lone_surrogates_is_answered(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    parts.service.handle(CHAT, Incoming("command", command="start"))
    parts.service.handle(CHAT, Incoming("button", text="x:begin"))  # consent: the chat is kept
    result = parts.service.handle(CHAT, Incoming("text", text="1\x00280 \U0001f4a5 \ud800ok"))
    assert result.messages
    assert "went wrong" not in result.messages[0].text
    with parts.db.transaction() as session:
        stored = session.scalars(select(TranscriptLine.text)).all()
    assert "1280 \U0001f4a5 ok" in stored


def test_commands_and_button_data_are_cleaned_too() -> None:
    assert Incoming("command", command="sta\x00rt", text="a\udc00b").command == "start"
    assert Incoming("command", command="x", text="a\udc00b").text == "ab"
    assert Incoming("button", text="x:\x00begin").text == "x:begin"


@given(st.text())
def test_storable_text_encodes_as_utf8_without_nul(value: str) -> None:
    clean = storable(value)
    assert "\x00" not in clean
    clean.encode("utf-8")  # no lone surrogate left
    assert storable(clean) == clean


@given(st.text(st.characters(exclude_categories=("Cs",))))
def test_utf16_length_is_what_telegram_counts(value: str) -> None:
    assert utf16_len(value) == len(value.encode("utf-16-le")) // 2
    assert utf16_len("\U0001f600" * 3000) == 6000
