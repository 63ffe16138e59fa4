"""Reading one value of a slip as OCR returns it: digit look-alikes repaired, receipt keys, the
amount, the masked card, free-text names, the transaction type and the moment, each refused
rather than guessed when it does not validate."""

import datetime as dt
import re
import unicodedata
from datetime import date
from decimal import Decimal

from flows.amounts import parse_amount
from flows.answers import InvalidAnswer, parse_receipt_key
from flows.receipt_labels import DATE, DATETIME, TIME
from flows.redaction import mask_card

# No slip this bot will ever see predates card terminals in mainland shops; a 19xx year is a
# misread 20xx.
MIN_YEAR = 2000


# ============================================================================= digit repair

_LOOKALIKE_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "g": "9"})
# S and B are letters too often to be read as 5 and 8 unless nothing else in the token is.
_LOOKALIKE_IF_DIGITS = str.maketrans({"S": "5", "B": "8"})
_LOWERCASE_LOOKALIKES = re.compile(r"[olg|]")


def _repair_digits(token: str, allowed: str = "") -> str | None:
    """The token as digits (plus `allowed` punctuation) if look-alike letters explain it."""
    fixed = token.translate(_LOOKALIKE_DIGITS)
    pattern = re.compile(f"[0-9{re.escape(allowed)}]+")
    rest = fixed.replace("S", "").replace("B", "")
    if rest != fixed and rest and any(char.isdigit() for char in rest) and pattern.fullmatch(rest):
        fixed = fixed.translate(_LOOKALIKE_IF_DIGITS)
    return fixed if pattern.fullmatch(fixed) else None


_DIGIT_ONLY_KEYS = {"reference": "reference", "voucher": "voucher", "batch": "batch"}
_MIXED_KEYS = {"merchant_id": "merchant", "terminal_id": "terminal"}
_KEY_SPACING = re.compile(r"[\s\-]+")


def _valid_key(kind: str, text: str) -> str | None:
    try:
        return parse_receipt_key(kind, text)
    except InvalidAnswer:
        return None


def read_key(slip_field: str, value: str) -> str | None:
    """A receipt key, repaired only where the repair cannot be a guess.

    Reference, voucher and batch are all digits, so look-alike letters are digits. Merchant and
    terminal ids may carry letters, but in practice are numeric: a token that becomes all
    digits is read as digits, one with clear letters (A, C, K...) is kept as printed, and one
    with a lowercase look-alike beside real letters is dropped, as slips print capitals. An auth
    code is often alphanumeric, so O or 0 cannot be told apart and such a code is dropped.
    """
    compact = _KEY_SPACING.sub("", value)
    if slip_field in _DIGIT_ONLY_KEYS:
        digits = _repair_digits(compact)
        return None if digits is None else _valid_key(_DIGIT_ONLY_KEYS[slip_field], digits)
    if slip_field in _MIXED_KEYS:
        digits = _repair_digits(compact)
        if digits is not None:
            return _valid_key(_MIXED_KEYS[slip_field], digits)
        if _LOWERCASE_LOOKALIKES.search(compact):
            return None
        return _valid_key(_MIXED_KEYS[slip_field], compact)
    # auth code
    if _LOWERCASE_LOOKALIKES.search(compact):
        return None
    digits = _repair_digits(compact)
    if digits is not None and digits != compact:
        return None
    return _valid_key("auth", compact)


# ==================================================================================== amount

_CURRENCY = re.compile(r"(?i:RMB|CNY|YUAN)|¥|人民币|元")
_MINUS = re.compile(r"^[-−]|[-−]$")
AMOUNT_LINE = re.compile(r"[-−]?\s*(?:(?i:RMB|CNY)|¥|人民币)\s*[-−]?[0-9OolI|gSB.,\s]+元?")
_SEPARATOR = re.compile(r"[.,]")


def read_amount(value: str) -> Decimal | None:
    """An amount as slips print it: always with two decimals, thousands grouped by three.

    Because the cents are always printed, the last separator is the decimal point whether OCR
    read it as "." or ",", and earlier ones ("1.280.50") are thousands separators. A value
    without cents is refused: "128050" may well be 1,280.50 with the point lost. A void or
    refund prints a minus; the amount is the sum moved, the direction is in trans_type.
    """
    text = _MINUS.sub("", "".join(_CURRENCY.sub("", value).split()))
    digits = _repair_digits(text, allowed=".,")
    if digits is None:
        return None
    parts = _SEPARATOR.split(digits)
    if len(parts) < 2 or len(parts[-1]) != 2 or not all(parts):
        return None
    head, *groups = parts[:-1]
    if groups and (len(head) > 3 or any(len(group) != 3 for group in groups)):
        return None
    try:
        return parse_amount(f"{head}{''.join(groups)}.{parts[-1]}")
    except InvalidAnswer:
        return None


