"""Redaction: what must be masked, which receipt keys must survive, and properties under fuzzing.

The domain forbids storing card numbers, secrets, expiry dates and full IDs, but the merchant's
receipt keys are what the acquirer needs for a trace; these tests pin both sides down.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from flows.redaction import Finding, Redaction, mask_card, redact, redact_text

CARD, ID, MOBILE, ACCOUNT, SECRET, EXPIRY = (
    Finding.CARD,
    Finding.ID_NUMBER,
    Finding.MOBILE,
    Finding.ACCOUNT,
    Finding.SECRET,
    Finding.EXPIRY,
)

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def digits_of(text: str) -> str:
    """The digits of `text` as ASCII, whatever script or compatibility form they were in."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(c)) for c in folded if c.isdecimal())


def id_check(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def valid_id(region: int, born: date, sequence: int) -> str:
    first17 = f"{region:06d}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check(first17)


# ====================================================================== examples: masked

VALID_ID = valid_id(110101, date(1990, 3, 7), 123)  # checksum computed, not guessed
assert VALID_ID[-1].isdigit()  # the X case is covered by VALID_ID_X
VALID_ID_X = next(
    candidate
    for sequence in range(1000)
    if (candidate := valid_id(440305, date(1985, 12, 1), sequence)).endswith("X")
)
BAD_CHECKSUM_ID = VALID_ID[:17] + str((int(VALID_ID[17]) + 1) % 10)

MASKED = [
    # --- cards: 15-19 digits, any grouping, no Luhn
    ("我的卡是6222021234567890123，一直没到账", ["6222021234567890123"], {CARD}),
    ("刷的卡 6222 0212 3456 7890 123 没到", ["62220212345678901"], {CARD}),
    ("card 6222-0212-3456-7890 please check", ["622202123456"], {CARD}),
    ("card 6222 - 0212 - 3456 - 7890", ["622202123456"], {CARD}),
    ("mixed 6222 0212-3456–7890 123 dashes", ["622202123456"], {CARD}),
    ("zero-width 6222\u200b0212\u200b3456\u200b7890", ["622202123456"], {CARD}),
    ("nbsp 6222\u00a00212\u00a03456\u00a07890", ["622202123456"], {CARD}),
    ("bidi marks 6222\u200e0212\u200e3456\u200e7890", ["622202123456"], {CARD}),
    ("keycaps 6️⃣2️⃣2️⃣2️⃣0️⃣2️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣9️⃣0️⃣", ["622202123456"], {CARD}),
    ("circled ①②③④⑤⑥⑦⑧⑨①②③④⑤⑥", ["12345678912"], {CARD}),
    ("arabic-indic ٦٢٢٢٠٢١٢٣٤٥٦٧٨٩٠", ["622202123456"], {CARD}),
    ("全角 ６２２２０２１２３４５６７８９０１２３", ["622202123456789"], {CARD}),
    ("全角分组 ６２２２　０２１２　３４５６　７８９０", ["622202123456"], {CARD}),
    ("15 digits alone 123456789012345 (old ID or Amex)", ["12345678901"], {CARD}),
    ("glued together: 004521 312345678901", ["0045213123"], {CARD}),
    ("terminal then card 12345678 6222 0212 3456 7890 123", ["62220212345"], {CARD}),
    ("pin 6222 0212 3456 7890 123", ["62220212345"], {CARD}),
    ("wrapped by hand:\n6222 0212\n3456 7890 123", ["62220212345"], {CARD}),
    ("one group a line\n6222\n0212\n3456\n7890\n123", ["62220212345", "7890"], {CARD}),
    # --- resident IDs
    (f"身份证 {VALID_ID}", [VALID_ID[:14]], {ID}),
    (f"身份证号{VALID_ID_X}，请查", [VALID_ID_X[:14]], {ID}),
    (f"id {VALID_ID_X.lower()} ok", [VALID_ID_X[:14]], {ID}),
    ("bad checksum X 11010519900307123X", ["11010519900307"], {ID}),
    (f"grouped {VALID_ID[:6]} {VALID_ID[6:14]} {VALID_ID[14:]}", [VALID_ID[6:14]], {ID}),
    (f"grouped X {VALID_ID_X[:6]} {VALID_ID_X[6:14]} {VALID_ID_X[14:]}", [VALID_ID_X[6:14]], {ID}),
    (f"bad checksum {BAD_CHECKSUM_ID}", [BAD_CHECKSUM_ID[:14]], {CARD}),
    # --- mobiles
    ("电话13812345678", ["1381234"], {MOBILE}),
    ("call 138 1234 5678 please", ["1381234"], {MOBILE}),
    ("call 138-1234-5678", ["1381234"], {MOBILE}),
    ("+86 138 1234 5678", ["1381234"], {MOBILE}),
    ("+8613812345678", ["1381234"], {MOBILE}),
    ("0086-13812345678", ["1381234"], {MOBILE}),
    ("手机：１３８１２３４５６７８", ["1381234"], {MOBILE}),
    # --- accounts after a label
    ("账号：12345678901", ["1234567"], {ACCOUNT}),
    ("结算帐号 1234 5678 9012", ["12345678"], {ACCOUNT}),
    ("收款账户 9876543210", ["987654"], {ACCOUNT}),
    ("account no. 12345678", ["1234"], {ACCOUNT}),
    ("Acct# 1234567890", ["123456"], {ACCOUNT}),
    ("a/c 987654321", ["98765"], {ACCOUNT}),
    ("卡号：6222 0212 3456 7890 123", ["62220212345"], {ACCOUNT, CARD}),
    ("card number 6222021234567890", ["62220212345"], {ACCOUNT, CARD}),
    # --- secrets, Chinese and English
    ("验证码是 384912", ["384912"], {SECRET}),
    ("短信验证码384912，别告诉别人", ["384912"], {SECRET}),
    ("验证码为：384912", ["384912"], {SECRET}),
    ("验证码 384 912", ["384", "912"], {SECRET}),
    ("密码：123456", ["123456"], {SECRET}),
    ("支付密码是123456", ["123456"], {SECRET}),
    ("取款密码 8888 对吗", ["8888"], {SECRET}),
    ("安全码 321", ["321"], {SECRET}),
    ("卡背面三位数是 321", ["321"], {SECRET}),
    ("动态码：5521", ["5521"], {SECRET}),
    ("校验码 8842", ["8842"], {SECRET}),
    ("my PIN is 1234", ["1234"], {SECRET}),
    ("PIN: 1234", ["1234"], {SECRET}),
    ("ＰＩＮ：１２３４", ["1234"], {SECRET}),
    ("PIN码1234", ["1234"], {SECRET}),
    ("cvv 123", ["123"], {SECRET}),
    ("CVV2: 123", ["123"], {SECRET}),
    ("cvn2 456", ["456"], {SECRET}),
    ("OTP: 5521", ["5521"], {SECRET}),
    ("otp is 5521.", ["5521"], {SECRET}),
    ("the verification code 384912 came by SMS", ["384912"], {SECRET}),
    ("verification SMS code: 384912", ["384912"], {SECRET}),
    ("SMS code is 884422", ["884422"], {SECRET}),
    ("password: hunter22", ["hunter22"], {SECRET}),
    ("passcode 0000", ["0000"], {SECRET}),
    ("one-time password: 77 88 99", ["77", "88", "99"], {SECRET}),
    ("密码：\n123456", ["123456"], {SECRET}),
    # --- expiry dates
    ("有效期 12/28", ["12/28"], {EXPIRY}),
    ("有效期至2028年12月", ["2028"], {EXPIRY}),
    ("exp 12/28", ["12/28"], {EXPIRY}),
    ("Expiry: 1228", ["1228"], {EXPIRY}),
    ("valid thru 12/2028", ["12/2028"], {EXPIRY}),
    ("EXP DATE (MM/YY) 09 / 27", ["09 / 27"], {EXPIRY}),
    # --- several at once
    (
        "卡号6222021234567890123，有效期12/28，CVV 123，手机13812345678",
        ["622202123", "12/28", "CVV 123", "1381234"],
        {ACCOUNT, CARD, EXPIRY, SECRET, MOBILE},
    ),
]


@pytest.mark.parametrize(("text", "gone", "findings"), MASKED)
def test_masked(text: str, gone: list[str], findings: set[Finding]) -> None:
    result = redact(text)
    for fragment in gone:
        assert fragment not in result.text
        if fragment.isdigit():
            assert fragment not in digits_of(result.text)
    assert result.findings == findings
    assert result.changed
    assert result.had_secret == (SECRET in findings)


# ==================================================================== examples: untouched

UNTOUCHED = [
    "参考号 312345678901",
    "312345678901",
    "终端号 12345678",
    "终端编号：A1234567",
    "商户号 123456789012345",
    "商户编号：123456789012345",
    "merchant no. 123456789012345",
    "MID? Merchant ID 12345678901234A",
    "凭证号 004521 批次号 000123",
    "voucher: 004521 312345678901",
    "004521",
    "授权码 A1B2C3",
    "auth code 384912",
    "code 384912",
    "金额 1,280.50 元",
    "刷了1280.50，手续费6.40",
    "2026-11-24 15:30",
    "2026年11月24日下午3点",
    "工单 PB-20261125-0042",
    "PB-20261125-0042 004521",
    "312345678901\n004521",
    "12345678\n312345678901\n004521",
    "订单号 4200001234202611241234567890",
    "alipay 2026112422001412345678901234",
    "卡号 622202******0123",
    "卡号尾号0123",
    "T+1 到账，D0 另收费",
    "工行 95588，银联 95516",
    "12345678 312345678901",
    "参考号 312345678901 凭证号 004521 终端号 12345678",
    "有效期 30 天",
    "预计 11/25 到账",
    "到期日 2026-11-25",
    "密码错了3次",
    "pin 12",
    "spinning 1234 times",
    "微信商户号 1234567890",
    "账号 1234567",
    "电话 95588-1",
    "1380013800",
    "138123456789",
]


@pytest.mark.parametrize("text", UNTOUCHED)
def test_receipt_keys_and_ordinary_numbers_survive(text: str) -> None:
    assert redact(text) == Redaction(text, frozenset())


RECEIPT = """商户名称：某某超市
商户编号：898310012345678
终端编号：12345678
卡号：622202******0123
交易类型：消费
批次号：000123 凭证号：004521
授权码：A1B2C3
参考号：312345678901
日期/时间：2026/11/24 15:30:08
金额：RMB 1,280.50"""


def test_a_typed_out_receipt_survives_whole() -> None:
    assert redact(RECEIPT) == Redaction(RECEIPT, frozenset())


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_luhn_is_not_required() -> None:
    # Some real Chinese debit cards fail Luhn, so a failing number is masked all the same.
    number = "6222021234567890"
    assert not _luhn_valid(number)
    assert redact(f"卡 {number} 没到账") == Redaction(
        "卡 [card ****7890] 没到账", frozenset({CARD})
    )


def test_labelled_merchant_number_survives_but_unlabelled_fifteen_digits_do_not() -> None:
    assert redact("商户号：123456789012345").text == "商户号：123456789012345"
    assert "123456789012345" not in redact("号码 123456789012345").text


# ======================================================================= exact mask shapes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的卡是6222021234567890123，一直没到账", "我的卡是[card ****0123]，一直没到账"),
        ("６２２２ ０２１２ ３４５６ ７８９０ １２３ 好", "[card ****0123] 好"),
        ("验证码是 384912。", "验证码是 [secret]。"),
        ("my PIN is 1234!", "my PIN is [secret]"),
        ("有效期 12/28", "有效期 [expiry]"),
        ("账号：12345678901", "账号：[account ****8901]"),
        ("+86 138 1234 5678", "[mobile ****5678]"),
        (f"身份证 {VALID_ID_X}", "身份证 [ID ****]"),
        ("cvv 123 6222 0212 3456 7890 1234", "cvv [secret] [card ****1234]"),
    ],
)
def test_mask_shapes(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_the_rest_of_the_text_is_returned_as_written() -> None:
    text = "金额１２８０元（全角），刷卡６２２２０２１２３４５６７８９０１２３ ，ＯＫ？\t谢谢…"
    assert redact_text(text) == "金额１２８０元（全角），刷卡[card ****0123] ，ＯＫ？\t谢谢…"


def test_characters_that_expand_under_nfkc_are_mapped_back() -> None:
    # "⑴" folds to "(1)": detection sees three characters, the output keeps the original one.
    assert redact_text("⑴ 6222021234567890123 ⒉") == "⑴ [card ****0123] ⒉"
    assert redact_text("①②③④⑤⑥⑦⑧⑨①②③④⑤⑥") == "[card ****3456]"


def test_redaction_value() -> None:
    clean = redact("no numbers here")
    assert not clean.changed
    assert not clean.had_secret
    assert clean.findings == frozenset()
    secret = redact("OTP 5521")
    assert secret.changed
    assert secret.had_secret


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("6222021234560123", "622202******0123"),
        ("6222 0212 3456 0123", "622202******0123"),
        ("６２２２-０２１２-３４５６-０１２３", "622202******0123"),
        ("6222021234567890123", "622202*********0123"),
        ("6222021234567", "622202***4567"),
        ("6225 88** **** 5678", "622588******5678"),  # as a slip prints it: stays masked
        ("622202123456", "************"),  # 12 digits: no card number, nothing shown
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_card(digits: str, expected: str) -> None:
    assert mask_card(digits) == expected


@given(
    st.text(alphabet="0123456789", min_size=13, max_size=19),
    st.sampled_from(["", " ", "-"]),
)
def test_a_card_shows_at_most_its_first_six_and_last_four_digits(
    digits: str, separator: str
) -> None:
    grouped = separator.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    masked = mask_card(grouped)
    assert masked[:6] == digits[:6]
    assert masked[-4:] == digits[-4:]
    assert set(masked[6:-4]) == {"*"}
    assert len(masked) == len(digits)


# ============================================================================= properties


# Chinese numerals read as digits ("密码是一二三四五六"), so "without digits" excludes them too.
CHINESE_NUMERALS = frozenset("〇零一二三四五六七八九两幺")


def _no_digit_after_nfkc(char: str) -> bool:
    return char not in CHINESE_NUMERALS and not any(
        c.isdecimal() for c in unicodedata.normalize("NFKC", char)
    )


# Letters (Latin, CJK, ...), punctuation and spaces, none of which folds to a digit.
SAFE_CHAR = st.characters(categories=("L", "P", "Zs")).filter(_no_digit_after_nfkc)
SAFE_TEXT = st.text(SAFE_CHAR, max_size=20)
BOUNDARY = st.sampled_from(["", " ", "，", "。", ": ", "(", ")", "-"])


@st.composite
def grouped(draw: st.DrawFn, digits: str) -> str:
    """`digits` cut into random groups joined by spaces or dashes (or not cut at all)."""
    if not draw(st.booleans()):
        return digits
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=6)))
    parts = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    separators = draw(
        st.lists(
            st.sampled_from([" ", "-", "  ", " - ", "\u3000", "\u200b", "–"]),
            min_size=len(parts) - 1,
            max_size=len(parts) - 1,
        )
    )
    return parts[0] + "".join(s + p for s, p in zip(separators, parts[1:], strict=True))


