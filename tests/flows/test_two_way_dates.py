"""A date such as 3/4 is asked back with two buttons, never guessed (3月4日 or 4月3日)."""

from __future__ import annotations

import pytest

from bot.conversation.rendering import Renderer
from tests.flows.dialogue import Dialogue


def at_when() -> Dialogue:
    dialogue = Dialogue()
    dialogue.command("start")
    dialogue.press("x:begin")
    return dialogue


def test_a_two_way_date_is_asked_back_with_one_button_per_reading() -> None:
    dialogue = at_when()
    dialogue.say("3/4 10:00")
    assert dialogue.templates() == ["ask_when_which"]
    assert dialogue.state == "asking_when"
    assert dialogue.record.answers == {}
    assert dialogue.record.failures == 0  # asking back is not a wrong answer
    picks = [data for data in dialogue.buttons() if data.startswith("a:when:")]
    assert picks == ["a:when:2026-03-04T10:00", "a:when:2026-04-03T10:00"]
    assert dialogue.last[0].context == {"options": ["2026-03-04", "2026-04-03"], "time": "10:00"}


@pytest.mark.parametrize(
    ("data", "stored"),
    [
        ("a:when:2026-03-04T10:00", {"day": "2026-03-04", "time": "10:00"}),
        ("a:when:2026-04-03T10:00", {"day": "2026-04-03", "time": "10:00"}),
    ],
)
def test_pressing_a_reading_stores_it_with_the_typed_time(data: str, stored: object) -> None:
    dialogue = at_when()
    dialogue.say("3/4 10:00")
    dialogue.press(data)
    assert dialogue.record.answers["when"] == stored
    assert dialogue.templates()[-1] == "ask_amount"
    assert dialogue.state == "asking_amount"


def test_a_reading_without_a_time_stores_the_day_only() -> None:
    dialogue = at_when()
    dialogue.say("5/6")
    assert [d for d in dialogue.buttons() if d.startswith("a:when:2")] == [
        "a:when:2026-05-06",
        "a:when:2026-06-05",
    ]
    dialogue.press("a:when:2026-06-05")
    assert dialogue.record.answers["when"] == {"day": "2026-06-05", "time": None}


def test_a_pressed_reading_is_checked_like_a_typed_date() -> None:
    dialogue = at_when()
    dialogue.press("a:when:2026-12-01")  # not one the bot would offer: in the future
    assert dialogue.templates() == ["invalid"]
    assert dialogue.last[0].context["reason"] == "future"
    dialogue.press("a:when:2026-02-30")
    assert dialogue.last[0].context["reason"] == "unrecognised"
    assert "when" not in dialogue.record.answers


def test_a_reading_pressed_after_the_question_moved_on_is_stale() -> None:
    dialogue = at_when()
    dialogue.say("3/4")
    dialogue.say("2026-03-04")
    dialogue.press("a:when:2026-04-03")
    assert dialogue.templates() == ["stale_button", "ask_amount"]
    assert dialogue.record.answers["when"] == {"day": "2026-03-04", "time": None}


def test_unambiguous_dates_are_taken_as_before() -> None:
    for text in ("24/11", "2026-03-04", "3月4日", "Nov 3", "11/11"):
        dialogue = at_when()
        dialogue.say(text)
        assert dialogue.state == "asking_amount", text


def test_a_reading_from_last_year_names_the_year() -> None:
    dialogue = at_when()
    dialogue.say("12/11")  # 11 December 2025 or 12 November 2026
    labels = [b.label for reply in dialogue.last for row in reply.buttons for b in row]
    assert labels[:2] == ["when_pick_year", "when_pick"]


@pytest.mark.parametrize(
    ("locale", "labels"),
    [("zh", ["3月4日", "4月3日"]), ("en", ["4 March", "3 April"])],
)
def test_the_buttons_name_the_month(locale: str, labels: list[str]) -> None:
    dialogue = at_when()
    dialogue.say("3/4")
    out = Renderer().render(dialogue.last[0], locale)
    assert [label for label, _ in out.keyboard[0]] == labels
    dialogue.say("12/11")
    out = Renderer().render(dialogue.last[0], locale)
    assert out.keyboard[0][0][0] == ("2025年12月11日" if locale == "zh" else "11 December 2025")
