"""Fields of a photographed POS sales slip (签购单): OCR text lines in, checked values out.

A merchant chasing an uncredited card payment usually has the slip, but not the patience to type
its dozen numbers one question at a time; a photo can answer every receipt-key question at once.
The OCR engine lives in an adapter. This module only reads the text lines it returns, top to
bottom, so the rules can be tested and fuzzed without images or an OCR library.

OCR damages slips in predictable ways, and those are repaired: full-width punctuation, labels
glued to their values, a value printed on the line under its label, two fields on one line,
O for 0 and l for 1 inside numbers, 0 for O in label words (NO., CODE, ORIG.), stray spaces.
Anything that still does not validate (a five-digit batch, an amount without cents, a date in the
future, two different readings of one field) is dropped rather than guessed: the bot can ask the
merchant for a missing field, but a wrong one would be sent on to the acquirer and send the search
for the payment astray.
"""

import datetime as dt
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from flows.answers import SHANGHAI, normalize_text
from flows.banks import BANKS
from flows.dates import FUTURE_TOLERANCE
from flows.receipt_labels import CARD, DATE, DATETIME, TIME, TOTAL, clean, find_labels
from flows.receipt_values import (
    AMOUNT_LINE,
    CARD_HINT,
    TRANS_LINE,
    Moment,
    read_amount,
    read_card,
    read_key,
    read_moment,
    read_text,
    read_trans_type,
)
from flows.story_words import ACQUIRERS

__all__ = ["TEXT_CONFIDENCE", "SlipFields", "extract_fields"]

_Key = TypeVar("_Key", bound=Hashable)


@dataclass(frozen=True)
class SlipFields:
    """What could be read off one slip; None means absent, unreadable or not trustworthy.

    The card number is only ever held masked, so a full PAN read off a photo cannot leak into
    storage, logs or a ticket through this object.
    """

    merchant_name: str | None = None
    merchant_id: str | None = None
    terminal_id: str | None = None
    acquirer: str | None = None
    issuer: str | None = None
    card_masked: str | None = None
    trans_type: str | None = None
    batch: str | None = None
    voucher: str | None = None
    auth_code: str | None = None
    reference: str | None = None
    day: date | None = None
    time: dt.time | None = None
    amount: Decimal | None = None

    def found(self) -> dict[str, Any]:
        """Only the fields read, JSON-ready, so callers can store or show them without care."""
        result: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None:
                continue
            if isinstance(value, date | dt.time):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            result[item.name] = value
        return result


# =================================================================================== reading


@dataclass
class _Reading:
    """Raw value texts by field key in slip order, and the lines that carried no label."""

    values: dict[str, list[str]] = field(default_factory=dict)
    unlabelled: list[str] = field(default_factory=list)
    #: Whether the OCR was sure of the line being read; unsure free text is not kept.
    sure: bool = True

    def add(self, key: str, value: str, sure: bool | None = None) -> None:
        """Keep `value` for `key`; `sure` is the value line's, when not the line being read."""
        if not value:
            return
        if (self.sure if sure is None else sure) or key not in _FREE_TEXT or _known_name(value):
            self.values.setdefault(key, []).append(value)

    def get(self, key: str) -> list[str]:
        return self.values.get(key, [])


# Any text is a valid name, and a stray "AUTH" a valid type, so validation cannot catch one of
# these taken from the wrong line.
_LOOSE_VALUES = frozenset({"merchant_name", "acquirer", "issuer", "trans_type"})
# Free text, read as printed: no format check notices 烘培坊 read for 烘焙坊.
_FREE_TEXT = frozenset({"merchant_name", "acquirer", "issuer"})
#: A name, acquirer or issuer is only taken from a line the OCR scored at least this sure (when
#: the caller gives scores): a blurred 烘焙坊 came back as 烘培坊 scored 0.96. Lines read right
#: score 0.90-1.00 (most above 0.97), so this trades some names asked again for names not
#: misread; `benchmarks/slip_accuracy.py` measures both. Numbers, dates and amounts are checked
#: by their format instead.
TEXT_CONFIDENCE = 0.97


def _folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


# Bank and acquirer names as the bot's directories know them: read exactly, one is as checked
# as a number of the right length, however unsure the OCR was of its line.
_KNOWN_NAMES = frozenset(
    _folded(name)
    for name in (
        *(alias for bank in BANKS for alias in (bank.name_zh, bank.name_en, *bank.aliases)),
        *(alias for name, aliases in ACQUIRERS for alias in (name, *aliases)),
    )
)


def _known_name(value: str) -> bool:
    """Exactly a known bank or acquirer name; with an institution code beside it, it is not,
    since the code's digits have no check."""
    return _folded(value) in _KNOWN_NAMES


