""" "Still missing" up to the bank's hotline: a merchant never asked the bank (the payment was
not overdue at the summary) is asked it there, once, and then gets the step with the hotline
from the bank directory; answered, or not known, the ladder goes on as before."""

from __future__ import annotations

from flows.callbacks import Action, Answer, encode
from flows.intake_table import SUMMARIZED, asking_state
from flows.replies import Reply
from tests.flows.dialogue import Dialogue
from tests.flows.test_slip import SLIP
from tests.flows.test_story_intake import STORY_TEXT, welcomed

MISSING = encode(Action("missing"))


def summarized() -> Dialogue:
    """A card payment from yesterday, not due yet: the bank was not asked on the way."""
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press(encode(Action("slip_ok")))
    for field, value in (
        ("card_type", "sale"),
        ("terminal", "success"),
        ("records", "success"),
        ("cycle", "t1"),
        ("account", "none"),
    ):
        dialogue.press(encode(Answer(field, value)))
    dialogue.press(encode(Action("confirm")))
    assert dialogue.state == SUMMARIZED
    assert "bank" not in dialogue.record.answers
    return dialogue


def step_of(replies: list[Reply]) -> str | None:
    (reply,) = [r for r in replies if r.template == "still_missing"]
    return reply.context["step"].key if reply.context["step"] else None


def climb_to_the_bank_rung(dialogue: Dialogue) -> list[Reply]:
    rungs = []
    for _ in range(5):
        replies = dialogue.press(MISSING)
        if dialogue.state != SUMMARIZED:
            return replies
        rungs.append(step_of(replies))
    raise AssertionError(f"never asked the bank; rungs given: {rungs}")


def test_the_bank_is_asked_at_the_bank_rung_then_the_hotline_is_given() -> None:
    dialogue = summarized()
    replies = climb_to_the_bank_rung(dialogue)
    (question,) = replies
    assert question.template == "ask_bank"
    assert question.context["ladder"] is True
    assert question.context["number"] is None  # no step of the intake's walk
    assert dialogue.state == asking_state("bank")
    replies = dialogue.press(encode(Answer("bank", "icbc")))
    assert dialogue.state == SUMMARIZED
    assert [r.template for r in replies] == ["still_missing"]  # no second summary
    (reply,) = replies
    assert reply.context["step"].key == "call_bank"
    assert reply.context["step"].params["hotline"] == "95588"
    assert dialogue.record.answers["bank"] == {"code": "icbc"}
    assert dialogue.desk.added == [("PB-20261125-0001", {"bank": {"code": "icbc"}})]
    # The next press goes on up the ladder: the bank is not asked again.
    replies = dialogue.press(MISSING)
    assert dialogue.state == SUMMARIZED
    assert step_of(replies) not in (None, "call_bank")


def test_not_sure_gives_the_step_without_a_number_and_is_not_asked_again() -> None:
    dialogue = summarized()
    climb_to_the_bank_rung(dialogue)
    (reply,) = dialogue.press(encode(Answer("bank", "unsure")))
    assert reply.context["step"].key == "call_bank"
    assert reply.context["step"].params["hotline"] is None
    assert dialogue.state == SUMMARIZED


def test_a_typed_bank_name_outside_the_directory_is_named_in_the_step() -> None:
    dialogue = summarized()
    climb_to_the_bank_rung(dialogue)
    dialogue.press(encode(Answer("bank", "other")))
    (reply,) = dialogue.say("宁波鄞州农商银行")
    assert reply.context["step"].params["bank_name"] == "宁波鄞州农商银行"


def test_back_and_cancel_at_the_bank_question_return_to_the_summary() -> None:
    for leave in (lambda d: d.press(encode(Action("back"))), lambda d: d.command("cancel")):
        dialogue = summarized()
        climb_to_the_bank_rung(dialogue)
        replies = leave(dialogue)
        assert dialogue.state == SUMMARIZED
        assert [r.template for r in replies] == ["summary"]
        assert dialogue.record.answers["amount"] == "5000.00"  # nothing dropped
        # Pressed again, the question comes again: the rung was not given.
        climb_to_the_bank_rung(dialogue)


def test_a_bank_known_from_the_start_is_never_asked() -> None:
    dialogue = welcomed()
    dialogue.tell("我昨天下午刷了一笔5000块的，工行卡，到现在还没到账")
    dialogue.press(encode(Action("slip_ok")))
    for field, value in (
        ("card_type", "sale"),
        ("terminal", "success"),
        ("records", "success"),
        ("cycle", "t1"),
        ("account", "none"),
    ):
        dialogue.press(encode(Answer(field, value)))
    dialogue.press(encode(Action("confirm")))
    steps = []
    for _ in range(6):
        steps.append(step_of(dialogue.press(MISSING)))
        assert dialogue.state == SUMMARIZED
    assert "call_bank" in steps


def test_a_slip_photo_at_the_bank_question_says_why_it_cannot_answer_then_asks_again() -> None:
    """A slip prints the paying card's bank, not the settlement bank: the photo is not read
    for it, the merchant is told so, and the question (still off the walk) comes again."""
    dialogue = summarized()
    climb_to_the_bank_rung(dialogue)
    replies = dialogue.photo(SLIP)
    assert [r.template for r in replies] == ["slip_unread", "ask_bank"]
    assert replies[0].context["problem"] == "not_the_bank"
    assert replies[1].context["ladder"] is True
    assert dialogue.state == asking_state("bank")
    assert "bank" not in dialogue.record.answers
    (reply,) = dialogue.press(encode(Answer("bank", "icbc")))
    assert reply.context["step"].key == "call_bank"
