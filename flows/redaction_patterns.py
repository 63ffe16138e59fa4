"""What redaction looks for, as patterns on the folded text: the labels of receipt keys (kept),
of secrets, expiry dates and accounts (masked), and the shapes of cards, IDs and mobiles."""

from __future__ import annotations

import re
from collections.abc import Iterable

# ============================================================================ patterns
#
# Patterns run on the folded text, which is lower-case ASCII wherever it was Latin, so no
# IGNORECASE. Every alternative starts with a literal character and checks the character before
# it with a lookbehind placed *after* that first literal ("p(?<![a-z].)in"): `re` can then skip
# straight to candidate first characters instead of trying every position, which is what keeps
# a 4 KiB message well under a millisecond.

BLANK = "\x00"  # what a claimed span becomes in the detection copy: not a digit, not a separator
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
PROTECTED = tuple(
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
CASE_NUMBER = re.compile(
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
SECRET_LABEL = re.compile(_SECRET_WORDS + _CONNECT)
# A code written before its label: "短信里的 482915 就是验证码", "1234 is my PIN". The words
# between them are checked by `_backward_link`.
SECRET_ALONE = re.compile(_SECRET_WORDS)
# The number just before a label, and the words between them (see `Scan._before_label`).
VALUE_BEFORE = re.compile(
    "(?P<value>"
    + _word(rf"[0-9][0-9]*+(?:{_GAP}[0-9]+)*", "0-9a-z*")
    + r")(?P<link>[^0-9\n.。!！?？;；,，、\x00]{0,12})$"
)
LOOK_BACK = 64
# What may stand between a number and the label after it, and no more: "就是", "是我的",
# "(", "is my", "was the"... "1280 密码错误" has no link saying the number *is* the secret.
LINK = re.compile(
    r"(?:[ ()\[\]【】「」\"'“”:=]|就|也|应该|好像|这个|那个|这|那|是|为|我们|我|你|您|的|新|"
    r"短信|手机|支付|取款|登录|交易|网银|银行卡|卡|里|is|was|my|the|your|our|new|sms|bank|card)*"
)
COPULA = re.compile(r"是|为|[:=]|(?<![a-z])(?:is|was)(?![a-z])")
# The label ends its clause: "482915 (验证码)", "…482915 验证码。".
CLAUSE_END = re.compile(r"[ ]*(?:$|[)\]】」』\"'”’\n.。!！?？;；,，、~])")
# The few words that may stand between a label and its code ("验证码我刚收到了 482915", "the
# verification code I got was 482915"); any other word ("验证码发到尾号5678", "密码错了3次",
# "验证码收不到，打了95588") means the number is something else.
WINDOW = re.compile(
    r"(?P<filler>[^0-9\n.。!！?？;；,，、\x00]{1,16}?)(?P<value>[0-9]+(?:[ ][0-9]+)*)"
)
FILLER = re.compile(
    r"(?:[ :\"'“”]|我|刚刚|刚才|刚|已经|收到|拿到|发来|发给我|给我|短信|手机|上|里|的|是|了|"
    r"为|就|也|应该|好像|这个|那个|显示|写着|新|(?<![a-z])(?:i|got|get|received|sent|me|just|"
    r"the|was|is|it|says|said|shows|reads|here|new)(?![a-z]))+"
)
NOT_A_CODE_AFTER = re.compile(
    r"[ ]?(?:[ ]?[:/.,_·\-][ ]?[0-9]|元|块|万|次|位|秒|分|天|个|笔|月|日|年|号|%|"
    r"(?:s|sec|secs|seconds?|mins?|minutes?|hours?|times?|days?|yuan|rmb|digits?)(?![a-z]))"
)
SECRET_TOKEN = re.compile(r"[a-z0-9@#$%^&*_+=!?~.\-]+")
DIGITS_AND_DASHES = re.compile(r"[0-9]+(?:-[0-9]+)*")
NUMBER_RUN = re.compile(rf"[0-9]+(?:{_GAP}[0-9]+)*")
DIGIT_GROUP = re.compile(r"[0-9]+")

EXPIRY = re.compile(
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
ACCOUNT = re.compile(_ACCOUNT_WORDS + _CONNECT + r"(?P<value>[0-9]+(?:[ \-][0-9]+)*)")
ACCOUNT_ALONE = re.compile(_ACCOUNT_WORDS)

# Digit groups joined by one punctuation mark, the same each time: "6222.0214.3456.7892",
# "6222,0216,3456,7894", "6222/0218/3456/7896", "6222_0219_…", "6222·0220·…" (see `punct_runs`).
PUNCT_SEQUENCE = re.compile(_word(r"[0-9][0-9]*+", "0-9") + r"(?:[ ]?[.,/_·][ ]?[0-9]++)+")
# Digit groups joined by any separator, spaces, dashes and marks mixed ("6222.0214 3456-7892").
MIXED_SEQUENCE = re.compile(
    _word(r"[0-9][0-9]*+", "0-9") + r"(?:(?:[ ]{1,8}|[ ]?[.,/_·\-][ ]?)[0-9]++)+"
)
MOBILE_START = re.compile("1[3-9]")
MONEY_BEFORE = re.compile(r"(?:[¥$]|rmb|cny|usd)[ ]?$")
MONEY_AFTER = re.compile(r"[ ]?(?:元|块|万|yuan|rmb|cny)")
_ID_SEPARATOR = r"(?:[ \-]|[ ]?[.,/_·][ ]?)?"
ID_WITH_X = re.compile(
    _word(rf"[0-9](?:{_ID_SEPARATOR}[0-9]){{16}}{_ID_SEPARATOR}x", "0-9") + r"(?![0-9a-z])"
)
# A line break may also join groups; `card_runs` keeps it only next to a 4-digit group.
_LINE_GAP = r"[ \-]*\r?\n[ \-]*"
NUMBER_SEQUENCE = re.compile(_word(rf"[0-9][0-9]*(?:(?:{_GAP}|{_LINE_GAP})[0-9]+)*", "0-9"))
CARD_GROUP = 4  # the usual grouping; the only one trusted across a line break
# Eleven digits in any grouping ("138 1234 5678", "1371 234 5670", "1 3 8 1 2 ..."), but not
# grouped by thousands ("13 800 000 000" is an amount): see `thousands`.
_MOBILE_CORE = rf"1(?:{_GAP})?[3-9](?:(?:{_GAP})?[0-9]){{9}}(?![0-9])"
MOBILE = re.compile(
    "|".join(
        _word(prefix + _MOBILE_CORE, "0-9")
        for prefix in (r"[+]86[ \-]?", r"0086[ \-]?", r"86[ \-]?", "")
    )
)
GAP_THEN_DIGIT = re.compile(rf"{_GAP}[0-9]")
DIGIT_THEN_GAP = re.compile(rf"[0-9]{_GAP}$")
ANY_DIGIT = re.compile(r"[0-9]")

CARD_MIN, CARD_MAX = 15, 19
ACCOUNT_MIN = 8
SPACED_CODE_GROUP, SPACED_CODE_TOTAL = 4, 8
SECRET_MIN = 3  # CVV2 is the shortest secret

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def looks_like_id(chars: str) -> bool:
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


def digits_of(text: str) -> str:
    return "".join(c for c in text if "0" <= c <= "9")


def card_mask(digits: str) -> str:
    return f"[card ****{digits[-4:]}]"
