"""How much of a merchant's story the story reader picks up, and how often it takes a wrong fact.

Reads every story of benchmarks/stories_corpus.py with flows.story.read_story at the corpus's NOW
and compares with the facts the story states. Prints Markdown tables for the docs:

    .venv/bin/python benchmarks/stories.py [--misses] [--strict]

- picked up: a stated fact read with exactly the stated value (a date without its stated hour
  counts as missed, not wrong);
- wrong: a fact taken with another value, or taken when the story does not state it (also for a
  fact the story states ambiguously, like "3/4");
- asked: a fact the story states ambiguously that the reader listed in `ambiguous`.

`--strict` exits 1 on any wrong fact. The messages-to-summary figure needs the conversation:
`messages_to_summary` below is the hook the integration fills in; until then the table shows an
estimate from the questions still open after the story (see its docstring).
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
from flows.questions import applicable
from flows.story import Story, read_story


@dataclass
class Tally:
    stated: Counter[str] = field(default_factory=Counter)
    picked: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    ambiguous: Counter[str] = field(default_factory=Counter)
    asked: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _expected(story: CorpusStory) -> dict[str, Any]:
    expected: dict[str, Any] = dict(story.facts)
    if story.received_amount is not None:
        expected["received_amount"] = story.received_amount
    if story.received_day is not None:
        expected["received_day"] = story.received_day
    for intent in story.intents:
        expected[f"intent:{intent}"] = True
    return expected


def _got(story: Story) -> dict[str, Any]:
    got: dict[str, Any] = dict(story.facts)
    if story.received_amount is not None:
        got["received_amount"] = story.received_amount
    if story.received_day is not None:
        got["received_day"] = story.received_day
    for intent in story.intents:
        got[f"intent:{intent.value}"] = True
    return got


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


def messages_to_summary(case: CorpusStory) -> int:
    """Merchant messages and presses from the story to the summary (the integration's hook).

    Until the conversation reads stories this is an estimate from the reader alone: the story
    itself, one press to confirm what was understood, one answer per required question still
    open for these facts, and the press that confirms the review. The integration should replace
    it by driving flows.intake with the story and counting the merchant's turns.
    """
    story = read_story(case.text, NOW, DEFAULT_BANKS)
    answers = dict(story.facts)
    open_questions = [
        question
        for question in applicable(answers)
        if not question.optional and question.field not in answers
    ]
    return 1 + (1 if story.facts else 0) + len(open_questions) + 1


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
    estimates = [messages_to_summary(case) for case in four_or_more]
    print(
        f"Stories stating four or more facts: {len(four_or_more)}; estimated merchant messages "
        f"to the summary (story + confirm + open required questions + review): median "
        f"{statistics.median(estimates)}\n"
    )
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