def _read(lines: Iterable[str], sure: Iterable[bool]) -> _Reading:
    """Pair each label with its value: after it on the line, or on the next non-blank line.

    A line whose labels all lack values ("批次号 凭证号") hands them to the next line, which
    must then hold one value per label. A name or type taken from the line under its label is
    only kept if a labelled line follows: with two unlabelled lines under it (a logo, a smudge,
    a wrapped name) there is no telling which one is the value. Free text on a line the OCR
    was unsure of is left out (`TEXT_CONFIDENCE`).
    """
    reading = _Reading()
    pending: list[str] = []
    value_below: tuple[str, str, bool] | None = None
    for raw, line_sure in zip(lines, sure, strict=True):
        line = normalize_text(raw)
        if not line:
            continue  # a blank OCR line does not separate a label from its value
        labels = find_labels(line)
        reading.sure = line_sure
        if value_below is not None and labels:
            reading.add(*value_below)
        value_below = None
        leading = clean(line[: labels[0].start] if labels else line)
        if leading and pending:
            if len(pending) == 1 and pending[0] in _LOOSE_VALUES and not labels:
                value_below = (pending[0], leading, line_sure)
            elif len(pending) == 1:
                reading.add(pending[0], leading)
            else:
                tokens = leading.split()
                if len(tokens) == len(pending):
                    for key, token in zip(pending, tokens, strict=True):
                        reading.add(key, clean(token))
        pending = []
        if not labels:
            reading.unlabelled.append(line)
            continue
        for index, label in enumerate(labels):
            end = labels[index + 1].start if index + 1 < len(labels) else len(line)
            value = clean(line[label.end : end])
            if value:
                reading.add(label.field, value)
                pending = []
            else:
                pending.append(label.field)
    if value_below is not None:
        reading.add(*value_below)
    return reading


# ================================================================================ resolution


def _agree(candidates: Iterable[_Key | None]) -> _Key | None:
    """The value every readable candidate gives, or None when readings disagree."""
    distinct = list(dict.fromkeys(value for value in candidates if value is not None))
    return distinct[0] if len(distinct) == 1 else None


def _first_evidence(*sources: list[_Key | None]) -> _Key | None:
    """Labelled readings decide when there are any; weaker sources only fill a gap."""
    for source in sources:
        if any(value is not None for value in source):
            return _agree(source)
    return None


def _local(now: datetime) -> datetime:
    """Slips print Shanghai time; a naive `now` is taken to be Shanghai time as well."""
    if now.tzinfo is None or now.utcoffset() is None:
        return now.replace(tzinfo=SHANGHAI)
    return now.astimezone(SHANGHAI)


def _in_future(day: date, clock: dt.time | None, now: datetime) -> bool:
    local = _local(now)
    if day != local.date():
        return day > local.date()
    if clock is None:
        return False
    return datetime.combine(day, clock, tzinfo=SHANGHAI) > local + FUTURE_TOLERANCE


def _moments(reading: _Reading, now: datetime | None) -> Moment:
    labelled = [
        read_moment(value, kind) for kind in (DATETIME, DATE, TIME) for value in reading.get(kind)
    ]
    loose = [read_moment(line, "") for line in reading.unlabelled]
    labelled_ok = [moment for moment in labelled if moment is not None]
    loose_ok = [moment for moment in loose if moment is not None]
    day = _first_evidence([m[0] for m in labelled_ok], [m[0] for m in loose_ok])
    clock = _first_evidence([m[1] for m in labelled_ok], [m[1] for m in loose_ok])
    if day is not None and now is not None and _in_future(day, clock, now):
        # Something in the date or time was misread; which part cannot be told.
        return None, None
    return day, clock


def _amount(reading: _Reading) -> Decimal | None:
    """The total when printed (it includes any tip), else the amount, else an RMB line."""
    return _first_evidence(
        [read_amount(value) for value in reading.get(TOTAL)],
        [read_amount(value) for value in reading.get("amount")],
        [read_amount(line) for line in reading.unlabelled if AMOUNT_LINE.fullmatch(line)],
    )


def _card(reading: _Reading) -> str | None:
    return _first_evidence(
        [read_card(value) for value in reading.get(CARD)],
        [read_card(line) for line in reading.unlabelled if CARD_HINT.search(line)],
    )


def _trans_type(reading: _Reading) -> str | None:
    return _first_evidence(
        [read_trans_type(value) for value in reading.get("trans_type")],
        [read_trans_type(line) for line in reading.unlabelled if TRANS_LINE.fullmatch(line)],
    )


def extract_fields(
    lines: Sequence[str],
    *,
    now: datetime | None = None,
    confidences: Sequence[float] | None = None,
) -> SlipFields:
    """Read a slip's fields from its OCR lines, top to bottom.

    With `now`, a date or time later than now (beyond a few minutes of clock drift) is
    dropped, since a payment being complained about has already happened. With `confidences`
    (the OCR's score of each line), names are only read off lines scored `TEXT_CONFIDENCE`.
    """
    if confidences is None:
        sure = [True] * len(lines)
    elif len(confidences) != len(lines):
        raise ValueError("one confidence per line")
    else:
        sure = [score >= TEXT_CONFIDENCE for score in confidences]
    reading = _read(lines, sure)

    def key(slip_field: str) -> str | None:
        return _agree(read_key(slip_field, value) for value in reading.get(slip_field))

    def text(slip_field: str) -> str | None:
        return _agree(read_text(value) for value in reading.get(slip_field))

    day, clock = _moments(reading, now)
    return SlipFields(
        merchant_name=text("merchant_name"),
        merchant_id=key("merchant_id"),
        terminal_id=key("terminal_id"),
        acquirer=text("acquirer"),
        issuer=text("issuer"),
        card_masked=_card(reading),
        trans_type=_trans_type(reading),
        batch=key("batch"),
        voucher=key("voucher"),
        auth_code=key("auth_code"),
        reference=key("reference"),
        day=day,
        time=clock,
        amount=_amount(reading),
    )