def _expected_findings(digits: str, after: str) -> set[Finding]:
    """What the generated card may be reported as: by chance it can also be a resident ID."""
    if len(digits) == 18:
        year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
        plausible = 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
        if plausible and id_check(digits[:17]) == digits[17]:
            return {ID}
    if len(digits) == 17 and "x" in unicodedata.normalize("NFKC", after[:2]).lower():
        return {CARD, ID}  # "...123X": an ID unless a letter follows the X
    return {CARD}


@given(
    digits=st.text("0123456789", min_size=15, max_size=19),
    data=st.data(),
    before=SAFE_TEXT,
    after=SAFE_TEXT,
    full_width=st.booleans(),
)
def test_cards_never_survive(
    digits: str, data: st.DataObject, before: str, after: str, full_width: bool
) -> None:
    # "0086" + a mobile is 15 digits; written as "0086 138..." it is read as a mobile.
    assume(not re.match(r"00861[3-9]", digits))
    card = data.draw(grouped(digits))
    if full_width:
        card = card.translate(FULL_WIDTH)
    result = redact(before + card + after)
    left = digits_of(result.text)
    assert digits[:11] not in left
    assert len(left) <= 4  # only the mask's last four
    assert _expected_findings(digits, after) & result.findings


@given(
    region=st.integers(110000, 829999),
    born=st.dates(date(1900, 1, 1), date(2099, 12, 31)),
    sequence=st.integers(0, 999),
    layout=st.sampled_from(["plain", "space", "dash", "lower"]),
    before=SAFE_TEXT,
    after=SAFE_TEXT,
    boundary=BOUNDARY,
)
def test_valid_ids_never_survive(
    region: int,
    born: date,
    sequence: int,
    layout: str,
    before: str,
    after: str,
    boundary: str,
) -> None:
    number = valid_id(region, born, sequence)
    shown = {
        "plain": number,
        "space": f"{number[:6]} {number[6:14]} {number[14:]}",
        "dash": f"{number[:6]}-{number[6:14]}-{number[14:]}",
        "lower": number.lower(),
    }[layout]
    result = redact(before + boundary + shown + " " + after)
    left = digits_of(result.text)
    assert number[:14] not in left
    assert len(left) <= 4
    assert ID in result.findings


