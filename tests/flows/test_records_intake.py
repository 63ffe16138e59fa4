"""The intake with a records lookup: keys first, and what each answer of the records does."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from flows.intake import IntakeFlow
from flows.intake_events import Event
from flows.records_lookup import Found, NotFound, RecordStatus, Unavailable, Unreachable
from tests.flows.dialogue import POLICY, Dialogue

KEYS_FIRST = IntakeFlow(replace(POLICY, keys_first=True))
REFERENCE = "123456789012"


class KeysFirst(Dialogue):
    flow = KEYS_FIRST


def at_the_keys() -> KeysFirst:
    dialogue = KeysFirst()
    dialogue.press("x:begin")
    dialogue.say("昨天下午3点")
    dialogue.say("1280")
    return dialogue


def looked_up(dialogue: Dialogue, result: object) -> list[str]:
    dialogue.fire(Event("lookup", {"result": result, "by": "Example Pay"}))
    return dialogue.templates()


def test_without_a_lookup_the_order_is_as_before() -> None:
    dialogue = Dialogue()
    dialogue.press("x:begin")
    dialogue.say("昨天下午3点")
    dialogue.say("1280")
    assert dialogue.state == "asking_method"


def test_keys_first_asks_the_reference_after_the_amount_then_the_rest_in_order() -> None:
    dialogue = at_the_keys()
    assert dialogue.state == "asking_reference"
    assert dialogue.last[-1].context["keys_first"] is True
    dialogue.say(REFERENCE)
    assert dialogue.state == "asking_method"
    dialogue.press("x:back")
    assert dialogue.state == "asking_reference"
    dialogue.press("x:back")
    assert dialogue.state == "asking_amount"
    dialogue.say("1280")
    dialogue.say(REFERENCE)
    for data in ("a:method:card", "a:card_type:sale", "a:terminal:success"):
        dialogue.press(data)
    assert dialogue.state == "asking_records"  # nothing looked up: asked as before
    for data in ("a:records:success", "a:received:none", "a:cycle:t1"):
        dialogue.press(data)
    dialogue.press("a:account:none")
    # Not the reference twice, nor a key the lookup does not need; nor the bank (not due yet)
    # or the acquirer's name (a card payment's steps name "your acquirer").
    assert dialogue.state == "reviewing"


def test_keys_first_asks_the_other_keys_the_lookup_needs() -> None:
    dialogue = KeysFirst()
    dialogue.flow = IntakeFlow(
        replace(POLICY, keys_first=True, lookup_keys=frozenset({"terminal_id"}))
    )
    dialogue.press("x:begin")
    dialogue.say("昨天下午3点")
    dialogue.say("1280")
    dialogue.say(REFERENCE)
    for data in ("a:method:card", "a:card_type:sale", "a:terminal:success", "a:records:success"):
        dialogue.press(data)
    for data in ("a:received:none", "a:cycle:t1", "a:account:none"):
        dialogue.press(data)
    assert dialogue.state == "asking_terminal_id"
    dialogue.say("12345678")
    assert dialogue.state == "reviewing"


def test_no_receipt_at_the_keys_question_goes_on_with_the_way_of_paying() -> None:
    dialogue = at_the_keys()
    dialogue.press("a:reference:noreceipt")
    assert dialogue.state == "asking_method"
    assert dialogue.record.answers["voucher"] is None


def test_found_answers_the_records_question_which_is_never_asked() -> None:
    dialogue = at_the_keys()
    dialogue.say(REFERENCE)
    found = Found(RecordStatus.SUCCESS, Decimal("1280.00"), settled_on=date(2026, 11, 25))
    assert looked_up(dialogue, found) == ["records_result"]
    assert dialogue.state == "asking_method"  # the question on screen stays open
    assert dialogue.record.answers["records"] == "success"
    assert dialogue.record.answers["records_lookup"]["by"] == "Example Pay"
    asked = []
    for data in ("a:method:card", "a:card_type:sale", "a:terminal:success"):
        dialogue.press(data)
        asked.append(dialogue.state)
    assert "asking_records" not in asked
    assert dialogue.state == "asking_received"


def test_found_preauth_answers_the_card_type_too() -> None:
    dialogue = at_the_keys()
    dialogue.say(REFERENCE)
    looked_up(dialogue, Found(RecordStatus.PREAUTH, Decimal("1280.00")))
    dialogue.press("a:method:card")
    assert dialogue.state == "asking_terminal"


def test_a_record_arriving_at_its_own_question_moves_on() -> None:
    dialogue = Dialogue()
    dialogue.press("x:begin")
    for text in ("昨天下午3点", "1280"):
        dialogue.say(text)
    for data in ("a:method:card", "a:card_type:sale", "a:terminal:success"):
        dialogue.press(data)
    assert dialogue.state == "asking_records"
    assert looked_up(dialogue, Found(RecordStatus.FAILED, Decimal("1280.00")))[0] == (
        "records_result"
    )
    assert dialogue.state == "asking_received"


def test_not_found_asks_to_check_the_reference_then_returns() -> None:
    dialogue = at_the_keys()
    dialogue.say(REFERENCE)
    assert looked_up(dialogue, NotFound()) == ["records_result", "ask_reference"]
    assert dialogue.state == "asking_reference"
    assert dialogue.last[-1].context["not_found"] is True
    assert "x:keys_ok" in dialogue.buttons()
    dialogue.press("x:keys_ok")
    assert dialogue.state == "asking_method"
    assert dialogue.record.answers["records_lookup"] == {"status": "not_found", "by": "Example Pay"}


def test_unavailable_says_nothing_and_a_new_answer_replaces_an_old_one() -> None:
    dialogue = at_the_keys()
    dialogue.say(REFERENCE)
    looked_up(dialogue, Found(RecordStatus.PREAUTH, Decimal("1280.00")))
    assert dialogue.record.answers["card_type"] == "preauth"
    assert looked_up(dialogue, Unavailable(Unreachable.TIMEOUT)) == []
    assert dialogue.state == "asking_method"
    for name in ("records", "card_type", "records_lookup"):
        assert name not in dialogue.record.answers  # the record was about other keys


def test_a_record_arriving_at_the_review_shows_the_review_again() -> None:
    dialogue = at_the_keys()
    dialogue.say(REFERENCE)
    script = ["a:method:card", "a:card_type:sale", "a:terminal:success", "a:records:missing"]
    script += ["a:received:none", "a:account:none"]
    for data in script:
        dialogue.press(data)
    assert dialogue.state == "reviewing"
    assert looked_up(dialogue, Found(RecordStatus.SUCCESS, Decimal("1280.00"))) == [
        "records_result",
        "review",
    ]
    assert dialogue.record.answers["records"] == "success"
    assert "c:records" not in dialogue.buttons()  # what the system says is not the merchant's
    assert "c:received" in dialogue.buttons()
    dialogue.press("c:records")
    assert dialogue.state == "reviewing"


def test_a_late_answer_after_the_summary_is_ignored() -> None:
    dialogue = Dialogue()
    assert looked_up(dialogue, NotFound()) == []
    assert dialogue.state == "idle"
