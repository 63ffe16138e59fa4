"""The guide as one decision table: facts -> verdict -> findings -> steps -> the ladder.

Everything the summary concludes is a row here, so a reviewer can hold each row against a
sentence of the guide and of the domain notes (each row says which in `why`), and support staff
can read what the bot will say, and why, in the generated view (`posbot diagram --flow advice`,
kept as docs/advice.md). `flows.diagnosis` only evaluates these rows; it adds no rule of its own.

Evidence is ranked: the acquirer's records > money that arrived > the slip > the terminal's
display > the merchant's memory. The verdict rows are ordered by that rank, so the first row
that holds is decided by the strongest evidence present, and a weaker source that disagrees is
named in a note instead of being believed. No row ever says that a payment failed as a fact:
only the records decide, the bot says what each source shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flows.facts import AccountSignal, CardType, CycleAnswer, Method, Received, Records, SlipType
from flows.facts import TerminalResult as Terminal

#: A Type II account takes at most this much a day from accounts not bound to it
#: (PBoC 2016 No. 302).
TYPE2_DAILY_LIMIT = Decimal(10_000)


class Outcome(StrEnum):
    NOT_YET_DUE = "A"
    NOT_COMPLETED = "B"
    UNCERTAIN = "C"
    PREAUTH = "D"
    OVERDUE = "E"
    PARTIAL = "F"


class Evidence(StrEnum):
    """Where a verdict comes from, strongest first."""

    RECORDS = "records"
    ACCOUNT = "account"
    SLIP = "slip"
    TERMINAL = "terminal"
    MEMORY = "memory"


class Timing(StrEnum):
    """Where today stands against the due date."""

    NONE = "none"  # no due date: the money is not expected from this payment as it stands
    FUTURE = "future"  # before the expected day
    TODAY = "today"  # the expected day itself
    GRACE = "grace"  # past the expected day, within the working day the bank is given
    OVERDUE = "overdue"  # past that too


class Lookup(StrEnum):
    """What the acquirer's own system answered when posbot asked it (docs/records-lookup.md)."""

    NONE = "none"  # not asked, or no usable answer: the merchant's answers stand
    FOUND = "found"  # its record is the records answer (`records` below is what it says)
    NOT_FOUND = "not_found"  # no payment with these keys: they may be mistyped


@dataclass(frozen=True)
class Situation:
    """What the rows read: the merchant's facts plus what follows from them and the date."""

    records: Records
    lookup: Lookup
    received: Received
    slip: SlipType | None
    terminal: Terminal
    card_type: CardType | None
    preauth: bool  # a pre-authorization by the slip or by the merchant's answer
    method: Method
    wallet: bool  # WeChat Pay or Alipay
    acquirer_named: bool
    account: AccountSignal
    over_type2_limit: bool
    cycle: CycleAnswer
    time_known: bool
    timing: Timing
    cutoff_moved: bool  # the acquirer's daily cut-off moved the expected date
    too_old: bool  # older than the acquirer may still trace


SITUATION_FIELDS = frozenset(f.name for f in fields(Situation))


@dataclass(frozen=True)
class When:
    """A row's condition: each named fact takes one of the listed values; unnamed ones are free."""

    tests: tuple[tuple[str, frozenset[Any]], ...] = ()

    def holds(self, situation: Situation) -> bool:
        # A plain loop, not all(...): this runs for every row of every check.
        for name, values in self.tests:  # noqa: SIM110
            if getattr(situation, name) not in values:
                return False
        return True

    def describe(self) -> str:
        if not self.tests:
            return "always"
        parts = []
        for name, values in self.tests:
            shown = sorted(str(_shown(v)) for v in values)
            parts.append(
                f"{name} = {shown[0]}" if len(shown) == 1 else f"{name} ∈ {{{', '.join(shown)}}}"
            )
        return " and ".join(parts)


