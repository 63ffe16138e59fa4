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
import re
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from flows.answers import (
    FUTURE_TOLERANCE,
    SHANGHAI,
    InvalidAnswer,
    normalize_text,
    parse_amount,
    parse_receipt_key,
)
from flows.banks import BANKS
from flows.redaction import mask_card
from flows.story_words import ACQUIRERS

__all__ = ["TEXT_CONFIDENCE", "SlipFields", "extract_fields"]

# No slip this bot will ever see predates card terminals in mainland shops; a 19xx year is a
# misread 20xx.
_MIN_YEAR = 2000

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


# ==================================================================================== labels

# Field keys used while reading; the ones not in SlipFields name labels whose values are
# recognised only so that they are not mistaken for another field's value.
_DATE, _TIME, _DATETIME, _TOTAL, _CARD, _IGNORED = "date", "time", "datetime", "total", "card", "-"

_NO = r"(?:N[O0]\.?|NUM(?:BER)?\.?|#)"
_CODE = r"C[O0]DE"  # "AUTH C0DE": OCR reads the label's O as a zero too
# A short Chinese label such as 时间 also occurs inside names ("时间咖啡馆"); it only counts
# as a label when what follows looks like a separator or the start of a value.
_CN_WEAK = r"(?=$|[\s:;(\[/0-9¥$.\-OolI|RrCc人])"


def _cn(pattern: str, *, weak: bool = False) -> str:
    return pattern + (_CN_WEAK if weak else "")


def _en(pattern: str, *, left: str = "", right: str = "") -> str:
    """English labels ignore case; `left`/`right` are the characters that may not touch them.

    Multi-word labels ("REF. NO.") are distinctive enough to be found glued to anything. Bare
    words ("BATCH") must not touch letters, and acronyms ("RRN") not even digits, because an
    auth code or id can contain them.
    """
    before = f"(?<![{left}])" if left else ""
    after = f"(?![{right}])" if right else ""
    return f"{before}(?i:{pattern}){after}"


_WORD = {"left": "A-Za-z0-9", "right": "A-Za-z"}
_ACRONYM = {"left": "A-Za-z0-9", "right": "A-Za-z0-9"}

# Tried in this order at each position; where two fields' labels start alike ("日期/时间" and
# "日期", "REFERENCE NO." and the remarks heading "REFERENCE") the longer one comes first.
_LABEL_SPECS: tuple[tuple[str, str], ...] = (
    ("merchant_name", _cn(r"(?:特约)?商户名称?")),
    ("merchant_name", _en(r"MERCHANT\s*NAME")),
    ("merchant_name", _en(r"MER(?:CH)?\.?\s*NAME", left="A-Za-z")),
    ("merchant_id", _cn(r"(?:特约)?商户(?:编号|号码?|代码|代号)")),
    ("merchant_id", _en(rf"MERCHANT\s*(?:{_NO}|ID|{_CODE})")),
    ("merchant_id", _en(rf"MER(?:CH)?\.?\s*(?:{_NO}|ID)", left="A-Za-z")),
    ("merchant_id", _en(r"MID", **_ACRONYM)),
    ("terminal_id", _cn(r"终端(?:编号|号码?|代码|ID)")),
    ("terminal_id", _en(rf"TERM(?:INAL)?\.?\s*(?:{_NO}|ID)")),
    ("terminal_id", _en(r"TERMINAL", **_WORD)),
    ("terminal_id", _en(r"TID", **_ACRONYM)),
    ("acquirer", _cn(r"收单(?:机构|银行|行|方)(?:名称)?")),
    ("acquirer", _en(r"ACQUIRING\s*BANK|ACQUIRER", left="A-Za-z0-9")),
    ("acquirer", _en(r"ACQ\.?", **_ACRONYM)),
    ("issuer", _cn(r"发卡(?:机构|银行|行|方)(?:名称)?")),
    ("issuer", _en(r"ISSUING\s*BANK|ISSUER", left="A-Za-z0-9")),
    ("issuer", _en(r"ISS\.?", **_ACRONYM)),
    (_CARD, _cn(r"(?:银行)?卡号码?")),
    (_CARD, _en(rf"CARD\s*{_NO}")),
    ("trans_type", _cn(r"交易(?:类型|类别|种类|名称)")),
    ("trans_type", _en(r"(?:TRANS(?:ACTION)?|TXN)\.?\s*TYPE")),
    ("batch", _cn(r"批次号码?") + "|" + _cn("批次", weak=True)),
    ("batch", _en(rf"BATCH\s*{_NO}")),
    ("batch", _en(r"BATCH", **_WORD)),
    ("voucher", _cn(r"凭证(?:号码?|编号)|(?:终端|POS|交易)?流水号") + "|" + _cn("凭证", weak=True)),
    ("voucher", _en(rf"(?:VOUCHER|TRACE)\s*{_NO}")),
    ("voucher", _en(r"VOUCHER|TRACE", **_WORD)),
    ("voucher", _en(r"STAN", **_ACRONYM)),
    ("auth_code", _cn(r"授权(?:码|号码?)")),
    ("auth_code", _en(rf"AUTH(?:ORI[SZ]ATION)?\.?\s*(?:{_NO}|{_CODE})")),
    ("auth_code", _en(rf"APP(?:R(?:OVAL)?)?\.?\s*(?:{_CODE}|{_NO})")),
    ("reference", _cn(r"(?:系统|检索|交易)?参考号码?")),
    ("reference", _en(rf"REF(?:ER(?:ENCE)?)?\.?\s*{_NO}")),
    ("reference", _en(r"RRN", **_ACRONYM)),
    (_DATETIME, _cn(r"(?:交易)?日期\s*/?\s*时间")),
    (_DATETIME, _en(r"DATE\s*(?:/|&|AND)?\s*TIME", left="A-Za-z", right="A-Za-z")),
    (_DATE, _cn("交易日期") + "|" + _cn("日期", weak=True)),
    (_DATE, _en(r"(?:TRANS\.?\s*)?DATE", left="A-Za-z", right="A-Za-z")),
    (_TIME, _cn("交易时间") + "|" + _cn("时间", weak=True)),
    (_TIME, _en(r"(?:TRANS\.?\s*)?TIME", left="A-Za-z", right="A-Za-z")),
    ("amount", _cn(r"(?:交易|消费)金额") + "|" + _cn("金额", weak=True)),
    # "AMOUNTRMB1280.50": the currency glued after the label is still a label boundary.
    ("amount", _en(r"AMOUNT|AMT", left="A-Za-z0-9") + r"(?:(?![A-Za-z])|(?=(?i:RMB|CNY)))"),
    (_TOTAL, _cn(r"总金额|总计|合计", weak=True)),
    (_TOTAL, _en(r"TOTAL", left="A-Za-z0-9") + r"(?:(?![A-Za-z])|(?=(?i:RMB|CNY|AMOUNT)))"),
    # Printed on slips but not wanted; recognised so their values are not read as another's.
    (_IGNORED, _cn(r"卡?有效期|操作员号?|卡(?:类型|类别|种类?)|余额|小费|备注|持卡人签名|签名")),
    (_IGNORED, _cn(r"(?:商户|持卡人|银行)存根")),
    (_IGNORED, _en(r"EXP(?:IRY|IRATION)?\.?\s*DATE|VALID\s*THRU|CARD\s*TYPE")),
    (_IGNORED, _en(rf"OPER(?:ATOR)?\.?\s*(?:{_NO}|ID)|CARDHOLDER\s*SIGNATURE")),
    (_IGNORED, _en(r"OPERATOR|BALANCE|TIPS?|REMARKS?|REFERENCE|SIGNATURE", **_WORD)),
    (_IGNORED, _en(r"EXP\.?", **_ACRONYM)),
)