MOBILE_FORMATS = [
    "{n}",
    "{a} {b} {c}",
    "{a}-{b}-{c}",
    "+86{n}",
    "+86 {n}",
    "+86-{a}-{b}-{c}",
    "+86 {a} {b} {c}",
    "86 {n}",
    "0086{n}",
]


@given(
    second=st.sampled_from("3456789"),
    rest=st.text("0123456789", min_size=9, max_size=9),
    layout=st.sampled_from(MOBILE_FORMATS),
    before=SAFE_TEXT,
    after=SAFE_TEXT,
    full_width=st.booleans(),
)
def test_mobiles_never_survive(
    second: str, rest: str, layout: str, before: str, after: str, full_width: bool
) -> None:
    number = "1" + second + rest
    shown = layout.format(n=number, a=number[:3], b=number[3:7], c=number[7:])
    if full_width:
        shown = shown.translate(FULL_WIDTH)
    result = redact(f"{before}，{shown}。{after}")
    left = digits_of(result.text)
    assert number[:7] not in left
    assert len(left) <= 4
    assert MOBILE in result.findings


SECRET_PHRASES = [
    "验证码是 ",
    "验证码：",
    "短信验证码",
    "您的验证码为",
    "动态码 ",
    "校验码：",
    "安全码",
    "密码：",
    "支付密码是",
    "登录密码 ",
    "my PIN is ",
    "PIN: ",
    "pin code ",
    "cvv ",
    "CVV2: ",
    "CVN ",
    "OTP: ",
    "otp is ",
    "verification code ",
    "Verification code: ",
    "SMS code is ",
    "security code ",
    "password: ",
    "Passcode ",
    "one-time password ",
]


