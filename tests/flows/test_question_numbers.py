"""Question numbers follow the order in which this merchant is asked: 1, 2, 3 … with no gaps
for the questions a story, a slip or the answers given made unnecessary, and /back shows the
number the question had before."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.conversation.rendering import Renderer
from flows.callbacks import Action, Answer, Change, encode
from flows.intake import IntakeFlow
from flows.replies import Reply
from tests.flows.dialogue import POLICY, Dialogue
from tests.flows.test_slip import SLIP
from tests.flows.test_story_intake import STORY_TEXT, welcomed
from tests.templates.test_render import SETTINGS

BEGIN = encode(Action("begin"))
BACK = encode(Action("back"))
AGREE = encode(Action("slip_ok"))


def _question(dialogue: Dialogue) -> Reply:
    (asked,) = [r for r in dialogue.last if r.template.startswith("ask_")]
    return asked


def numbers(dialogue: Dialogue) -> tuple[str, int | None]:
    asked = _question(dialogue)
    return asked.template.removeprefix("ask_"), asked.context.get("number")


def press(dialogue: Dialogue, field: str, value: str) -> tuple[str, int | None]:
    dialogue.press(encode(Answer(field, value)))
    return numbers(dialogue)


def test_every_question_is_numbered_in_order_when_nothing_was_told() -> None:
    dialogue = welcomed()
    dialogue.press(BEGIN)
    seen = [numbers(dialogue)]
    dialogue.say("昨天下午3点")
    seen.append(numbers(dialogue))
    dialogue.say("5000")
    seen.append(numbers(dialogue))
    for field, value in (
        ("method", "card"),
        ("card_type", "sale"),
        ("terminal", "success"),
        ("records", "success"),
        ("received", "none"),
        ("cycle", "t1"),
    ):
        seen.append(press(dialogue, field, value))
    assert seen == [
        ("when", 1),
        ("amount", 2),
        ("method", 3),
        ("card_type", 4),
        ("terminal", 5),
        ("records", 6),
        ("received", 7),
        ("cycle", 8),
        ("account", 9),  # the bank was not asked (not overdue): no gap
    ]


def test_after_a_story_the_open_questions_count_from_one() -> None:
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press(AGREE)
    seen = [numbers(dialogue)]
    for field, value in (
        ("card_type", "sale"),
        ("terminal", "success"),
        ("records", "success"),
        ("cycle", "t1"),
    ):
        seen.append(press(dialogue, field, value))
    assert seen == [("card_type", 1), ("terminal", 2), ("records", 3), ("cycle", 4), ("account", 5)]


def test_back_shows_the_number_the_question_had() -> None:
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press(AGREE)
    press(dialogue, "card_type", "sale")
    assert press(dialogue, "terminal", "success") == ("records", 3)
    dialogue.press(BACK)
    assert numbers(dialogue) == ("terminal", 2)
    dialogue.press(BACK)
    assert numbers(dialogue) == ("card_type", 1)
    # Back past the first question asked: the story's confirmation again, never the way of
    # paying the story gave (it was not shown, and would show a number already used).
    dialogue.press(BACK)
    assert dialogue.templates() == ["story_confirm"]
    dialogue.press(AGREE)
    assert numbers(dialogue) == ("records", 3)


def test_a_slip_photo_fills_questions_and_the_next_one_keeps_counting() -> None:
    dialogue = welcomed()
    dialogue.press(BEGIN)
    dialogue.say("昨天下午3点")
    assert numbers(dialogue) == ("amount", 2)
    dialogue.photo(SLIP)
    dialogue.press(AGREE)
    # The slip gave everything up to the terminal's answer; the amount question was asked (and
    # answered with the photo), so the next one is the third.
    assert numbers(dialogue) == ("terminal", 3)


def test_changing_one_answer_from_the_review_carries_no_number() -> None:
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press(AGREE)
    for field, value in (
        ("card_type", "sale"),
        ("terminal", "success"),
        ("records", "success"),
        ("cycle", "t1"),
        ("account", "none"),
    ):
        dialogue.press(encode(Answer(field, value)))
    dialogue.press(encode(Change("terminal")))
    assert numbers(dialogue) == ("terminal", None)


def test_keys_first_numbers_the_reference_question_in_its_place() -> None:
    dialogue = welcomed()
    dialogue.flow = IntakeFlow(replace(POLICY, keys_first=True))
    dialogue.press(BEGIN)
    dialogue.say("昨天下午3点")
    dialogue.say("5000")
    assert numbers(dialogue) == ("reference", 3)
    dialogue.say("312345678901")
    assert numbers(dialogue) == ("method", 4)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_templates_print_the_number_given_and_none_when_revising(locale: str) -> None:
    renderer = Renderer(settings=SETTINGS)
    for field in ("when", "amount", "method", "card_type", "terminal", "records", "received"):
        context = {"number": 3, "choices": (), "revising": False, "current": None}
        (text,) = [o.text for o in renderer.render_parts(Reply(f"ask_{field}", context), locale)]
        assert text.startswith("<b>3. "), (field, text)
        context = {"number": None, "choices": (), "revising": True, "current": None}
        (text,) = [o.text for o in renderer.render_parts(Reply(f"ask_{field}", context), locale)]
        assert text.startswith("<b>"), (field, text)
        assert not text[3].isdigit(), (field, text)


def test_a_question_asked_and_then_no_longer_on_the_way_leaves_no_gap() -> None:
    dialogue = welcomed()
    dialogue.press(BEGIN)
    dialogue.say("昨天下午3点")
    dialogue.say("5000")
    assert press(dialogue, "method", "card") == ("card_type", 4)
    dialogue.press(BACK)
    assert numbers(dialogue) == ("method", 3)
    # Paid by WeChat after all: the card type is no longer asked, the terminal is the fourth.
    assert press(dialogue, "method", "wechat") == ("terminal", 4)


def test_a_new_enquiry_counts_from_one_again() -> None:
    dialogue = welcomed()
    dialogue.press(BEGIN)
    dialogue.say("昨天下午3点")
    assert numbers(dialogue) == ("amount", 2)
    dialogue.command("cancel")
    dialogue.press(BEGIN)
    assert numbers(dialogue) == ("when", 1)
