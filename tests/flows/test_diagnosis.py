"""The guide's decision paths, one row per outcome and signal (the advice's decision table)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from flows.diagnosis import Outcome, Policy, diagnose
from flows.facts import (
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
from flows.settlement_calendar import SHANGHAI, WorkCalendar

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)  # a Wednesday
POLICY = Policy(calendar=WorkCalendar())

BASE = Facts(
    day=date(2026, 11, 24),
    time=time(15, 30),
    amount=Decimal("1280.50"),
    method=Method.CARD,
    card_type=CardType.SALE,
    terminal=TerminalResult.SUCCESS,
    records=Records.SUCCESS,
    received=Received.NOTHING,
    cycle=CycleAnswer.T1,
    bank_code="icbc",
    reference="312345678901",
)


def keys(facts: Facts) -> list[str]:
    return [action.key for action in diagnose(facts, NOW, POLICY).actions]


@pytest.mark.parametrize(
    ("name", "changes", "outcome"),
    [
        ("A: T+1 sale yesterday, due today", {}, Outcome.NOT_YET_DUE),
        ("A: D+1 sale yesterday", {"cycle": CycleAnswer.D1}, Outcome.NOT_YET_DUE),
        (
            "B: terminal declined, records not checked",
            {"terminal": TerminalResult.FAILED, "records": Records.CANNOT_CHECK},
            Outcome.NOT_COMPLETED,
        ),
        (
            "B: terminal declined, records do not list it",
            {"terminal": TerminalResult.FAILED, "records": Records.MISSING},
            Outcome.NOT_COMPLETED,
        ),
        (
            "A: terminal declined but the records show success (records outrank it)",
            {"terminal": TerminalResult.FAILED},
            Outcome.NOT_YET_DUE,
        ),
        ("B: records show voided", {"records": Records.FAILED}, Outcome.NOT_COMPLETED),
        (
            "B beats pre-auth",
            {
                "card_type": CardType.PREAUTH,
                "terminal": TerminalResult.FAILED,
                "records": Records.CANNOT_CHECK,
            },
            Outcome.NOT_COMPLETED,
        ),
        (
            "C: timeout, cannot check",
            {"terminal": TerminalResult.NO_RESULT, "records": Records.CANNOT_CHECK},
            Outcome.UNCERTAIN,
        ),
        (
            "C: forgot, cannot check",
            {"terminal": TerminalResult.UNKNOWN, "records": Records.CANNOT_CHECK},
            Outcome.UNCERTAIN,
        ),
        ("C: success slip but not in records", {"records": Records.MISSING}, Outcome.UNCERTAIN),
        ("D: pre-authorization", {"card_type": CardType.PREAUTH}, Outcome.PREAUTH),
        ("E: T+1 sale a week ago", {"day": date(2026, 11, 18)}, Outcome.OVERDUE),
        (
            "E: timeout but records say success",
            {"day": date(2026, 11, 18), "terminal": TerminalResult.NO_RESULT},
            Outcome.OVERDUE,
        ),
        (
            "A: success slip, cannot check records",
            {"records": Records.CANNOT_CHECK},
            Outcome.NOT_YET_DUE,
        ),
        ("F: less than the amount arrived", {"received": Received.PARTIAL}, Outcome.PARTIAL),
        (
            "F wins over overdue",
            {"received": Received.PARTIAL, "day": date(2026, 11, 1)},
            Outcome.PARTIAL,
        ),
    ],
)
def test_outcome(name: str, changes: dict[str, object], outcome: Outcome) -> None:
    assert diagnose(replace(BASE, **changes), NOW, POLICY).outcome is outcome, name  # type: ignore[arg-type]


def test_not_yet_due_gives_the_due_date_and_grace() -> None:
    result = diagnose(BASE, NOW, POLICY)
    assert result.due is not None
    assert result.due.expected == date(2026, 11, 25)
    assert result.due.overdue_after == datetime(2026, 11, 27, tzinfo=SHANGHAI)
    assert keys(BASE)[0] == "wait_until"
    assert "if_still_missing" in keys(BASE)


def test_overdue_follows_the_guide_query_paths_in_order() -> None:
    facts = replace(BASE, day=date(2026, 11, 18))
    assert keys(facts) == [
        "check_account",
        "check_records",
        "call_bank",
        "contact_acquirer",
        "complaint",
        "internal_check",
    ]
    call_bank = diagnose(facts, NOW, POLICY).actions[2]
    assert call_bank.params["hotline"] == "95588"
    acquirer = diagnose(facts, NOW, POLICY).actions[3]
    assert acquirer.params["reference"] == "312345678901"


@pytest.mark.parametrize("signal", [s for s in AccountSignal if s is not AccountSignal.NONE])
def test_account_signal_moves_the_account_fix_first(signal: AccountSignal) -> None:
    facts = replace(BASE, day=date(2026, 11, 18), account=signal)
    assert keys(facts)[0] == f"account_{signal.value}"


def test_wallet_payment_points_to_the_platform_hotline() -> None:
    facts = replace(
        BASE,
        day=date(2026, 11, 18),
        method=Method.WECHAT,
        card_type=None,
        reference=None,
        order_no="4200001234202611181234567890",
    )
    actions = diagnose(facts, NOW, POLICY).actions
    platform = next(a for a in actions if a.key == "contact_platform")
    assert platform.params["hotline"] == "95017"
    assert platform.params["order_no"] == "4200001234202611181234567890"
    alipay = replace(facts, method=Method.ALIPAY)
    hotlines = [a.params.get("hotline") for a in diagnose(alipay, NOW, POLICY).actions]
    assert "95188" in hotlines


def test_unknown_bank_has_no_invented_hotline() -> None:
    facts = replace(BASE, day=date(2026, 11, 18), bank_code=None, bank_name="宁波银行")
    call_bank = next(a for a in diagnose(facts, NOW, POLICY).actions if a.key == "call_bank")
    assert call_bank.params["hotline"] is None
    assert call_bank.params["bank_name"] == "宁波银行"


def test_uncertain_never_suggests_reswiping_blindly() -> None:
    facts = replace(BASE, terminal=TerminalResult.NO_RESULT, records=Records.CANNOT_CHECK)
    assert keys(facts)[:3] == ["check_records", "no_blind_reswipe", "network_checks"]


def test_every_outcome_ends_with_the_internal_process_check() -> None:
    for changes in (
        {},
        {"terminal": TerminalResult.FAILED},
        {"card_type": CardType.PREAUTH},
        {"records": Records.MISSING},
        {"received": Received.PARTIAL},
        {"day": date(2026, 11, 18)},
    ):
        assert keys(replace(BASE, **changes))[-1] == "internal_check"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "at", "cycle", "expected", "estimated"),
    [
        (date(2026, 9, 30), None, CycleAnswer.T1, date(2026, 10, 8), False),
        (date(2026, 2, 13), None, CycleAnswer.T1, date(2026, 2, 14), False),
        (date(2026, 12, 31), time(10, 0), CycleAnswer.T1, date(2027, 1, 4), None),
        (date(2026, 11, 20), time(23, 30), CycleAnswer.T1, date(2026, 11, 23), False),
        (date(2026, 11, 20), None, CycleAnswer.D1, date(2026, 11, 21), False),
        (date(2026, 11, 20), None, CycleAnswer.UNSURE, date(2026, 11, 23), False),
    ],
)
def test_due_dates_from_the_domain_examples(
    day: date, at: time | None, cycle: CycleAnswer, expected: date, estimated: bool | None
) -> None:
    facts = replace(BASE, day=day, time=at, cycle=cycle)
    now = datetime(2026, 12, 31, 12, 0, tzinfo=SHANGHAI) if day.year == 2026 else NOW
    result = diagnose(facts, min(now, datetime.combine(day, time(23, 59), SHANGHAI)), POLICY)
    assert result.due is not None
    assert result.due.expected == expected
    if estimated is None:  # 2027: estimated until the official schedule is known
        assert result.due.estimated is not POLICY.calendar.is_official(2027)
    else:
        assert result.due.estimated is estimated


def test_notes_for_assumptions() -> None:
    notes = diagnose(replace(BASE, cycle=CycleAnswer.UNSURE, time=None), NOW, POLICY).notes
    assert "cycle_assumed" in notes
    assert "time_unknown" in notes
    assert "d0_fallback" in diagnose(replace(BASE, cycle=CycleAnswer.D0), NOW, POLICY).notes
    assert "too_old" in diagnose(replace(BASE, day=date(2026, 1, 2)), NOW, POLICY).notes


# The type printed on a confirmed slip photo: BASE is a card sale yesterday, due today (A).
@pytest.mark.parametrize(
    ("name", "changes", "outcome"),
    [
        ("消费 sale: settled as usual", {"slip_type": SlipType.SALE}, Outcome.NOT_YET_DUE),
        (
            "预授权完成 completion: settled as usual",
            {"slip_type": SlipType.PREAUTH_COMPLETE},
            Outcome.NOT_YET_DUE,
        ),
        (
            "消费 sale a week ago: overdue",
            {"slip_type": SlipType.SALE, "day": date(2026, 11, 18)},
            Outcome.OVERDUE,
        ),
        (
            "撤销 void: not settled",
            {"slip_type": SlipType.VOID, "records": Records.CANNOT_CHECK},
            Outcome.NOT_COMPLETED,
        ),
        (
            "退货 refund: nothing settled from it",
            {"slip_type": SlipType.REFUND, "records": Records.CANNOT_CHECK},
            Outcome.NOT_COMPLETED,
        ),
        (
            "a void slip does not outrank records that show success",
            {"slip_type": SlipType.VOID},
            Outcome.NOT_YET_DUE,
        ),
        ("预授权 pre-auth", {"slip_type": SlipType.PREAUTH, "card_type": None}, Outcome.PREAUTH),
        (
            "预授权 pre-auth, paid by UnionPay QR",
            {"slip_type": SlipType.PREAUTH, "card_type": None, "method": Method.UNIONPAY_QR},
            Outcome.PREAUTH,
        ),
        (
            "void beats pre-auth",
            {
                "slip_type": SlipType.VOID,
                "card_type": CardType.PREAUTH,
                "records": Records.MISSING,
            },
            Outcome.NOT_COMPLETED,
        ),
        (
            "money that arrived outranks a void slip",
            {"slip_type": SlipType.VOID, "received": Received.PARTIAL},
            Outcome.PARTIAL,
        ),
        (
            "a sale slip outranks a failed terminal",
            {
                "slip_type": SlipType.SALE,
                "terminal": TerminalResult.FAILED,
                "records": Records.CANNOT_CHECK,
            },
            Outcome.NOT_YET_DUE,
        ),
        (
            "a sale slip the records do not list is uncertain",
            {
                "slip_type": SlipType.SALE,
                "terminal": TerminalResult.FAILED,
                "records": Records.MISSING,
            },
            Outcome.UNCERTAIN,
        ),
    ],
)
def test_slip_type_outcome(name: str, changes: dict[str, object], outcome: Outcome) -> None:
    assert diagnose(replace(BASE, **changes), NOW, POLICY).outcome is outcome, name  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("slip_type", "steps", "headline"),
    [
        (SlipType.VOID, ["hold_released", "check_before_recharge", "contact_acquirer"], "B_void"),
        (SlipType.REFUND, ["refund_deducted", "compare_statement", "contact_acquirer"], "B_refund"),
        (None, ["hold_released", "check_before_recharge", "contact_acquirer"], "B_records"),
    ],
)
def test_void_and_refund_slips_get_their_own_steps(
    slip_type: SlipType | None, steps: list[str], headline: str
) -> None:
    changes: dict[str, object] = {"slip_type": slip_type, "records": Records.CANNOT_CHECK}
    if slip_type is None:
        changes["records"] = Records.FAILED
    facts = replace(BASE, **changes)  # type: ignore[arg-type]
    result = diagnose(facts, NOW, POLICY)
    assert [a.key for a in result.actions] == [*steps, "internal_check"]
    assert result.headline == headline
    assert result.due is None


@pytest.mark.parametrize(
    ("method", "slip_type", "card_type"),
    [
        ("card", "sale", CardType.SALE),
        ("card", "preauth", CardType.PREAUTH),
        ("card", "preauth_complete", CardType.SALE),
        ("card", "void", None),
        ("card", "refund", None),
        ("upqr", "preauth", None),
    ],
)
def test_the_slip_type_replaces_the_card_type_answer(
    method: str, slip_type: str, card_type: CardType | None
) -> None:
    answers = {
        "when": {"day": "2026-11-24", "time": None},
        "amount": "10.00",
        "method": method,
        "card_type": "unsure",
        "slip_type": slip_type,
        "terminal": "success",
        "records": "success",
        "received": "none",
        "cycle": "t1",
        "card": "622848******1234",
        "batch": "000123",
    }
    facts = Facts.from_answers(answers)
    assert facts.card_type is card_type
    assert facts.slip_type is SlipType(slip_type)
