"""The one redaction function for every text that is stored or logged: `redact`.

Answers, relayed messages, transcripts, log records and exception messages all pass through
`redact` before they reach a database row or a log line. The domain forbids keeping full card
numbers, CVV2, PINs, passwords, SMS codes, expiry dates and full ID numbers, and PIPL treats
financial accounts as sensitive, so those are masked. The receipt keys a merchant needs for a trace
(12-digit reference, 8-char terminal, labelled 15-char merchant number, 6-digit voucher and batch
numbers, amounts, dates, case numbers, long QR order numbers) are deliberately left alone: a
redactor that eats them would make the bot useless.

Detection runs on one normalised copy of the text (`_normalise`): NFKC, every Unicode decimal
digit as ASCII, dashes and invisible spaces as plain separators, middle dots as one, the
traditional forms of the label characters as simplified (密碼 -> 密码, 驗證碼 -> 验证码), spaces
between Chinese characters dropped (密 码 -> 密码), and runs of three or more Chinese numerals
read digit by digit (四八二九一六, 幺三八...). Full-width digits, traditional labels and spoken
numbers therefore meet the same rules as the textbook forms. An index map leads every position
of the copy back to the original, and the replacements are spliced into the original text, so
the mask sits exactly where the secret was and everything else stays as the merchant wrote it.

Separators between digit groups are not simply deleted: "1,280.50 2026-11-24" would become one
long number. The rules say which separators join one number instead: spaces and dashes (runs of
up to eight spaces) in any grouping, and one punctuation mark repeated (. , / _ ·) only in the
shapes cards, IDs and mobiles are written in.

Rules, in the order they claim text (a claimed span is invisible to later rules):

1. Protected receipt keys: a 15-char value after 商户号/merchant no., 8 after 终端号/terminal,
   12 after 参考号/reference, 6 after 凭证号/批次号/授权码/..., and case numbers (PB-20261125-0042).
2. Secrets: a CVV/PIN/password/verification-code label followed by a value containing a digit,
   or by 4-8 digits a few filler words later ("验证码我刚收到了 482915").
3. Expiry dates after 有效期/expiry/exp/valid thru.
4. Accounts: 8+ digits after 账号/卡号/account/acct/a/c.
5. ID numbers ending in X: 17 digits (optionally grouped) and X.
6. Punctuation-grouped numbers: one mark repeated between groups, shaped as a card (fours, or
   4-6-5), an 18-digit ID (checksum) or an 11-digit mobile; amounts are never so shaped
   (thousands groups, a currency sign or 元 next to them).
7. Codes and accounts written before their label ("短信里的 482915 就是验证码", "1234 is my
   PIN"), joined to it by a copula ("是", "is") or with the label ending the clause.
8. Cards in fours whatever mix of separators joins them ("6222.0214 3456-7892").
9. Card-like runs: digit groups joined by spaces or dashes (or by a line break next to a
   4-digit group) whose total is 15-19 digits. Luhn is not checked (some Chinese debit cards
   fail it); a contiguous run of 20+ digits is an order number and is kept. 18-digit runs with a
   valid ID checksum and birth date are reported as IDs.
10. Mainland mobile numbers, 11 digits in any space/dash grouping (not grouped by thousands),
    with an optional +86/0086 prefix (those standing alone are taken before rule 9, so
    "0086 138..." is not read as a card).

docs/privacy.md lists the forms caught and those deliberately not caught.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Finding", "Redaction", "mask_card", "redact", "redact_text"]


class Finding(StrEnum):
    """What kind of sensitive datum a redaction removed; callers pick warnings by it."""

    CARD = "card"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    ACCOUNT = "account"
    SECRET = "secret"  # CVV, PIN, password, SMS/verification code
    EXPIRY = "expiry"


@dataclass(frozen=True)
class Redaction:
    """The redacted text and what was found, so callers can warn the merchant as well as store."""

    text: str
    findings: frozenset[Finding]

    @property
    def changed(self) -> bool:
        """Whether anything was masked (every mask records a finding)."""
        return bool(self.findings)

    @property
    def had_secret(self) -> bool:
        """The merchant sent a PIN, password or code: tell them to change it and to beware of
        fake "customer service", since official channels never ask for one."""
        return Finding.SECRET in self.findings


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


def _fold(text: str) -> tuple[str, list[int] | None]:
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


def _normalise(text: str) -> tuple[str, list[int] | None] | None:
    """The one detection copy: `_fold`, spaces inside Chinese words dropped, Chinese numerals
    read as digits; with, if lengths differ, each detection char's index in `text`. None for
    a text without any digit, which no rule can match (most messages: checked first, cheaply).

    Digit groups keep their separators here: joining them blindly would glue an amount to the
    date after it. The number rules below decide which separators join one number.
    """
    folded, origin = _fold(text)
    if not _ANY_DIGIT.search(folded) and not _NUMERALS_SPACED.search(folded):
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
    if not _ANY_DIGIT.search(folded):
        return None
    return folded, origin


# ============================================================================ patterns
#
# Patterns run on the folded text, which is lower-case ASCII wherever it was Latin, so no
# IGNORECASE. Every alternative starts with a literal character and checks the character before
# it with a lookbehind placed *after* that first literal ("p(?<![a-z].)in"): `re` can then skip
# straight to candidate first characters instead of trying every position, which is what keeps
# a 4 KiB message well under a millisecond.

_BLANK = "\x00"  # what a claimed span becomes in the detection copy: not a digit, not a separator
# Between digit groups of one number: "6222 0212", "6222-0212", "6222 - 0212", "6222    0212".
_GAP = r"(?:[ \-]{1,3}|[ ]{4,8})"
# Between a label and its value: "：", " is ", "为", "就是", quotes and brackets, in any mix.
_PUNCT = r"[ \r\n:=#\-\"'“”‘’「」『』()【】]*"
_CONNECT = rf"{_PUNCT}(?:(?:is|was)(?![a-z]){_PUNCT}|(?:为|是|就是){_PUNCT})?"
_NUMBER_NO = r"(?:[ ]?(?:number|num|no\.?|\#))"


def _word(alternative: str, before: str = "a-z") -> str:
    """`alternative` as a whole word: no letter (or `before` class) just before its first char.

    The first element must be one literal character or one character class.
    """
    first = alternative.index("]") + 1 if alternative.startswith("[") else 1
    return f"{alternative[:first]}(?<![{before}].){alternative[first:]}"


def _labels(chinese: Iterable[str], english: Iterable[str]) -> str:
    """One alternation of Chinese labels and whole-word English labels."""
    return "(?:" + "|".join([*chinese, *(f"{_word(e)}(?![a-z])" for e in english)]) + ")"


# Receipt keys after their label; kept even when another rule (a card run formed with a
# neighbouring number) would otherwise take them.
_PROTECTED = tuple(
    re.compile(pattern)
    for pattern in (
        _labels(
            ["商户号", "商户编号", "商户代码", "商户编码"],
            [rf"merchant(?:[ ]?(?:id|code)|{_NUMBER_NO})?"],
        )
        + _CONNECT
        + r"(?P<value>[0-9a-z]{15})(?![0-9a-z])",
        _labels(
            ["终端号", "终端编号", "终端代码"],
            [rf"terminal(?:[ ]?id|{_NUMBER_NO})?", "tid"],
        )
        + _CONNECT
        + r"(?P<value>[0-9a-z]{8})(?![0-9a-z])",
        _labels(
            ["参考号", "检索参考号", "系统参考号", "交易参考号", "参考编号"],
            [
                rf"ref(?:erence)?\.?{_NUMBER_NO}?",
                rf"retrieval[ ]?ref(?:erence)?\.?{_NUMBER_NO}?",
                "rrn",
            ],
        )
        + _CONNECT
        + r"(?P<value>[0-9]{12})(?![0-9a-z])",
        _labels(
            ["凭证号", "流水号", "批次号", "授权码", "检索号"],
            [
                *(rf"{w}{_NUMBER_NO}?" for w in ("trace", "voucher", "batch", "invoice")),
                r"auth(?:ori[sz]ation)?[ ]?(?:code|no\.?|\#)",
                r"approval[ ]?(?:code|no\.?|\#)",
            ],
        )
        + _CONNECT
        + r"(?P<value>[0-9a-z]{6})(?![0-9a-z])",
    )
)
# The project's case numbers (PB-20261125-0042).
_CASE_NUMBER = re.compile(
    _word(r"[a-z][a-z]{1,3}-20[0-9]{6}-[0-9]{3,6}", "0-9a-z") + r"(?![0-9a-z\-])"
)

_SECRET_WORDS = (
    _labels(
        [
            "密码",
            "口令",
            "验证码",
            "校验码",
            "动态码",
            "安全码",
            "短信码",
            "卡背面的?(?:三|3)位(?:数字|数)?",
            "背面的?(?:三|3)位(?:数字|数)?",
        ],
        [
            r"cv[vcn]2?",
            r"pin(?:[ ]?(?:code|number|no\.?))?",
            r"pass(?:word|code|wd)",
            r"pass[ ]code",
            r"pwd",
            r"otp",
            r"one[ \-]?time[ ]?(?:pass(?:word|code)?|code|pin)",
            *(
                rf"{w}(?:[ ](?:sms|text|message))?[ ]?code"
                for w in ("sms", "text", "verification", "verify", "security", "dynamic")
            ),
            r"confirmation[ ]?code",
            r"verification[ ]?(?:number|no\.?)",
        ],
    )
    + "码?"
)
_SECRET_LABEL = re.compile(_SECRET_WORDS + _CONNECT)
# A code written before its label: "短信里的 482915 就是验证码", "1234 is my PIN". The words
# between them are checked by `_backward_link`.
_SECRET_ALONE = re.compile(_SECRET_WORDS)
# The number just before a label, and the words between them (see `_Scan._before_label`).
_VALUE_BEFORE = re.compile(
    "(?P<value>"
    + _word(rf"[0-9][0-9]*+(?:{_GAP}[0-9]+)*", "0-9a-z*")
    + r")(?P<link>[^0-9\n.。!！?？;；,，、\x00]{0,12})$"
)
_LOOK_BACK = 64
# What may stand between a number and the label after it, and no more: "就是", "是我的",
# "(", "is my", "was the"... "1280 密码错误" has no link saying the number *is* the secret.
_LINK = re.compile(
    r"(?:[ ()\[\]【】「」\"'“”:=]|就|也|应该|好像|这个|那个|这|那|是|为|我们|我|你|您|的|新|"
    r"短信|手机|支付|取款|登录|交易|网银|银行卡|卡|里|is|was|my|the|your|our|new|sms|bank|card)*"
)
_COPULA = re.compile(r"是|为|[:=]|(?<![a-z])(?:is|was)(?![a-z])")
# The label ends its clause: "482915 (验证码)", "…482915 验证码。".
_CLAUSE_END = re.compile(r"[ ]*(?:$|[)\]】」』\"'”’\n.。!！?？;；,，、~])")
# The few words that may stand between a label and its code ("验证码我刚收到了 482915", "the
# verification code I got was 482915"); any other word ("验证码发到尾号5678", "密码错了3次",
# "验证码收不到，打了95588") means the number is something else.
_WINDOW = re.compile(
    r"(?P<filler>[^0-9\n.。!！?？;；,，、\x00]{1,16}?)(?P<value>[0-9]+(?:[ ][0-9]+)*)"
)
_FILLER = re.compile(
    r"(?:[ :\"'“”]|我|刚刚|刚才|刚|已经|收到|拿到|发来|发给我|给我|短信|手机|上|里|的|是|了|"
    r"为|就|也|应该|好像|这个|那个|显示|写着|新|(?<![a-z])(?:i|got|get|received|sent|me|just|"
    r"the|was|is|it|says|said|shows|reads|here|new)(?![a-z]))+"
)
_NOT_A_CODE_AFTER = re.compile(
    r"[ ]?(?:[ ]?[:/.,_·\-][ ]?[0-9]|元|块|万|次|位|秒|分|天|个|笔|月|日|年|号|%|"
    r"(?:s|sec|secs|seconds?|mins?|minutes?|hours?|times?|days?|yuan|rmb|digits?)(?![a-z]))"
)
_SECRET_TOKEN = re.compile(r"[a-z0-9@#$%^&*_+=!?~.\-]+")
_DIGITS_AND_DASHES = re.compile(r"[0-9]+(?:-[0-9]+)*")
_NUMBER_RUN = re.compile(rf"[0-9]+(?:{_GAP}[0-9]+)*")
_DIGIT_GROUP = re.compile(r"[0-9]+")

_EXPIRY = re.compile(
    _labels(
        ["有效期(?:至|到)?", "有效日期", "失效日期", "过期日期?"],
        [
            r"exp(?:iry|iration|ires?)?\.?(?:[ ]?date)?",
            r"valid[ ]?(?:thru|through|until|till)",
            r"good[ ]?(?:thru|through)",
        ],
    )
    + r"(?:[ ]?\(?mm[ ]?/[ ]?yy(?:yy)?\)?)?"
    + _CONNECT
    + r"(?P<value>"
    + r"[0-9]{1,4}[ ]?[/\-.][ ]?[0-9]{1,4}(?:[ ]?[/\-.][ ]?[0-9]{1,2})?"
    + r"|[0-9]{2,4}[ ]?年[ ]?[0-9]{1,2}(?:[ ]?月)?"
    + r"|[0-9]{1,2}[ ]?月[ ]?[0-9]{2,4}(?:[ ]?年)?"
    + r"|[0-9]{4}"
    + r")(?![0-9])(?![ \-/.][0-9])"
)

_ACCOUNT_WORDS = _labels(
    ["账号", "帐号", "账户", "帐户", "卡号", "银行卡", "结算卡"],
    [
        *(rf"{w}{_NUMBER_NO}?" for w in ("account", "acct", "a/c")),
        *(rf"{w}{_NUMBER_NO}" for w in ("card", "acc")),
    ],
)
_ACCOUNT = re.compile(_ACCOUNT_WORDS + _CONNECT + r"(?P<value>[0-9]+(?:[ \-][0-9]+)*)")
_ACCOUNT_ALONE = re.compile(_ACCOUNT_WORDS)

# Digit groups joined by one punctuation mark, the same each time: "6222.0214.3456.7892",
# "6222,0216,3456,7894", "6222/0218/3456/7896", "6222_0219_…", "6222·0220·…" (see `punct_runs`).
_PUNCT_SEQUENCE = re.compile(_word(r"[0-9][0-9]*+", "0-9") + r"(?:[ ]?[.,/_·][ ]?[0-9]++)+")
# Digit groups joined by any separator, spaces, dashes and marks mixed ("6222.0214 3456-7892").
_MIXED_SEQUENCE = re.compile(
    _word(r"[0-9][0-9]*+", "0-9") + r"(?:(?:[ ]{1,8}|[ ]?[.,/_·\-][ ]?)[0-9]++)+"
)
_MOBILE_START = re.compile("1[3-9]")
_MONEY_BEFORE = re.compile(r"(?:[¥$]|rmb|cny|usd)[ ]?$")
_MONEY_AFTER = re.compile(r"[ ]?(?:元|块|万|yuan|rmb|cny)")
_ID_SEPARATOR = r"(?:[ \-]|[ ]?[.,/_·][ ]?)?"
_ID_WITH_X = re.compile(
    _word(rf"[0-9](?:{_ID_SEPARATOR}[0-9]){{16}}{_ID_SEPARATOR}x", "0-9") + r"(?![0-9a-z])"
)
# A line break may also join groups; `card_runs` keeps it only next to a 4-digit group.
_LINE_GAP = r"[ \-]*\r?\n[ \-]*"
_NUMBER_SEQUENCE = re.compile(_word(rf"[0-9][0-9]*(?:(?:{_GAP}|{_LINE_GAP})[0-9]+)*", "0-9"))
_CARD_GROUP = 4  # the usual grouping; the only one trusted across a line break
# Eleven digits in any grouping ("138 1234 5678", "1371 234 5670", "1 3 8 1 2 ..."), but not
# grouped by thousands ("13 800 000 000" is an amount): see `_thousands`.
_MOBILE_CORE = rf"1(?:{_GAP})?[3-9](?:(?:{_GAP})?[0-9]){{9}}(?![0-9])"
_MOBILE = re.compile(
    "|".join(
        _word(prefix + _MOBILE_CORE, "0-9")
        for prefix in (r"[+]86[ \-]?", r"0086[ \-]?", r"86[ \-]?", "")
    )
)
_GAP_THEN_DIGIT = re.compile(rf"{_GAP}[0-9]")
_DIGIT_THEN_GAP = re.compile(rf"[0-9]{_GAP}$")
_ANY_DIGIT = re.compile(r"[0-9]")

_CARD_MIN, _CARD_MAX = 15, 19
_ACCOUNT_MIN = 8
_SPACED_CODE_GROUP, _SPACED_CODE_TOTAL = 4, 8
_SECRET_MIN = 3  # CVV2 is the shortest secret

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _looks_like_id(chars: str) -> bool:
    """An 18-char run with a valid resident-ID checksum and a plausible birth date.

    Used only to name the finding: every 15-19 digit run is masked either way.
    """
    if len(chars) != 18 or not chars[:17].isdigit():
        return False
    year, month, day = int(chars[6:10]), int(chars[10:12]), int(chars[12:14])
    if not (1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(d) * w for d, w in zip(chars[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == chars[17].upper()


def _digits(text: str) -> str:
    return "".join(c for c in text if "0" <= c <= "9")


def _card_mask(digits: str) -> str:
    return f"[card ****{digits[-4:]}]"


# ============================================================================== scanning


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    replacement: str | None  # None: protected, nothing to replace
    findings: frozenset[Finding]


class _Scan:
    """The detection copy and the spans claimed so far; each rule sees only unclaimed text."""

    def __init__(self, folded: str) -> None:
        self.text = folded
        self.hits: list[_Hit] = []

    def claim(self, hits: list[_Hit]) -> None:
        """Record one rule's (non-overlapping) hits and blank them out for later rules."""
        if not hits:
            return
        hits.sort(key=lambda h: h.start)
        pieces: list[str] = []
        cursor = 0
        for hit in hits:
            pieces.append(self.text[cursor : hit.start])
            pieces.append(_BLANK * (hit.end - hit.start))
            cursor = hit.end
        pieces.append(self.text[cursor:])
        self.text = "".join(pieces)
        self.hits.extend(h for h in hits if h.replacement is not None)

    def protect(self) -> None:
        for pattern in _PROTECTED:
            self.claim(
                [_Hit(*m.span("value"), None, frozenset()) for m in pattern.finditer(self.text)]
            )
        self.claim([_Hit(*m.span(), None, frozenset()) for m in _CASE_NUMBER.finditer(self.text)])

    def secrets(self) -> None:
        hits = []
        for m in _SECRET_LABEL.finditer(self.text):
            span = self._secret_value(m.end())
            if span is None:
                span = self._secret_in_window(m.end())
            if span is not None:
                hits.append(_Hit(*span, "[secret]", frozenset({Finding.SECRET})))
        self.claim(_disjoint(hits))

    def secrets_before_labels(self) -> None:
        """Codes and accounts written before their label. Run after the grouped numbers are
        taken, so "6222.0214.3456.7892 是我的密码" loses no group of its card to the code."""
        found = frozenset({Finding.SECRET})
        self.claim(
            [
                _Hit(*span, "[secret]", found)
                for span in self._before_label(_SECRET_ALONE, _SECRET_MIN, _SPACED_CODE_TOTAL)
            ]
        )
        self.claim(
            [
                _Hit(start, end, *masked)
                for start, end in self._before_label(_ACCOUNT_ALONE, _ACCOUNT_MIN, 40)
                if (masked := _account_mask(self.text[start:end])) is not None
            ]
        )

    def _secret_in_window(self, start: int) -> tuple[int, int] | None:
        """A code a few words after its label ("验证码我收到了 482915"): 4-8 digits, and
        neither a count, a time, an amount nor a phone's last digits. English words in between
        must end in "is"/"was"/":" ("the code I got was 482915")."""
        m = _WINDOW.match(self.text, start)
        if m is None:
            return None
        filler, value = m.group("filler"), m.group("value")
        if not _FILLER.fullmatch(filler) or _NOT_A_CODE_AFTER.match(self.text, m.end()):
            return None
        if _GAP_THEN_DIGIT.match(self.text, m.end()):  # part of a longer number: not a code
            return None
        groups = value.split(" ")
        digits = len(value) - len(groups) + 1
        if not 4 <= digits <= _SPACED_CODE_TOTAL:
            return None
        if len(groups) > 1 and any(len(g) > _SPACED_CODE_GROUP for g in groups):
            return None
        return m.span("value")

    def _before_label(
        self, pattern: re.Pattern[str], fewest: int, most: int
    ) -> list[tuple[int, int]]:
        """Numbers written before their label ("482915 就是验证码"), joined to it by the few
        words `_LINK` allows, with a copula or with the label ending the clause.

        Of a spaced number only the groups next to the label count ("1280 482915 是验证码":
        the code is 482915), as many as fit `most` digits.
        """
        spans = []
        for label in pattern.finditer(self.text):
            m = _VALUE_BEFORE.search(self.text, max(0, label.start() - _LOOK_BACK), label.start())
            if m is None:
                continue
            link = m.group("link")
            if not _LINK.fullmatch(link):
                continue
            if not _COPULA.search(link) and not _CLAUSE_END.match(self.text, label.end()):
                continue
            groups = [g.span() for g in _DIGIT_GROUP.finditer(self.text, *m.span("value"))]
            if sum(e - s for s, e in groups) >= _CARD_MIN:  # a card, whatever it is called
                continue
            start, end = groups[-1]
            total = end - start
            for group_start, group_end in reversed(groups[:-1]):
                size = group_end - group_start
                if total + size > most or max(size, end - groups[-1][0]) > _SPACED_CODE_GROUP:
                    break
                total += size
                start = group_start
            if fewest <= total <= most and not _NOT_A_CODE_AFTER.match(self.text, end):
                spans.append((start, end))
        return spans

    def _secret_value(self, start: int) -> tuple[int, int] | None:
        """Where the secret after a label ends, or None if there is none to take.

        A value must contain a digit (a digit-free password is indistinguishable from prose).
        A spaced code ("384 912") is taken whole. A value that starts with a 15-19 digit number
        is left to the card rule, so a card after "PIN" is still reported (and masked) as a card.
        """
        token = _SECRET_TOKEN.match(self.text, start)
        if token is None:
            return None
        value = token.group().rstrip(".-")
        if not _ANY_DIGIT.search(value):
            return None
        end = start + len(value)
        punct = _PUNCT_SEQUENCE.match(self.text, start)
        if punct is not None and any(
            run_start == start and self._punct_run(run_start, run_end) is not None
            for run_start, run_end in _uniform_runs(self.text, start, punct.end())
        ):
            return None  # "6222.0214.3456.7892" after "PIN" is still a card
        groups: list[tuple[int, int]] = []
        run = _NUMBER_RUN.match(self.text, start)
        if run is not None:
            groups = [g.span() for g in _DIGIT_GROUP.finditer(self.text, start, run.end())]
            if _CARD_MIN <= sum(e - s for s, e in groups) <= _CARD_MAX:
                return None
        if not _DIGITS_AND_DASHES.fullmatch(value) or any(
            len(part) > _SPACED_CODE_GROUP for part in value.split("-")
        ):
            return (start, end) if len(value) >= _SECRET_MIN else None
        taken = len(_digits(value))
        for group_start, group_end in groups:
            size = group_end - group_start
            if group_start < end:  # part of the token itself
                continue
            if size > _SPACED_CODE_GROUP or taken + size > _SPACED_CODE_TOTAL:
                break
            taken += size
            end = group_end
        return (start, end) if taken >= _SECRET_MIN else None

    def expiry(self) -> None:
        self._labelled(_EXPIRY, lambda value: ("[expiry]", frozenset({Finding.EXPIRY})))

    def accounts(self) -> None:
        self._labelled(_ACCOUNT, _account_mask)

    def _labelled(
        self,
        pattern: re.Pattern[str],
        mask: Callable[[str], tuple[str, frozenset[Finding]] | None],
    ) -> None:
        hits = []
        for m in pattern.finditer(self.text):
            masked = mask(m.group("value"))
            if masked is not None:
                hits.append(_Hit(m.start("value"), m.end("value"), *masked))
        self.claim(hits)

    def ids_with_x(self) -> None:
        if "x" not in self.text:
            return
        found = frozenset({Finding.ID_NUMBER})
        self.claim([_Hit(*m.span(), "[ID ****]", found) for m in _ID_WITH_X.finditer(self.text)])

    def punct_runs(self) -> None:
        """Numbers grouped by one repeated punctuation mark: a card in groups of four (or
        4-6-5), an 18-digit ID, a mobile. Anything else so grouped is an amount, a date, an
        address or a version and stays: "1,280,000.50", "2026/11/24", "13,800,000,000"."""
        hits = []
        for m in _PUNCT_SEQUENCE.finditer(self.text):
            for start, end in _uniform_runs(self.text, m.start(), m.end()):
                hit = self._punct_run(start, end)
                if hit is not None:
                    hits.append(hit)
        self.claim(_disjoint(hits))

    def mixed_fours(self) -> None:
        """A card in fours whatever joins its groups ("6222.0214 3456-7892"): four or more
        groups of four, and a shorter last group if any. Other mixed groupings stay (an amount
        next to a date)."""
        hits = []
        for m in _MIXED_SEQUENCE.finditer(self.text):
            groups = [g.span() for g in _DIGIT_GROUP.finditer(self.text, m.start(), m.end())]
            index = 0
            while index < len(groups):
                last = index
                while last < len(groups) and groups[last][1] - groups[last][0] == _CARD_GROUP:
                    last += 1
                if last < len(groups) and last > index and groups[last][1] - groups[last][0] < 4:
                    last += 1  # the shorter last group
                sizes = [e - s for s, e in groups[index:last]]
                window = (0, len(sizes) - 1) if _card_grouping(sizes) else None
                window = window or _card_in_fives(sizes, joined_before=index > 0)
                if len(sizes) >= 4 and window is not None:
                    start, end = groups[index + window[0]][0], groups[index + window[1]][1]
                    digits = _digits(self.text[start:end])
                    if digits[0] != "0":
                        hits.append(_Hit(start, end, _card_mask(digits), frozenset({Finding.CARD})))
                index = max(last, index + 1)
        self.claim(hits)

    def _punct_run(self, start: int, end: int) -> _Hit | None:
        if _MONEY_BEFORE.search(self.text, max(0, start - 4), start) or _MONEY_AFTER.match(
            self.text, end
        ):
            return None
        sizes = [len(g) for g in _DIGIT_GROUP.findall(self.text, start, end)]
        digits = _digits(self.text[start:end])
        if _thousands(sizes):
            return None
        if len(digits) == 18 and _looks_like_id(digits):
            return _Hit(start, end, "[ID ****]", frozenset({Finding.ID_NUMBER}))
        if _card_grouping(sizes) and digits[0] != "0":
            return _Hit(start, end, _card_mask(digits), frozenset({Finding.CARD}))
        five = _card_in_fives(sizes, bool(_JOINED_BEFORE.search(self.text, 0, start)))
        if five is not None:
            groups = [g.span() for g in _DIGIT_GROUP.finditer(self.text, start, end)]
            first, last = groups[five[0]][0], groups[five[1]][1]
            card = _digits(self.text[first:last])
            if card[0] != "0":
                return _Hit(first, last, _card_mask(card), frozenset({Finding.CARD}))
        if len(digits) == 11 and _MOBILE_START.match(digits):
            return _Hit(start, end, f"[mobile ****{digits[-4:]}]", frozenset({Finding.MOBILE}))
        return None

    def card_runs(self) -> None:
        hits = []
        for m in _NUMBER_SEQUENCE.finditer(self.text):
            if m.end() - m.start() < _CARD_MIN:  # cannot hold 15 digits: most numbers
                continue
            for groups in self._split_at_line_breaks(m.start(), m.end()):
                for first, last in _card_windows([e - s for s, e in groups]):
                    start, end = groups[first][0], groups[last][1]
                    digits = _digits(self.text[start:end])
                    if _looks_like_id(digits):
                        found, mask = frozenset({Finding.ID_NUMBER}), "[ID ****]"
                    else:
                        found, mask = frozenset({Finding.CARD}), _card_mask(digits)
                    hits.append(_Hit(start, end, mask, found))
        self.claim(hits)

    def _split_at_line_breaks(self, start: int, end: int) -> list[list[tuple[int, int]]]:
        """The digit groups of one sequence, cut at line breaks that do not wrap a card.

        "6222 0212" + newline + "3456 7890 123" is one card wrapped by hand; a reference number
        on one line and a voucher number on the next are two receipt keys.
        """
        runs: list[list[tuple[int, int]]] = [[]]
        previous: tuple[int, int] | None = None
        for group in _DIGIT_GROUP.finditer(self.text, start, end):
            span = group.span()
            if (
                previous is not None
                and "\n" in self.text[previous[1] : span[0]]
                and not _wrapped_card_groups(previous[1] - previous[0], span[1] - span[0])
            ):
                runs.append([])
            runs[-1].append(span)
            previous = span
        return runs

    def mobiles(self, *, standalone: bool) -> None:
        """Mobile numbers; with `standalone`, only those not joined to other digits by a gap.

        Standalone ones go before the card rule so "0086 138 1234 5678" (15 digits) reads as a
        mobile; the rest go after it, so a card group that happens to look like a mobile
        ("6222 13812345678 0123") is masked as part of the card.
        """
        found = frozenset({Finding.MOBILE})
        hits = []
        for m in _MOBILE.finditer(self.text):
            if standalone and (
                _GAP_THEN_DIGIT.match(self.text, m.end())
                or _DIGIT_THEN_GAP.search(self.text, max(0, m.start() - 9), m.start())
            ):
                continue
            if _thousands([len(g) for g in _DIGIT_GROUP.findall(m.group())]):
                continue
            hits.append(_Hit(*m.span(), f"[mobile ****{m.group()[-4:]}]", found))
        self.claim(hits)


