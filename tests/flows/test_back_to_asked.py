"""Back goes to the previous question this merchant was shown (the `asked` record), never to one
a story, a slip or earlier answers settled; from the first one shown, back to where the merchant
was before it. A plain intake, where every question is shown, goes back exactly as before."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.callbacks import Action, Answer, encode
from flows.intake import IntakeFlow
from flows.intake_table import CONFIRMING_SLIP, IDLE
from tests.flows.dialogue import POLICY, Dialogue
from tests.flows.test_slip import SLIP
from tests.flows.test_story_intake import STORY_TEXT, welcomed

BEGIN = encode(Action("begin"))
BACK = encode(Action("back"))
AGREE = encode(Action("slip_ok"))

#: Typed answers; the others are pressed.
TYPED = frozenset({"when", "amount", "reference", "acquirer", "terminal_id", "merchant_id"})
CARD = {
    "when": "昨天下午3点",
    "amount": "5000",
    "method": "card",
    "card_type": "sale",
    "terminal": "success",
    "records": "success",
    "received": "none",
    "cycle": "t1",
    "bank": "unsure",
    "account": "none",
}
WECHAT = {**CARD, "method": "wechat", "acquirer": "拉卡拉"}
KEYS = {**CARD, "reference": "312345678901"}
OLD = {**CARD, "when": "11月1日"}


def shown(dialogue: Dialogue) -> tuple[str, int | None]:
    """The question on screen and its number, or the state when no question is."""
    asked = [r for r in dialogue.last if r.template.startswith("ask_")]
    if len(asked) != 1:
        return dialogue.state, None
    return asked[0].template.removeprefix("ask_"), asked[0].context.get("number")


def give(dialogue: Dialogue, answers: dict[str, str]) -> None:
    field, _ = shown(dialogue)
    if field in TYPED:
        dialogue.say(answers[field])
    else:
        dialogue.press(encode(Answer(field, answers[field])))


def plain(keys_first: bool = False) -> Dialogue:
    dialogue = welcomed()
    if keys_first:
        dialogue.flow = IntakeFlow(replace(POLICY, keys_first=True))
    dialogue.press(BEGIN)
    return dialogue


def told() -> Dialogue:
    dialogue = welcomed()
    dialogue.tell(STORY_TEXT)
    dialogue.press(AGREE)
    return dialogue


def slipped() -> Dialogue:
    dialogue = plain()
    dialogue.say("昨天下午3点")
    dialogue.photo(SLIP)
    dialogue.press(AGREE)
    return dialogue


# Each case: how the intake starts, the answers, then for each question shown in turn (and the
# review), where one Back from there goes. The plain rows are what Back did before this change.
CASES = {
    "plain card": (
        plain,
        CARD,
        [
            ("when", 1, (IDLE, None)),
            ("amount", 2, ("when", 1)),
            ("method", 3, ("amount", 2)),
            ("card_type", 4, ("method", 3)),
            ("terminal", 5, ("card_type", 4)),
            ("records", 6, ("terminal", 5)),
            ("received", 7, ("records", 6)),
            ("cycle", 8, ("received", 7)),
            ("account", 9, ("cycle", 8)),
            ("reviewing", None, ("account", None)),
        ],
    ),
    "plain overdue (the bank asked)": (
        plain,
        OLD,
        [
            ("when", 1, (IDLE, None)),
            ("amount", 2, ("when", 1)),
            ("method", 3, ("amount", 2)),
            ("card_type", 4, ("method", 3)),
            ("terminal", 5, ("card_type", 4)),
            ("records", 6, ("terminal", 5)),
            ("received", 7, ("records", 6)),
            ("cycle", 8, ("received", 7)),
            ("bank", 9, ("cycle", 8)),
            ("account", 10, ("bank", 9)),
            ("reviewing", None, ("account", None)),
        ],
    ),
    "plain wechat (the acquirer asked)": (
        plain,
        WECHAT,
        [
            ("when", 1, (IDLE, None)),
            ("amount", 2, ("when", 1)),
            ("method", 3, ("amount", 2)),
            ("terminal", 4, ("method", 3)),
            ("records", 5, ("terminal", 4)),
            ("received", 6, ("records", 5)),
            ("cycle", 7, ("received", 6)),
            ("account", 8, ("cycle", 7)),
            ("acquirer", 9, ("account", 8)),
            ("reviewing", None, ("acquirer", None)),
        ],
    ),
    "plain keys first": (
        lambda: plain(keys_first=True),
        KEYS,
        [
            ("when", 1, (IDLE, None)),
            ("amount", 2, ("when", 1)),
            ("reference", 3, ("amount", 2)),
            ("method", 4, ("reference", 3)),
            ("card_type", 5, ("method", 4)),
            ("terminal", 6, ("card_type", 5)),
            ("records", 7, ("terminal", 6)),
            ("received", 8, ("records", 7)),
            ("cycle", 9, ("received", 8)),
            ("account", 10, ("cycle", 9)),
            # The review's Back: the last question shown (the keys came first, so not one of
            # them), as from every review.
            ("reviewing", None, ("account", None)),
        ],
    ),
    "story (date, amount, card, nothing arrived)": (
        told,
        CARD,
        [
            # The first question shown: back to the story's confirmation.
            ("card_type", 1, (CONFIRMING_SLIP, None)),
            ("terminal", 2, ("card_type", 1)),
            ("records", 3, ("terminal", 2)),
            ("cycle", 4, ("records", 3)),
            ("account", 5, ("cycle", 4)),
            ("reviewing", None, ("account", None)),
        ],
    ),
    "slip after the date": (
        slipped,
        CARD,
        [
            # The amount was shown (answered with the photo); the way of paying never was.
            ("terminal", 3, ("amount", 2)),
            ("records", 4, ("terminal", 3)),
            ("received", 5, ("records", 4)),
            ("cycle", 6, ("received", 5)),
            ("account", 7, ("cycle", 6)),
            ("reviewing", None, ("account", None)),
        ],
    ),
}
#: Questions shown before the first row of a case, retraced after it (latest first).
EARLIER = {"slip after the date": [("amount", 2), ("when", 1)]}


def _steps() -> list[tuple[str, int]]:
    return [(name, step) for name, (_, _, rows) in CASES.items() for step in range(len(rows))]


@pytest.mark.parametrize(("case", "step"), _steps())
def test_back_from_each_question_shown(case: str, step: int) -> None:
    start, answers, rows = CASES[case]
    dialogue = start()
    for _ in range(step):
        give(dialogue, answers)
    field, number, back = rows[step]
    assert shown(dialogue) == (field, number)
    dialogue.press(BACK)
    assert shown(dialogue) == back


@pytest.mark.parametrize("case", list(CASES))
def test_back_all_the_way_retraces_the_questions_shown(case: str) -> None:
    """From the last question, Back after Back shows each question shown before, numbers
    counting down by one, none that was never shown."""
    start, answers, rows = CASES[case]
    dialogue = start()
    questions = [(field, number) for field, number, _ in rows if number is not None]
    for _ in range(len(questions) - 1):
        give(dialogue, answers)
    assert shown(dialogue) == questions[-1]
    seen = []
    for _ in range(len(questions) - 1):
        dialogue.press(BACK)
        seen.append(shown(dialogue))
    earlier = EARLIER.get(case, [])
    for _ in earlier:
        dialogue.press(BACK)
        seen.append(shown(dialogue))
    assert seen == [*questions[-2::-1], *earlier]
    dialogue.press(BACK)
    assert dialogue.state == (CONFIRMING_SLIP if start is told else IDLE)


def test_back_to_the_story_shows_it_again_and_agreeing_resumes() -> None:
    dialogue = told()
    give(dialogue, CARD)  # the card type
    dialogue.press(BACK)
    assert shown(dialogue) == ("card_type", 1)
    dialogue.press(BACK)
    assert dialogue.templates() == ["story_confirm"]
    listed = {item["field"] for item in dialogue.last[0].context["items"]}
    assert listed == {"when", "amount", "method", "received"}
    dialogue.press(AGREE)
    # The card type keeps the answer given; the first question still open is the terminal.
    assert shown(dialogue) == ("terminal", 2)
    assert dialogue.record.answers["card_type"] == "sale"


def test_back_twice_from_the_story_drops_it_as_declining_would() -> None:
    dialogue = told()
    dialogue.press(BACK)
    assert dialogue.templates() == ["story_confirm"]
    dialogue.press(BACK)
    assert dialogue.state == IDLE
    assert dialogue.record.answers == {}
    assert "story_discarded" in dialogue.templates()


def test_the_reviews_back_goes_to_the_last_question_shown_not_one_a_story_answered() -> None:
    """A story that said the settlement card was changed leaves an earlier question as the
    last one shown: the review's Back goes there, not to the account question never asked."""
    dialogue = welcomed()
    dialogue.tell("昨天下午3点刷卡5000元，显示成功，钱一直没到，上个月换了结算卡")
    dialogue.press(AGREE)
    answered = set(dialogue.record.answers)
    assert "account" in answered, answered
    while dialogue.state != "reviewing":
        give(dialogue, CARD)
    last = dialogue.record.asked[-1]
    assert last != "account"
    dialogue.press(BACK)
    assert shown(dialogue) == (last, None)


def test_the_reviews_back_with_nothing_shown_goes_where_it_always_did() -> None:
    """Every answer from a story: no question was shown, so the review's Back keeps its old
    destination (the last question on the way)."""
    dialogue = plain()
    dialogue.record.asked = []
    dialogue.record.answers = dict(CARD)
    dialogue.record.state = "reviewing"
    dialogue.press(BACK)
    assert shown(dialogue)[0] == "account"
