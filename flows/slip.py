"""A photographed slip as intake answers: what it pre-fills, checked as strictly as typed answers.

`flows.receipt` reads the fields off a slip's OCR lines; this module turns them into the answers
the intake stores. Every value goes through the parser of the question that would otherwise ask
for it, so a value the keyboard would refuse (a date in the future, a 13-digit reference) is
refused from the photo too, and simply asked later. Values no question asks for (the masked
card, the batch number, the authorization code) are checked with the receipt-key rules and kept
beside the answers, for the summary and for people tracing the payment.

The card number is kept to its first six and last four digits at most, whatever the reader gave.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flows.answers import InvalidAnswer, parse_receipt_key
from flows.facts import Method
from flows.questions import BY_FIELD, WantsFreeText, parse_answer
from flows.receipt import SlipFields
from flows.redaction import mask_card, redact

#: Questions a slip can answer, in the order the confirmation lists them.
SLIP_QUESTIONS: tuple[str, ...] = (
    "when",
    "amount",
    "method",
    "slip_type",
    "acquirer",
    "merchant_id",
    "terminal_id",
    "reference",
    "voucher",
)
#: Values no question asks for: shown, kept with the case, and removable before confirming.
SLIP_EXTRAS: tuple[str, ...] = ("card", "batch", "auth_code")
#: Everything a slip may fill, in display order.
SLIP_FIELDS: tuple[str, ...] = (*SLIP_QUESTIONS, *SLIP_EXTRAS)

_CARD = re.compile(r"[0-9][0-9*]{8,14}[0-9]{4}")
_CARD_SPACING = re.compile(r"[\s\-]+")


def _typed(field: str, text: str, now: datetime) -> Any:
    """As if the merchant had typed `text` in answer to the field's question."""
    return parse_answer(BY_FIELD[field], text, pressed=False, now=now)


def _pressed(field: str, choice: str, now: datetime) -> Any:
    """As if the merchant had pressed the button of `choice`."""
    return parse_answer(BY_FIELD[field], choice, pressed=True, now=now)


def _when(slip: SlipFields, now: datetime) -> Any:
    if slip.day is None:
        return None
    text = slip.day.isoformat()
    if slip.time is not None:
        text += f" {slip.time:%H:%M}"
    return _typed("when", text, now)


def _acquirer(slip: SlipFields, now: datetime) -> Any:
    if slip.acquirer is None or redact(slip.acquirer).changed:
        return None  # a name with a number the redaction rules catch is no name to keep
    return _typed("acquirer", slip.acquirer, now)


def _key(field: str, kind: str | None = None) -> Callable[[SlipFields, datetime], Any]:
    def read(slip: SlipFields, now: datetime) -> Any:
        value = getattr(slip, field)
        if value is None:
            return None
        return parse_receipt_key(kind, value) if kind else _typed(field, value, now)

    return read


def _amount(slip: SlipFields, now: datetime) -> Any:
    return None if slip.amount is None else _typed("amount", f"{slip.amount}", now)


def _method(slip: SlipFields, now: datetime) -> Any:
    """A card number on the slip means a bank card; UnionPay QR slips print none."""
    return _pressed("method", Method.CARD.value, now) if slip.card_masked else None


def _slip_type(slip: SlipFields, now: datetime) -> Any:
    return _pressed("slip_type", slip.trans_type, now) if slip.trans_type else None


def _card(slip: SlipFields, now: datetime) -> Any:
    """Masked again whatever the reader gave, so nothing longer is stored or shown by mistake."""
    compact = _CARD_SPACING.sub("", slip.card_masked or "")
    if not (13 <= len(compact) <= 19 and _CARD.fullmatch(compact)):
        return None
    return mask_card(compact)


_READERS: dict[str, Callable[[SlipFields, datetime], Any]] = {
    "when": _when,
    "amount": _amount,
    "method": _method,
    "slip_type": _slip_type,
    "acquirer": _acquirer,
    "merchant_id": _key("merchant_id"),
    "terminal_id": _key("terminal_id"),
    "reference": _key("reference"),
    "voucher": _key("voucher"),
    "card": _card,
    "batch": _key("batch", "batch"),
    "auth_code": _key("auth_code", "auth"),
}


def answers_from_slip(slip: SlipFields, now: datetime) -> dict[str, Any]:
    """The answers a slip gives, JSON-ready; a value that does not validate is left out."""
    answers: dict[str, Any] = {}
    for field in SLIP_FIELDS:
        try:
            value = _READERS[field](slip, now)
        except (InvalidAnswer, WantsFreeText, ValueError):
            continue
        if value is not None:
            answers[field] = value
    return answers


__all__ = [
    "SLIP_EXTRAS",
    "SLIP_FIELDS",
    "SLIP_QUESTIONS",
    "answers_from_slip",
]