def _uniform_runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of three or more digit groups joined by the same separator each time:
    "6222,110000.19900307.1233" holds one ("110000.19900307.1233"), "1,280.50" none."""
    groups = [g.span() for g in _DIGIT_GROUP.finditer(text, start, end)]
    runs: list[tuple[int, int]] = []
    first = 0
    for index in range(1, len(groups) + 1):
        if index < len(groups) and (
            index == first + 1
            or text[groups[index - 1][1] : groups[index][0]]
            == text[groups[first][1] : groups[first + 1][0]]
        ):
            continue
        if index - first >= 3:
            runs.append((groups[first][0], groups[index - 1][1]))
        first = index - 1
    return runs


def _account_mask(value: str) -> tuple[str, frozenset[Finding]] | None:
    digits = _digits(value)
    if len(digits) < _ACCOUNT_MIN:
        return None
    found = {Finding.ACCOUNT}
    if _CARD_MIN <= len(digits) <= _CARD_MAX:
        found.add(Finding.CARD)
    return f"[account ****{digits[-4:]}]", frozenset(found)


def _thousands(sizes: list[int]) -> bool:
    """Groups as an amount is written ("13 800 000 000", "1,280,000"): 1-3 digits, then 3s."""
    return len(sizes) >= 3 and sizes[0] <= 3 and all(size == 3 for size in sizes[1:])


def _card_grouping(sizes: list[int]) -> bool:
    """How cards are printed: fours with a shorter last group (4-4-4-4, 4-4-4-4-3), or the
    4-6-5 of 15-digit cards. More fours than one card has are several cards in a row."""
    if sizes == [4, 6, 5]:
        return True
    return (
        len(sizes) >= 4
        and all(size == _CARD_GROUP for size in sizes[:-1])
        and 1 <= sizes[-1] <= _CARD_GROUP
        and _CARD_MIN <= sum(sizes) <= _CARD_MAX
    )


#: A digit group joined by a separator right before a position.
_JOINED_BEFORE = re.compile(r"[0-9][ \-.,/_·]\Z")


def _card_in_fives(sizes: list[int], joined_before: bool) -> tuple[int, int] | None:
    """Five groups of four hold a card and one more number: the card is the last four groups
    when the run is joined to a number before it ("身份证 110000 20010101 0008，6200 0000 0000
    0000"), else the first four ("6200,0100,0100,0100，0000 就是验证码"). (first, last) indexes."""
    if sizes != [_CARD_GROUP] * 5:
        return None
    return (1, 4) if joined_before else (0, 3)


def _disjoint(hits: list[_Hit]) -> list[_Hit]:
    """The first of overlapping hits (two labels can reach for the same value)."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: h.start):
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def _wrapped_card_groups(before: int, after: int) -> bool:
    """Whether groups of these sizes on two lines read as one card wrapped by hand: 4-digit
    groups, the last one possibly shorter ("7890" / "123")."""
    return max(before, after) == _CARD_GROUP


def _card_windows(lengths: list[int]) -> list[tuple[int, int]]:
    """Maximal stretches of digit groups covered by some window of 15-19 digits in total.

    Groups are the digit runs of one separator-joined number. A card typed as "6222 0212 3456
    7890 123", or glued to a terminal number by a space, is covered; two receipt keys side by
    side ("12345678 312345678901", 20 digits) are not. Linear in the number of groups (two
    pointers), so a hostile "1 1 1 1 ..." message stays cheap.
    """
    count = len(lengths)
    covered = [False] * count
    reach = -1  # the last group covered by a qualifying window started so far
    right = 0  # exclusive end of the longest window from `left` within the maximum
    total = 0
    for left in range(count):
        right = max(right, left)
        if right == left:
            total = 0
        while right < count and total + lengths[right] <= _CARD_MAX:
            total += lengths[right]
            right += 1
        if right > left and total >= _CARD_MIN:
            reach = max(reach, right - 1)
        covered[left] = left <= reach
        if right > left:
            total -= lengths[left]
    stretches: list[tuple[int, int]] = []
    index = 0
    while index < count:
        if covered[index]:
            first = index
            while index + 1 < count and covered[index + 1]:
                index += 1
            stretches.append((first, index))
        index += 1
    return stretches


def _apply(text: str, origin: list[int] | None, hits: list[_Hit]) -> str:
    """Splice the masks into the original text (mapping folded positions back if needed)."""
    spans: list[tuple[int, int, str]] = []
    for hit in sorted(hits, key=lambda h: h.start):
        assert hit.replacement is not None
        if origin is None:
            start, end = hit.start, hit.end
        else:
            start, end = origin[hit.start], origin[hit.end - 1] + 1
        if spans and start < spans[-1][1]:  # two hits inside one expanded character
            previous = spans.pop()
            spans.append((previous[0], max(end, previous[1]), previous[2] + hit.replacement))
        else:
            spans.append((start, end, hit.replacement))
    pieces: list[str] = []
    cursor = 0
    for start, end, replacement in spans:
        pieces.append(text[cursor:start])
        pieces.append(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


# ============================================================================ public API


def redact(text: str) -> Redaction:
    """Mask every card, ID, mobile, account number, secret and expiry date in `text`.

    Idempotent (masks are not re-detected) and linear in the text; text without any digit is
    returned unchanged, since every rule needs one.
    """
    normalised = _normalise(text)
    if normalised is None:
        return Redaction(text, frozenset())
    folded, origin = normalised
    scan = _Scan(folded)
    scan.protect()
    scan.secrets()
    scan.expiry()
    scan.accounts()
    scan.ids_with_x()
    # Cards in fours before other groupings: "4000 1300.0000.000" is a card, not a mobile.
    scan.mixed_fours()
    scan.punct_runs()
    scan.secrets_before_labels()
    scan.mobiles(standalone=True)
    scan.card_runs()
    scan.mobiles(standalone=False)
    if not scan.hits:
        return Redaction(text, frozenset())
    findings = frozenset(f for hit in scan.hits for f in hit.findings)
    return Redaction(_apply(text, origin, scan.hits), findings)


def redact_text(text: str) -> str:
    """`redact(text).text`, for log filters and storage code that only need the safe string."""
    return redact(text).text


def mask_card(number: str) -> str:
    """A card number as a POS slip prints it: at most its first six and last four digits shown,
    e.g. "6222021234567890123" -> "622202*********0123" (DOMAIN.md).

    The one card masker: slips read by OCR, and card numbers found in names read off a slip.
    Spaces, dashes and full-width digits are accepted, stars already printed stay stars and
    count towards the length. Fewer than 13 digits and stars is no card number (a PIN passed
    here by mistake): nothing of it is shown.
    """
    plain = "".join(c for c in _fold(number)[0] if "0" <= c <= "9" or c == "*")
    if len(plain) < 13:
        return "*" * len(plain)
    return plain[:6] + "*" * (len(plain) - 10) + plain[-4:]
