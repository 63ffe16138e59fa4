"""After the summary, "It arrived" and "Check back" work once; pressed again, they say so."""

from __future__ import annotations

import pytest

from tests.flows.dialogue import Dialogue
from tests.flows.test_intake import CARD_SALE
from tests.templates.test_render import RENDERER

CASE = "PB-20261125-0001"


def summarized() -> Dialogue:
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.answer_all([*CARD_SALE, "press:x:confirm"])
    assert dialogue.templates() == ["summary"]
    return dialogue


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_it_arrived_asks_for_the_rating_its_buttons_give(locale: str) -> None:
    dialogue = summarized()
    dialogue.press("x:arrived")
    ratings = [data for data in dialogue.buttons() if data.startswith("k:rate:")]
    assert ratings == [f"k:rate:{CASE}:{n}" for n in range(1, 6)]
    text = RENDERER.render(dialogue.last[0], locale).text
    assert RENDERER.text("rate_request", locale, {"case_number": CASE}) in text


def test_it_arrived_pressed_again_resolves_once_and_asks_no_second_rating() -> None:
    dialogue = summarized()
    dialogue.press("x:arrived")
    dialogue.press("x:arrived")
    assert dialogue.desk.resolved == [CASE]
    assert dialogue.last[0].context == {"case_number": CASE, "already": True}
    assert dialogue.buttons() == ["x:begin"]


def test_check_back_pressed_four_times_sets_one_follow_up() -> None:
    dialogue = summarized()
    assert "x:followup" in dialogue.buttons()
    contexts = []
    for _ in range(4):
        dialogue.press("x:followup")
        contexts.append(dialogue.last[0].context)
    assert len(dialogue.desk.followups) == 1
    at = dialogue.desk.followups[0][1]
    assert contexts[0] == {"at": at, "already": False, "has_due": True}
    assert contexts[1:] == [{"at": at, "already": True, "has_due": True}] * 3
