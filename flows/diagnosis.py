"""Evaluates the decision table of `flows.advice` for one merchant's facts at one moment.

Nothing here decides what the advice is; it derives the facts the rows read (the situation),
takes the first verdict row that holds, places a usual settlement on the calendar, collects the
notes and steps whose rows hold, and gives each step the parameters its words need (the bank's
hotline, the receipt keys ...). "Still missing" climbs the same table's ladder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flows.advice import (
    DATE_ROWS,
    LADDER,
    NOTES,
    RUNG_STEPS,
    SETTLES,
    STEPS,
    TYPE2_DAILY_LIMIT,
    VERDICTS,
    Evidence,
    Lookup,
    Outcome,
    Rung,
    Situation,
    Step,
    Timing,
    Verdict,
)
from flows.banks import ALIPAY, DEFAULT_BANKS, NFRA, PBOC, WECHAT_PAY, BankDirectory, Institution
from flows.facts import (
    RECEIPT_METHODS,
    CardType,
    CycleAnswer,
    Facts,
    Method,
    Received,
    SlipType,
)
from flows.settlement_calendar import SHANGHAI, Cycle, DueDate, WorkCalendar, settlement_due

__all__ = [
    "TRACEABLE_DAYS",
    "Action",
    "Diagnosis",
    "Outcome",
    "Policy",
    "calls_bank",
    "climb",
    "diagnose",
    "situation",
]

#: Past this age the acquirer may no longer be able to trace a transaction.
TRACEABLE_DAYS = 180

#: The step rows of each conclusion, in table order.
STEPS_BY_HEADLINE: dict[str, tuple[Step, ...]] = {
    headline: tuple(s for s in STEPS if headline in s.headlines)
    for headline in {h for s in STEPS for h in s.headlines}
}


@dataclass(frozen=True)
class Action:
    """One numbered next step; `key` names a block in the locale's actions template."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    rung: Rung | None = None


@dataclass(frozen=True)
class Diagnosis:
    outcome: Outcome
    due: DueDate | None
    actions: tuple[Action, ...]
    notes: tuple[str, ...]
    #: Sources that disagree with the one that decided, said right under the conclusion.
    warnings: tuple[str, ...] = ()
    #: The "In short" sentence: a block of the locale's _headline.j2.
    headline: str = ""
    #: The verdict row that decided, and the evidence it rests on.
    verdict: str = ""
    evidence: Evidence = Evidence.MEMORY
    timing: Timing = Timing.NONE

    @property
    def rungs(self) -> tuple[Rung, ...]:
        """The ladder's rungs this summary already gives."""
        return tuple(a.rung for a in self.actions if a.rung is not None)


@dataclass(frozen=True)
class Policy:
    """Deployment knobs the rules need: cut-off, calendar, and the amount people must see."""

    calendar: WorkCalendar
    cutoff: time = time(23, 0)
    #: Cases above this amount go to a person as well as getting the summary.
    escalation_amount: Decimal | None = None
    #: The settlement cycles the acquirer offers: the cycle question asks only about these.
    cycles: tuple[Cycle, ...] = tuple(Cycle)
    #: The settlement banks and their hotlines.
    banks: BankDirectory = DEFAULT_BANKS
    #: The acquirer's records can be looked up ([records] configured): the intake asks for the
    #: slip or the reference number right after the date and amount, so the lookup can run.
    keys_first: bool = False
    #: The other receipt keys that lookup needs (intake fields: terminal_id, merchant_id): asked
    #: on the way too; without a lookup no receipt key is (flows.questions.walked).
    lookup_keys: frozenset[str] = frozenset()


def calls_bank(answers: Mapping[str, Any], now: datetime, policy: Policy) -> bool:
    """Whether the summary for these answers tells the merchant to call their settlement bank
    (only an overdue payment's does), so the bank is worth asking; True while the answers that
    decide it are not all known. The bank and account notices never move a date: an account
    notice not answered yet is counted as none."""
    probe = {**answers, "bank": None, "account": answers.get("account") or "none"}
    try:
        facts = Facts.from_answers(probe)
    except (KeyError, ValueError, TypeError):
        return True
    return any(action.key == "call_bank" for action in diagnose(facts, now, policy).actions)


def settlement_cycle(facts: Facts) -> Cycle:
    """The cycle to count with: 'not sure' is counted as T+1, the common default."""
    if facts.cycle is CycleAnswer.UNSURE:
        return Cycle.T1
    return Cycle(facts.cycle.value)


def _timing(due: DueDate | None, now: datetime) -> Timing:
    if due is None:
        return Timing.NONE
    if now >= due.overdue_after:
        return Timing.OVERDUE
    today = now.date()
    if today > due.expected:
        return Timing.GRACE
    return Timing.TODAY if today == due.expected else Timing.FUTURE


def situation(facts: Facts, now: datetime, due: DueDate | None) -> Situation:
    """What the rows read, derived once from the facts, the due date and the moment."""
    now = now.astimezone(SHANGHAI)
    return Situation(
        records=facts.records,
        lookup=Lookup(facts.lookup),
        received=facts.received,
        slip=facts.slip_type,
        terminal=facts.terminal,
        card_type=facts.card_type,
        # The acquirer's system may hold a pre-authorization whatever the way of paying said.
        preauth=facts.card_type is CardType.PREAUTH
        or facts.slip_type is SlipType.PREAUTH
        or (facts.records_lookup or {}).get("status") == "preauth",
        method=facts.method,
        wallet=platform(facts) is not None,
        acquirer_named=bool(facts.acquirer),
        account=facts.account,
        over_type2_limit=facts.amount > TYPE2_DAILY_LIMIT,
        cycle=facts.cycle,
        time_known=facts.time is not None,
        timing=_timing(due, now),
        cutoff_moved=bool(due and due.cutoff_moved),
        too_old=now.date() - facts.day > timedelta(days=TRACEABLE_DAYS),
    )