# "原凭证号", "ORIG. REF. NO.": a void or refund reprints the original transaction's keys,
# which must not be taken for the keys of the slip itself.
_ORIGINAL = r"(?P<orig>原(?:交易)?|(?i:[O0]RIG(?:INAL)?|[O0]RG)\.?\s*)?"
_LABEL = re.compile(
    _ORIGINAL
    + "(?:"
    + "|".join(f"(?P<l{index}>{pattern})" for index, (_, pattern) in enumerate(_LABEL_SPECS))
    + ")"
)
# Between the two halves of a bilingual label: "商户编号(MERCHANT NO.)".
_LABEL_GAP = re.compile(r"[\s()\[\]/:;]*")
_VALUE_LEAD = " :;,=)]}/."
_VALUE_TRAIL = " :;,=([{/"


@dataclass(frozen=True)
class _Label:
    field: str
    start: int
    end: int
    original: bool


# Keys a slip reprints for the original transaction (原参考号, 原流水号).
_REPRINTED_KEYS = frozenset({"reference", "voucher"})


def _misread_prefix(line: str, start: int, spec_field: str) -> bool:
    """An unknown Chinese character glued before a key's label: 原 misread ("照参考号").

    The prefixes a key's own label has (检索, 系统, 终端...) are part of the label's pattern,
    so what is left in front can only be a prefix the OCR garbled, most likely the 原 of the
    original transaction's key: the label is ignored rather than taken for the slip's own.
    """
    if spec_field not in _REPRINTED_KEYS or start == 0:
        return False
    return "\u4e00" <= line[start - 1] <= "\u9fff"


def _find_labels(line: str) -> list[_Label]:
    found: list[_Label] = []
    for match in _LABEL.finditer(line):
        group = match.lastgroup  # the label alternative, "l<index>"; "orig" never closes last
        if group is None:
            continue
        spec_field = _LABEL_SPECS[int(group[1:])][0]
        original = match["orig"] is not None or _misread_prefix(line, match.start(), spec_field)
        label = _Label(_IGNORED if original else spec_field, match.start(), match.end(), original)
        if found:
            previous = found[-1]
            adjacent = _LABEL_GAP.fullmatch(line, previous.end, label.start) is not None
            if adjacent and (previous.field == label.field or previous.original):
                found[-1] = _Label(previous.field, previous.start, label.end, previous.original)
                continue
        found.append(label)
    return found


