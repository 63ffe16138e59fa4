"""How much of a merchant's story the story reader picks up, and how often it takes a wrong fact.

Reads every story of benchmarks/stories_corpus.py with flows.story.read_story at the corpus's NOW
and compares with the facts the story states. Prints Markdown tables for the docs:

    .venv/bin/python benchmarks/stories.py [--misses] [--strict]

- picked up: a stated fact read with exactly the stated value (a date without its stated hour
  counts as missed, not wrong);
- wrong: a fact taken with another value, or taken when the story does not state it (also for a
  fact the story states ambiguously, like "3/4");
- asked: a fact the story states ambiguously that the reader listed in `ambiguous`.

`--strict` exits 1 on any wrong fact. `messages_to_summary` drives the intake itself with each
story (the story, "Agree", each question asked, the review) and counts the merchant's turns.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stories_corpus import (
    HOLDOUT,
    HOLDOUT_2,
    HOLDOUT_3,
    HOLDOUT_4,
    NOW,
    STORIES,
    CorpusStory,
)

from flows.banks import DEFAULT_BANKS
from flows.diagnosis import Policy
from flows.intake import IntakeFlow
from flows.intake_core import IntakeRecord
from flows.intake_events import Event
from flows.intake_table import CONFIRMING_SLIP, REVIEWING, SUMMARIZED
from flows.questions import BY_STATE
from flows.settlement_calendar import WorkCalendar
from flows.story import Story, read_story
from tests.flows.dialogue import FakeDesk

POLICY = Policy(calendar=WorkCalendar())


@dataclass
class Tally:
    stated: Counter[str] = field(default_factory=Counter)
    picked: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    ambiguous: Counter[str] = field(default_factory=Counter)
    asked: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _flat(facts: Any, amount: Any, day: Any, intents: Any) -> dict[str, Any]:
    """Facts, what arrived and intents as one comparable dict (stated and read alike)."""
    flat: dict[str, Any] = dict(facts)
    if amount is not None:
        flat["received_amount"] = amount
    if day is not None:
        flat["received_day"] = day
    for intent in intents:
        flat[f"intent:{getattr(intent, 'value', intent)}"] = True
    return flat


def _expected(story: CorpusStory) -> dict[str, Any]:
    return _flat(story.facts, story.received_amount, story.received_day, story.intents)


def _got(story: Story) -> dict[str, Any]:
    return _flat(story.facts, story.received_amount, story.received_day, story.intents)


def _kind(key: str) -> str:
    return "intent" if key.startswith("intent:") else key


def score(tally: Tally, case: CorpusStory) -> None:
    story = read_story(case.text, NOW, DEFAULT_BANKS)
    expected, got = _expected(case), _got(story)
    for key, value in expected.items():
        tally.stated[_kind(key)] += 1
        if got.get(key) == value:
            tally.picked[_kind(key)] += 1
        elif key not in got or _less_precise(key, got[key], value):
            tally.misses.append(f"{_kind(key)}: {value!r} in {case.text!r}")
    for key, value in got.items():
        if key in expected and (expected[key] == value or _less_precise(key, value, expected[key])):
            continue
        tally.wrong[_kind(key)] += 1
        tally.errors.append(f"{_kind(key)}: took {value!r} in {case.text!r}")
    asked = {ambiguity.field for ambiguity in story.ambiguous}
    for name in case.ambiguous:
        tally.ambiguous[name] += 1
        if name in asked:
            tally.asked[name] += 1


def _less_precise(key: str, got: Any, expected: Any) -> bool:
    """The right day without the stated hour: a question left open, not a wrong fact."""
    return (
        key == "when"
        and isinstance(got, dict)
        and got.get("day") == expected.get("day")
        and got.get("time") is None
        and expected.get("time") is not None
    )


@dataclass
class Walk:
    """One story driven through the intake to the summary."""

    turns: int  # merchant messages and presses from the story to the summary
    asked_stated: list[str]  # questions asked about a fact the story had stated
    wrong: list[str]  # answers in the case that differ from what the story stated
    #: Stated facts the reader missed and no question asked (it changes no advice here, see
    #: docs/story-reader.md "Fewer questions"): absent from the case, not wrong in it.
    left_out: list[str] = field(default_factory=list)


def _answer_for(name: str, value: Any) -> tuple[str, bool]:
    """How the merchant gives `value` to the question of `name`: (text or choice, pressed)."""
    if name == "when":
        return value["day"] + (f" {value['time']}" if value.get("time") else ""), False
    if name == "bank":
        return (value["code"], True) if value.get("code") else (value["name"], False)
    if name in ("amount", "acquirer", "reference", "terminal_id", "merchant_id", "voucher"):
        return str(value), False
    return str(value), True


#: What the merchant answers to a question the story did not settle.
_DEFAULTS: dict[str, tuple[str, bool]] = {
    "when": ("yesterday", True),
    "amount": ("1000", False),
    "method": ("card", True),
    "card_type": ("sale", True),
    "terminal": ("success", True),
    "records": ("success", True),
    "received": ("none", True),
    "cycle": ("t1", True),
    "bank": ("icbc", True),
    "account": ("none", True),
    "acquirer": ("skip", True),
    "reference": ("noreceipt", True),
    "terminal_id": ("noreceipt", True),
    "merchant_id": ("noreceipt", True),
    "voucher": ("noreceipt", True),
    "order_no": ("skip", True),
    "slip_type": ("sale", True),
}


def messages_to_summary(case: CorpusStory) -> Walk:
    """Drive flows.intake with the story as a merchant would: /start, the story, then agree
    to what was understood, answer each question asked (with the story's own facts where it
    stated them, else a plain answer; Skip / No receipt for the optional ones) and confirm the
    review. Counts every merchant message and press after /start."""
    flow = IntakeFlow(POLICY)
    record = IntakeRecord()
    desk = FakeDesk()
    flow.handle(record, Event("welcome"), NOW, desk)
    turns, asked_stated = 1, []
    if flow.tell(record, case.text, NOW, desk) is None:
        turns += 1
        flow.handle(record, Event("begin"), NOW, desk)
    for _ in range(40):
        if record.state == SUMMARIZED:
            break
        turns += 1
        if record.state == CONFIRMING_SLIP:
            flow.handle(record, Event("confirm_slip"), NOW, desk)
        elif record.state == REVIEWING:
            flow.handle(record, Event("confirm"), NOW, desk)
        elif record.state in BY_STATE:
            name = BY_STATE[record.state].field
            if name in case.facts:
                asked_stated.append(name)
                value, pressed = _answer_for(name, case.facts[name])
            else:
                value, pressed = _DEFAULTS[name]
            kwargs: dict[str, Any] = {"value": value, "pressed": pressed}
            if pressed:
                kwargs["field"] = name
            flow.handle(record, Event("answer", kwargs), NOW, desk)
        else:
            flow.handle(record, Event("begin"), NOW, desk)
    wrong = [
        f"{name}: {record.answers.get(name)!r} for {value!r}"
        for name, value in case.facts.items()
        if record.answers.get(name) is not None
        and record.answers.get(name) != value
        and not _less_precise(name, record.answers.get(name), value)
    ]
    left_out = [
        f"{name}: {value!r} in {case.text!r}"
        for name, value in case.facts.items()
        if record.answers.get(name) is None
    ]
    return Walk(turns, asked_stated, wrong, left_out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every missed fact")
    parser.add_argument("--strict", action="store_true", help="exit 1 on any wrong fact")
    parser.add_argument(
        "--set",
        choices=("development", "holdout", "holdout2", "holdout3", "holdout4", "all"),
        default="all",
        help="development: the stories the reader was built on; holdout: written later, unseen",
    )
    args = parser.parse_args()
    cases = {
        "development": STORIES,
        "holdout": HOLDOUT,
        "holdout2": HOLDOUT_2,
        "holdout3": HOLDOUT_3,
        "holdout4": HOLDOUT_4,
        "all": STORIES + HOLDOUT + HOLDOUT_2 + HOLDOUT_3 + HOLDOUT_4,
    }[args.set]

    tally = Tally()
    for case in cases:
        score(tally, case)
    stated, picked, wrong = (sum(c.values()) for c in (tally.stated, tally.picked, tally.wrong))
    print(f"{args.set}: {len(cases)} stories, {stated} stated facts, read at {NOW.isoformat()}\n")
    print("| fact | stated | picked up | share | wrong |")
    print("| --- | ---: | ---: | ---: | ---: |")
    kinds = sorted(set(tally.stated) | set(tally.wrong), key=lambda k: -tally.stated[k])
    for kind in kinds:
        share = tally.picked[kind] / tally.stated[kind] if tally.stated[kind] else 0.0
        print(
            f"| {kind} | {tally.stated[kind]} | {tally.picked[kind]} | {share:.0%} "
            f"| {tally.wrong[kind]} |"
        )
    print(f"| **all** | {stated} | {picked} | {picked / stated:.1%} | {wrong} |\n")
    ambiguous = sum(tally.ambiguous.values())
    print(
        f"Ambiguous facts in the corpus: {ambiguous}, listed for asking: "
        f"{sum(tally.asked.values())}, taken anyway: counted as wrong above.\n"
    )
    four_or_more = [case for case in cases if len(case.facts) >= 4]
    walks = [messages_to_summary(case) for case in cases]
    long_walks = [messages_to_summary(case) for case in four_or_more]
    wrong_in_case = [line for walk in walks for line in walk.wrong]
    asked_again = sum(len(walk.asked_stated) for walk in walks)
    print("Driven through the intake (flows.intake, as `posbot chat` and Telegram run it):\n")
    print(
        "| stories | count | turns to the summary: median | max | stated facts "
        "| taken without asking | wrong in the case | missed, not asked |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    groups = (("all", cases, walks), ("stating four or more facts", four_or_more, long_walks))
    for label, group, driven in groups:
        turns = [walk.turns for walk in driven]
        stated = sum(len(case.facts) for case in group)
        taken = stated - sum(len(w.asked_stated) + len(w.left_out) for w in driven)
        print(
            f"| {label} | {len(group)} | {statistics.median(turns)} | {max(turns)} | {stated} "
            f"| {taken} ({taken / stated:.1%}) | {sum(len(w.wrong) for w in driven)} "
            f"| {sum(len(w.left_out) for w in driven)} |"
        )
    print()
    if wrong_in_case:
        print("Wrong answers in the case:")
        for line in wrong_in_case:
            print(f"- {line}")
    left_out = [line for walk in walks for line in walk.left_out]
    if left_out:
        print("Stated, missed by the reader and not asked (no advice depends on them here):")
        for line in left_out:
            print(f"- {line}")
    if args.misses and asked_again:
        print("Stated facts asked again:")
        for case, walk in zip(cases, walks, strict=True):
            if walk.asked_stated:
                print(f"- {walk.asked_stated} in {case.text!r}")
    started = time.perf_counter()
    for case in cases:
        read_story(case.text, NOW, DEFAULT_BANKS)
    per_story = (time.perf_counter() - started) / len(cases) * 1000
    walls = {
        "3/4 " * 1000: "4,000 characters of '3/4 '",
        "工行建行农行" * 650: "3,900 characters of bank names",
        "昨天下午3点刷了一笔5000块的，T+1，到现在一分钱都没到。" * 130: "a story pasted 130 times",
    }
    worst = 0.0
    for text in walls:
        started = time.perf_counter()
        read_story(text, NOW, DEFAULT_BANKS)
        worst = max(worst, time.perf_counter() - started)
    print(
        f"Reading time on this machine: {per_story:.1f} ms per story on average; the slowest of "
        f"three 4,000-character walls ({', '.join(walls.values())}): {worst * 1000:.0f} ms\n"
    )
    if tally.errors:
        print("Wrong facts:")
        for line in tally.errors:
            print(f"- {line}")
    if args.misses:
        print("Missed facts:")
        for line in tally.misses:
            print(f"- {line}")
    return 1 if args.strict and wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
