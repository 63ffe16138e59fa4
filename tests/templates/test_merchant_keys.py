"""The merchant's own number is shown in full (it is printed on every slip); a card never is."""

from __future__ import annotations

import re

import pytest

from tests.flows.dialogue import Dialogue
from tests.flows.test_intake import CARD_SALE
from tests.flows.test_slip import SLIP
from tests.templates.test_render import RENDERER, SAMPLES

MERCHANT = "898310058120345"
CARD_DIGITS = re.compile(r"622848[0-9]")  # more than the first six: the card number leaking


def with_merchant_number() -> Dialogue:
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.answer_all(CARD_SALE)  # the keys are not asked on the way: added on review
    dialogue.press("c:merchant_id")
    dialogue.say(MERCHANT)
    return dialogue


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_review_shows_the_merchant_number_in_full(locale: str) -> None:
    dialogue = with_merchant_number()
    assert dialogue.templates() == ["review"]
    assert MERCHANT in RENDERER.render(dialogue.last[0], locale).text


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_summary_shows_the_merchant_number_in_full(locale: str) -> None:
    dialogue = with_merchant_number()
    dialogue.press("x:confirm")
    assert MERCHANT in RENDERER.render(dialogue.last[0], locale).text


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_a_changed_merchant_number_is_shown_in_full_when_asked_again(locale: str) -> None:
    dialogue = with_merchant_number()
    dialogue.press("c:merchant_id")
    assert MERCHANT in RENDERER.render(dialogue.last[0], locale).text


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_slip_confirmation_shows_the_merchant_number_and_masks_the_card(locale: str) -> None:
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.answer_all(CARD_SALE[:2])
    dialogue.photo(SLIP)
    text = RENDERER.render(dialogue.last[0], locale).text
    assert MERCHANT in text
    assert "622848******1234" in text
    assert CARD_DIGITS.search(text) is None


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_support_card_shows_the_merchant_number_but_no_card(locale: str) -> None:
    for context in SAMPLES["support_card"]:
        facts = {**context["facts"], "card": "622848******1234"}  # type: ignore[dict-item]
        if context["facts"]:
            facts["merchant_id"] = MERCHANT
        text = RENDERER.text("support_card", locale, {**context, "facts": facts})
        assert (MERCHANT in text) == bool(context["facts"])
        assert "622848" not in text
        assert "******" not in text
