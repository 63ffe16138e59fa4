"""A story in the conversation: confirmed like a slip, then only the open questions are asked."""

from __future__ import annotations

import dataclasses

from flows.intake import IntakeFlow
from flows.intake_core import IntakeRecord
from flows.intake_table import CONFIRMING_SLIP, IDLE, REVIEWING, SUMMARIZED
from flows.readings import ANSWER, SLIP, STORY, merge
from flows.receipt import SlipFields
from tests.flows.dialogue import POLICY, Dialogue
from tests.flows.test_intake import CARD_SALE

STORY_TEXT = "我昨天下午刷了一笔5000块的，到现在还没到账，怎么回事"


def welcomed() -> Dialogue:
    dialogue = Dialogue()
    dialogue.command("start")
    return dialogue


def asked_fields(dialogue: Dialogue) -> list[str]:
    return [r.template.removeprefix("ask_") for r in dialogue.last if r.template.startswith("ask_")]


def test_a_story_at_the_welcome_is_shown_with_the_privacy_notice_and_nothing_kept() -> None:
    dialogue = welcomed()
    (reply,) = dialogue.tell(STORY_TEXT) or []
    assert reply.template == "story_confirm"
    assert reply.context["consent"] is True
    shown = {item["field"]: item["value"] for item in reply.context["items"]}
    assert shown == {
        "when": {"day": "2026-11-24", "time": None},
        "amount": "5000.00",
        "method": "card",
        "received": "none",
    }
    assert dialogue.buttons()[0] == "x:slip_ok"
    assert dialogue.buttons()[-1] == "x:slip_no"
    assert dialogue.record.consented_at is None
    assert dialogue.record.answers == {}
    dialogue.press("x:slip_no")
    assert dialogue.state == IDLE
    assert dialogue.templates() == ["story_discarded", "welcome"]
    assert dialogue.record == IntakeRecord(locale=dialogue.record.locale)


def test_agreeing_takes_the_facts_and_asks_only_the_open_questions() -> None:
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press("x:slip_ok")
    assert dialogue.record.consented_at == dialogue.now
    assert dialogue.record.answers["amount"] == "5000.00"
    asked = asked_fields(dialogue)
    for press in (
        "a:card_type:sale",
        "a:terminal:success",
        "a:records:success",
        "a:cycle:t1",
        "a:account:none",
    ):
        dialogue.press(press)
        asked += asked_fields(dialogue)
    # Never the date, amount, method or what arrived; nor (not due yet, a card payment) the
    # bank, the acquirer's name or the receipt keys.
    assert asked == ["card_type", "terminal", "records", "cycle", "account"]
    assert dialogue.state == REVIEWING
    dialogue.press("x:confirm")
    assert dialogue.state == SUMMARIZED
    facts, _ = dialogue.desk.opened[-1]
    assert facts.amount == 5000
    assert facts.method.value == "card"


def test_at_the_amount_question_the_amount_is_the_answer_and_the_bank_is_offered() -> None:
    dialogue = welcomed()
    dialogue.answer_all(["press:x:begin", "昨天下午3点"])
    (reply,) = dialogue.say("5000，工行卡")
    assert dialogue.record.answers["amount"] == "5000.00"
    assert reply.template == "story_confirm"
    assert reply.context["consent"] is False
    assert [item["field"] for item in reply.context["items"]] == ["bank"]
    dialogue.press("x:slip_ok")
    assert dialogue.record.answers["bank"] == {"code": "icbc"}
    assert asked_fields(dialogue) == ["method"]


def test_a_later_answer_beats_a_story_and_the_story_does_not_replace_an_answer() -> None:
    dialogue = welcomed()
    dialogue.answer_all(["press:x:begin", "昨天下午3点", "1280"])
    (reply,) = dialogue.say("刷卡刷了5000块")  # not an answer to the method question
    items = {item["field"]: item for item in reply.context["items"]}
    assert items["amount"]["previous"] == "1280.00"
    assert items["amount"]["kept"] is True
    dialogue.press("x:slip_ok")
    assert dialogue.record.answers["amount"] == "1280.00"  # the answer stands
    assert dialogue.record.answers["method"] == "card"
    assert dialogue.record.origins == {}  # the method answered its own question
    dialogue.press("a:card_type:sale")
    assert dialogue.state == "asking_terminal"


