"""A slip photo in the intake, without images: slip fields in, pre-filled answers out."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.facts import CardType, SlipType
from flows.intake_events import event_from_button
from flows.intake_table import CONFIRMING_SLIP, READS_SLIPS, STATES
from flows.readings import SLIP as FROM_SLIP
from flows.readings import items
from flows.receipt import SlipFields
from flows.redaction import mask_card
from flows.slip import SLIP_FIELDS, SLIP_QUESTIONS, answers_from_slip
from tests.flows.dialogue import NOW, Dialogue
from tests.flows.test_intake import CARD_SALE, KEYS_FIRST

#: A slip as `flows.receipt` reads it: every field found.
SLIP = SlipFields(
    merchant_name="北京鑫源便利店",
    merchant_id="898310058120345",
    terminal_id="12345678",
    acquirer="拉卡拉支付",
    issuer="工商银行",
    card_masked="622848******1234",
    trans_type="sale",
    batch="000123",
    voucher="000456",
    auth_code="AB12C3",
    reference="312345678901",
    day=dt.date(2026, 11, 24),
    time=dt.time(15, 32, 8),
    amount=Decimal("1280.50"),
)

#: What the slip pre-fills, as the intake stores it.
SLIP_ANSWERS = {
    "when": {"day": "2026-11-24", "time": "15:32"},
    "amount": "1280.50",
    "method": "card",
    "slip_type": "sale",
    "acquirer": "拉卡拉支付",
    "merchant_id": "898310058120345",
    "terminal_id": "12345678",
    "reference": "312345678901",
    "voucher": "000456",
    "card": "622848******1234",
    "batch": "000123",
    "auth_code": "AB12C3",
}

#: The questions a slip cannot answer, in the order they are asked after it.
REST = [
    "press:a:terminal:success",
    "press:a:records:success",
    "press:a:received:none",
    "press:a:cycle:t1",
    "press:a:account:none",
]


def at(answered: int) -> Dialogue:
    """A merchant who pressed Start and answered the first `answered` card-sale questions."""
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.answer_all(CARD_SALE[: answered + 1])
    return dialogue


def asked(dialogue: Dialogue, script: list[str]) -> list[str]:
    """The template of the last reply after each step."""
    result = []
    for step in script:
        dialogue.answer_all([step])
        result.append(dialogue.templates()[-1])
    return result


# ================================================================================ the mapping


def test_every_field_read_becomes_an_answer() -> None:
    assert answers_from_slip(SLIP, NOW) == SLIP_ANSWERS


@pytest.mark.parametrize(
    ("changes", "dropped"),
    [
        ({"reference": "31234567890"}, "reference"),  # 11 digits
        ({"terminal_id": "1234567"}, "terminal_id"),
        ({"merchant_id": "89831005812034"}, "merchant_id"),
        ({"voucher": "00045"}, "voucher"),
        ({"batch": "0001234"}, "batch"),
        ({"auth_code": "AB12C"}, "auth_code"),
        ({"amount": Decimal("0.00")}, "amount"),
        ({"day": dt.date(2026, 11, 26)}, "when"),  # tomorrow: a misread
        ({"trans_type": "balance"}, "slip_type"),
        ({"acquirer": "拉卡拉 13812345678"}, "acquirer"),  # a phone number is no name
        ({"acquirer": "-"}, "acquirer"),
        ({"card_masked": "6228"}, "card"),
    ],
)
def test_a_value_the_question_would_refuse_is_dropped(
    changes: dict[str, object], dropped: str
) -> None:
    answers = answers_from_slip(replace(SLIP, **changes), NOW)  # type: ignore[arg-type]
    assert dropped not in answers
    assert set(answers) == set(SLIP_ANSWERS) - {dropped}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"time": None}, {"when": {"day": "2026-11-24", "time": None}}),
        ({"card_masked": None}, {"method": None, "card": None}),  # a QR slip: no bank card
        ({"trans_type": "preauth_complete"}, {"slip_type": "preauth_complete"}),
        ({"terminal_id": "ab12cd34"}, {"terminal_id": "AB12CD34"}),
        ({"card_masked": "6228481234567891234"}, {"card": "622848*********1234"}),
    ],
)
def test_values_are_stored_as_typed_answers_are(
    changes: dict[str, object], expected: dict[str, object]
) -> None:
    answers = answers_from_slip(replace(SLIP, **changes), NOW)  # type: ignore[arg-type]
    for field, value in expected.items():
        assert answers.get(field) == value


def test_an_empty_reading_pre_fills_nothing() -> None:
    assert answers_from_slip(SlipFields(), NOW) == {}
    assert answers_from_slip(SlipFields(merchant_name="鑫源", issuer="ICBC"), NOW) == {}


@given(
    st.text(alphabet="0123456789", min_size=13, max_size=19),
    st.sampled_from(["", " ", "-"]),
)
def test_a_card_shows_at_most_its_first_six_and_last_four_digits(
    digits: str, separator: str
) -> None:
    grouped = separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    masked = answers_from_slip(SlipFields(card_masked=grouped), NOW)["card"]
    assert masked == mask_card(digits)
    assert len(re.sub(r"\D", "", masked)) <= 10


@pytest.mark.parametrize("value", ["", "6228", "622848******12345678901", "62284A******1234"])
def test_what_is_no_card_number_is_not_kept(value: str) -> None:
    assert "card" not in answers_from_slip(SlipFields(card_masked=value), NOW)


def test_the_confirmation_names_the_answer_a_value_would_replace() -> None:
    def slip_items(pending: dict[str, str], answers: dict[str, str]) -> list[dict[str, object]]:
        return items(pending, answers, {}, FROM_SLIP, SLIP_FIELDS, SLIP_QUESTIONS)

    listed = slip_items({"amount": "1280.50", "batch": "000123"}, {"amount": "99.00"})
    assert listed == [
        {"field": "amount", "value": "1280.50", "previous": "99.00", "kept": False,
         "question": True},
        {"field": "batch", "value": "000123", "previous": None, "kept": False, "question": False},
    ]  # fmt: skip
    assert [i["field"] for i in slip_items(SLIP_ANSWERS, {})] == list(SLIP_FIELDS)


# ============================================================================= the conversation


def test_mid_intake_the_slip_is_confirmed_then_only_open_questions_are_asked() -> None:
    dialogue = at(1)  # answered the date, asked the amount
    assert dialogue.state == "asking_amount"
    (confirm,) = dialogue.photo(SLIP)
    assert dialogue.state == CONFIRMING_SLIP
    assert confirm.template == "slip_confirm"
    when = confirm.context["items"][0]
    assert when["field"] == "when"
    assert when["previous"] == {"day": "2026-11-24", "time": "15:00"}
    assert dialogue.record.answers == {"when": {"day": "2026-11-24", "time": "15:00"}}
    assert dialogue.buttons()[0] == "x:slip_ok"
    assert dialogue.buttons()[-1] == "x:slip_no"
    assert {"r:amount", "r:reference", "r:card", "r:batch", "r:auth_code"} <= set(
        dialogue.buttons()
    )

    dialogue.press("x:slip_ok")
    assert dialogue.templates() == ["ask_terminal"]
    assert asked(dialogue, REST) == [
        "ask_records",
        "ask_received",
        "ask_cycle",
        "ask_account",
        "review",
    ]
    review = dialogue.last[0].context["items"]
    assert {item["field"] for item in review} >= {"slip_type", "card", "batch", "auth_code"}
    assert "card_type" not in {item["field"] for item in review}
    dialogue.press("x:confirm")
    (summary,) = dialogue.last
    assert summary.context["answers"]["reference"] == "312345678901"
    assert summary.context["facts"].card_type is CardType.SALE
    assert summary.context["diagnosis"].outcome == "A"


def test_a_slip_before_the_first_answer_skips_everything_it_answered() -> None:
    dialogue = at(0)
    dialogue.photo(SLIP)
    dialogue.press("x:slip_ok")
    assert dialogue.templates() == ["ask_terminal"]


def test_a_key_the_slip_lacked_is_not_asked_without_a_lookup() -> None:
    dialogue = at(0)
    dialogue.photo(replace(SLIP, reference=None, acquirer=None))
    dialogue.press("x:slip_ok")
    assert asked(dialogue, REST) == [
        "ask_records",
        "ask_received",
        "ask_cycle",
        "ask_account",
        "review",
    ]
    assert "reference" not in dialogue.record.answers
    assert {"reference", "acquirer"} <= set(dialogue.last[0].context["unasked"])


def test_with_a_lookup_a_key_the_slip_lacked_is_asked_first() -> None:
    dialogue = at(0)
    dialogue.flow = KEYS_FIRST
    dialogue.photo(replace(SLIP, reference=None, acquirer=None))
    dialogue.press("x:slip_ok")
    assert dialogue.state == "asking_reference"
    dialogue.say("312345678901")
    assert asked(dialogue, REST) == [
        "ask_records",
        "ask_received",
        "ask_cycle",
        "ask_account",
        "review",
    ]


def test_no_receipt_at_hand_after_a_slip_asks_no_other_key() -> None:
    dialogue = at(0)
    dialogue.flow = KEYS_FIRST
    dialogue.photo(replace(SLIP, reference=None, voucher=None))
    dialogue.press("x:slip_ok")
    assert dialogue.state == "asking_reference"
    dialogue.press("a:reference:noreceipt")
    dialogue.answer_all(REST)
    assert dialogue.state == "reviewing"
    assert dialogue.record.answers["voucher"] is None


def test_a_value_is_corrected_from_the_confirmation_and_returns_there() -> None:
    dialogue = at(1)
    dialogue.photo(SLIP)
    (question,) = dialogue.press("r:amount")
    assert dialogue.state == "asking_amount"
    assert question.context == {
        "current": "1280.50",
        "revising": True,
        "optional": False,
        "choices": (),
        "number": None,  # correcting one value is no step of the walk: no number
    }
    dialogue.say("很多钱")  # not an amount: re-asked, still correcting
    assert dialogue.templates() == ["invalid"]
    dialogue.say("1,208.50")
    assert dialogue.state == CONFIRMING_SLIP
    amount = dialogue.last[0].context["items"][1]
    assert amount == {
        "field": "amount",
        "value": "1208.50",
        "previous": None,
        "kept": False,
        "question": True,
    }
    dialogue.press("r:reference")
    dialogue.command("back")  # back leaves the value as it was
    assert dialogue.state == CONFIRMING_SLIP
    assert dialogue.record.pending_slip is not None
    assert dialogue.record.pending_slip["reference"] == "312345678901"
    dialogue.press("r:voucher")
    dialogue.press("a:voucher:skip")  # skipping removes the value
    assert "voucher" not in dialogue.record.pending_slip
    dialogue.press("x:slip_ok")
    assert dialogue.record.answers["amount"] == "1208.50"
    assert "voucher" not in dialogue.record.answers


def test_values_no_question_asks_for_can_be_left_out() -> None:
    dialogue = at(1)
    dialogue.photo(SLIP)
    dialogue.press("r:card")
    dialogue.press("r:auth_code")
    assert dialogue.state == CONFIRMING_SLIP
    assert {"card", "auth_code"}.isdisjoint(dialogue.record.pending_slip or {})
    assert "r:card" not in dialogue.buttons()
    dialogue.press("x:slip_ok")
    assert {"card", "auth_code"}.isdisjoint(dialogue.record.answers)
    assert dialogue.record.answers["batch"] == "000123"


def test_everything_removed_leaves_an_empty_confirmation() -> None:
    dialogue = at(1)
    dialogue.photo(SlipFields(batch="000123"))
    dialogue.press("r:batch")
    assert dialogue.last[0].context == {"items": []}
    dialogue.press("x:slip_ok")
    assert dialogue.templates() == ["ask_amount"]


@pytest.mark.parametrize("how", ["press:x:slip_no", "/back"])
def test_not_my_slip_keeps_nothing_and_asks_again(how: str) -> None:
    dialogue = at(3)
    before = dict(dialogue.record.answers)
    dialogue.photo(SLIP)
    if how.startswith("press:"):
        dialogue.press(how.removeprefix("press:"))
    else:
        dialogue.command("back")
    assert dialogue.templates() == ["slip_discarded", "ask_card_type"]
    assert dialogue.record.answers == before
    assert dialogue.record.pending_slip is None
    dialogue.press("a:card_type:sale")
    assert dialogue.state == "asking_terminal"  # the usual order goes on


def test_on_the_review_the_slip_overrides_with_confirmation_and_returns_there() -> None:
    dialogue = at(len(CARD_SALE) - 1)
    assert dialogue.state == "reviewing"
    (confirm,) = dialogue.photo(replace(SLIP, amount=Decimal("1208.50")))
    previous = {item["field"]: item["previous"] for item in confirm.context["items"]}
    assert previous["amount"] == "1280.50"
    assert previous["terminal_id"] is None  # the same as typed
    dialogue.press("x:slip_no")
    assert dialogue.templates() == ["slip_discarded", "review"]
    dialogue.photo(replace(SLIP, amount=Decimal("1208.50")))
    dialogue.press("x:slip_ok")
    assert dialogue.templates() == ["review"]
    assert dialogue.record.answers["amount"] == "1208.50"
    assert "card_type" not in dialogue.record.answers  # the slip's type replaces it
    dialogue.press("c:slip_type")
    assert dialogue.templates() == ["ask_slip_type"]
    dialogue.press("a:slip_type:preauth")
    assert dialogue.state == "reviewing"
    dialogue.press("x:confirm")
    assert dialogue.last[0].context["diagnosis"].outcome == "D"


def test_a_second_photo_replaces_the_first_reading() -> None:
    dialogue = at(1)
    dialogue.photo(SLIP)
    dialogue.photo(SlipFields(reference="399999999999"))
    assert dialogue.record.pending_slip == {"reference": "399999999999"}


@pytest.mark.parametrize(
    ("slip", "problem", "expected"),
    [
        (None, "unavailable", "unavailable"),
        (None, "too_large", "too_large"),
        (None, "not_an_image", "not_an_image"),
        (SlipFields(), None, "nothing_read"),
        (SlipFields(merchant_name="鑫源便利店", reference="3123"), None, "nothing_read"),
    ],
)
def test_a_photo_without_usable_values_is_explained_and_the_question_repeated(
    slip: SlipFields | None, problem: str | None, expected: str
) -> None:
    dialogue = at(1)
    replies = dialogue.photo(slip, problem)
    assert [r.template for r in replies] == ["slip_unread", "ask_amount"]
    assert replies[0].context == {"problem": expected, "attached": True}
    assert dialogue.state == "asking_amount"
    assert dialogue.record.pending_slip is None


def test_an_unreadable_photo_while_confirming_shows_the_confirmation_again() -> None:
    dialogue = at(2)
    dialogue.photo(SLIP)
    dialogue.photo(None, "unreadable")
    assert dialogue.templates() == ["slip_unread", "slip_confirm"]
    assert dialogue.state == CONFIRMING_SLIP


def test_typed_text_while_confirming_points_at_the_buttons() -> None:
    dialogue = at(2)
    dialogue.photo(SLIP)
    dialogue.say("对")
    assert dialogue.templates() == ["off_topic", "slip_confirm"]
    assert dialogue.last[0].context == {"state": CONFIRMING_SLIP}
    dialogue.press("a:amount:skip")  # a stale question button
    assert dialogue.templates() == ["stale_button", "slip_confirm"]


def test_cancel_while_confirming_keeps_nothing() -> None:
    dialogue = at(4)
    dialogue.photo(SLIP)
    dialogue.command("cancel")
    assert dialogue.state == "idle"
    assert dialogue.record.answers == {}
    assert dialogue.record.pending_slip is None
    assert not dialogue.record.open_only


def test_start_while_confirming_shows_it_again() -> None:
    dialogue = at(4)
    dialogue.photo(SLIP)
    dialogue.command("start")
    assert dialogue.templates() == ["resume", "slip_confirm"]


def test_an_old_slip_warns_that_it_may_be_untraceable() -> None:
    dialogue = at(1)
    dialogue.photo(replace(SLIP, day=dt.date(2026, 3, 1)))
    dialogue.press("x:slip_ok")
    assert dialogue.templates() == ["warn_old", "ask_terminal"]


def test_a_card_slip_replaces_a_wallet_answer() -> None:
    dialogue = at(0)
    dialogue.answer_all(["今天", "88", "press:a:method:wechat"])
    dialogue.photo(SLIP)
    method = dialogue.last[0].context["items"][2]
    assert (method["field"], method["value"], method["previous"]) == ("method", "card", "wechat")
    dialogue.press("x:slip_ok")
    assert dialogue.templates() == ["ask_terminal"]
    dialogue.answer_all(REST)
    assert dialogue.state == "reviewing"


def test_a_slip_without_its_type_asks_the_card_type() -> None:
    dialogue = at(0)
    dialogue.photo(replace(SLIP, trans_type=None))
    dialogue.press("x:slip_ok")
    assert dialogue.templates() == ["ask_card_type"]


@pytest.mark.parametrize(
    ("trans_type", "outcome"),
    [
        ("sale", "A"),
        ("preauth_complete", "A"),
        ("preauth", "D"),
        ("void", "A"),  # the merchant answered that the records show success: they outrank it
        ("refund", "A"),
    ],
)
def test_the_slip_type_feeds_the_diagnosis(trans_type: str, outcome: str) -> None:
    dialogue = at(0)
    dialogue.photo(replace(SLIP, trans_type=trans_type))
    dialogue.press("x:slip_ok")
    dialogue.answer_all([*REST, "press:x:confirm"])
    (summary,) = dialogue.last
    assert summary.context["diagnosis"].outcome == outcome
    assert summary.context["facts"].slip_type is SlipType(trans_type)


def test_photos_are_read_only_where_the_merchant_agreed_and_is_answering() -> None:
    assert {"idle", "summarized", "choosing_next"}.isdisjoint(READS_SLIPS)
    assert set(STATES) >= READS_SLIPS
    dialogue = Dialogue()
    dialogue.command("start")
    assert dialogue.photo(SLIP)[0].template == "stale_button"
    assert dialogue.state == "idle"


def test_slip_buttons_fit_telegram_and_decode() -> None:
    dialogue = at(1)
    dialogue.photo(SLIP)
    for data in dialogue.buttons():
        assert len(data.encode()) <= 64
        assert event_from_button(data) is not None, data
    assert event_from_button("r:nonsense") is None


def test_back_skips_the_questions_the_slip_answered() -> None:
    dialogue = at(0)
    dialogue.photo(SLIP)
    dialogue.press("x:slip_ok")
    assert dialogue.state == "asking_terminal"
    # The way of paying and the card type came from the slip, never shown: Back goes to the
    # date, the question the photo was sent at.
    dialogue.command("back")
    assert dialogue.state == "asking_when"
