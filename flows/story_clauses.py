"""Where a fact stands in a story: its clause, whether a negation or a doubt governs it, and which
spans of the text are dates (and whose), so the reader takes a fact only where it was said; and
the one way a found phrase becomes a value, through the question's own parser."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows import story_words as words
from flows.answers import InvalidAnswer
from flows.questions import BY_FIELD, Question, WantsFreeText, parse_answer

# =============================================================================== normalizing


@dataclass(frozen=True)
class Clause:
    start: int
    end: int


def clauses(s: str) -> list[Clause]:
    bounds = [0]
    for match in words.CLAUSE_BREAK.finditer(s):
        bounds.extend((match.start(), match.end()))
    bounds.append(len(s))
    return [
        Clause(bounds[i], bounds[i + 1])
        for i in range(0, len(bounds), 2)
        if bounds[i + 1] > bounds[i]
    ]


def clause_of(clauses: list[Clause], pos: int) -> Clause:
    index = bisect.bisect_right([clause.start for clause in clauses], pos) - 1
    if index >= 0 and clauses[index].start <= pos < clauses[index].end:
        return clauses[index]
    return Clause(pos, pos)


# =============================================================================== negation, doubt


def _window_before(s: str, clause: Clause, start: int, width: int) -> str:
    """Up to `width` characters before `start`: within the clause, after the last space, and
    after any phrase whose negation is its own ("没到账 刷了" does not negate 刷了)."""
    begin = max(clause.start, start - width)
    space = s.rfind(" ", begin, start)
    if space >= 0:
        begin = space + 1
    for phrase in words.NEGATIVE_PHRASES.finditer(s, max(clause.start, begin - 8), start):
        if phrase.end() > begin:
            begin = phrase.end()
    return s[begin:start]


def negated(s: str, clause: Clause, start: int) -> bool:
    if words.ZH_NEGATION.search(_window_before(s, clause, start, 4)):
        return True
    previous = s[max(clause.start, start - 40) : start].split()[-3:]
    return bool(words.EN_NEGATION.search(" ".join(previous)))


def hedged(s: str, clause: Clause, start: int, end: int, *, negative: bool = False) -> bool:
    """Asked or one of two; "还是没到" is no alternative, so negative words skip that check."""
    before = s[max(clause.start, start - 6) : start]
    after = s[end : min(clause.end, end + 4)]
    if words.HEDGE_BEFORE.search(before) or words.HEDGE_AFTER.search(after):
        return True
    alternative = words.ALTERNATIVE_BEFORE.search(before) or words.ALTERNATIVE_AFTER.search(after)
    return bool(alternative) and not negative


@dataclass(frozen=True)
class Found:
    field: str
    value: Any
    start: int
    end: int


# =============================================================================== dates


def date_spans(s: str, now: datetime) -> Iterator[tuple[int, int, dict[str, Any] | None]]:
    """Every stretch the date parser reads whole, longest first from each start.

    Yields (start, end, answer); answer None when the stretch reads two ways (3/4). The date
    parser is tried at most `words.MAX_DATE_PARSES` times per message, so a pasted wall of
    numbers costs milliseconds, not seconds; dates past that budget are simply not read.
    """
    # "|" is no date word: a stretch read as a date never runs across "到现在" or "至今".
    masked = words.UNTIL_NOW.sub(lambda m: "|" * len(m.group()), s)
    pos = 0
    budget = words.MAX_DATE_PARSES
    while budget > 0:
        match = words.DATE_START.search(masked, pos)
        if match is None:
            return
        start = match.start()
        best: tuple[int, dict[str, Any] | None] | None = None
        for end in range(min(len(masked), start + words.MAX_DATE_SPAN), match.end() - 1, -1):
            piece = masked[start:end]
            if piece != piece.rstrip() or not piece.strip():
                continue
            if end < len(masked) and _mid_word(masked[end - 1], masked[end]):
                continue  # "2026-12-0" of "2026-12-05" is never the whole date
            budget -= 1
            if budget < 0:
                return
            try:
                answer = typed(BY_FIELD["when"], piece, now)
            except InvalidAnswer as error:
                if error.reason == "ambiguous":
                    best = (end, None)
                    break
                continue
            except NOT_TAKEN:
                continue
            best = (end, answer)
            break
        if best is None:
            pos = match.end()
            continue
        end, answer = best
        if answer is not None and _reads_two_ways(masked[start:end], now):
            answer = None
        yield start, end, answer
        pos = end


class Coverage:
    """Which characters some reading already claimed; checks cost the span, not the message."""

    def __init__(self, size: int) -> None:
        self.marks = bytearray(size + 1)

    def covers(self, start: int, end: int) -> bool:
        return any(self.marks[start:end])

    def add(self, start: int, end: int) -> None:
        self.marks[start:end] = b"\x01" * (end - start)


# Fields whose words in a yes/no question are asked, not told: "被风控了吗" is no notice. (A
# date or amount in a question is still what the merchant means: "昨天的5000到了吗".)
DOUBTED_BY_A_QUESTION = frozenset({"account", "records", "terminal", "cycle", "card_type"})

# A directory bank's short name starting another bank's name: 中信 in 中信百信银行.
ANOTHER_BANK = re.compile(r"[\u4e00-\u9fff]{1,4}银行")

#: Characters around an amount searched for the words that say whose it is.
NEAR = 24


def _mid_word(last: str, following: str) -> bool:
    return last.isascii() and following.isascii() and last.isalnum() and following.isalnum()


def inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def _reads_two_ways(piece: str, now: datetime) -> bool:
    """3/4 is 3 March or 4 April; 4/12 too. 11/28 and 28/11 are one date."""
    for match in words.MONTH_DAY_PAIR.finditer(piece):
        a, b = int(match["a"]), int(match["b"])
        if a != b and 1 <= a <= 12 and 1 <= b <= 12:
            return True
    return False


# =============================================================================== helpers

NOT_TAKEN = (WantsFreeText, ValueError)


def typed(question: Question, text: str, now: datetime) -> Any:
    """As if the merchant had typed `text` in answer to the question (one validation path)."""
    return parse_answer(question, text, pressed=False, now=now)


def pressed(question: Question, choice: str, now: datetime) -> Any:
    """As if the merchant had pressed `choice`: the deployment must offer it."""
    return parse_answer(question, choice, pressed=True, now=now)
