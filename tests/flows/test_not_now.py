"""What the merchant hears when what they did has no place where they are: an old button is
"expired", but a typed command is not a button, and is told what it cannot do here."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flows.replies import Reply
from tests.flows.dialogue import Dialogue
from tests.flows.test_back_to_asked import CARD, give, plain
from tests.flows.test_bank_rung import summarized
from tests.flows.test_story_intake import welcomed

CASES: list[tuple[str, Callable[[], Dialogue], Callable[[Dialogue], list[Reply]], str, str]] = [
    ("/back at the welcome", welcomed, lambda d: d.command("back"), "command_not_now", "welcome"),
    (
        "/back after the result",
        summarized,
        lambda d: d.command("back"),
        "command_not_now",
        "summary",
    ),
    (
        "an old ⬅ Back button after the result",
        summarized,
        lambda d: d.press("x:back"),
        "stale_button",
        "summary",
    ),
]


@pytest.mark.parametrize(
    ("label", "start", "act", "said", "then"), CASES, ids=[c[0] for c in CASES]
)
def test_what_cannot_be_taken_here_says_what_it_was_then_shows_where_the_merchant_is(
    label: str,
    start: Callable[[], Dialogue],
    act: Callable[[Dialogue], list[Reply]],
    said: str,
    then: str,
) -> None:
    dialogue = start()
    state = dialogue.state
    replies = act(dialogue)
    assert [r.template for r in replies] == [said, then]
    assert dialogue.state == state
    if said != "stale_button":
        assert replies[0].context["state"] == state


def test_a_typed_command_names_itself() -> None:
    dialogue = welcomed()
    (said, _) = dialogue.command("back")
    assert said.context["trigger"] == "back"


def test_cancel_with_nothing_to_cancel_says_so() -> None:
    dialogue = welcomed()
    (said, again) = dialogue.command("cancel")
    assert (said.template, said.context["trigger"], again.template) == (
        "command_not_now",
        "cancel",
        "welcome",
    )


def test_typed_text_at_the_review_points_at_the_review_not_at_the_start() -> None:
    """The review is no question: text there is pointed at the review's buttons (it used to get
    the welcome's "press Start", as if no enquiry were under way)."""
    dialogue = plain()
    while dialogue.state != "reviewing":
        give(dialogue, CARD)
    assert dialogue.state == "reviewing"
    (said,) = dialogue.say("还是没到账")
    assert (said.template, said.context) == ("off_topic", {"state": "reviewing"})
    assert dialogue.state == "reviewing"
