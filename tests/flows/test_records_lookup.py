"""The records lookup port: keys from answers, readiness, and what a found record settles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.advice import Outcome
from flows.diagnosis import diagnose
from flows.facts import CardType, Facts, Records, SlipType, TerminalResult
from flows.records_lookup import (
    KEY_NAMES,
    REASON_LIMIT,
    Found,
    LookupKeys,
    NotFound,
    RecordStatus,
    Unavailable,
    Unreachable,
    amount_differs,
    evidence,
    keys_ready,
    result_reply,
)
from tests.flows.dialogue import NOW, POLICY

ANSWERS: dict[str, Any] = {
    "when": {"day": "2026-12-01", "time": "15:30"},
    "amount": "1280.50",
    "method": "card",
    "reference": "123456789012",
    "terminal_id": "12345678",
    "merchant_id": "102100058120001",
}


@dataclass(frozen=True)
class Needs:
    needs: frozenset[str]


def test_keys_from_the_answers() -> None:
    keys = LookupKeys.from_answers(ANSWERS)
    assert keys == LookupKeys(
        reference="123456789012",
        merchant_no="102100058120001",
        terminal_no="12345678",
        date=date(2026, 12, 1),
        amount=Decimal("1280.50"),
    )
    assert keys.values() == {
        "reference": "123456789012",
        "merchant_no": "102100058120001",
        "terminal_no": "12345678",
        "date": "2026-12-01",
        "amount": "1280.50",
    }


def test_amounts_always_carry_two_decimals() -> None:
    assert LookupKeys(amount=Decimal("1280")).values()["amount"] == "1280.00"


@pytest.mark.parametrize(
    "answers",
    [{}, {"when": None, "amount": None}, {"when": {"day": "soon"}, "amount": "lots"}],
)
def test_unknown_or_malformed_answers_are_unknown_keys(answers: dict[str, Any]) -> None:
    assert LookupKeys.from_answers(answers).missing(KEY_NAMES) == KEY_NAMES


@pytest.mark.parametrize(
    ("needs", "answers", "ready"),
    [
        ({"reference"}, ANSWERS, True),
        ({"reference", "date", "merchant_no"}, ANSWERS, True),
        ({"reference"}, {**ANSWERS, "reference": None}, False),
        ({"reference", "date"}, {"reference": "123456789012"}, False),
        ({"reference", "date"}, {"reference": "123456789012", "when": {"day": "2026-12-01"}}, True),
        ({"amount"}, {"amount": "88"}, True),
        # Wallet payments are not in the acquirer's card records, whatever keys they have.
        ({"reference"}, {**ANSWERS, "method": "wechat"}, False),
        ({"reference"}, {**ANSWERS, "method": "alipay"}, False),
        ({"reference"}, {**ANSWERS, "method": "upqr"}, True),
    ],
)
def test_keys_ready(needs: set[str], answers: dict[str, Any], ready: bool) -> None:
    assert keys_ready(answers, Needs(frozenset(needs))) is ready


@pytest.mark.parametrize(
    ("status", "answers", "detail"),
    [
        (RecordStatus.SUCCESS, {"records": "success"}, None),
        (RecordStatus.FAILED, {"records": "failed"}, None),
        (RecordStatus.REVERSED, {"records": "failed"}, None),
        (RecordStatus.VOIDED, {"records": "failed"}, SlipType.VOID),
        (RecordStatus.REFUNDED, {"records": "failed"}, SlipType.REFUND),
        (RecordStatus.PREAUTH, {"records": "success", "card_type": "preauth"}, None),
    ],
)
def test_what_a_found_record_settles(
    status: RecordStatus, answers: dict[str, str], detail: SlipType | None
) -> None:
    settled = evidence(Found(status, Decimal(1)))
    assert settled.answers() == answers
    assert settled.detail is detail


def test_the_evidence_reads_as_facts() -> None:
    """Merged over the merchant's answers, the records' word is what the diagnosis reads."""
    base = {**ANSWERS, "terminal": "failed", "records": "missing", "received": "none"}
    base["cycle"] = "t1"
    found = Found(RecordStatus.VOIDED, Decimal("1280.50"))
    facts = Facts.from_answers({**base, **evidence(found).answers()})
    assert facts.records is Records.FAILED
    assert facts.slip_type is None  # no slip was photographed
    preauth = Facts.from_answers(
        {**base, **evidence(Found(RecordStatus.PREAUTH, Decimal(1))).answers()}
    )
    assert preauth.card_type is CardType.PREAUTH


def test_a_found_record_round_trips_through_storage() -> None:
    found = Found(RecordStatus.REVERSED, Decimal("5000"), date(2026, 12, 4), "timeout")
    assert Found.from_stored(found.stored()) == found
    assert found.stored() == {
        "status": "reversed",
        "amount": "5000.00",
        "settled_on": "2026-12-04",
        "reason": "timeout",
    }


def test_the_reason_is_redacted_and_short() -> None:
    found = Found(
        RecordStatus.FAILED, Decimal(1), reason="卡号 6222021234567890123 余额不足\n" + "x" * 500
    )
    assert found.reason is not None
    assert "6222021234567890123" not in found.reason
    assert len(found.reason) <= REASON_LIMIT
    assert "\n" not in found.reason
    assert Found(RecordStatus.FAILED, Decimal(1), reason="  ").reason is None


def test_amount_differs_only_when_both_are_known() -> None:
    found = Found(RecordStatus.SUCCESS, Decimal("1280.50"))
    assert not amount_differs(found, ANSWERS)
    assert amount_differs(found, {**ANSWERS, "amount": "1208.50"})
    assert not amount_differs(found, {})


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
def test_amounts_survive_storage(amount: Decimal) -> None:
    found = Found(RecordStatus.SUCCESS, amount)
    assert Found.from_stored(found.stored()).amount == amount


def test_an_unavailable_system_is_not_mentioned_to_the_merchant() -> None:
    for reason in Unreachable:
        assert result_reply(Unavailable(reason), "Example Pay", ANSWERS) is None
    found = result_reply(Found(RecordStatus.SUCCESS, Decimal("1208.50")), "Example Pay", ANSWERS)
    assert found is not None
    assert found.context["amount_differs"] is True
    missing = result_reply(NotFound(), "Example Pay", ANSWERS)
    assert missing is not None
    assert missing.context["records"] is None


@pytest.mark.parametrize(
    ("status", "outcomes"),
    [
        (RecordStatus.SUCCESS, {Outcome.NOT_YET_DUE, Outcome.OVERDUE}),
        (RecordStatus.FAILED, {Outcome.NOT_COMPLETED}),
        (RecordStatus.REVERSED, {Outcome.NOT_COMPLETED}),
        (RecordStatus.VOIDED, {Outcome.NOT_COMPLETED}),
        (RecordStatus.REFUNDED, {Outcome.NOT_COMPLETED}),
        (RecordStatus.PREAUTH, {Outcome.PREAUTH}),
    ],
)
@pytest.mark.parametrize("terminal", list(TerminalResult))
@pytest.mark.parametrize("merchant_said", list(Records))
def test_the_records_answer_decides_the_outcome_whatever_the_merchant_said(
    status: RecordStatus,
    outcomes: set[Outcome],
    terminal: TerminalResult,
    merchant_said: Records,
) -> None:
    """Merged over any terminal display and any records answer of the merchant's, the found
    record is the evidence the advice table ranks first."""
    answers = {
        **ANSWERS,
        "card_type": "sale",
        "terminal": terminal.value,
        "records": merchant_said.value,
        "received": "none",
        "cycle": "t1",
    }
    found = Found(status, Decimal("1280.50"))
    facts = Facts.from_answers({**answers, **evidence(found).answers()})
    assert diagnose(facts, NOW, POLICY).outcome in outcomes
