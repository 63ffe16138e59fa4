"""Keys given after a hand-off: the reference number (or another receipt key, or a wallet's
transaction number) the "passing you to a person" message asked for, read from what the
merchant types next or from a slip photo, through the same parsers as the questions."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.banks import DEFAULT_BANKS
from flows.handoff import keys_from_slip, keys_in_message
from flows.settlement_calendar import SHANGHAI, Cycle
from tests.flows.test_slip import SLIP

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=SHANGHAI)
CARD = {"method": "card", "amount": "5000.00"}
WALLET = {"method": "wechat", "amount": "88.00"}


def read(text: str, answers: dict[str, str]) -> dict[str, str]:
    return keys_in_message(text, answers, NOW, DEFAULT_BANKS, frozenset(Cycle))


@pytest.mark.parametrize(
    ("text", "answers", "keys"),
    [
        # The bare number the hand-off asked for is the whole message.
        ("312345678901", CARD, {"reference": "312345678901"}),
        ("3123 4567 8901", CARD, {"reference": "312345678901"}),
        ("312345678901", {}, {"reference": "312345678901"}),  # escalated before the method
        # Labelled keys, one or several, as a story reads them.
        ("参考号312345678901", CARD, {"reference": "312345678901"}),
        ("ref no 312345678901", CARD, {"reference": "312345678901"}),
        (
            "终端号12345678 参考号312345678901",
            CARD,
            {"reference": "312345678901", "terminal_id": "12345678"},
        ),
        ("凭证号000456", CARD, {"voucher": "000456"}),
        # A wallet's transaction number, bare or labelled.
        (
            "4200001234202612050123456789",
            WALLET,
            {"order_no": "4200001234202612050123456789"},
        ),
        (
            "交易单号：4200001234202612050123456789",
            WALLET,
            {"order_no": "4200001234202612050123456789"},
        ),
        # Nothing: words, an amount, a number of the wrong length, a wallet number for a card.
        ("好的，我找一下", CARD, {}),
        ("5000", CARD, {}),
        ("31234567890", CARD, {}),  # 11 digits
        ("3123456789012", CARD, {}),  # 13 digits
        ("THANKYOUVERYMUCH", WALLET, {}),  # letters only: no transaction number
        ("4200001234202612050123456789", CARD, {}),
        ("12345678", CARD, {}),  # a bare 8 digits could be anything: not guessed
    ],
)
def test_keys_in_a_message(text: str, answers: dict[str, str], keys: dict[str, str]) -> None:
    assert read(text, answers) == keys


def test_a_slip_gives_its_receipt_keys_only() -> None:
    assert keys_from_slip(SLIP, NOW) == {
        "reference": "312345678901",
        "terminal_id": "12345678",
        "merchant_id": "898310058120345",
        "voucher": "000456",
    }
    damaged = dataclasses.replace(SLIP, reference="31234")  # misread: refused, as asked
    assert "reference" not in keys_from_slip(damaged, NOW)


@given(st.text(max_size=200))
def test_never_raises_and_never_invents_digits(text: str) -> None:
    for answers in (CARD, WALLET, {}):
        for value in read(text, answers).values():
            said = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))
            assert re.sub(r"[^0-9]", "", value) in said