@given(
    phrase=st.sampled_from(SECRET_PHRASES),
    code=st.text("0123456789", min_size=4, max_size=8),
    before=SAFE_TEXT,
    after=SAFE_TEXT,
    full_width=st.booleans(),
)
def test_secret_codes_never_survive(
    phrase: str, code: str, before: str, after: str, full_width: bool
) -> None:
    shown = code.translate(FULL_WIDTH) if full_width else code
    result = redact(f"{before} {phrase}{shown} {after}")
    assert code not in digits_of(result.text)
    assert shown not in result.text
    assert result.had_secret


# Characters and fragments that make rules fire and interact: digits, separators, labels, masks.
DENSE = st.lists(
    st.sampled_from(
        [
            *"0123456789",
            *" -–/.:：xX*[]",
            "１",
            "\u200b",
            "\n",
            "123",
            "6222",
            "138",
            "+86",
            "卡号",
            "账号",
            "商户号",
            "终端号",
            "参考号",
            "授权码",
            "密码",
            "验证码是",
            "有效期",
            "pin ",
            "cvv2",
            "otp",
            "exp",
            "a/c",
            "is",
            "PB-",
            "年",
            "月",
            "[card ****0123]",
            "⑴",
            "①",
            "⒑",
            "\u200e",
            "\u0303",
            "️⃣",
            "〜",
            "¼",
            "㏠",
        ]
    ),
    max_size=60,
).map("".join)


@given(st.one_of(st.text(), DENSE))
def test_idempotent_and_total(text: str) -> None:
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text
    assert once.changed == (once.text != text)


@given(st.text(st.characters().filter(_no_digit_after_nfkc)))
def test_text_without_digits_is_unchanged(text: str) -> None:
    assert redact(text) == Redaction(text, frozenset())


def test_no_mask_reveals_more_than_four_digits() -> None:
    masks = re.findall(r"\[[a-zA-Z]+ [^\]]*\]", redact_text(" ".join(t for t, _, _ in MASKED)))
    assert masks
    assert all(len(digits_of(m)) <= 4 for m in masks)
