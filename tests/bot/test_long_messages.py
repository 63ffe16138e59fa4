"""Long messages reach Telegram whole, in parts within its limit as it counts it (UTF-16 code
units), and a relay's every part carries the case header."""

from __future__ import annotations

import html
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.conversation.rendering import MESSAGE_LIMIT, Renderer, split_message
from flows.replies import Button, Reply
from flows.text import utf16_len
from tests.bot.telegram_harness import running_bot, step
from tests.bot.test_telegram_e2e import intake
from tests.fake_bot_api import FakeBotApi

RENDERER = Renderer()
SUPPORT = -1001234
CASE = "PB-20261125-0001"
#: Nearly as long as a merchant message may be: too long for one message with a header.
LONG = "\n".join(f"第{n}行：昨天下午刷了一笔，到现在还没到账。" for n in range(1, 200))[:4090]


def test_emoji_count_twice() -> None:
    text = "\U0001f600" * 3000  # 6,000 units
    parts = split_message(text)
    assert len(parts) == 2
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in parts)
    assert "".join(parts) == text


def test_a_joined_emoji_is_not_cut_in_two() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one symbol, five characters
    text = "a" * 4094 + family
    first, second = split_message(text)
    assert first == "a" * 4094
    assert second == family


PIECES = st.sampled_from(
    ["a", "中", "\U0001f600", "\n", "\n\n", "&amp;", "&lt;", "e\u0301", "\u200d", " ", "<b>x</b>"]
)


@given(st.lists(PIECES, max_size=200), st.integers(20, 60))
def test_parts_fit_and_keep_every_character(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    parts = split_message(text, limit)
    assert all(utf16_len(part) <= limit for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    for part in parts:  # no entity cut in half
        assert html.unescape(part).count("&") == part.count("&amp;")


def test_a_long_relay_repeats_the_header_in_every_part() -> None:
    reply = Reply("support_relay", {"number": CASE, "text": LONG + " <b>&"})
    for locale in ("zh", "en"):
        parts = RENDERER.render_parts(reply, locale, quoted="text")
        assert len(parts) == 2
        header = RENDERER.text("support_relay", locale, {"number": CASE, "text": "x"})[:-1]
        assert all(part.text.startswith(header) for part in parts)
        assert all(utf16_len(part.text) <= MESSAGE_LIMIT for part in parts)
        bodies = "".join(part.text[len(header) :] for part in parts)
        assert bodies.replace("\n", "") == html.escape(LONG + " <b>&", quote=True).replace(
            "\n", ""
        ).replace("&#x27;", "&#39;")


def test_the_keyboard_goes_on_the_last_part_only() -> None:
    reply = Reply(
        "agent_reply",
        {"agent": "Wang", "text": "好" * 5000, "case_number": CASE},
        ((Button("claim", "s:claim:1"),),),
    )
    parts = RENDERER.render_parts(reply, "zh", quoted="text")
    assert [bool(part.keyboard) for part in parts] == [False, True]
    assert all(CASE in part.text for part in parts)


async def test_a_long_merchant_message_reaches_support_whole(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=False, title="POS support")
        url = f"sqlite:///{tmp_path}/long.sqlite3"
        async with running_bot(api, url, support_chat_id=SUPPORT):
            for kind, value, count in intake():
                await step(api, kind, value, count)
            await step(api, "press", "x:confirm")
            await step(api, "press", "x:person")
            await api.wait_for_messages(SUPPORT, 1)  # the case card
            mark = api.mark()
            await step(api, "say", LONG)
            relayed = await api.wait_for_messages(SUPPORT, 2, since=mark)
        assert all(CASE in message["text"] for message in relayed)
        assert all(utf16_len(message["text"]) <= MESSAGE_LIMIT for message in relayed)
        received = "".join(message["text"].split("：\n", 1)[1] for message in relayed)
        assert received.replace("\n", "") == LONG.replace("\n", "")
