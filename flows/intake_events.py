"""What the merchant did, channel-neutral: a pressed button or a command as a trigger of the
intake and its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.callbacks import Action, Answer, Change, Correct, Language, decode
from flows.intake_table import LOCALES, STORY_EXTRAS
from flows.questions import (
    BY_FIELD,
)
from flows.slip import SLIP_EXTRAS


@dataclass(frozen=True)
class Event:
    """What the merchant did, channel-neutral: a trigger name and its arguments."""

    trigger: str
    kwargs: dict[str, Any] = field(default_factory=dict)


#: The intake's trigger for each step a button can take (flows.callbacks.ACTIONS).
ACTION_TRIGGERS = {
    "begin": "begin",
    "back": "back",
    "cancel": "cancel",
    "confirm": "confirm",
    "person": "ask_person",
    "arrived": "arrived",
    "missing": "still_missing",
    "followup": "follow_up",
    "slip_ok": "confirm_slip",
    "slip_no": "discard_slip",
    "keys_ok": "keys_ok",
}


def event_from_button(data: str) -> Event | None:
    """The intake's event for a button it issued; None for anything else (a case's or the
    support group's buttons are not the intake's, and data we never wrote is a spent button)."""
    match decode(data):
        case Answer(field, value) if field in BY_FIELD:
            return Event("answer", {"field": field, "value": value, "pressed": True})
        case Change(field) if field in BY_FIELD:
            return Event("change", {"field": field})
        case Correct(field) if field in (*BY_FIELD, *SLIP_EXTRAS, *STORY_EXTRAS):
            return Event("correct_slip", {"field": field})
        case Language(locale) if locale in LOCALES:
            return Event("set_language", {"locale": locale})
        case Action(name):
            return Event(ACTION_TRIGGERS[name])
    return None


COMMANDS = {
    "start": "welcome",
    "back": "back",
    "cancel": "cancel",
    "help": "help",
    "lang": "set_language",
    "person": "ask_person",
}


def event_from_command(name: str, args: str) -> Event | None:
    trigger = COMMANDS.get(name.lower())
    if trigger is None:
        return None
    # Typed, not pressed: where it has no place, the merchant is told so, not that a button
    # expired (IntakeFlow.handle).
    kwargs: dict[str, Any] = {"typed": True}
    if trigger == "set_language" and args.strip():
        kwargs["locale"] = args.strip().lower()[:2]
    return Event(trigger, kwargs)
