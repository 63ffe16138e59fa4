"""The forms secrets are written in, folded into one: the detection copy of a text (NFKC, ASCII
digits, traditional label characters as simplified, spaced Chinese and spoken numerals read
digit by digit) with the map that leads every position back to the original."""

from __future__ import annotations

import re
import unicodedata

from flows.redaction_patterns import ANY_DIGIT

# ============================================================================= folding

# Dashes beyond "-" (Unicode category Pd covers the rest); merchants paste them from documents.
_DASHES = frozenset("\u2212\u2043")
# Characters that would otherwise split a digit run without being visible: format characters
# (zero-width space, bidi marks, soft hyphen), combining and enclosing marks (keycap "1️⃣"),
# and tabs. They become plain spaces, i.e. separators between digit groups.
_BLANK_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
# Traditional forms of the characters in the labels below (密碼 驗證碼 卡號 帳戶 身份證 ...),
# and of the link words around them, as their simplified forms: the labels are written once.
_SIMPLIFIED = dict(
    zip(
        "碼號證驗賬帳戶終參憑權檢結銀動態機電話簡訊過數編們這為應該個錯誤張後",
        "码号证验账帐户终参凭权检结银动态机电话简讯过数编们这为应该个错误张后",
        strict=True,
    )
)
# Middle dots merchants put between digit groups (6222·0214·...), as one separator.
_DOTS = frozenset("\u00b7\u2022\u2027\u2219\u30fb\uff65")
# Stands for "this character expands to several, some of them digits": needs the slow path.
_EXPANDS = 0xFFFF
_CACHE_LIMIT = 20_000


def _fold_char(char: str) -> str:
    """The detection form of one character: NFKC, ASCII digits, lower-case ASCII letters, '-'
    for dashes, ' ' for invisible separators and marks."""
    out = []
    for c in unicodedata.normalize("NFKC", char):
        category = unicodedata.category(c)
        if category == "Pd" or c in _DASHES:
            out.append("-")
        elif c == "\t" or category in _BLANK_CATEGORIES:
            out.append(" ")
        elif "A" <= c <= "Z":
            out.append(c.lower())
        elif c.isdecimal() and not c.isascii():
            out.append(str(unicodedata.decimal(c)))
        elif c in _SIMPLIFIED:
            out.append(_SIMPLIFIED[c])
        elif c in _DOTS:
            out.append("·")
        else:
            out.append(c)
    return "".join(out) or char


class _FoldTable(dict[int, int]):
    """A `str.translate` table filled lazily, so folding is one C-level pass over the text.

    Only one-to-one foldings go in; a character whose NFKC form is several characters including
    a digit (①⑴㏠...) maps to a marker that sends the text down the slow, length-changing path.
    The cache is bounded so hostile input cannot grow it without limit.
    """

    def __missing__(self, key: int) -> int:
        folded = _fold_char(chr(key))
        if len(folded) == 1:
            value = ord(folded)
        elif any("0" <= c <= "9" for c in folded):
            value = _EXPANDS
        else:
            value = key
        if len(self) < _CACHE_LIMIT:
            self[key] = value
        return value


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> tuple[str, list[int] | None]:
    """The detection copy of `text` and, if lengths differ, each folded char's source index."""
    folded = text.translate(_FOLD_TABLE)
    if chr(_EXPANDS) not in folded:
        return folded, None
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = _fold_char(char)
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return "".join(pieces), origin


# Chinese numerals as a number is read aloud, digit by digit ("幺三八", "四八二九一六"). 十, 百
# and 千 are not digits: "一千二百八十" is an amount, and stays one.
_NUMERALS = "〇零一二三四五六七八九两幺"
_NUMERAL_DIGITS = str.maketrans(_NUMERALS, "0012345678921")
# Three numerals at least (the shortest secret), and not touching an ASCII digit: "卡号…0123一直
# 没到账" must not grow the card by a digit (a 20-digit run is an order number, and kept).
_NUMERAL_RUN = re.compile(
    rf"[{_NUMERALS}](?<![0-9{_NUMERALS}].)[{_NUMERALS}]{{2,}}+(?![0-9{_NUMERALS}])"
)
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Spaces between two Chinese characters say nothing in Chinese; "密 码" is "密码".
_HAN_SPACES = re.compile(rf"[ ](?<=[{_HAN}][ ])[ ]*+(?=[{_HAN}])")


_NUMERALS_SPACED = re.compile(f"[{_NUMERALS}](?:[ ]*[{_NUMERALS}]){{2}}")


def normalise(text: str) -> tuple[str, list[int] | None] | None:
    """The one detection copy: `fold`, spaces inside Chinese words dropped, Chinese numerals
    read as digits; with, if lengths differ, each detection char's index in `text`. None for
    a text without any digit, which no rule can match (most messages: checked first, cheaply).

    Digit groups keep their separators here: joining them blindly would glue an amount to the
    date after it. The number rules below decide which separators join one number.
    """
    folded, origin = fold(text)
    if not ANY_DIGIT.search(folded) and not _NUMERALS_SPACED.search(folded):
        return None
    if _HAN_SPACES.search(folded):
        source = origin if origin is not None else range(len(folded))
        pieces: list[str] = []
        kept: list[int] = []
        cursor = 0
        for match in _HAN_SPACES.finditer(folded):
            pieces.append(folded[cursor : match.start()])
            kept.extend(source[cursor : match.start()])
            cursor = match.end()
        pieces.append(folded[cursor:])
        kept.extend(source[cursor:])
        folded, origin = "".join(pieces), kept
    if _NUMERAL_RUN.search(folded):
        folded = _NUMERAL_RUN.sub(lambda m: m.group().translate(_NUMERAL_DIGITS), folded)
    if not ANY_DIGIT.search(folded):
        return None
    return folded, origin
