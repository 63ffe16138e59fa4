"""Asking the acquirer's own records about a payment: the question and the answer as data.

The merchant's memory ranks last among the evidence; the acquirer's records rank first. A
deployment that can look a payment up by its receipt keys lets the diagnosis take the records'
word instead of asking "can you find it in the app?". This module is the port: what is asked
(:class:`LookupKeys`), what can come back (:data:`LookupResult`), and what a found record means
to the diagnosis (:func:`evidence`). Adapters (HTTP, fakes) live in `bot/`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol

from flows.facts import WALLET_METHODS, CardType, Method, Records, SlipType
from flows.redaction import redact_text
from flows.replies import Reply

#: The keys a lookup can use, by the names deployment files put in their URL templates.
KEY_NAMES = ("reference", "merchant_no", "terminal_no", "date", "amount")
#: Where each key lives in the intake's answers (flows/facts.py reads the same keys).
ANSWER_KEYS = {
    "reference": "reference",
    "merchant_no": "merchant_id",
    "terminal_no": "terminal_id",
    "date": "when.day",
    "amount": "amount",
}
#: The longest reason text kept: a sentence, not a response body.
REASON_LIMIT = 200


class RecordStatus(StrEnum):
    """What the acquirer's system says the transaction is, in posbot's words."""

    SUCCESS = "success"
    FAILED = "failed"
    REVERSED = "reversed"
    VOIDED = "voided"
    REFUNDED = "refunded"
    PREAUTH = "preauth"


#: The status word a deployment maps to "the system does not know this payment".
NOT_FOUND = "not_found"


class Unreachable(StrEnum):
    """Why no answer came: each falls back to asking the merchant, as without a lookup."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    SERVER_ERROR = "server_error"  # 5xx
    REFUSED = "refused"  # another 4xx than 404: credentials or a request the system rejects
    BAD_RESPONSE = "bad_response"  # not JSON, or not matching [records.fields]/status_values
    CIRCUIT_OPEN = "circuit_open"  # recent failures: not called for a while
    KEYS_MISSING = "keys_missing"  # the configured request needs a key the merchant has not given


@dataclass(frozen=True)
class LookupKeys:
    """The receipt keys a merchant gave; None where not (yet) known."""

    reference: str | None = None
    merchant_no: str | None = None
    terminal_no: str | None = None
    date: date | None = None
    amount: Decimal | None = None

    @classmethod
    def from_answers(cls, answers: Mapping[str, Any]) -> LookupKeys:
        """From the intake's answer dict (any subset; a malformed value counts as unknown)."""
        when = answers.get("when") or {}
        day = None
        if isinstance(when, Mapping) and when.get("day"):
            try:
                day = date.fromisoformat(str(when["day"]))
            except ValueError:
                day = None
        amount = None
        if answers.get("amount") not in (None, ""):
            try:
                amount = Decimal(str(answers["amount"]))
            except InvalidOperation:
                amount = None
            if amount is not None and not amount.is_finite():
                amount = None
        return cls(
            reference=answers.get("reference") or None,
            merchant_no=answers.get("merchant_id") or None,
            terminal_no=answers.get("terminal_id") or None,
            date=day,
            amount=amount,
        )

    def values(self) -> dict[str, str | None]:
        """Every key as the request carries it: date YYYY-MM-DD, amount in yuan with 2 decimals."""
        return {
            "reference": self.reference,
            "merchant_no": self.merchant_no,
            "terminal_no": self.terminal_no,
            "date": self.date.isoformat() if self.date else None,
            "amount": f"{self.amount:.2f}" if self.amount is not None else None,
        }

    def missing(self, needed: Collection[str]) -> tuple[str, ...]:
        """The needed keys not known, in KEY_NAMES order."""
        known = self.values()
        return tuple(name for name in KEY_NAMES if name in needed and known[name] is None)


class KeyNeeds(Protocol):
    """What a configured lookup needs to be asked (bot's records config provides it)."""

    @property
    def needs(self) -> frozenset[str]: ...


def keys_ready(answers: Mapping[str, Any], config: KeyNeeds) -> bool:
    """True once every key the configured request needs is known, for a payment with a receipt.

    Wallet payments (WeChat Pay, Alipay) carry the platform's order numbers, not card-network
    keys: their records are not in the acquirer's card system, so they are never looked up.
    """
    if not applies_to(answers.get("method")):
        return False
    return not LookupKeys.from_answers(answers).missing(config.needs)


