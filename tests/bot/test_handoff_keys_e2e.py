"""Keys given after a hand-off, through the real Application: the reference number typed (or
a slip photographed) after "passing you to a person" is stored in the case and its support
card is rendered again in place, so support sees the case complete."""

from __future__ import annotations

from pathlib import Path

from bot.conversation.messages import ChatRef, Incoming
from bot.storage.models import Case
from flows.callbacks import Action, encode
from tests.bot.conftest import Factory
from tests.bot.helpers import Clock
from tests.bot.telegram_harness import CHAT, running_bot, step
from tests.bot.test_slip_e2e import OCR_SECONDS, conversation, needs_ocr
from tests.bot.test_support_e2e import SUPPORT, card_message_id, case_row, message_with
from tests.bot.test_telegram_e2e import intake
from tests.fake_bot_api import FakeBotApi
from tests.flows.test_slip import SLIP
from tests.slips import make_slip

REFERENCE = "312345678901"
MERCHANT = ChatRef("telegram", CHAT, CHAT, "zh")


async def test_a_reference_number_typed_after_the_hand_off_completes_the_case(
    tmp_path: Path,
) -> None:
    clock = Clock()
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=False, title="POS support")
        url = f"sqlite:///{tmp_path}/bot.sqlite3"
        async with running_bot(api, url, clock, support_chat_id=SUPPORT) as bot:
            for kind, value, count in intake():
                await step(api, kind, value, count)
            await step(api, "press", encode(Action("confirm")))
            (told,) = await step(api, "press", encode(Action("person")))
            assert "参考号" in told["text"]  # the hand-off asks for it
            (card,) = await api.wait_for_messages(SUPPORT, 1)
            assert "参考号：未提供" in card["text"]
            card_id = card_message_id(api)

            mark = api.mark()
            (noted,) = await step(api, "say", f"参考号是 {REFERENCE[:4]} {REFERENCE[4:]}")
            assert REFERENCE in noted["text"]
            assert "已记入查询单" in noted["text"]
            # Passed on as a message, as before ...
            await message_with(api, SUPPORT, REFERENCE[4:], mark)
            # ... and now in the case, on its card (edited in place) and in a notice.
            case = case_row(bot)
            assert case.facts["reference"] == REFERENCE
            assert case.reference == REFERENCE
            edit = await api.wait_for_call("editMessageText", since=mark)
            assert edit.params["message_id"] == card_id
            assert f"参考号：<code>{REFERENCE}</code>" in edit.params["text"]
            assert "未提供" not in edit.params["text"]
            assert "s:claim:" in str(edit.params.get("reply_markup"))  # its buttons kept
            notice = await message_with(api, SUPPORT, "卡片已更新", mark)
            assert REFERENCE in notice["text"]

            # Words are relayed as before and change nothing; the same number again is no news.
            mark = api.mark()
            (relayed,) = await step(api, "say", "麻烦尽快处理，谢谢")
            assert "已转给" in relayed["text"]
            (again,) = await step(api, "say", REFERENCE)
            assert "已记入查询单" in again["text"]
            assert not api.calls_to("editMessageText", mark)

            # The conversation has it too (the ladder's steps quote what the merchant gave).
            assert conversation(bot).answers["reference"] == REFERENCE


@needs_ocr
async def test_a_slip_photo_after_the_hand_off_is_read_into_the_case(tmp_path: Path) -> None:
    slip = make_slip(11, layout="chinese", degradation="clean")
    clock = Clock()
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=True, title="POS support")
        url = f"sqlite:///{tmp_path}/bot.sqlite3"
        async with running_bot(api, url, clock, support_chat_id=SUPPORT) as bot:
            for kind, value, count in intake():
                await step(api, kind, value, count)
            await step(api, "press", encode(Action("confirm")))
            await step(api, "press", encode(Action("person")))
            (card,) = await api.wait_for_messages(SUPPORT, 1)
            assert "参考号：未提供" in card["text"]

            mark = api.mark()
            api.send_photo(CHAT, "slip-after", data=slip.image)
            (noted,) = await api.wait_for_messages(CHAT, 1, since=mark, timeout=OCR_SECONDS)
            assert slip.printed["reference"] in noted["text"]
            assert "签购单" in noted["text"]
            case = case_row(bot)
            assert case.facts["reference"] == slip.printed["reference"]
            assert case.facts["terminal_id"] == slip.printed["terminal_id"]
            assert "slip-after" in (case.photo_file_ids or [])
            edit = await api.wait_for_call("editMessageText", since=mark)
            assert slip.printed["reference"] in edit.params["text"]
            await api.wait_for_call(
                "sendPhoto",
                lambda c: c.params.get("chat_id") == SUPPORT,
                since=mark,
            )


def test_a_read_slip_after_the_hand_off_gives_its_keys_to_the_case(
    tmp_path: Path, make_components: Factory
) -> None:
    """The service's side of the photo path, without the OCR engine: the channel hands in what
    it read (as `SlipPhotos` does), and the photo is read at all only with people on a case."""
    parts = make_components(f"sqlite:///{tmp_path}/bot.sqlite3")
    service = parts.service
    service.handle(MERCHANT, Incoming("command", command="start"))
    with parts.db.transaction() as session:
        assert not service.reads_slip(session, MERCHANT)  # no consent, nobody on a case
    result = service.handle(MERCHANT, Incoming("button", text=encode(Action("person"))))
    (escalated,) = [event for event in result.events if event.kind == "escalated"]
    with parts.db.transaction() as session:
        assert service.reads_slip(session, MERCHANT)  # the hand-off asked for it
    result = service.handle(MERCHANT, Incoming("photo", file_id="slip-after", slip=SLIP))
    (noted,) = result.messages
    assert "312345678901" in noted.text
    assert "签购单" in noted.text
    kinds = [(event.kind, event.text) for event in result.events]
    assert ("changed", "keys") in kinds
    assert ("merchant_message", None) in kinds  # the photo goes to people as before
    with parts.db.transaction() as session:
        case = session.get(Case, escalated.case_id)
        assert case is not None
        assert case.facts["reference"] == "312345678901"
        assert case.facts["merchant_id"] == "898310058120345"
        assert "slip-after" in (case.photo_file_ids or [])
        # Nothing but the keys: the amount and date on the slip are not taken unconfirmed.
        assert "amount" not in case.facts