# ====================================================================================== card

_CARD_MODE = re.compile(
    r"(?P<pan>.*?)(?:(?:\s*[/\\(]\s*|\s+)(?:S|I|C|M|F|Q|W|E|IC|NFC)|\s*[/\\(]\s*[5l1|])\s*\)?"
)
_CARD_MASKS = str.maketrans({"x": "*", "X": "*", "#": "*", "•": "*", "·": "*", "※": "*"})
_CARD_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})
_PAN = re.compile(r"[0-9][0-9*]{8,14}[0-9*]{0,4}[0-9]{4}")
CARD_HINT = re.compile(r"[*xX#•·※]|\s*[/\\(]\s*(?:S|I|C|M|F|Q|W|E|IC|NFC)\s*\)?$")


def read_card(value: str) -> str | None:
    """A card number, masked to at most its first six and last four digits.

    The swipe/insert/tap marker ("/S", "(C)") must be set off by a space, slash or bracket: a
    letter glued to the last digit ("…1234S") could as well be a misread 5 and is refused.
    After a slash or bracket, which a card number never holds, "/5" and "/1" are the markers
    /S and /I misread.
    """
    mode = _CARD_MODE.fullmatch(value)
    pan = mode["pan"] if mode else value
    pan = _KEY_SPACING.sub("", pan).translate(_CARD_MASKS)
    if not pan[-1:].isdigit():
        return None
    pan = pan.translate(_CARD_DIGITS)
    if not (13 <= len(pan) <= 19 and _PAN.fullmatch(pan)):
        return None
    if "*" in pan and len(pan) - pan.rindex("*") - 1 != 4:
        # A masked card shows its last four: "******12345" has a marker (S read as 5) glued on.
        return None
    return mask_card(pan)


# A full card number inside free text (a name read from the wrong line) is masked as well.
_PAN_IN_TEXT = re.compile(
    r"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,3})?)(?![0-9])"
)


def _scrub_card_numbers(text: str) -> str:
    return _PAN_IN_TEXT.sub(lambda match: mask_card(match.group()), text)


# ================================================================================= free text

_CODE_TOKEN = re.compile(r"[0-9OolI|g]{4,}")


def _fix_code(word: str) -> str:
    """A code token ("4848OOOO") with two real digits is a number; words stay as printed."""
    if not _CODE_TOKEN.fullmatch(word) or sum(char.isdigit() for char in word) < 2:
        return word
    return _repair_digits(word) or word


_BRACKETS = {")": "(", "]": "[", "）": "（", "】": "【", "」": "「"}


def _is_edge_noise(char: str, text: str) -> bool:
    """Punctuation, symbols ("■", "*") and spaces at a name's ends are smudges or separators.

    A closing bracket stays when its opener is in the name: "鑫源便利店(朝阳店)".
    """
    if char in _BRACKETS and _BRACKETS[char] in text:
        return False
    return char.isspace() or unicodedata.category(char)[0] in "PS"


def read_text(value: str) -> str | None:
    """A name as printed, with code tokens repaired and any full card number masked."""
    text = _scrub_card_numbers(" ".join(_fix_code(word) for word in value.split()))
    start, end = 0, len(text)
    while start < end and _is_edge_noise(text[start], text):
        start += 1
    while end > start and _is_edge_noise(text[end - 1], text):
        end -= 1
    text = text[start:end]
    return text if any(char.isalnum() for char in text) else None


# ================================================================================ trans type

_VOID = re.compile(r"撤销|撤消|VOID|CANCEL")
_REFUND = re.compile(r"退货|退款|REFUND|RETURN")
_PREAUTH_COMPLETE = re.compile(r"预授权完成|AUTH(?:ORI[SZ]ATION)?COMP|COMPLETION")
_PREAUTH = re.compile(r"预授权|AUTH")
_SALE = re.compile(r"消费|SALE|PURCHASE")
_TRANS_PATTERNS = (
    ("void", _VOID),
    ("refund", _REFUND),
    ("preauth_complete", _PREAUTH_COMPLETE),
    ("preauth", _PREAUTH),
    ("sale", _SALE),
)
# A line holding nothing but a transaction type, as many slips print it without a label.
TRANS_LINE = re.compile(
    r"(?:消费|撤销|撤消|退货|退款|预授权|完成|请求|SALE|PURCHASE|VOID|REFUND|PRE|AUTH"
    r"|COMPLETE|COMPLETION|COMP|[\s()\[\]/\-:.])+",
    re.IGNORECASE,
)


