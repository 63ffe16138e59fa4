"""The merchant's story read for facts: what the intake would otherwise ask, one question at a time.

Merchants open with what happened ("昨天下午3点刷了一笔5000块的，T+1，到现在一分钱都没到"), not
with a button. This module finds in such a text every fact the intake asks for, and returns them
in exactly the shape the intake stores its answers, so that taking them is one dict update and
the confirmation can show them like the facts read off a slip.

Precision comes first, because a wrong fact sent on to the acquirer costs more than a question:
- a fact is taken only when its words say it plainly; words that are negated ("不是微信", "没有
  超时"), asked ("是D+1吗") or hedged ("是不是被风控了") give nothing;
- the words of a fact are found here, but each value is read by the parser of the question that
  would otherwise ask for it (through flows.questions), never by a second parser;
- when the text gives two different values for one fact ("刷卡失败了又刷了一次成功了"), or a value
  that reads two ways ("3/4"), nothing is taken and the field is listed in `ambiguous`, so the
  bot asks;
- amounts are read for what they are: next to 手续费 or 余额 they are nobody's business here,
  after 到了/到账/入账 they are what arrived (`received_amount`), never the sale amount.

Where a phrase stands (its clause, a negation or doubt over it, whose date it is) is
`flows.story_clauses`; the words themselves are `flows.story_words`. The reader stays one class in
one module over 500 lines: each fact's reading claims words that the later ones must not take
again, so they are read in one order over one shared record of what is claimed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flows import story_words as words
from flows.answers import InvalidAnswer
from flows.banks import BankDirectory
from flows.facts import (
    Received,
)
from flows.questions import BY_FIELD, Question, tailored
from flows.redaction import redact_text
from flows.settlement_calendar import Cycle
from flows.story_clauses import (
    ANOTHER_BANK,
    DOUBTED_BY_A_QUESTION,
    NEAR,
    NOT_TAKEN,
    Clause,
    Coverage,
    Found,
    clause_of,
    clauses,
    date_spans,
    hedged,
    inside,
    negated,
    pressed,
    typed,
)

__all__ = ["Ambiguity", "Intent", "Story", "only_small_talk", "read_story"]


class Intent(StrEnum):
    """What the merchant asks the bot to do, beside (or instead of) telling facts."""

    PERSON = "person"
    ARRIVED = "arrived"
    STILL_MISSING = "still_missing"
    CANCEL = "cancel"
    RESTART = "restart"
    #: Only a greeting, thanks or "ok": nothing to act on (a resolved case stays resolved).
    SMALL_TALK = "small_talk"
    #: Only "收到" / "received": "noted", or "the money came"; asked, never taken.
    NOTED = "noted"
    #: "钱到了吗": whether it came, which the bot cannot see; never taken as "it arrived".
    ASKS_IF_ARRIVED = "asks_if_arrived"


@dataclass(frozen=True)
class Ambiguity:
    """A fact seen but not taken; the bot asks its question instead of guessing.

    `field` is the answer field whose question to ask, `text` the merchant's words, and `reason`
    one of "two_readings" (3/4), "several_values" (two amounts, two banks), "not_in_directory"
    (a village bank), "void_or_refund" (a void or refund without saying where it was seen),
    "approximate" (2万多), "not_valid" (a receipt key of the wrong length).
    """

    field: str
    text: str
    reason: str


@dataclass(frozen=True)
class Story:
    """Everything one message says, split by what the conversation does with it.

    `facts` holds answers in the intake's stored shape (one `answers.update(story.facts)` takes
    them); `sources` the words each fact was read from, for the "this is what I understood"
    message and for people checking a case.
    """

    facts: dict[str, Any] = field(default_factory=dict)
    received_amount: str | None = None
    received_day: str | None = None
    intents: frozenset[Intent] = frozenset()
    ambiguous: tuple[Ambiguity, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Nothing to confirm and nothing to do: the message was not a story."""
        return not (
            self.facts
            or self.received_amount
            or self.received_day
            or self.intents - {Intent.SMALL_TALK}
            or self.ambiguous
        )