def _clean(value: str) -> str:
    return value.lstrip(_VALUE_LEAD).rstrip(_VALUE_TRAIL)


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
        labels = _find_labels(line)
        reading.sure = line_sure
        if value_below is not None and labels:
            reading.add(*value_below)
        value_below = None
        leading = _clean(line[: labels[0].start] if labels else line)
        if leading and pending:
            if len(pending) == 1 and pending[0] in _LOOSE_VALUES and not labels:
                value_below = (pending[0], leading, line_sure)
            elif len(pending) == 1:
                reading.add(pending[0], leading)
            else:
                tokens = leading.split()
                if len(tokens) == len(pending):
                    for key, token in zip(pending, tokens, strict=True):
                        reading.add(key, _clean(token))
        pending = []
        if not labels:
            reading.unlabelled.append(line)
            continue
        for index, label in enumerate(labels):
            end = labels[index + 1].start if index + 1 < len(labels) else len(line)
            value = _clean(line[label.end : end])
            if value:
                reading.add(label.field, value)
                pending = []
            else:
                pending.append(label.field)
    if value_below is not None:
        reading.add(*value_below)
    return reading


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


def _read_key(slip_field: str, value: str) -> str | None:
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
_AMOUNT_LINE = re.compile(r"[-−]?\s*(?:(?i:RMB|CNY)|¥|人民币)\s*[-−]?[0-9OolI|gSB.,\s]+元?")
_SEPARATOR = re.compile(r"[.,]")


def _read_amount(value: str) -> Decimal | None:
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
_CARD_HINT = re.compile(r"[*xX#•·※]|\s*[/\\(]\s*(?:S|I|C|M|F|Q|W|E|IC|NFC)\s*\)?$")


def _read_card(value: str) -> str | None:
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


def _read_text(value: str) -> str | None:
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
_TRANS_LINE = re.compile(
    r"(?:消费|撤销|撤消|退货|退款|预授权|完成|请求|SALE|PURCHASE|VOID|REFUND|PRE|AUTH"
    r"|COMPLETE|COMPLETION|COMP|[\s()\[\]/\-:.])+",
    re.IGNORECASE,
)


def _read_trans_type(value: str) -> str | None:
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
    _DATE: (_SEPARATED_MOMENT, _COMPACT_MOMENT),
    _DATETIME: (_SEPARATED_MOMENT, _COMPACT_MOMENT, _CLOCK_ONLY),
    _TIME: (_SEPARATED_MOMENT, _CLOCK_ONLY, _COMPACT_CLOCK_ONLY),
    "": (_SEPARATED_MOMENT,),  # an unlabelled line must hold a full date
}

_Moment = tuple[date | None, dt.time | None]


def _group(match: re.Match[str], *names: str) -> int | None:
    for name in names:
        if name in match.re.groupindex and match[name] is not None:
            return int(match[name])
    return None


def _moment_from(match: re.Match[str]) -> _Moment | None:
    """None when the reading is impossible, so a bad date also discards the time beside it."""
    day: date | None = None
    clock: dt.time | None = None
    year = _group(match, "y")
    try:
        if year is not None:
            if year < _MIN_YEAR:
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


def _read_moment(value: str, kind: str) -> _Moment | None:
    """A date and/or time filling the whole value; OCR spaces are tried as printed, then gone."""
    for spaced in (" ".join(value.split()), "".join(value.split())):
        candidate = " ".join(_repair_moment_token(token) for token in spaced.split())
        for form in _MOMENT_FORMS[kind]:
            match = form.fullmatch(candidate)
            if match is not None:
                return _moment_from(match)
    return None


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


def _moments(reading: _Reading, now: datetime | None) -> _Moment:
    labelled = [
        _read_moment(value, kind)
        for kind in (_DATETIME, _DATE, _TIME)
        for value in reading.get(kind)
    ]
    loose = [_read_moment(line, "") for line in reading.unlabelled]
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
        [_read_amount(value) for value in reading.get(_TOTAL)],
        [_read_amount(value) for value in reading.get("amount")],
        [_read_amount(line) for line in reading.unlabelled if _AMOUNT_LINE.fullmatch(line)],
    )


def _card(reading: _Reading) -> str | None:
    return _first_evidence(
        [_read_card(value) for value in reading.get(_CARD)],
        [_read_card(line) for line in reading.unlabelled if _CARD_HINT.search(line)],
    )


def _trans_type(reading: _Reading) -> str | None:
    return _first_evidence(
        [_read_trans_type(value) for value in reading.get("trans_type")],
        [_read_trans_type(line) for line in reading.unlabelled if _TRANS_LINE.fullmatch(line)],
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
        return _agree(_read_key(slip_field, value) for value in reading.get(slip_field))

    def text(slip_field: str) -> str | None:
        return _agree(_read_text(value) for value in reading.get(slip_field))

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