def read_trans_type(value: str) -> str | None:
    """Most specific first: "预授权完成撤销" is a void; "预授权完成" is no pre-auth."""
    text = "".join(value.split()).upper()
    for name, pattern in _TRANS_PATTERNS:
        if pattern.search(text):
            return name
    return None


# =================================================================================== moments

_Y = r"(?P<y>(?:19|20)[0-9]{2})"
_CLOCK = r"(?P<h>[0-9]{1,2})\s*[:时]\s*(?P<mi>[0-9]{2})(?:\s*[:分]\s*(?P<s>[0-9]{2}))?\s*[秒分]?"
_COMPACT_CLOCK = r"(?P<ch>[0-9]{2})(?P<cmi>[0-9]{2})(?P<cs>[0-9]{2})?"
# Glued "2026/11/2415:32:08" is only split when day and hour both have two digits; otherwise
# "2026/11/219:32" could be the 21st at 9:32 or the 2nd at 19:32. After 日 the day has ended,
# so "2026年06月11日01:58:09" (OCR drops the space) splits there.
_GLUED = r"(?:\s+|(?<=[0-9]{2})(?=[0-9]{2}[:时])|(?<=日))"
_SEPARATED_MOMENT = re.compile(
    rf"{_Y}\s*[-/.年]\s*(?P<mo>[0-9]{{1,2}})\s*[-/.月]\s*(?P<d>[0-9]{{1,2}})\s*日?"
    rf"(?:{_GLUED}{_CLOCK})?"
)
_COMPACT_MOMENT = re.compile(
    rf"{_Y}(?P<mo>[0-9]{{2}})(?P<d>[0-9]{{2}})(?:\s*{_COMPACT_CLOCK}|(?:\s+|(?=[0-9]{{2}}:)){_CLOCK})?"
)
_CLOCK_ONLY = re.compile(_CLOCK)
_COMPACT_CLOCK_ONLY = re.compile(_COMPACT_CLOCK)

# Which printed forms each label may carry. A bare "1124" under DATE is a month and day
# without a year, not 11:24, so compact clocks are only read under a TIME label.
_MOMENT_FORMS: dict[str, tuple[re.Pattern[str], ...]] = {
    DATE: (_SEPARATED_MOMENT, _COMPACT_MOMENT),
    DATETIME: (_SEPARATED_MOMENT, _COMPACT_MOMENT, _CLOCK_ONLY),
    TIME: (_SEPARATED_MOMENT, _CLOCK_ONLY, _COMPACT_CLOCK_ONLY),
    "": (_SEPARATED_MOMENT,),  # an unlabelled line must hold a full date
}

Moment = tuple[date | None, dt.time | None]


def _group(match: re.Match[str], *names: str) -> int | None:
    for name in names:
        if name in match.re.groupindex and match[name] is not None:
            return int(match[name])
    return None


def _moment_from(match: re.Match[str]) -> Moment | None:
    """None when the reading is impossible, so a bad date also discards the time beside it."""
    day: date | None = None
    clock: dt.time | None = None
    year = _group(match, "y")
    try:
        if year is not None:
            if year < MIN_YEAR:
                return None
            day = date(year, int(match["mo"]), int(match["d"]))
        hour = _group(match, "h", "ch")
        if hour is not None:
            minute = _group(match, "mi", "cmi") or 0
            clock = dt.time(hour, minute, _group(match, "s", "cs") or 0)
    except ValueError:
        return None
    return day, clock


_MOMENT_TOKEN = re.compile(r"[0-9/.:\-年月日时分秒]*[0-9][0-9/.:\-年月日时分秒]*")


def _repair_moment_token(token: str) -> str:
    fixed = token.translate(_LOOKALIKE_DIGITS)
    rest = fixed.replace("S", "").replace("B", "")
    if rest != fixed and _MOMENT_TOKEN.fullmatch(rest):
        return fixed.translate(_LOOKALIKE_IF_DIGITS)
    return fixed


def read_moment(value: str, kind: str) -> Moment | None:
    """A date and/or time filling the whole value; OCR spaces are tried as printed, then gone."""
    for spaced in (" ".join(value.split()), "".join(value.split())):
        candidate = " ".join(_repair_moment_token(token) for token in spaced.split())
        for form in _MOMENT_FORMS[kind]:
            match = form.fullmatch(candidate)
            if match is not None:
                return _moment_from(match)
    return None