def test_a_confirmed_slip_beats_a_story_fact() -> None:
    answers: dict[str, object] = {"amount": "5000.00", "method": "card"}
    origins = {"amount": STORY, "method": STORY}
    merge(answers, origins, {"amount": "5100.00"}, SLIP)
    assert answers["amount"] == "5100.00"
    assert origins["amount"] == SLIP
    merge(answers, origins, {"amount": "9.00", "method": "wechat"}, STORY)
    assert answers == {"amount": "5100.00", "method": "wechat"}
    merge(answers, origins, {"amount": "7.00"}, STORY, explicit=["amount"])
    assert answers["amount"] == "7.00"
    assert "amount" not in origins
    merge(answers, origins, {"amount": "8.00"}, STORY)
    assert answers["amount"] == "7.00"  # an answer is never replaced by a story
    assert ANSWER not in origins.values()


def test_a_slip_after_a_story_replaces_its_amount_through_the_same_merge() -> None:
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press("x:slip_ok")
    (reply,) = dialogue.photo(SlipFields(amount=__import__("decimal").Decimal("5100.00")))
    assert reply.template == "slip_confirm"
    assert reply.context["items"][0]["previous"] == "5000.00"
    dialogue.press("x:slip_ok")
    assert dialogue.record.answers["amount"] == "5100.00"
    assert dialogue.record.origins["amount"] == SLIP


def test_the_answer_in_other_words_is_taken_and_the_next_question_asked() -> None:
    dialogue = welcomed()
    dialogue.answer_all(CARD_SALE[:6])  # at the records question
    dialogue.say("App里显示成功")
    assert dialogue.record.answers["records"] == "success"
    assert dialogue.state == "asking_received"


def test_a_pasted_bank_sms_tells_what_arrived_and_when() -> None:
    dialogue = welcomed()
    dialogue.answer_all(CARD_SALE[:7])  # at the received question, 1,280.50 paid
    (reply,) = dialogue.say("您尾号1234的账户11月24日入账1,240.00元")
    shown = {item["field"]: item["value"] for item in reply.context["items"]}
    assert shown == {
        "received": "partial",
        "received_amount": "1240.00",
        "received_day": "2026-11-24",
    }
    dialogue.press("x:slip_ok")
    assert dialogue.record.answers["received"] == "partial"
    assert dialogue.state == "asking_cycle"


def test_intents_at_a_question_and_after_a_summary() -> None:
    dialogue = welcomed()
    dialogue.answer_all(CARD_SALE[:3])
    dialogue.say("转人工")
    assert dialogue.templates() == ["person_requested"]
    dialogue.say("算了")
    assert dialogue.state == IDLE
    assert dialogue.templates()[0] == "cancelled"
    done = welcomed()
    done.answer_all([*CARD_SALE, "press:x:confirm"])
    assert done.tell("到账了") is not None
    assert done.templates() == ["arrived"]
    assert done.tell("还没到") is not None
    assert done.templates() == ["still_missing"]
    assert welcomed().tell("你好") is None  # nothing to read: the caller's hint


def test_a_two_way_date_in_a_story_is_listed_and_asked() -> None:
    dialogue = welcomed()
    (reply,) = dialogue.tell("3/4刷了5000，工行卡，T+1") or []
    assert [a["field"] for a in reply.context["ask"]] == ["when"]
    dialogue.press("x:slip_ok")
    assert asked_fields(dialogue) == ["when"]


def test_correcting_a_story_value_counts_as_an_answer() -> None:
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press("r:amount")
    dialogue.say("5100")
    assert dialogue.state == CONFIRMING_SLIP
    dialogue.press("x:slip_ok")
    assert dialogue.record.answers["amount"] == "5100.00"
    assert "amount" not in dialogue.record.origins


def test_a_person_asked_for_in_a_story_keeps_its_facts_for_confirming() -> None:
    dialogue = welcomed()
    replies = dialogue.tell("转人工 我昨天刷的钱没到") or []
    assert [r.template for r in replies] == ["person_requested", "story_confirm"]
    number = dialogue.record.case_number
    assert number is not None
    assert dialogue.state == CONFIRMING_SLIP
    dialogue.press("x:slip_ok")
    assert dialogue.record.answers["method"] == "card"
    assert dialogue.record.case_number == number  # the same case goes on


def test_with_a_records_lookup_the_keys_come_right_after_a_story() -> None:
    dialogue = welcomed()
    dialogue.flow = IntakeFlow(dataclasses.replace(POLICY, keys_first=True))
    dialogue.tell(STORY_TEXT)
    dialogue.press("x:slip_ok")
    assert asked_fields(dialogue) == ["reference"]
    dialogue.say("312345678901")
    assert asked_fields(dialogue) == ["card_type"]