@dataclass(frozen=True)
class Found:
    """The acquirer's system knows the payment. Only what the summary shows is kept."""

    status: RecordStatus
    amount: Decimal
    settled_on: date | None = None  # None: not settled (yet), or the system does not say
    reason: str | None = None  # redacted and cut to REASON_LIMIT

    def __post_init__(self) -> None:
        if self.reason is not None:
            reason = redact_text(" ".join(self.reason.split()))[:REASON_LIMIT].strip()
            object.__setattr__(self, "reason", reason or None)

    @property
    def settled(self) -> bool:
        return self.settled_on is not None

    def stored(self) -> dict[str, str | None]:
        """JSON-ready, for the case row; :meth:`from_stored` reads it back."""
        return {
            "status": self.status.value,
            "amount": f"{self.amount:.2f}",
            "settled_on": self.settled_on.isoformat() if self.settled_on else None,
            "reason": self.reason,
        }

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Found:
        settled = data.get("settled_on")
        return cls(
            status=RecordStatus(data["status"]),
            amount=Decimal(data["amount"]),
            settled_on=date.fromisoformat(settled) if settled else None,
            reason=data.get("reason"),
        )


@dataclass(frozen=True)
class NotFound:
    """The system answered and has no payment with these keys (they may be mistyped)."""


@dataclass(frozen=True)
class Unavailable:
    """No usable answer; the intake asks the merchant as it would without a lookup."""

    reason: Unreachable


LookupResult = Found | NotFound | Unavailable


@dataclass(frozen=True)
class RecordsEvidence:
    """A found record in the intake's own answer vocabulary, so the diagnosis reads it as the
    merchant's "records" answer would be read, at the top evidence rank."""

    records: Records
    #: A pre-authorization in the records settles only once completed: the card-type answer.
    card_type: CardType | None = None
    #: A void or refund, named as a slip would name it (voided sales are not settled, refunds are
    #: deducted from settlement). Not an answer: `slip_type` is what a photographed slip printed,
    #: and the summary shows it as such; the records' own word is shown by `records_result`.
    detail: SlipType | None = None

    def answers(self) -> dict[str, str]:
        """The answer-dict entries the records settle (merge over the merchant's answers)."""
        entries = {"records": self.records.value}
        if self.card_type is not None:
            entries["card_type"] = self.card_type.value
        return entries


_EVIDENCE = {
    RecordStatus.SUCCESS: RecordsEvidence(Records.SUCCESS),
    RecordStatus.FAILED: RecordsEvidence(Records.FAILED),
    RecordStatus.REVERSED: RecordsEvidence(Records.FAILED),
    RecordStatus.VOIDED: RecordsEvidence(Records.FAILED, detail=SlipType.VOID),
    RecordStatus.REFUNDED: RecordsEvidence(Records.FAILED, detail=SlipType.REFUND),
    # The system holds the authorization, not a completed sale: outcome D, not "failed".
    RecordStatus.PREAUTH: RecordsEvidence(Records.SUCCESS, card_type=CardType.PREAUTH),
}


def evidence(found: Found) -> RecordsEvidence:
    """What a found record settles among the intake's questions."""
    return _EVIDENCE[found.status]


def amount_differs(found: Found, answers: Mapping[str, Any]) -> bool:
    """The records' amount is not the one the merchant gave (worth saying; never silently
    corrected: a partial refund or a typo are both possible)."""
    given = LookupKeys.from_answers(answers).amount
    return given is not None and given != found.amount


def applies_to(method: Method | str | None) -> bool:
    """Whether a payment made this way can be in the acquirer's card records at all (not yet
    known: it may be)."""
    return method is None or str(method) not in {m.value for m in WALLET_METHODS}


def checking_reply(acquirer: str) -> Reply:
    """ "Checking with <acquirer>…", for a lookup that takes longer than a second."""
    return Reply("records_checking", {"acquirer": acquirer})


def result_reply(result: LookupResult, acquirer: str, answers: Mapping[str, Any]) -> Reply | None:
    """ "<acquirer>'s system shows: …" for a found or not-found answer; None when unavailable
    (the merchant is asked instead, as without a lookup, and told nothing about the outage)."""
    if isinstance(result, Unavailable):
        return None
    keys = LookupKeys.from_answers(answers)
    context: dict[str, Any] = {
        "acquirer": acquirer,
        "reference": keys.reference,
        "records": result.stored() if isinstance(result, Found) else None,
        "amount_differs": isinstance(result, Found) and amount_differs(result, answers),
        "given_amount": keys.values()["amount"],
    }
    return Reply("records_result", context)
