"""A merchant photographs the POS slip in Telegram: read, confirmed, and only the rest is asked.

The real PTB Application long-polls the fake Bot API, which serves the generated slip image on
getFile and /file/bot<token>/<path>. Tests that run the OCR engine skip without the `ocr` extra
or the CJK font; the refusals (no OCR here, too large, not a picture) run everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.conversation.ocr import MAX_BYTES, ocr_available
from bot.storage.models import Case, Conversation
from tests.bot.conftest import Factory
from tests.bot.telegram_harness import CHAT, Running, buttons, running_bot, step
from tests.console_script import run_console
from tests.fake_bot_api import FakeBotApi
from tests.slips import font_available, make_slip

needs_ocr = pytest.mark.skipif(
    not ocr_available() or not font_available(),
    reason="needs the 'ocr' extra (pip install -e '.[ocr]') and fonts-wqy-microhei",
)

OTHER_MERCHANT = 5002
#: OCR takes seconds of CPU; on a busy 2-core machine, give it time.
OCR_SECONDS = 120.0
#: The presses after a confirmed slip: the questions a slip cannot answer.
REST = [
    "a:terminal:success",
    "a:records:success",
    "a:received:none",
    "a:cycle:t1",
    "a:bank:icbc",
    "a:account:none",
]


async def at_the_amount_question(api: FakeBotApi) -> dict[str, Any]:
    """Start, consent and give the date: the bot asks for the amount."""
    await step(api, "say", "/start")
    await step(api, "press", "x:begin")
    (question,) = await step(api, "say", "昨天下午3点")
    assert "金额" in question["text"]
    return question


def conversation(bot: Running) -> Conversation:
    with bot.parts.db.transaction() as session:
        row = session.scalars(select(Conversation).where(Conversation.chat_id == CHAT)).one()
        session.expunge(row)
    return row


@needs_ocr
async def test_a_slip_photo_fills_the_intake_and_the_summary(tmp_path: Path) -> None:
    slip = make_slip(11, layout="chinese", degradation="clean")
    printed = slip.printed
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await at_the_amount_question(api)
        mark = api.mark()
        api.send_photo(CHAT, "slip-1", data=slip.image)
        # While the slip is read, another merchant is served: OCR runs off the event loop.
        await step(api, "say", "/start", chat=OTHER_MERCHANT)
        (confirm,) = await api.wait_for_messages(CHAT, 1, since=mark, timeout=OCR_SECONDS)
        order = [call.params.get("chat_id") for call in api.calls_to("sendMessage", mark)]
        assert order.index(OTHER_MERCHANT) < order.index(CHAT)
        assert api.downloads == [("123456:TEST", "photos/slip-1.jpg")]

        text = confirm["text"]
        assert "对吗" in text
        keys = ("reference", "terminal_id", "merchant_id", "voucher", "batch", "auth_code")
        for key in (*keys, "card_masked"):  # the merchant's keys in full, the card masked
            assert printed[key] in text, (key, text)
        assert f"¥{printed['amount']}" in text
        assert printed["acquirer"] in text
        assert buttons(confirm)[0] == "x:slip_ok"
        assert {"r:reference", "r:amount", "r:card", "x:slip_no"} <= set(buttons(confirm))

        (question,) = await step(api, "press", "x:slip_ok")
        assert "a:terminal:success" in buttons(question)  # date..acquirer came from the slip
        asked = [question]
        for data in REST:
            asked += await step(api, "press", data)
        review = asked[-1]
        assert "x:confirm" in buttons(review)
        assert printed["reference"] in review["text"]
        (summary,) = await step(api, "press", "x:confirm")

        # No question about the amount, the receipt keys or the acquirer was asked after the slip.
        after = [b for message in asked[:-1] for b in buttons(message)]
        assert not [b for b in after if b.split(":")[1] in ("amount", "reference", "voucher")]
        assert all("a:acquirer:skip" not in buttons(m) for m in asked)
        assert "PB-20261125-0001" in summary["text"]
        assert printed["reference"] in summary["text"]
        assert printed["card_masked"] in summary["text"]
        assert "已超过应到账时间" in summary["text"]  # dated weeks ago: overdue (E)

        with bot.parts.db.transaction() as session:
            case = session.scalars(select(Case)).one()
            assert case.photo_file_ids == ["slip-1"]
            assert case.facts["reference"] == printed["reference"]
            assert case.facts["card"] == printed["card_masked"]
            assert "_slip" not in case.facts
        assert "_slip" not in conversation(bot).answers  # nothing pending after the summary


async def test_without_ocr_the_photo_is_attached_and_the_question_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.conversation.slip_reading.ocr_available", lambda: False)
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        question = await at_the_amount_question(api)
        mark = api.mark()
        api.send_photo(CHAT, "photo-1", data=b"\xff\xd8 a jpeg")
        notice, again = await api.wait_for_messages(CHAT, 2, since=mark)
        assert "已附在您的查询单里" in notice["text"]
        assert "不能自动识别" in notice["text"]
        assert again["text"] == question["text"]
        assert api.calls_to("getFile") == []
        assert conversation(bot).photo_file_ids == ["photo-1"]
        (method,) = await step(api, "say", "1280")
        assert "a:method:card" in buttons(method)


@pytest.mark.parametrize(
    ("send", "expected", "attached"),
    [
        pytest.param(
            {"kind": "photo", "data": b"x", "file_size": MAX_BYTES + 1},
            f"文件太大，我读不了（最大{MAX_BYTES // 2**20}MB）",
            ["big-1"],
            id="photo-over-the-limit",
        ),
        pytest.param(
            {"kind": "document", "data": b"x", "file_size": 25 * 1024 * 1024},
            "文件太大",
            [],
            id="image-file-over-the-limit",
        ),
        pytest.param(
            {"kind": "document", "data": b"%PDF-1.7 not a picture" * 10},
            "不是我能读的图片",
            [],
            id="image-file-that-is-not-one",
        ),
    ],
)
async def test_what_cannot_be_read_gets_a_clear_message_and_the_question_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    send: dict[str, Any],
    expected: str,
    attached: list[str],
) -> None:
    monkeypatch.setattr(
        "bot.conversation.slip_reading.ocr_available", lambda: True
    )  # Pillow refuses first
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        question = await at_the_amount_question(api)
        mark = api.mark()
        kind = send.pop("kind")
        if kind == "photo":
            api.send_photo(CHAT, "big-1", **send)
        else:
            api.send_document(CHAT, "doc-1", mime_type="image/jpeg", **send)
        notice, again = await api.wait_for_messages(CHAT, 2, since=mark)
        assert expected in notice["text"]
        assert again["text"] == question["text"]
        assert bool(api.calls_to("getFile", mark)) is ("文件太大" not in expected)
        assert conversation(bot).photo_file_ids == attached


async def test_other_files_and_photos_outside_the_questions_are_not_read(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        running_bot(api, f"sqlite:///{tmp_path}/bot.sqlite3") as bot,
    ):
        await step(api, "say", "/start")
        mark = api.mark()
        api.send_photo(CHAT, "early-1", data=b"\xff\xd8 a jpeg")
        (early,) = await api.wait_for_messages(CHAT, 1, since=mark)
        assert "开始排查" in early["text"]  # press Start first, then send it
        await step(api, "press", "x:begin")
        mark = api.mark()
        api.send_document(CHAT, "pdf-1", data=b"%PDF-1.7", mime_type="application/pdf")
        (other,) = await api.wait_for_messages(CHAT, 1, since=mark)
        assert "签购单照片" in other["text"]
        assert api.calls_to("getFile") == []
        assert not conversation(bot).photo_file_ids  # sent before consent: not kept


@needs_ocr
def test_the_terminal_reads_a_slip_from_a_file(tmp_path: Path, make_components: Factory) -> None:
    slip = make_slip(11, layout="chinese", degradation="clean")
    photo = tmp_path / "slip.png"
    photo.write_bytes(slip.image)
    parts = make_components(f"sqlite:///{tmp_path}/chat.sqlite3")
    transcript = run_console(parts.service, ["1", "昨天下午3点", f"/slip {photo}", "1"], "zh")
    assert "对吗" in transcript
    assert slip.printed["reference"] in transcript
    assert "[1] ✅ 没错，用这些信息" in transcript
    confirmed = transcript.split("没错，用这些信息")[-1]
    # The date and the amount were asked (the photo answered the amount); the slip gave the
    # rest up to the acquirer, so the terminal question is the third, with no gap.
    assert "3. " in confirmed
    assert "5. " not in confirmed
    assert transcript.count("2. ") == 1


def test_the_terminal_explains_a_missing_file(tmp_path: Path, make_components: Factory) -> None:
    parts = make_components(f"sqlite:///{tmp_path}/chat.sqlite3")
    transcript = run_console(parts.service, ["1", f"/slip {tmp_path}/no-such.jpg"], "en")
    _, question = transcript.split("couldn't open the picture")[-1].split("\n\n")[:2]
    assert question.startswith("<b>1. ") or question.startswith("1. ")
