"""What the merchant gives after a hand-off to people: the keys a trace needs.

The intake does not ask for the receipt keys (they change no advice, see
`flows.questions.TRACE_KEYS`), so the "passing you to a person" message asks for a photo of
the slip or the reference number (a wallet's transaction number). What the merchant then
types or photographs goes to people as a message, and its keys belong in the case, so that
support sees the case complete. They are read here with the same parsers as the questions:
a story's labelled keys (`参考号 3123…`, `终端号 …`), or the message being only the number
asked for. Precision first: a bare number is taken only where its length and the way of
paying say what it is (12 digits for a slip's reference number, a transaction number only for
a wallet payment); anything else is left to the people reading it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from flows.answers import InvalidAnswer, normalize_text, parse_receipt_key
from flows.banks import BankDirectory
from flows.facts import RECEIPT_METHODS, WALLET_METHODS
from flows.questions import BY_FIELD, TRACE_KEYS
from flows.receipt import SlipFields
from flows.settlement_calendar import Cycle
from flows.slip import answers_from_slip
from flows.story import read_story

#: The label a merchant may copy with a wallet's transaction number.
_ORDER_LABEL = re.compile(
    r"^(?:交易单号|交易号|订单号|商户单号|单号|transaction\s*(?:no\.?|number|id)|order\s*(?:no\.?|number))"
    r"\s*(?:是|为)?\s*[:：]?\s*",
    re.IGNORECASE,
)
RECEIPT_METHOD_VALUES = frozenset(method.value for method in RECEIPT_METHODS)
WALLET_METHOD_VALUES = frozenset(method.value for method in WALLET_METHODS)
#: A transaction number is mostly digits (WeChat Pay 28, Alipay 28-32): never a word.
_MIN_ORDER_DIGITS = 10


def keys_in_message(
    text: str,
    answers: Mapping[str, Any],
    now: datetime,
    banks: BankDirectory,
    cycles: Collection[Cycle],
) -> dict[str, str]:
    """The trace keys in `text`, as the questions would store them; empty when none."""
    story = read_story(text, now, banks, cycles)
    keys = {name: value for name, value in story.facts.items() if name in TRACE_KEYS}
    if keys:
        return keys
    method = answers.get("method")
    if method is None or method in RECEIPT_METHOD_VALUES:
        try:  # again, or a corrected number: the latest one is the answer
            return {"reference": parse_receipt_key("reference", text)}
        except InvalidAnswer:
            pass
    if method in WALLET_METHOD_VALUES:
        bare = _ORDER_LABEL.sub("", normalize_text(text))
        parse = BY_FIELD["order_no"].parse
        assert parse is not None
        try:
            value = parse(bare, now)
        except InvalidAnswer:
            return {}
        if sum(ch.isdigit() for ch in value) >= _MIN_ORDER_DIGITS:
            return {"order_no": value}
    return {}


def keys_from_slip(slip: SlipFields, now: datetime) -> dict[str, str]:
    """The receipt keys a photographed slip gives (each validated as the questions would)."""
    return {
        name: value for name, value in answers_from_slip(slip, now).items() if name in TRACE_KEYS
    }


__all__ = ["keys_from_slip", "keys_in_message"]