def _shown(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


def when(**tests: Any) -> When:
    """`when(records=Records.FAILED, terminal=(Terminal.FAILED, Terminal.NO_RESULT))`."""
    unknown = set(tests) - SITUATION_FIELDS
    if unknown:
        raise ValueError(f"not a fact the table can read: {sorted(unknown)}")
    pairs = []
    for name, value in tests.items():
        values = value if isinstance(value, tuple | list | set | frozenset) else (value,)
        pairs.append((name, frozenset(values)))
    return When(tuple(pairs))


#: "Settles as usual": the calendar then decides between A and E (see DATE_ROWS).
SETTLES = "settles"


@dataclass(frozen=True)
class Verdict:
    """One row of what happened to the payment; the first row that holds decides."""

    name: str
    when: When
    outcome: Outcome | str  # an Outcome, or SETTLES
    headline: str  # the "In short" sentence (a block of the locale's _headline.j2)
    evidence: Evidence
    why: str


NOT_FAILED = (Records.SUCCESS, Records.MISSING, Records.CANNOT_CHECK)
SALE_SLIPS = (SlipType.SALE, SlipType.PREAUTH_COMPLETE)

# fmt: off
VERDICTS: tuple[Verdict, ...] = (
    Verdict("records_failed_money_arrived", when(records=Records.FAILED, received=Received.PARTIAL),
            Outcome.PARTIAL, "F_records", Evidence.RECORDS,
            "Refunds (退货) can be partial and are deducted from settlement; money that arrived is "
            "never 'no settlement'."),
    Verdict("records_failed", when(records=Records.FAILED),
            Outcome.NOT_COMPLETED, "B_records", Evidence.RECORDS,
            "Failed, reversed (冲正) or voided (撤销) payments are not settled; refunds are "
            "deducted. The acquirer's records decide."),
    Verdict("money_arrived_over_limit",
            when(received=Received.PARTIAL, account=AccountSignal.TYPE23, over_type2_limit=True),
            Outcome.PARTIAL, "F_limit", Evidence.ACCOUNT,
            "A Type II account takes at most ¥10,000 a day from accounts not bound to it; money "
            "over the limit may not be credited (PBoC 2016 No. 302)."),
    Verdict("money_arrived", when(received=Received.PARTIAL),
            Outcome.PARTIAL, "F", Evidence.ACCOUNT,
            "Less than the sale arrived: fees (手续费) and refunds are deducted; compare with the "
            "statement (对账单)."),
    Verdict("records_success_preauth", when(records=Records.SUCCESS, preauth=True),
            Outcome.PREAUTH, "D", Evidence.RECORDS,
            "Only a pre-authorization completion (预授权完成) is settled."),
    Verdict("records_success", when(records=Records.SUCCESS),
            SETTLES, SETTLES, Evidence.RECORDS,
            "The records show success: the money is due by the settlement cycle; a terminal "
            "message or slip that says otherwise does not outrank the records."),
    Verdict("lookup_not_found", when(lookup=Lookup.NOT_FOUND),
            Outcome.UNCERTAIN, "C_keys", Evidence.RECORDS,
            "The acquirer's system has no payment with the keys given: a mistyped key is the "
            "likeliest reason; check them against the slip before anything else."),
    Verdict("void_slip", when(slip=SlipType.VOID),
            Outcome.NOT_COMPLETED, "B_void", Evidence.SLIP,
            "A voided sale (撤销, same day, full amount) is not settled."),
    Verdict("refund_slip", when(slip=SlipType.REFUND),
            Outcome.NOT_COMPLETED, "B_refund", Evidence.SLIP,
            "A refund (退货) is paid back to the customer and deducted from settlement; the rest "
            "of a partly refunded sale is still settled."),
    Verdict("preauth_slip", when(slip=SlipType.PREAUTH),
            Outcome.PREAUTH, "D", Evidence.SLIP,
            "Only a pre-authorization completion (预授权完成) is settled."),
    Verdict("sale_slip_not_listed", when(slip=SALE_SLIPS, records=Records.MISSING),
            Outcome.UNCERTAIN, "C_not_listed", Evidence.RECORDS,
            "A printed sale slip the records do not list: check the records before anything else "
            "(guide: 检查交易状态)."),
    Verdict("sale_slip", when(slip=SALE_SLIPS),
            SETTLES, SETTLES, Evidence.SLIP,
            "A printed sale slip outranks the terminal's display: settled as usual."),
    Verdict("terminal_failed", when(terminal=Terminal.FAILED),
            Outcome.NOT_COMPLETED, "B_terminal", Evidence.TERMINAL,
            "The terminal showed a failure and the records cannot contradict it (not listed, or "
            "not checked): no settlement follows if the records confirm it; never re-swipe "
            "blindly."),
    Verdict("preauth_answer", when(card_type=CardType.PREAUTH),
            Outcome.PREAUTH, "D", Evidence.MEMORY,
            "Only a pre-authorization completion (预授权完成) is settled."),
    Verdict("not_listed", when(records=Records.MISSING),
            Outcome.UNCERTAIN, "C_not_listed", Evidence.RECORDS,
            "The records do not list it: find out whether it went through before charging again."),
    Verdict("no_result", when(terminal=(Terminal.NO_RESULT, Terminal.UNKNOWN)),
            Outcome.UNCERTAIN, "C", Evidence.TERMINAL,
            "Timeout or no result, records not checked: check the records first, never re-swipe "
            "blindly; the guide's network checks."),
    Verdict("terminal_success", when(),
            SETTLES, SETTLES, Evidence.TERMINAL,
            "The terminal showed success and nothing outranks it: settled as usual."),
)


@dataclass(frozen=True)
class DateRow:
    """How a payment that settles as usual reads on the calendar."""

    when: When
    outcome: Outcome
    headline: str
    why: str


DATE_ROWS: tuple[DateRow, ...] = (
    DateRow(when(timing=Timing.OVERDUE), Outcome.OVERDUE, "E",
            "Still missing at the end of the working day after the expected date: trace it along "
            "the query paths."),
    DateRow(when(timing=Timing.GRACE), Outcome.NOT_YET_DUE, "A_grace",
            "Past the expected day but the bank is given that next working day: check the "
            "account now, not overdue yet."),
    DateRow(when(timing=Timing.TODAY), Outcome.NOT_YET_DUE, "A_today",
            "Due today: it may show up later in the day."),
    DateRow(when(), Outcome.NOT_YET_DUE, "A",
            "Within the settlement window: show the due date, offer a reminder."),
)


@dataclass(frozen=True)
class Note:
    """A finding shown under the conclusion; several may hold at once."""

    key: str
    when: When
    why: str
    headlines: frozenset[str] | None = None  # None: with any conclusion
    #: Shown right under the conclusion (a source that disagrees), not among the footnotes.
    warning: bool = False


ALL = frozenset({
    "A", "A_today", "A_grace", "E", "B_records", "B_void", "B_refund", "B_terminal",
    "C", "C_not_listed", "C_keys", "D", "F", "F_records", "F_limit",
})
B_NOT_REFUND = frozenset({"B_records", "B_void", "B_terminal"})
C_ANY = frozenset({"C", "C_not_listed", "C_keys"})
F_ANY = frozenset({"F", "F_records", "F_limit"})
WITH_DUE = frozenset({"A", "A_today", "A_grace", "E", "F", "F_records", "F_limit"})
TERMINAL_DOUBT = (Terminal.FAILED, Terminal.NO_RESULT)

NOTES: tuple[Note, ...] = (
    Note("terminal_vs_records", when(terminal=TERMINAL_DOUBT, records=Records.SUCCESS),
         "The terminal's message was wrong: the records outrank it.", warning=True),
    Note("terminal_vs_money",
         when(terminal=TERMINAL_DOUBT, received=Received.PARTIAL, records=NOT_FAILED),
         "Money arrived although the terminal showed a failure or no result.", warning=True),
    Note("terminal_vs_slip",
         when(terminal=TERMINAL_DOUBT, slip=SALE_SLIPS, records=Records.CANNOT_CHECK,
              received=(Received.NOTHING, Received.UNCHECKED)),
         "A printed sale slip outranks the terminal's display; the records decide.", warning=True),
    Note("slip_vs_records", when(slip=(SlipType.VOID, SlipType.REFUND), records=Records.SUCCESS),
         "The records show success but the slip is a void or refund: check whether the sale "
         "was voided or refunded.", warning=True),
    Note("keys_not_found", when(lookup=Lookup.NOT_FOUND),
         "The acquirer's system has no payment with these keys while another source decided: "
         "say so, the keys may be mistyped.", ALL - {"C_keys"}, warning=True),
    Note("cycle_assumed", when(cycle=CycleAnswer.UNSURE),
         "Not sure of the cycle: counted as T+1, the common default.", WITH_DUE),
    Note("d0_fallback", when(cycle=CycleAnswer.D0),
         "D0 often works only within set hours and falls back to T+1 outside them.", WITH_DUE),
    Note("time_unknown", when(time_known=False),
         "Without the time, the sale is counted as before the cut-off.", WITH_DUE),
    Note("cutoff_moved", when(cutoff_moved=True),
         "After the cut-off (日切) a sale is the next day's business: say so whenever it moved "
         "the date.", WITH_DUE),
    Note("too_old", when(too_old=True),
         "Past 180 days the acquirer may no longer trace it."),
)


class Rung(StrEnum):
    """The ladder: the guide's query paths in order, then the complaint and legal route."""

    BANK_APP = "bank_app"
    ACQUIRER_RECORDS = "acquirer_records"
    BANK_HOTLINE = "bank_hotline"
    ACQUIRER_SERVICE = "acquirer_service"
    COMPLAINT = "complaint"
    LEGAL = "legal"


LADDER: tuple[Rung, ...] = tuple(Rung)



@dataclass(frozen=True)
class Step:
    """One numbered next step: its block in the locale's _actions.j2, for which conclusions."""

    key: str
    headlines: frozenset[str]
    when: When
    why: str
    rung: Rung | None = None


def step(key: str, headlines: Iterable[str], why: str, *, only: When | None = None,
         rung: Rung | None = None) -> Step:
    return Step(key, frozenset(headlines), only or when(), why, rung)


# The order of this table is the order of the steps in every summary.
STEPS: tuple[Step, ...] = (
    *(step(f"account_{signal.value}", ALL, "Account signals come first, in every outcome "
           "(guide: 核对账户余额 / 检查账户冻结).", only=when(account=signal))
      for signal in AccountSignal if signal is not AccountSignal.NONE),
    step("check_keys", {"C_keys"}, "The lookup found nothing: a mistyped key is likeliest, so "
         "the keys are checked first (a new case with the right ones, or the slip's photo)."),
    step("wait_until", {"A", "A_today"}, "Show the due date; nothing to do before it."),
    step("complete_preauth", {"D"}, "Complete the pre-authorization within the acquirer's period."),
    step("fees_and_refunds", {"F", "F_records"}, "Fees and refunds are deducted."),
    step("refund_deducted", {"B_refund"}, "A refund is deducted; the rest of the sale settles."),
    step("compare_statement", {"B_refund", *F_ANY}, "Compare with the statement (对账单)."),
    step("check_account", {"A_grace", "E"}, "Query path 1: the bank's app or website, and SMS.",
         rung=Rung.BANK_APP),
    step("check_records", {"A_grace", "E", "B_terminal", *C_ANY, "D", *F_ANY},
         "Query path 2: the acquirer's or platform's records and notices (guide: 检查交易状态).",
         rung=Rung.ACQUIRER_RECORDS),
    step("check_records", {"A", "A_today"}, "Records not checked yet: check them while waiting.",
         only=when(records=Records.CANNOT_CHECK), rung=Rung.ACQUIRER_RECORDS),
    step("hold_released", B_NOT_REFUND, "The issuer releases the customer's hold."),
    step("check_before_recharge", B_NOT_REFUND, "Check the records before charging again."),
    step("no_blind_reswipe", C_ANY, "Never re-swipe blindly: the customer may be charged twice."),
    step("network_checks", C_ANY, "Guide: 检查网络连接 (signal, restart, update, reset).",
         only=when(terminal=Terminal.NO_RESULT)),
    step("call_bank", {"E"}, "Query path 3: the bank's hotline, from the bank answer.",
         rung=Rung.BANK_HOTLINE),
    step("if_still_missing", {"A", "A_today", "A_grace"}, "Say when it becomes overdue."),
    step("contact_platform", ALL - {"A", "A_today", "A_grace"},
         "Query path 4: the wallet platform's service, when no acquirer is named.",
         only=when(wallet=True, acquirer_named=False), rung=Rung.ACQUIRER_SERVICE),
    step("contact_acquirer", ALL - {"A", "A_today", "A_grace"},
         "Query path 4: the acquirer's service with the receipt keys; ask for a ticket number.",
         only=when(wallet=False), rung=Rung.ACQUIRER_SERVICE),
    step("contact_acquirer", ALL - {"A", "A_today", "A_grace"},
         "Query path 4: a wallet payment through a named acquirer goes to that acquirer.",
         only=when(wallet=True, acquirer_named=True), rung=Rung.ACQUIRER_SERVICE),
    step("complaint", {"E"}, "Query path 5: written complaint, then 12363 / 12378.",
         rung=Rung.COMPLAINT),
    step("internal_check", ALL, "Guide: 检查内部流程 (voids, refunds, wrong terminal by staff)."),
)

# What "Still missing" gives, rung by rung, after the summary's own steps: the same words.
RUNG_STEPS: tuple[Step, ...] = (
    step("check_account", ALL, "Query path 1.", rung=Rung.BANK_APP),
    step("check_records", ALL, "Query path 2.", rung=Rung.ACQUIRER_RECORDS),
    step("call_bank", ALL, "Query path 3.", rung=Rung.BANK_HOTLINE),
    *(s for s in STEPS if s.rung is Rung.ACQUIRER_SERVICE),
    step("complaint", ALL, "Query path 5: written complaint, then 12363 / 12378.",
         rung=Rung.COMPLAINT),
    step("legal", ALL, "Mediation, arbitration (if agreed), a lawsuit; the police for fraud or "
         "a vanished middleman (二清).", rung=Rung.LEGAL),
)
# fmt: on


def markdown() -> str:
    """The table as a page support staff can read: what the bot concludes, says and why."""
    out = [
        "# The advice table",
        "",
        "Generated from `flows/advice.py` by `posbot diagram --flow advice`; do not edit by hand.",
        "Rows are checked top to bottom; the first verdict that holds decides. Evidence ranks:",
        "the acquirer's records > money that arrived > the slip > the terminal > memory.",
        "",
        "## 1. Verdicts: what happened to the payment",
        "",
        "| # | row | when | conclusion | evidence | why |",
        "|---|---|---|---|---|---|",
    ]
    for n, v in enumerate(VERDICTS, 1):
        conclusion = v.headline if v.outcome == SETTLES else f"{v.outcome} · {v.headline}"
        out.append(
            f"| {n} | {v.name} | {v.when.describe()} | {conclusion} | {v.evidence} | {v.why} |"
        )
    out += [
        "",
        f"## 2. A payment that `{SETTLES}`, on the calendar",
        "",
        "| when | conclusion | why |",
        "|---|---|---|",
    ]
    out += [f"| {r.when.describe()} | {r.outcome} · {r.headline} | {r.why} |" for r in DATE_ROWS]
    out += [
        "",
        "## 3. Notes (several may hold)",
        "",
        "| note | when | shown with | placed | why |",
        "|---|---|---|---|---|",
    ]
    for note in NOTES:
        shown = "any" if note.headlines is None else ", ".join(sorted(note.headlines))
        placed = "under the conclusion" if note.warning else "footnote"
        out.append(f"| {note.key} | {note.when.describe()} | {shown} | {placed} | {note.why} |")
    out += [
        "",
        "## 4. Next steps, in this order",
        "",
        "Each step is a block of `templates/<locale>/_actions.j2`.",
        "",
        "| step | conclusions | when | rung | why |",
        "|---|---|---|---|---|",
    ]
    for s in STEPS:
        headlines = "all" if s.headlines == ALL else ", ".join(sorted(s.headlines))
        rung = s.rung.value if s.rung else ""
        out.append(f"| {s.key} | {headlines} | {s.when.describe()} | {rung} | {s.why} |")
    out += [
        "",
        '## 5. The ladder ("Still missing")',
        "",
        "Each press gives the first rung this merchant has not been given yet (the summary's own",
        "steps count), whatever the conclusion; after the last rung, a person.",
        "",
        "| rung | step | when | why |",
        "|---|---|---|---|",
    ]
    for s in RUNG_STEPS:
        assert s.rung is not None
        out.append(f"| {s.rung.value} | {s.key} | {s.when.describe()} | {s.why} |")
    return "\n".join(out) + "\n"
