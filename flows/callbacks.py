"""Every button's callback data, written and read in one place.

A button carries at most 64 bytes back to the bot, and a merchant can press a button from a
message sent days ago, in another version of the bot. So the data is short, versionless text
(`kind:value`), and anything this module did not write (or can no longer read) decodes to None
and is answered as a spent button, never guessed at. One prefix per kind, owned here:

    a:<field>:<value>      an answer pressed (`a:method:card`)
    c:<field>              change one answer from the review
    r:<field>              correct or drop one fact read from a slip or a story
    l:<locale>             switch the language
    x:<action>             a step of the conversation (begin, back, confirm, ...)
    k:<verb>:<case>        a case's follow-up buttons (yes / no / next)
    k:rate:<case>:<stars>  the rating after a case
    g:<yes|no>             confirm or keep `/forget`
    s:<verb>:<case id>     an agent's button on a case card in the support group
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACTIONS",
    "AGENT_VERBS",
    "CASE_VERBS",
    "MAX_BYTES",
    "Action",
    "AgentAction",
    "Answer",
    "Callback",
    "CaseReply",
    "Change",
    "Correct",
    "Forget",
    "Language",
    "Rating",
    "decode",
    "encode",
]

#: Telegram's limit on callback data.
MAX_BYTES = 64
#: The conversation's steps a button can take.
ACTIONS = frozenset(
    {
        "begin",
        "back",
        "cancel",
        "confirm",
        "person",
        "arrived",
        "missing",
        "followup",
        "slip_ok",
        "slip_no",
        "keys_ok",
    }
)
CASE_VERBS = frozenset({"yes", "no", "next"})
#: An agent's buttons on a case card, in the order the card shows them.
AGENT_VERBS = ("claim", "unclaim", "resolve")


@dataclass(frozen=True)
class Answer:
    field: str
    value: str


@dataclass(frozen=True)
class Change:
    field: str


@dataclass(frozen=True)
class Correct:
    field: str


@dataclass(frozen=True)
class Language:
    locale: str


@dataclass(frozen=True)
class Action:
    name: str


@dataclass(frozen=True)
class CaseReply:
    verb: str
    case_number: str


@dataclass(frozen=True)
class Rating:
    case_number: str
    stars: int


@dataclass(frozen=True)
class Forget:
    confirmed: bool


@dataclass(frozen=True)
class AgentAction:
    verb: str
    case_id: int


Callback = Answer | Change | Correct | Language | Action | CaseReply | Rating | Forget | AgentAction


def encode(callback: Callback) -> str:
    """The data for a button; ValueError for what decode would not read back."""
    match callback:
        case Answer(field, value):
            data = f"a:{field}:{value}"
        case Change(field):
            data = f"c:{field}"
        case Correct(field):
            data = f"r:{field}"
        case Language(locale):
            data = f"l:{locale}"
        case Action(name):
            data = f"x:{name}"
        case CaseReply(verb, number):
            data = f"k:{verb}:{number}"
        case Rating(number, stars):
            data = f"k:rate:{number}:{stars}"
        case Forget(confirmed):
            data = f"g:{'yes' if confirmed else 'no'}"
        case AgentAction(verb, case_id):
            data = f"s:{verb}:{case_id}"
    if len(data.encode()) > MAX_BYTES or decode(data) != callback:
        raise ValueError(f"not a button's data: {callback!r}")
    return data


def _name(text: str) -> bool:
    """A field, locale or verb: what our own buttons put there (no separator, nothing empty)."""
    return bool(text) and ":" not in text and text.isascii() and text.isprintable()


def _number(text: str) -> bool:
    """A case id as our buttons write it: ASCII digits, no leading zero."""
    return text.isascii() and text.isdecimal() and str(int(text)) == text


def decode(data: str) -> Callback | None:
    """What a pressed button asks for, or None for data this bot did not write."""
    kind, _, rest = data.partition(":")
    parts = rest.split(":")
    match kind, parts:
        case "a", [field, *value] if _name(field) and value and ":".join(value):
            return Answer(field, ":".join(value))
        case "c", [field] if _name(field):
            return Change(field)
        case "r", [field] if _name(field):
            return Correct(field)
        case "l", [locale] if _name(locale):
            return Language(locale)
        case "x", [name] if name in ACTIONS:
            return Action(name)
        case "k", ["rate", number, stars] if _name(number) and stars in ("1", "2", "3", "4", "5"):
            return Rating(number, int(stars))
        case "k", [verb, number] if verb in CASE_VERBS and _name(number):
            return CaseReply(verb, number)
        case "g", ["yes" | "no" as answer]:
            return Forget(answer == "yes")
        case "s", [verb, case_id] if verb in AGENT_VERBS and _number(case_id):
            return AgentAction(verb, int(case_id))
    return None
