"""The guide's decision rules: from the merchant's facts to one outcome and ordered next steps.

Outcomes follow PRODUCT.md 2.4 (A not yet due, B did not complete, C uncertain, D pre-auth not
completed, E overdue, F partial amount). Rules only conclude what the answers support; the
summary always says that the acquirer's and bank's records decide.

The type printed on a confirmed slip photo counts like the merchant's answers: a void (撤销)
is B, as voided sales are not settled; a pre-authorization (预授权) is D; a sale (消费) or a
pre-authorization completion (预授权完成) is settled as usual. A refund (退货) is B as well, since
no money is settled to the merchant from it, but with its own steps: a refund is deducted from
the settlement, and when it returned only part of a sale the rest of that sale is still settled,
so the merchant is pointed at the original sale (its reference is printed on the refund slip)
rather than told the payment failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flows.banks import ALIPAY, DEFAULT_BANKS, NFRA, PBOC, WECHAT_PAY, BankDirectory, Institution
from flows.facts import (
    RECEIPT_METHODS,
    AccountSignal,
    CardType,
    CycleAnswer,
    Facts,
    Method,
    Received,
    Records,
    SlipType,
    TerminalResult,
)
from flows.settlement_calendar import SHANGHAI, Cycle, DueDate, WorkCalendar, settlement_due

#: Past this age the acquirer may no longer be able to trace a transaction.
TRACEABLE_DAYS = 180


class Outcome(StrEnum):
    NOT_YET_DUE = "A"
    NOT_COMPLETED = "B"
    UNCERTAIN = "C"
    PREAUTH = "D"
    OVERDUE = "E"
    PARTIAL = "F"


@dataclass(frozen=True)
class Action:
    """One numbered next step; `key` names a block in the locale's actions template."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnosis:
    outcome: Outcome
    due: DueDate | None
    actions: tuple[Action, ...]
    notes: tuple[str, ...]


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


def classify(facts: Facts) -> Outcome | None:
    """Outcomes that do not depend on the calendar; None means 'settlement expected'."""
    if facts.terminal is TerminalResult.FAILED or facts.records is Records.FAILED:
        return Outcome.NOT_COMPLETED
    if facts.slip_type in (SlipType.VOID, SlipType.REFUND):
        return Outcome.NOT_COMPLETED
    if facts.card_type is CardType.PREAUTH or facts.slip_type is SlipType.PREAUTH:
        return Outcome.PREAUTH
    if facts.records is Records.MISSING:
        return Outcome.UNCERTAIN
    uncertain_terminal = facts.terminal in (TerminalResult.NO_RESULT, TerminalResult.UNKNOWN)
    if uncertain_terminal and facts.records is Records.CANNOT_CHECK:
        return Outcome.UNCERTAIN
    if facts.received is Received.PARTIAL:
        return Outcome.PARTIAL
    return None


def settlement_cycle(facts: Facts) -> Cycle:
    """The cycle to count with: 'not sure' is counted as T+1, the common default."""
    if facts.cycle is CycleAnswer.UNSURE:
        return Cycle.T1
    return Cycle(facts.cycle.value)


def diagnose(facts: Facts, now: datetime, policy: Policy) -> Diagnosis:
    """Pick the primary outcome, the due date where one exists, and the steps in guide order."""
    now = now.astimezone(SHANGHAI)
    outcome = classify(facts)
    due: DueDate | None = None
    if outcome is None or outcome is Outcome.PARTIAL:
        due = settlement_due(
            facts.day, facts.time, settlement_cycle(facts), policy.calendar, policy.cutoff
        )
    if outcome is None:
        assert due is not None
        outcome = Outcome.OVERDUE if now >= due.overdue_after else Outcome.NOT_YET_DUE
    actions = _actions(outcome, facts, due, policy.banks)
    return Diagnosis(outcome, due, tuple(actions), tuple(_notes(facts, now)))


def _notes(facts: Facts, now: datetime) -> list[str]:
    notes = []
    if facts.cycle is CycleAnswer.UNSURE:
        notes.append("cycle_assumed")
    if facts.cycle is CycleAnswer.D0:
        notes.append("d0_fallback")
    if facts.time is None:
        notes.append("time_unknown")
    if now.date() - facts.day > timedelta(days=TRACEABLE_DAYS):
        notes.append("too_old")
    return notes


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
        "voucher": facts.voucher,
        "order_no": facts.order_no,
    }


def _account_actions(facts: Facts) -> list[Action]:
    if facts.account is AccountSignal.NONE:
        return []
    return [Action(f"account_{facts.account.value}")]


def _contact_acquirer(facts: Facts) -> Action:
    wallet = platform(facts)
    if wallet is not None:
        return Action(
            "contact_platform", {"platform": wallet.code, "hotline": wallet.hotline, **_keys(facts)}
        )
    return Action(
        "contact_acquirer",
        {"acquirer": facts.acquirer, "receipt": any(_keys(facts).values()), **_keys(facts)},
    )


def _query_paths(facts: Facts, banks: BankDirectory) -> list[Action]:
    """The guide's query paths in order; an account signal puts its fix before them all."""
    wallet = platform(facts)
    return [
        *_account_actions(facts),
        Action("check_account", {"unchecked": facts.received is Received.UNCHECKED}),
        Action("check_records", {"platform": wallet.code if wallet else None}),
        Action("call_bank", _bank_params(facts, banks)),
        _contact_acquirer(facts),
        Action("complaint", {"pboc": PBOC.hotline, "nfra": NFRA.hotline}),
    ]


def _actions(
    outcome: Outcome, facts: Facts, due: DueDate | None, banks: BankDirectory
) -> list[Action]:
    wallet = platform(facts)
    steps: list[Action]
    if outcome is Outcome.NOT_YET_DUE:
        assert due is not None
        steps = [Action("wait_until", {"due": due}), *_account_actions(facts)]
        if facts.records is Records.CANNOT_CHECK:
            steps.append(Action("check_records", {"platform": wallet.code if wallet else None}))
        steps.append(Action("if_still_missing", {"due": due}))
    elif outcome is Outcome.NOT_COMPLETED:
        slip = facts.slip_type if facts.slip_type in (SlipType.VOID, SlipType.REFUND) else None
        void = facts.records is Records.FAILED
        settlement = Action("no_settlement", {"void": void, "slip": slip and slip.value})
        if slip is SlipType.REFUND and facts.terminal is not TerminalResult.FAILED:
            steps = [
                settlement,
                Action("refund_deducted"),
                Action("compare_statement"),
                _contact_acquirer(facts),
            ]
        else:
            steps = [
                settlement,
                Action("hold_released"),
                Action("check_before_recharge"),
                _contact_acquirer(facts),
            ]
    elif outcome is Outcome.UNCERTAIN:
        steps = [
            Action("check_records", {"platform": wallet.code if wallet else None}),
            Action("no_blind_reswipe"),
            Action("network_checks"),
            _contact_acquirer(facts),
        ]
    elif outcome is Outcome.PREAUTH:
        steps = [
            Action("complete_preauth"),
            Action("check_records", {"platform": wallet.code if wallet else None}),
            _contact_acquirer(facts),
        ]
    elif outcome is Outcome.PARTIAL:
        steps = [
            Action("fees_and_refunds"),
            Action("compare_statement"),
            Action("check_records", {"platform": wallet.code if wallet else None}),
            _contact_acquirer(facts),
        ]
    else:
        steps = _query_paths(facts, banks)
    steps.append(Action("internal_check", {"receipt": facts.method in RECEIPT_METHODS}))
    return steps