def verdict_for(facts: Facts, now: datetime) -> Verdict:
    """The first verdict row that holds (the last row always does); dates play no part."""
    probe = situation(facts, now, None)
    return next(row for row in VERDICTS if row.when.holds(probe))


def _due(facts: Facts, policy: Policy) -> DueDate:
    return settlement_due(
        facts.day, facts.time, settlement_cycle(facts), policy.calendar, policy.cutoff
    )


def diagnose(facts: Facts, now: datetime, policy: Policy) -> Diagnosis:
    """The conclusion, the due date where one exists, the notes and the steps in table order."""
    now = now.astimezone(SHANGHAI)
    verdict = verdict_for(facts, now)
    settles = verdict.outcome == SETTLES
    due = _due(facts, policy) if settles or verdict.outcome is Outcome.PARTIAL else None
    facts_now = situation(facts, now, due)
    if settles:
        row = next(r for r in DATE_ROWS if r.when.holds(facts_now))
        outcome, headline = row.outcome, row.headline
    else:
        assert isinstance(verdict.outcome, Outcome)
        outcome, headline = verdict.outcome, verdict.headline
    found = [
        note
        for note in NOTES
        if note.when.holds(facts_now) and (note.headlines is None or headline in note.headlines)
    ]
    actions = tuple(
        _action(s, facts, due, policy.banks, facts_now.timing)
        for s in STEPS_BY_HEADLINE[headline]
        if s.when.holds(facts_now)
    )
    return Diagnosis(
        outcome=outcome,
        due=due,
        actions=actions,
        notes=tuple(note.key for note in found if not note.warning),
        warnings=tuple(note.key for note in found if note.warning),
        headline=headline,
        verdict=verdict.name,
        evidence=verdict.evidence,
        timing=facts_now.timing,
    )


@dataclass(frozen=True)
class Climb:
    """One press of "Still missing": today's diagnosis and the next rung (None: none left)."""

    diagnosis: Diagnosis
    step: Action | None
    #: Rungs still above this one.
    remaining: int

    @property
    def given(self) -> tuple[str, ...]:
        return () if self.step is None or self.step.rung is None else (self.step.rung.value,)


def climb(facts: Facts, given: tuple[str, ...], now: datetime, policy: Policy) -> Climb:
    """The first rung of the ladder not yet given to this merchant, for today's diagnosis.
    `given` holds rung names as stored on the case; every outcome climbs the same ladder, so
    each can reach the complaint and legal route and then a person."""
    diagnosis = diagnose(facts, now, policy)
    facts_now = situation(facts, now, diagnosis.due)
    open_rungs = [rung for rung in LADDER if rung.value not in given]
    if not open_rungs:
        return Climb(diagnosis, None, 0)
    rung = open_rungs[0]
    chosen = next(s for s in RUNG_STEPS if s.rung is rung and s.when.holds(facts_now))
    step = _action(chosen, facts, diagnosis.due, policy.banks, facts_now.timing)
    return Climb(diagnosis, step, len(open_rungs) - 1)


def platform(facts: Facts) -> Institution | None:
    """The wallet platform that settles a QR payment, when it is one."""
    return {Method.WECHAT: WECHAT_PAY, Method.ALIPAY: ALIPAY}.get(facts.method)


def _bank_params(facts: Facts, banks: BankDirectory) -> dict[str, Any]:
    bank = banks.by_code(facts.bank_code) if facts.bank_code else None
    if bank is not None:
        return {"bank": bank.code, "hotline": bank.hotline}
    return {"bank": None, "bank_name": facts.bank_name, "hotline": None}


def _keys(facts: Facts) -> dict[str, Any]:
    """The trace keys the merchant gave (None where not given), for the contact steps."""
    return {
        "reference": facts.reference,
        "terminal_id": facts.terminal_id,
        "merchant_id": facts.merchant_id,
        "voucher": facts.voucher,
        "order_no": facts.order_no,
    }


def _party(facts: Facts) -> dict[str, Any]:
    """Who settles this payment: the named acquirer, else the wallet platform, else 'the
    acquirer' unnamed; the records, contact and complaint steps all name the same party."""
    wallet = platform(facts)
    return {
        "acquirer": facts.acquirer,
        "platform": wallet.code if wallet is not None and not facts.acquirer else None,
    }


def _action(
    s: Step, facts: Facts, due: DueDate | None, banks: BankDirectory, timing: Timing
) -> Action:
    key = s.key
    params: dict[str, Any]
    if key in ("wait_until", "if_still_missing"):
        params = {"due": due, "today": timing is Timing.TODAY}
    elif key == "check_account":
        params = {"unchecked": facts.received is Received.UNCHECKED}
    elif key == "check_records":
        params = _party(facts)
    elif key == "call_bank":
        params = _bank_params(facts, banks)
    elif key == "contact_platform":
        wallet = platform(facts)
        assert wallet is not None
        params = {"platform": wallet.code, "hotline": wallet.hotline, **_keys(facts)}
    elif key == "contact_acquirer":
        params = {
            **_party(facts),
            "receipt": facts.method in RECEIPT_METHODS,
            "wallet": platform(facts) is not None,
            **_keys(facts),
        }
    elif key == "complaint":
        params = {"pboc": PBOC.hotline, "nfra": NFRA.hotline, **_party(facts)}
    elif key == "check_keys":
        params = {"reference": facts.reference}
    elif key == "internal_check":
        params = {"receipt": facts.method in RECEIPT_METHODS}
    else:
        params = {}
    return Action(key, params, s.rung)
