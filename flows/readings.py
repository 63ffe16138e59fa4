"""The one merge of what the merchant gives besides answering a question: a slip, a story.

A slip's fields and a story's facts wait in the conversation for the merchant's "is this
right?"; confirmed, they become answers here and nowhere else, so one rule decides which value
wins when two sources say different things:

- an answer typed or pressed at a question (or given to correct a reading) beats everything
  read before it, and is replaced only by a later answer or a confirmed slip;
- a confirmed slip beats a story fact and an earlier answer: the confirmation showed both and
  the merchant chose the printed value;
- a story fact fills only what nobody has said yet; where it disagrees with an answer or a
  slip, the confirmation shows both and the earlier value is kept.

`origins` remembers, per answer field, which source gave the value (no entry: an answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from decimal import Decimal, InvalidOperation
from typing import Any

ANSWER = "answer"
SLIP = "slip"
STORY = "story"

#: For each source, the sources of the values it may replace.
REPLACES: dict[str, frozenset[str]] = {
    STORY: frozenset({STORY}),
    SLIP: frozenset({STORY, SLIP, ANSWER}),
    ANSWER: frozenset({STORY, SLIP, ANSWER}),
}
#: Pending keys that are not answers (what a story could not decide, shown to be asked).
ASK_KEY = "_ask"


def origin_of(name: str, answers: Mapping[str, Any], origins: Mapping[str, str]) -> str | None:
    if name not in answers:
        return None
    return origins.get(name, ANSWER)


def wins(
    name: str,
    source: str,
    answers: Mapping[str, Any],
    origins: Mapping[str, str],
) -> bool:
    """Whether a value from `source` would replace the answer the field has now."""
    origin = origin_of(name, answers, origins)
    return origin is None or answers.get(name) is None or origin in REPLACES[source]


def merge(
    answers: MutableMapping[str, Any],
    origins: MutableMapping[str, str],
    pending: Mapping[str, Any],
    source: str,
    explicit: Iterable[str] = (),
) -> None:
    """Take the confirmed `pending` values into `answers` (in place); `explicit` names the
    fields the merchant typed or picked while confirming, which count as answers."""
    typed = set(explicit)
    for name, value in pending.items():
        if name.startswith("_"):
            continue
        origin = ANSWER if name in typed else source
        if not wins(name, origin, answers, origins):
            continue
        if name == "slip_type":
            # The printed type replaces the card-type answer, which is then no longer asked.
            answers.pop("card_type", None)
            origins.pop("card_type", None)
        answers[name] = value
        if origin == ANSWER:
            origins.pop(name, None)
        else:
            origins[name] = origin


def took_answer(origins: MutableMapping[str, str], name: str) -> None:
    """An answer given at a question: it is the merchant's own from now on."""
    origins.pop(name, None)


def items(
    pending: Mapping[str, Any],
    answers: Mapping[str, Any],
    origins: Mapping[str, str],
    source: str,
    order: Iterable[str],
    questions: Iterable[str],
) -> list[dict[str, Any]]:
    """What a confirmation lists: each value read, and the answer it disagrees with, saying
    whether confirming replaces that answer (`kept` False) or leaves it (`kept` True)."""
    asked = set(questions)
    listed = []
    for name in dict.fromkeys([*order, *pending]):
        if name not in pending or name.startswith("_"):
            continue
        previous = answers.get(name)
        differs = previous is not None and previous != pending[name]
        listed.append(
            {
                "field": name,
                "value": pending[name],
                "previous": previous if differs else None,
                "kept": differs and not wins(name, source, answers, origins),
                "question": name in asked,
            }
        )
    return listed


def received_partly(received_amount: Any, amount: Any) -> bool:
    """Less arrived than was paid: the money partly arrived (a pasted SMS after the amount)."""
    try:
        return Decimal(str(received_amount)) < Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return False


__all__ = ["ANSWER", "ASK_KEY", "SLIP", "STORY", "items", "merge", "origin_of", "took_answer"]
