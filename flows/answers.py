"""What every answer parser shares, and the receipt keys' parser.

Merchants answer in whatever form comes to hand: full-width digits from a Chinese IME,
"昨天下午三点", "1，280元", a reference number copied with spaces. Each parser accepts the forms
people actually use and refuses to guess when an answer could mean two different things, because
a wrong date or amount sent on to the acquirer costs more than asking the merchant again. The
parsers are split by what they read: dates and times (`flows.dates`, its rules in
`flows.date_rules`), amounts (`flows.amounts`), and the receipt's keys (here).

Everything here is pure stdlib so the rules can be tested exhaustively and fuzzed.
"""

import re
import unicodedata
from zoneinfo import ZoneInfo

__all__ = [
    "CN_DIGIT_VALUES",
    "RECEIPT_KEY_LENGTHS",
    "SHANGHAI",
    "InvalidAnswer",
    "normalize_text",
    "parse_receipt_key",
    "unrecognised",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")


class InvalidAnswer(ValueError):
    """Raised with a short machine-readable reason code; templates turn codes into words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def unrecognised() -> InvalidAnswer:
    return InvalidAnswer("unrecognised")


def normalize_text(text: str) -> str:
    """Fold IME output (full-width digits and colons, ideographic spaces) into plain ASCII.

    Parsers downstream then only need to know one spelling of each character.
    """
    return " ".join(unicodedata.normalize("NFKC", text).split())


CN_DIGIT_VALUES = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


# ============================================================== parse_receipt_key

# Field widths printed on a 签购单 (POS sales slip).
RECEIPT_KEY_LENGTHS: dict[str, int] = {
    "reference": 12,  # 参考号
    "terminal": 8,  # 终端编号
    "merchant": 15,  # 商户编号
    "voucher": 6,  # 凭证号 / 流水号
    "batch": 6,  # 批次号
    "auth": 6,  # 授权码
}

_DIGIT_ONLY_KINDS = frozenset({"reference", "voucher", "batch"})
_KEY_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−]+")
_DIGITS_ONLY = re.compile(r"[0-9]*")
_DIGITS_AND_LETTERS = re.compile(r"[0-9A-Za-z]*")


def parse_receipt_key(kind: str, text: str) -> str:
    """Read a key copied off the receipt; merchants group digits with spaces or dashes."""
    try:
        length = RECEIPT_KEY_LENGTHS[kind]
    except KeyError:
        raise ValueError(f"unknown receipt key kind: {kind!r}") from None
    key = _KEY_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    # Checked before upper-casing so "ß" or "ı" cannot turn into ASCII letters.
    allowed = _DIGITS_ONLY if kind in _DIGIT_ONLY_KINDS else _DIGITS_AND_LETTERS
    if not allowed.fullmatch(key):
        raise InvalidAnswer("bad_characters")
    if len(key) != length:
        raise InvalidAnswer("wrong_length")
    return key.upper()
