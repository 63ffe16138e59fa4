"""The merchant's answers as a typed value, the one input the diagnosis rules read.

The intake stores answers as JSON-ready strings (they live in a database row); `Facts` is that
record parsed once, so rules and templates never re-interpret raw strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Method(StrEnum):
    CARD = "card"
    UNIONPAY_QR = "upqr"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    OTHER = "other"


class CardType(StrEnum):
    SALE = "sale"
    PREAUTH = "preauth"
    UNSURE = "unsure"


class SlipType(StrEnum):
    """The transaction type printed on a photographed slip (签购单)."""

    SALE = "sale"
    PREAUTH = "preauth"
    PREAUTH_COMPLETE = "preauth_complete"
    VOID = "void"
    REFUND = "refund"


#: What a slip's type says about the card-type question: a pre-authorization completion is
#: the settled half of a pre-authorization, so it settles like a sale; voids and refunds are
#: neither (they are not settled to the merchant at all).
SLIP_CARD_TYPES = {
    SlipType.SALE: CardType.SALE,
    SlipType.PREAUTH: CardType.PREAUTH,
    SlipType.PREAUTH_COMPLETE: CardType.SALE,
}


class TerminalResult(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    NO_RESULT = "noresult"
    UNKNOWN = "unknown"


class Records(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    MISSING = "missing"
    CANNOT_CHECK = "cantcheck"


class Received(StrEnum):
    NOTHING = "none"
    PARTIAL = "partial"
    UNCHECKED = "unchecked"


class CycleAnswer(StrEnum):
    T1 = "t1"
    D1 = "d1"
    D0 = "d0"
    UNSURE = "unsure"


class AccountSignal(StrEnum):
    NONE = "none"
    CHANGED = "changed"
    FROZEN = "frozen"
    VERIFY = "verify"
    RISK = "risk"
    TYPE23 = "type23"


#: Methods whose receipt carries the card-network keys (reference, terminal, merchant, voucher).
RECEIPT_METHODS = frozenset({Method.CARD, Method.UNIONPAY_QR, Method.OTHER})
#: Methods settled by a wallet platform, which has its own order numbers.
WALLET_METHODS = frozenset({Method.WECHAT, Method.ALIPAY})


#: The answers a summary lists, in order (slip-only keys such as batch and auth code included).
SUMMARY_FIELDS = (
    "when", "amount", "method", "card_type", "slip_type", "terminal", "records", "received",
    "received_amount", "received_day", "cycle", "bank", "account", "acquirer", "reference",
    "terminal_id", "merchant_id", "voucher", "card", "batch", "auth_code", "order_no",
)  # fmt: skip
#: Keys printed on a card-network slip: meaningless for a wallet payment.
RECEIPT_KEYS = frozenset(
    {"reference", "terminal_id", "merchant_id", "voucher", "card", "batch", "auth_code"}
)


def visible_fields(method: Method, answers: Mapping[str, Any]) -> tuple[str, ...]:
    """What a summary shows: given answers that mean something for this way of paying."""
    return tuple(
        name
        for name in SUMMARY_FIELDS
        if answers.get(name) is not None
        and (name != "card_type" or method is Method.CARD)
        and (name not in RECEIPT_KEYS or method in RECEIPT_METHODS)
        and (name != "order_no" or method in WALLET_METHODS)
    )


@dataclass(frozen=True)
class Facts:
    """Everything the merchant told us; None where a question was skipped or not asked."""

    day: date
    time: time | None
    amount: Decimal
    method: Method
    card_type: CardType | None
    terminal: TerminalResult
    records: Records
    received: Received
    cycle: CycleAnswer
    bank_code: str | None = None
    bank_name: str | None = None
    account: AccountSignal = AccountSignal.NONE
    acquirer: str | None = None
    reference: str | None = None
    terminal_id: str | None = None
    merchant_id: str | None = None
    voucher: str | None = None
    order_no: str | None = None
    #: The type printed on the slip, when the merchant sent a photo of it and confirmed it.
    slip_type: SlipType | None = None
    #: What the acquirer's own system answered about these keys (`Found.stored()` plus `by`,
    #: who was asked; or {"status": "not_found", ...}); None when no lookup answered.
    records_lookup: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def lookup(self) -> str:
        """The lookup's answer as the advice table reads it: none, found or not_found."""
        if not self.records_lookup:
            return "none"
        return "not_found" if self.records_lookup.get("status") == "not_found" else "found"

    @classmethod
    def from_answers(cls, answers: Mapping[str, Any]) -> Facts:
        """Build from the stored answer dict; raises KeyError when a required answer is absent."""
        when = answers["when"]
        bank = answers.get("bank") or {}
        method = Method(answers["method"])
        card_type = answers.get("card_type") if method is Method.CARD else None
        slip_type = SlipType(answers["slip_type"]) if answers.get("slip_type") else None
        if slip_type is not None and method is Method.CARD:
            # The slip's printed type replaces the card-type question (it is not asked then).
            derived = SLIP_CARD_TYPES.get(slip_type)
            card_type = derived.value if derived else None
        return cls(
            day=date.fromisoformat(when["day"]),
            time=time.fromisoformat(when["time"]) if when.get("time") else None,
            amount=Decimal(answers["amount"]),
            method=method,
            card_type=CardType(card_type) if card_type else None,
            terminal=TerminalResult(answers["terminal"]),
            records=Records(answers["records"]),
            received=Received(answers["received"]),
            # Not asked when it cannot move a date (flows.questions): counted as "not sure".
            cycle=CycleAnswer(answers.get("cycle") or CycleAnswer.UNSURE),
            bank_code=bank.get("code"),
            bank_name=bank.get("name"),
            account=AccountSignal(answers.get("account") or AccountSignal.NONE),
            acquirer=answers.get("acquirer"),
            reference=answers.get("reference") if method in RECEIPT_METHODS else None,
            terminal_id=answers.get("terminal_id") if method in RECEIPT_METHODS else None,
            merchant_id=answers.get("merchant_id") if method in RECEIPT_METHODS else None,
            voucher=answers.get("voucher") if method in RECEIPT_METHODS else None,
            order_no=answers.get("order_no") if method in WALLET_METHODS else None,
            slip_type=slip_type,
            records_lookup=answers.get("records_lookup") if method in RECEIPT_METHODS else None,
        )