class _Reader:
    """One pass over one message; collects candidate values per field, then decides."""

    def __init__(
        self, text: str, now: datetime, banks: BankDirectory, cycles: Collection[Cycle]
    ) -> None:
        self.s = words.corrected(words.prepare(text))
        self.now = now
        self.banks = banks
        self.questions = tailored(cycles, banks)
        self.clauses = clauses(self.s)
        self.found: list[Found] = []
        self.ambiguous: list[Ambiguity] = []
        self.received_amounts: list[Found] = []
        self.received_days: list[Found] = []
        self.used = Coverage(len(self.s))
        self.payment_clauses: dict[Clause, bool] = {}

    # ------------------------------------------------------------------ plumbing
    def clause(self, pos: int) -> Clause:
        return clause_of(self.clauses, pos)

    def ask(self, field: str, start: int, end: int, reason: str) -> None:
        words_seen = redact_text(self.s[start:end].strip())  # shown and kept: never a card
        self.ambiguous.append(Ambiguity(field, words_seen, reason))

    def take(self, field: str, value: Any, start: int, end: int) -> None:
        self.found.append(Found(field, value, start, end))

    def overlaps_used(self, start: int, end: int) -> bool:
        return self.used.covers(start, end)

    def question(self, field: str) -> Question:
        return self.questions[BY_FIELD[field].state]

    def choice(self, field: str, value: str, start: int, end: int) -> None:
        try:
            self.take(field, pressed(self.question(field), str(value), self.now), start, end)
        except InvalidAnswer:
            self.ask(field, start, end, "not_offered")

    def stated(self, match: re.Match[str], *, negative: bool = False) -> bool:
        """Said, not denied or asked; `negative` words carry their own negation ("没到账")."""
        clause = self.clause(match.start())
        if not negative and negated(self.s, clause, match.start()):
            return False
        return not hedged(self.s, clause, match.start(), match.end(), negative=negative)

    # ------------------------------------------------------------------ facts
    def cues(self, cues: tuple[words.Cue, ...]) -> None:
        taken = Coverage(len(self.s))
        for cue in cues:
            for match in cue.pattern.finditer(self.s):
                if taken.covers(*match.span()):
                    continue
                if self.overlaps_used(*match.span()):
                    continue  # inside a name ("乐刷") or a key
                clause = self.clause(match.start())
                if not cue.negative and negated(self.s, clause, match.start()):
                    continue
                asked = cue.field in DOUBTED_BY_A_QUESTION and self.yes_no_question(
                    clause, match.end()
                )
                if asked or hedged(self.s, clause, *match.span(), negative=cue.negative):
                    self.ask(cue.field, *match.span(), "hedged")  # "微信还是支付宝": ask
                    continue
                taken.add(*match.span())
                self.choice(cue.field, cue.value, match.start(), match.end())

    def outcomes(self) -> None:
        """成功/失败/超时 ...: the records when a records word precedes them, else the terminal."""
        taken = Coverage(len(self.s))
        for cue in words.OUTCOME_CUES:
            for match in cue.pattern.finditer(self.s):
                start, end = match.span()
                if taken.covers(start, end):
                    continue
                clause = self.clause(start)
                window = self.s[max(clause.start, start - 14) : start]
                in_records = bool(words.RECORDS_WORDS.search(window))
                if in_records and words.PAYER_APPS.search(window):
                    continue  # the customer's 云闪付 showing success is not the acquirer's record
                if cue.records and not in_records:
                    continue
                if cue.field == "terminal" and in_records:
                    continue
                if cue.field == "terminal" and self.records_earlier(clause, start):
                    self.ask("terminal", start, end, "two_readings")  # whose "success"?
                    continue
                if words.PAYER_SIDE.match(self.s, end):
                    continue
                if words.NOT_PAYMENT_RESULT.search(self.s[max(clause.start, start - 4) : start]):
                    continue
                if not cue.negative and negated(self.s, clause, start):
                    continue
                if hedged(self.s, clause, start, end, negative=cue.negative):
                    self.ask(cue.field, start, end, "hedged")  # "刷卡成功了吗"
                    continue
                if self.yes_no_question(clause, end):
                    self.ask(cue.field, start, end, "hedged")  # "机器显示成功了吗"
                    continue
                taken.add(start, end)
                self.choice(cue.field, cue.value, start, end)
        for match in re.finditer(r"撤销|退货|退款|冲正|\bvoid(?:ed)?\b|\brefund(?:ed)?\b", self.s):
            overlaps = taken.covers(*match.span())
            if not overlaps and self.stated(match):
                self.ask("records", match.start(), match.end(), "void_or_refund")

    def yes_no_question(self, clause: Clause, end: int) -> bool:
        """The words up to `end` are asked about ("被风控拦截了吗"), not told: the question ends
        their own phrase (no space between), close after them."""
        text = self.s[clause.start : min(len(self.s), clause.end + 1)]
        rest = self.s[end : min(len(self.s), clause.end + 1)]
        return bool(words.YES_NO_QUESTION.search(text)) and " " not in rest and len(rest) <= 8

    def methods(self) -> None:
        wallet = words.PHONE_WALLET.search(self.s)
        if wallet:
            self.ask("method", *wallet.span(), "two_readings")  # Apple Pay: a card, or not
            return
        self.cues(words.METHOD_CUES)

    def records_earlier(self, clause: Clause, start: int) -> bool:
        """A records word earlier in the sentence and no terminal word here: "App上能看到这笔，
        状态是交易成功" is the App's success, but a comma is too weak to be sure."""
        sentence_start = max(
            (m.end() for m in re.finditer(r"[。！？!?\n]", self.s[:start])), default=0
        )
        earlier = self.s[max(sentence_start, start - 30) : clause.start]
        here = self.s[clause.start : start]
        return bool(words.RECORDS_WORDS.search(earlier)) and not words.TERMINAL_WORDS.search(here)

    def card_type(self) -> None:
        self.cues(words.CARD_TYPE_CUES)
        for match in re.finditer(r"预授权\s*完成|\bpre-?auth\w* complet\w*", self.s):
            self.ask("card_type", match.start(), match.end(), "two_readings")

    def keys(self) -> None:
        for field_name, label in words.KEY_LABELS:
            for match in re.finditer(label, self.s):
                value = words.KEY_VALUE.match(self.s, match.end())
                if value is None:
                    continue
                run = value["v"]
                candidates = [run, run.split(" ")[0], re.split(r"[ \-]", run)[0]]
                question = self.question(field_name)
                for candidate in dict.fromkeys(candidates):
                    try:
                        key = typed(question, candidate, self.now)
                    except (InvalidAnswer, *NOT_TAKEN):
                        continue
                    end = value.start("v") + len(candidate)
                    self.take(field_name, key, match.start(), end)
                    self.used.add(match.start(), end)
                    break
                else:
                    self.ask(field_name, match.start(), value.end(), "not_valid")
                    self.used.add(match.start(), value.end())
        for match in re.finditer(r"尾号\s*[0-9]{3,4}", self.s):
            self.used.add(*match.span())
        for match in words.CARD_DIGITS.finditer(self.s):
            self.used.add(*match.span())

    def banks_named(self) -> None:
        question = self.question("bank")
        names = sorted(
            {alias.lower() for bank in self.banks.banks for alias in (bank.name_zh, *bank.aliases)},
            key=len,
            reverse=True,
        )
        taken = Coverage(len(self.s))
        for other in words.OTHER_BANK.finditer(self.s):
            head = words.NOT_IN_NAME.split(other["head"])[-1]
            start = other.start("suffix") - len(head)
            taken.add(other.start(), other.end())
            named_inside = any(name in self.s[other.start() : other.end()] for name in names)
            if len(head) >= 2 and not named_inside:
                try:
                    value = (
                        question.parse(self.s[start : other.end()], self.now)
                        if question.parse
                        else None
                    )
                except InvalidAnswer:
                    value = None
                if value is not None and "name" in value:
                    self.take("bank", value, start, other.end())
                    continue
            self.ask("bank", start, other.end(), "not_in_directory")
        for name in names:
            if name not in self.s:  # most names are absent: no pattern to build or run
                continue
            if name.isascii():
                pattern = rf"(?<![a-z]){re.escape(name)}(?![a-z])"
            else:
                pattern = re.escape(name)
            for match in re.finditer(pattern, self.s):
                start, end = match.span()
                if taken.covers(start, end):
                    continue
                taken.add(start, end)
                if (
                    not name.isascii()
                    and not name.endswith("行")
                    and ANOTHER_BANK.match(self.s, end)
                ):
                    self.ask("bank", start, end + 6, "not_in_directory")  # 中信百信银行
                    continue
                clause = self.clause(start)
                before = self.s[max(clause.start, start - NEAR) : start]
                mine = re.search(r"结算|settlement|my|我的", before)
                if words.CUSTOMER.search(before) and not mine:
                    continue
                near = self.s[max(clause.start, start - NEAR) : min(clause.end, end + NEAR)]
                if words.CONTACTED.search(near) and not re.search(r"结算|settlement|卡|card", near):
                    continue  # "打了工行客服电话": any bank may be called
                if negated(self.s, clause, start):
                    continue
                value = question.parse(name, self.now) if question.parse else None
                if value is not None:
                    self.take("bank", value, start, end)

    def acquirers(self) -> None:
        question = self.question("acquirer")
        aliases = sorted(
            ((alias, name) for name, names in words.ACQUIRERS for alias in names),
            key=lambda pair: -len(pair[0]),
        )
        taken = Coverage(len(self.s))
        for alias, name in aliases:
            if alias not in self.s:  # most aliases are absent: no pattern to build or run
                continue
            pattern = (
                rf"(?<![a-z]){re.escape(alias)}(?![a-z])" if alias.isascii() else re.escape(alias)
            )
            for match in re.finditer(pattern, self.s):
                if taken.covers(*match.span()):
                    continue
                taken.add(*match.span())
                if negated(self.s, self.clause(match.start()), match.start()):
                    continue
                self.used.add(*match.span())
                if question.parse is not None:
                    self.take("acquirer", question.parse(name, self.now), *match.span())

    # ------------------------------------------------------------------ dates
    def dates(self) -> None:
        sms = self.notice()
        loose: list[Found] = []
        for start, end, answer in date_spans(self.s, self.now):
            if self.overlaps_used(start, end):
                continue
            self.used.add(start, end)
            role = self.date_role(start, end)
            clause = self.clause(start)
            paid_then = words.PAYMENT_WORDS.search(self.s, start, end)
            ranged = words.RANGE_AFTER.match(self.s, end) and not paid_then
            if ranged or words.CONDITION_BEFORE.search(self.s[clause.start : start]):
                role = None  # "11月25日至今", "周六刷的话": a range or a condition
            if sms:
                span = self.s[start:end]
                trades = words.TRADES_OF.match(self.s, end) or words.TRADES_OF.search(span)
                role = None if trades else "received"
            if answer is None:
                self.ask("when", start, end, "two_readings")  # whoever's date it is, ask
            elif role is None:
                continue
            elif role == "received":
                self.received_days.append(Found("received_day", answer["day"], start, end))
            elif role == "sale":
                self.take("when", answer, start, end)
            else:
                loose.append(Found("when", answer, start, end))
        dated = any(found.field == "when" for found in self.found)
        alone = len(loose) == 1 and self.only_date(loose[0])
        if loose and not dated and (words.PAYMENT_WORDS.search(self.s) or alone):
            self.found.extend(loose)

    def notice(self) -> bool:
        """A pasted bank SMS or settlement notice: it tells what arrived, never the sale."""
        return bool(re.search(r"尾号\s*[0-9]{4}", self.s) and words.NOTICE.search(self.s))

    def date_role(self, start: int, end: int) -> str | None:
        """Whose date: the payment's ("sale"), what arrived ("received"), nobody's (None), or
        "loose" when it stands alone in its clause ("昨天下午四点左右，用云闪付收了900").

        Chinese puts the time before its verb, so the first cue after the date decides; in
        English the cue comes before ("swiped 5000 yesterday"), so the nearest before is next.
        """
        clause = self.clause(start)
        span, before, after = (
            self.s[start:end],
            self.s[clause.start : start],
            self.s[end : clause.end],
        )
        if words.PAYMENT_WORDS.search(span) or words.OF_THE_PAYMENT.match(self.s, end):
            return "sale"
        if words.PAYMENT_OF.search(self.s, max(clause.start, start - NEAR), start):
            return "sale"
        kinds = (
            ("missing", words.RECEIVED_CUES[0].pattern),
            ("arrival", words.ARRIVAL_WORDS),
            ("sale", words.PAYMENT_WORDS),
            ("sale", words.AMOUNT_LIKE),
        )
        # Cues count only near the date; windows keep a long message linear.
        after_near, before_near = after[: 2 * NEAR], before[-2 * NEAR :]
        after_hits = [(m.start(), kind) for kind, p in kinds for m in p.finditer(after_near)]
        near_after = [hit for hit in after_hits if hit[0] <= (NEAR if span.isascii() else 8)]
        before_hits = [
            (len(before_near) - m.end(), kind) for kind, p in kinds for m in p.finditer(before_near)
        ]
        near_before = [hit for hit in before_hits if hit[0] <= 12]
        nothing = words.RECEIVED_CUES[0].pattern
        missing = [
            m.span()
            for m in nothing.finditer(
                self.s, max(clause.start, start - 3 * NEAR), min(clause.end, end + 3 * NEAR)
            )
        ]
        near_after = [h for h in near_after if not inside(end + h[0], missing) or h[1] == "missing"]
        near_before = [
            h for h in near_before if not inside(start - h[0] - 1, missing) or h[1] == "missing"
        ]
        hits = near_before or near_after if span.isascii() else near_after or near_before
        if not hits:
            if words.DATE_LABEL.fullmatch(before + after) and not words.JUST_NOW.search(span):
                return "loose"
            return None
        kind = min(hits, key=lambda hit: (hit[0], words.ROLE_PRIORITY[hit[1]]))[1]
        if kind == "missing":
            return None  # "今天还没到", "nothing arrived since yesterday"
        if kind == "arrival":
            position = (
                end + min(d for d, k in hits if k == "arrival") if hits is near_after else start
            )
            expected = words.EXPECTED.search(self.s[min(start, position) : max(end, position)])
            return None if expected or negated(self.s, clause, position) else "received"
        return "sale"

    def only_date(self, found: Found) -> bool:
        """A message that is just a date answers the date question ("昨天下午3点")."""
        rest = self.s[: found.start] + self.s[found.end :]
        return not words.JUST_NOW.search(self.s[found.start : found.end]) and not re.sub(
            r"[\s\W的了是吧啊呢]", "", rest
        )

    # ------------------------------------------------------------------ amounts
    def amounts(self) -> None:
        several = words.SEVERAL_PAYMENTS.search(self.s)
        hotlines = {bank.hotline for bank in self.banks.banks} | words.HOTLINES
        sales: list[Found] = []
        for match in words.AMOUNT.finditer(self.s):
            start, end = match.span()
            num_start, num_end = match.span("num")
            number = match["num"].rstrip(",.")
            if self.overlaps_used(num_start, num_end) or number in hotlines:
                continue
            if start > 0 and re.match(r"[0-9a-z.+]", self.s[start - 1]):
                continue
            clause = self.clause(num_start)
            # The words that say whose amount it is stand next to it: a short window keeps a
            # long message linear.
            head = num_start if not match["pre"] else start
            before = self.s[max(clause.start, head - NEAR) : head]
            after = self.s[
                num_start + len(number) : min(clause.end, num_start + len(number) + NEAR)
            ]
            marked = bool(match["pre"] or match["unit"])
            if not marked and words.NOT_AMOUNT_AFTER.match(after):
                continue
            digits = bool(re.search(r"[0-9]", number))
            big_unit = bool(re.search(r"[十百千万亿拾佰仟]", number))
            if not (digits or big_unit or marked):
                continue  # "一直", "一部分", "两次": a word, not a number
            if words.OTHER_BEFORE.search(before):
                continue
            said_received = words.RECEIVED_BEFORE.search(before)
            is_received = bool(said_received or words.RECEIVED_AFTER.match(after))
            is_sale = bool(words.SALE_BEFORE.search(before))
            if said_received and negated(self.s, clause, clause.start + said_received.start()):
                is_received, is_sale = False, True  # "没收到 1500": the payment not arrived
            if self.notice():
                is_received = True
            bare_in_payment = (
                digits
                and re.fullmatch(
                    r"[0-9]{2,8}(?:\.[0-9]{1,2})?|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?", number
                )
                and self.about_payment(clause)
            )
            cued = is_received or is_sale or marked or big_unit or bare_in_payment
            if not cued and not self.only_number(start, end):
                continue
            text = (match["pre"] or "") + number + (match["unit"] or "")
            if match["approx"]:
                if not is_received:
                    self.ask("amount", start, end, "approximate")
                continue
            try:
                value = typed(self.question("amount"), text, self.now)
            except (InvalidAnswer, *NOT_TAKEN):
                continue
            if is_received:
                self.received_amounts.append(Found("received_amount", value, start, end))
            else:
                sales.append(Found("amount", value, start, end))
        if several:
            self.ask("amount", several.start(), several.end(), "several_values")
            return
        self.found.extend(sales)

    def about_payment(self, clause: Clause) -> bool:
        if clause not in self.payment_clauses:
            self.payment_clauses[clause] = bool(
                words.PAYMENT_WORDS.search(self.s, clause.start, clause.end)
            )
        return self.payment_clauses[clause]

    def only_number(self, start: int, end: int) -> bool:
        """An amount alone in its clause answers the amount question ("一万二", "5000，工行卡")."""
        clause = self.clause(start)
        return not self.s[clause.start : start].strip() and not self.s[end : clause.end].strip()

    # ------------------------------------------------------------------ deciding
    def decide(self) -> Story:
        facts: dict[str, Any] = {}
        sources: dict[str, str] = {}
        by_field: dict[str, list[Found]] = {}
        for found in self.found:
            by_field.setdefault(found.field, []).append(found)
        asked = {ambiguity.field for ambiguity in self.ambiguous}
        for field_name, values in by_field.items():
            distinct = {repr(found.value) for found in values}
            if len(distinct) > 1 or field_name in asked:
                if field_name not in asked:
                    first = min(found.start for found in values)
                    last = max(found.end for found in values)
                    self.ask(field_name, first, last, "several_values")
                continue
            facts[field_name] = values[0].value
            sources[field_name] = redact_text(self.s[values[0].start : values[0].end])
        received_amount = _single(self.received_amounts, self, "received")
        received_day = _single(self.received_days, self, "received")
        if (
            received_amount is not None
            and "amount" in facts
            and Decimal(received_amount) < Decimal(facts["amount"])
            and facts.get("received", Received.PARTIAL.value) == Received.PARTIAL.value
            and "received" not in asked
        ):
            facts["received"] = Received.PARTIAL.value  # 5000 sold, 4970 arrived: partly
        if facts.get("received") == Received.NOTHING.value and received_amount is not None:
            facts.pop("received")  # "nothing arrived" and "9940 arrived": ask
            self.ask("received", 0, len(self.s), "several_values")
        intents = self.intents(facts, received_amount)
        return Story(
            facts=facts,
            received_amount=received_amount,
            received_day=received_day,
            intents=frozenset(intents),
            ambiguous=tuple(dict.fromkeys(self.ambiguous)),
            sources=sources,
        )

    def intents(self, facts: dict[str, Any], received_amount: str | None) -> set[Intent]:
        intents: set[Intent] = set()
        for match in words.INTENT_PERSON.finditer(self.s):
            if not negated(self.s, self.clause(match.start()), match.start()) and not re.search(
                r"(?:不用|不要|不需要)\s*$", self.s[: match.start()]
            ):
                intents.add(Intent.PERSON)
        # The rest are what a message says when it says only that: a story is a story.
        if set(facts) - {"received"} or received_amount or self.ambiguous:
            return intents
        for intent, pattern in (
            (Intent.CANCEL, words.INTENT_CANCEL),
            (Intent.RESTART, words.INTENT_RESTART),
        ):
            for match in pattern.finditer(self.s):
                if not re.search(r"(?:被|已|交易|自动)\s*$", self.s[: match.start()]):
                    intents.add(intent)
        letters = re.sub(r"[\s\W_]", "", self.s)
        short = len(letters) <= 10 or (self.s.isascii() and len(self.s.split()) <= 6)
        if not short:
            return intents
        talk = _small_talk(self.s)
        if talk is not None and not intents:
            intents.add(talk)
            return intents
        if facts.get("received") == Received.NOTHING.value:
            intents.add(Intent.STILL_MISSING)
        elif "received" not in facts:
            for match in words.INTENT_ARRIVED.finditer(self.s):
                if negated(self.s, self.clause(match.start()), match.start()):
                    continue
                asked = self.asked(match)
                intents.add(Intent.ASKS_IF_ARRIVED if asked else Intent.ARRIVED)
            if Intent.ASKS_IF_ARRIVED in intents:  # "到了吗": what came is not known
                intents.discard(Intent.ARRIVED)
        return intents

    def asked(self, match: re.Match[str]) -> bool:
        """The words matched are asked about, guessed or somebody else's ("到了吗", "到账了没有?",
        "it arrived?", "应该到了吧", "银行说到了"), not what the merchant saw."""
        clause = self.clause(match.start())
        rest = self.s[match.end() : min(len(self.s), clause.end + 1)]
        before = self.s[clause.start : match.start()]
        return (
            self.yes_no_question(clause, match.end())
            or hedged(self.s, clause, *match.span())
            or bool(words.ASKED_AFTER.fullmatch(rest))
            or bool(words.GUESSED_BEFORE.search(before))
            or bool(words.SAID_BEFORE.search(before))
        )


def only_small_talk(text: str) -> bool:
    """Whether a message only greets, thanks or acknowledges ("谢谢", "收到", "ok 👍"): on a
    resolved case it is not a reason to reopen it."""
    return _small_talk(words.prepare(text)) is not None


def _small_talk(text: str) -> Intent | None:
    """SMALL_TALK when `text` (as `words.prepare` leaves it) is nothing but greetings, thanks,
    acknowledgements, punctuation and emoji; NOTED when one of them is "收到" or "received".
    Taken out word by word, so a message with anything else in it ("好几天了") is not."""
    noted = words.NOTED.search(text) is not None
    rest = words.NOTED.sub(" ", text)
    talked = noted or words.SMALL_TALK.search(rest) is not None
    rest = re.sub(r"[\s\W_]", "", words.SMALL_TALK.sub("", rest))
    if rest or not (talked or re.fullmatch(r"[^?？\w]+", text)):
        return None
    return Intent.NOTED if noted else Intent.SMALL_TALK


def _single(found: list[Found], reader: _Reader, field: str) -> Any:
    values = {str(item.value) for item in found}
    if len(values) == 1:
        return found[0].value
    if values:
        reader.ask(field, found[0].start, found[-1].end, "several_values")
    return None


#: Telegram's limit on one text message.
MAX_STORY_CHARS = 4096


def read_story(
    text: str,
    now: datetime,
    banks: BankDirectory,
    cycles: Collection[Cycle] = tuple(Cycle),
) -> Story:
    """Read one message for facts and intents; never raises on any text.

    `banks` and `cycles` are the deployment's: a bank or cycle it does not offer is asked, not
    taken, exactly as a typed answer to its question would be refused. A text longer than any
    Telegram message (MAX_STORY_CHARS) gives nothing: it is no story a merchant typed, and reading
    a megabyte would hold a database thread for seconds.
    """
    if len(text) > MAX_STORY_CHARS:
        text = ""
    reader = _Reader(text, now, banks, cycles)
    steps: tuple[Callable[[], None], ...] = (
        reader.keys,
        reader.acquirers,
        reader.methods,
        reader.card_type,
        reader.outcomes,
        lambda: reader.cues(words.RECEIVED_CUES),
        lambda: reader.cues(words.CYCLE_CUES),
        lambda: reader.cues(words.ACCOUNT_CUES),
        reader.banks_named,
        reader.dates,
        reader.amounts,
    )
    for step in steps:
        step()
    return reader.decide()
