"""Tests for the 签购单 field extractor: whole slips, each kind of OCR damage, refusals, fuzzing."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.answers import SHANGHAI
from flows.receipt import TEXT_CONFIDENCE, SlipFields, extract_fields

# A Wednesday afternoon, as in the other flows tests.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)


# ------------------------------------------------------------------------------ whole slips

CHINESE_SLIP = [
    "中国银联 签购单",
    "商户存根",
    "商户名称:北京鑫源便利店",
    "商户编号:102100058120001",
    "终端编号:12345678 操作员号:01",
    "收单机构:银联商务 48480000",
    "发卡行:工商银行",
    "卡号:",
    "622202******1234 /C",
    "有效期:2028/12",
    "交易类型:消费",
    "批次号:000123",
    "凭证号:004521",
    "授权码:123456",
    "参考号:312345678901",
    "日期/时间:2026/11/24 15:32:08",
    "金额:RMB 1,280.50",
    "备注:",
    "持卡人签名:",
    "本人确认以上交易,同意将其记入本卡账户",
]
CHINESE_FIELDS = SlipFields(
    merchant_name="北京鑫源便利店",
    merchant_id="102100058120001",
    terminal_id="12345678",
    acquirer="银联商务 48480000",
    issuer="工商银行",
    card_masked="622202******1234",
    trans_type="sale",
    batch="000123",
    voucher="004521",
    auth_code="123456",
    reference="312345678901",
    day=date(2026, 11, 24),
    time=time(15, 32, 8),
    amount=Decimal("1280.50"),
)

# The usual UnionPay layout: bilingual labels, long values printed on the line below.
BILINGUAL_SLIP = [
    "银联商务 POS签购单",
    "商户存根 MERCHANT COPY",
    "商户名称(MERCHANT NAME):",
    "上海巧味餐饮有限公司",
    "商户编号(MERCHANT NO.):",
    "310290058120017",
    "终端编号(TERMINAL NO.):87654321",
    "操作员号(OPERATOR NO.):01",
    "收单机构(ACQUIRER):银联商务",
    "发卡行(ISSUER):招商银行",
    "卡号(CARD NO.):",
    "6225 88** **** 5678 /I",
    "有效期(EXP. DATE):2029/06",
    "交易类型(TRANS TYPE):",
    "消费(SALE)",
    "批次号(BATCH NO.):000045",
    "凭证号(VOUCHER NO.):000318",
    "授权码(AUTH NO.):A7K9Q2",
    "参考号(REFER NO.):",
    "331015123456",
    "日期/时间(DATE/TIME):",
    "2026/11/20 09:05:41",
    "金额(AMOUNT):",
    "RMB 268.00",
    "备注(REFERENCE):",
    "持卡人签名(CARDHOLDER SIGNATURE):",
    "本人确认以上交易,同意将其记入本卡账户",
    "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES",
]
BILINGUAL_FIELDS = SlipFields(
    merchant_name="上海巧味餐饮有限公司",
    merchant_id="310290058120017",
    terminal_id="87654321",
    acquirer="银联商务",
    issuer="招商银行",
    card_masked="622588******5678",
    trans_type="sale",
    batch="000045",
    voucher="000318",
    auth_code="A7K9Q2",
    reference="331015123456",
    day=date(2026, 11, 20),
    time=time(9, 5, 41),
    amount=Decimal("268.00"),
)

ENGLISH_SLIP = [
    "CHINA UNIONPAY",
    "MERCHANT COPY",
    "MERCHANT NAME: GOLDEN LOTUS TEA HOUSE",
    "MERCHANT NO.: 440300058990123",
    "TERMINAL NO.: 20345678",
    "ACQUIRER: BANK OF CHINA 01040000",
    "ISSUER: CHINA CONSTRUCTION BANK",
    "CARD NO.: 436742******0987 /C",
    "TRANS TYPE: SALE",
    "BATCH NO.: 000210  TRACE NO.: 001877",
    "AUTH CODE: 09F3C1",
    "REF. NO.: 601234567890",
    "DATE: 20261103  TIME: 183011",
    "AMOUNT: RMB 5,000.00",
    "SIGNATURE",
    "I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES",
]
ENGLISH_FIELDS = SlipFields(
    merchant_name="GOLDEN LOTUS TEA HOUSE",
    merchant_id="440300058990123",
    terminal_id="20345678",
    acquirer="BANK OF CHINA 01040000",
    issuer="CHINA CONSTRUCTION BANK",
    card_masked="436742******0987",
    trans_type="sale",
    batch="000210",
    voucher="001877",
    auth_code="09F3C1",
    reference="601234567890",
    day=date(2026, 11, 3),
    time=time(18, 30, 11),
    amount=Decimal("5000.00"),
)

# A void slip reprints the original transaction's keys; those must not be taken for its own.
VOID_SLIP = [
    "商户名称(MERCHANT NAME):北京鑫源便利店",
    "交易类型(TRANS TYPE):消费撤销(VOID)",
    "卡号(CARD NO.):622202******1234 /S",
    "批次号(BATCH NO.):000123",
    "凭证号(VOUCHER NO.):004530",
    "原凭证号(ORIG. VOUCHER NO.):004521",
    "参考号(REFER NO.):312345678999",
    "原参考号(ORIG. REF. NO.):312345678901",
    "原授权码:123456",
    "原交易日期:2026/11/24",
    "日期/时间(DATE/TIME):2026/11/25 10:12:00",
    "金额(AMOUNT):RMB -1,280.50",
]
VOID_FIELDS = SlipFields(
    merchant_name="北京鑫源便利店",
    trans_type="void",
    card_masked="622202******1234",
    batch="000123",
    voucher="004530",
    reference="312345678999",
    day=date(2026, 11, 25),
    time=time(10, 12),
    amount=Decimal("1280.50"),
)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(CHINESE_SLIP, CHINESE_FIELDS, id="chinese"),
        pytest.param(BILINGUAL_SLIP, BILINGUAL_FIELDS, id="bilingual"),
        pytest.param(ENGLISH_SLIP, ENGLISH_FIELDS, id="english"),
        pytest.param(VOID_SLIP, VOID_FIELDS, id="void"),
    ],
)
def test_whole_slips(lines: list[str], expected: SlipFields) -> None:
    assert extract_fields(lines, now=NOW) == expected
    assert extract_fields(lines) == expected


# ------------------------------------------------------------------------------ OCR damage

# Each row: the lines as the OCR returns them, and every field the extractor must find.
DAMAGE_CASES: list[tuple[str, list[str], dict[str, Any]]] = [
    (
        "full-width colon, digits and spaces",
        ["商户编号：１０２１００058120001", "终端编号：\u300012345678"],
        {"merchant_id": "102100058120001", "terminal_id": "12345678"},
    ),
    (
        "full-width parentheses around the English label",
        ["参考号（REFER NO.）：312345678901"],
        {"reference": "312345678901"},
    ),
    (
        "labels and values glued",
        ["批次号:000123凭证号:004521"],
        {"batch": "000123", "voucher": "004521"},
    ),
    ("glued without colon", ["凭证号004521"], {"voucher": "004521"}),
    (
        "glued English labels",
        ["BATCH NO.:000123TRACE NO.:004521"],
        {"batch": "000123", "voucher": "004521"},
    ),
    (
        "two fields on one line",
        ["终端编号:12345678 商户编号:102100058120001"],
        {"terminal_id": "12345678", "merchant_id": "102100058120001"},
    ),
    (
        "two fields on one line, the second's value below",
        ["终端编号:12345678 商户编号:", "102100058120001"],
        {"terminal_id": "12345678", "merchant_id": "102100058120001"},
    ),
    (
        "label on one line, value on the next",
        ["参考号(REFER NO.)", "312345678901"],
        {"reference": "312345678901"},
    ),
    (
        "a blank OCR line between label and value",
        ["参考号(REFER NO.)", "  ", "312345678901"],
        {"reference": "312345678901"},
    ),
    (
        "value on the next line followed by another field",
        ["参考号(REFER NO.):", "312345678901 授权码:123456"],
        {"reference": "312345678901", "auth_code": "123456"},
    ),
    (
        "two labels on one line, both values on the next",
        ["批次号(BATCH NO.) 凭证号(VOUCHER NO.)", "000123 004521"],
        {"batch": "000123", "voucher": "004521"},
    ),
    (
        "bilingual label",
        ["商户编号(MERCHANT NO.):102100058120001"],
        {"merchant_id": "102100058120001"},
    ),
    (
        "bilingual label broken over two lines",
        ["商户编号", "(MERCHANT NO.)", "102100058120001"],
        {"merchant_id": "102100058120001"},
    ),
    ("English label with a zero for O", ["TERMINAL N0.: 12345678"], {"terminal_id": "12345678"}),
    ("a zero for O in CODE", ["AUTH C0DE:143988"], {"auth_code": "143988"}),
    (
        "a zero for O in ORIG: the slip's own reference is kept",
        ["参考号(REFER NO.):", "790775352686", "原参考号(0RIG. REF.NO.):905490162890"],
        {"reference": "790775352686"},
    ),
    (
        "date glued to time",
        ["日期/时间:2026/11/2415:32:08"],
        {"day": date(2026, 11, 24), "time": time(15, 32, 8)},
    ),
    (
        "bilingual date/time label",
        ["日期/时间(DATE/TIME): 2026/11/24 15:32:08"],
        {"day": date(2026, 11, 24), "time": time(15, 32, 8)},
    ),
    (
        "compact date and time under two labels on one line",
        ["DATE: 20261124 TIME: 153208"],
        {"day": date(2026, 11, 24), "time": time(15, 32, 8)},
    ),
    (
        "compact date glued to compact time",
        ["DATE/TIME:20261124153208"],
        {"day": date(2026, 11, 24), "time": time(15, 32, 8)},
    ),
    (
        "date and time on separate lines",
        ["日期:2026/11/24", "时间:15:32:08"],
        {"day": date(2026, 11, 24), "time": time(15, 32, 8)},
    ),
    (
        "dashes and a time without seconds",
        ["DATE/TIME: 2026-11-24 15:32"],
        {"day": date(2026, 11, 24), "time": time(15, 32)},
    ),
    (
        "O and l inside the date",
        ["日期/时间:2O26/ll/24 l5:32:O8"],
        {"day": date(2026, 11, 24), "time": time(15, 32, 8)},
    ),
    (
        "time glued after 日 (OCR dropped the space)",
        ["交易日期时间2026年06月11日01:58:09"],
        {"day": date(2026, 6, 11), "time": time(1, 58, 9)},
    ),
    (
        "one-digit hour glued after 日",
        ["日期时间:2026年6月1日9:05:00"],
        {"day": date(2026, 6, 1), "time": time(9, 5)},
    ),
    (
        "unlabelled date line",
        ["2026/11/24 15:32:08"],
        {"day": date(2026, 11, 24), "time": time(15, 32, 8)},
    ),
    ("misread thousands separator", ["金额:RMB 1.280.50"], {"amount": Decimal("1280.50")}),
    ("RMB with a comma", ["AMOUNT: RMB 1,280.50"], {"amount": Decimal("1280.50")}),
    ("full-width yuan sign", ["金额:￥1280.50"], {"amount": Decimal("1280.50")}),
    ("RMB glued to the amount", ["金额(AMOUNT): RMB1280.50"], {"amount": Decimal("1280.50")}),
    ("amount on the next line", ["金额(AMOUNT):", "RMB 1,280.50"], {"amount": Decimal("1280.50")}),
    ("unlabelled amount line", ["RMB 1,280.50"], {"amount": Decimal("1280.50")}),
    (
        "full-width amount",
        ["金额：\u3000￥１，２８０．５０"],
        {"amount": Decimal("1280.50")},
    ),
    ("O and l inside the amount", ["金额:RMB l,28O.5O"], {"amount": Decimal("1280.50")}),
    ("spaces inside the amount", ["金额:RMB 1 280.50"], {"amount": Decimal("1280.50")}),
    (
        "total wins over the base amount when a tip was added",
        ["金额(AMOUNT):RMB 100.00", "小费(TIPS):RMB 10.00", "总计(TOTAL):RMB 110.00"],
        {"amount": Decimal("110.00")},
    ),
    ("O, l and g inside a number", ["参考号:3l2345678gO1"], {"reference": "312345678901"}),
    ("I and | inside a number", ["参考号:3I234567890|"], {"reference": "312345678901"}),
    ("S when the rest is digits", ["凭证号:0045S1"], {"voucher": "004551"}),
    ("B when the rest is digits", ["批次号:00B123"], {"batch": "008123"}),
    (
        "O for 0 in numeric merchant and terminal ids",
        ["商户编号:1O21OOO58l2OOO1", "终端编号:l2345678"],
        {"merchant_id": "102100058120001", "terminal_id": "12345678"},
    ),
    ("spaces inside a number", ["参考号:3123 4567 8901"], {"reference": "312345678901"}),
    (
        "letters in names are left alone",
        ["商户名称:OLIVE BISTRO", "发卡行:ICBC", "收单机构:BOC 4848OOOO"],
        {"merchant_name": "OLIVE BISTRO", "issuer": "ICBC", "acquirer": "BOC 48480000"},
    ),
    (
        "a time word inside a merchant name is not a label",
        ["商户名称:时间咖啡馆"],
        {"merchant_name": "时间咖啡馆"},
    ),
    (
        "alphanumeric ids with clear letters are kept as printed",
        ["终端编号:AC123456", "商户编号:898440358120A01"],
        {"terminal_id": "AC123456", "merchant_id": "898440358120A01"},
    ),
    (
        "smudges trimmed off a name, its branch kept",
        ["商户名称(MERCHANT NAME):", "■■鑫源便利店(朝阳店)*", "终端编号:12345678"],
        {"merchant_name": "鑫源便利店(朝阳店)", "terminal_id": "12345678"},
    ),
    (
        "masked card number",
        ["卡号(CARD NO.): 622202******1234"],
        {"card_masked": "622202******1234"},
    ),
    ("grouped masked card", ["卡号:", "6222 02** **** 1234"], {"card_masked": "622202******1234"}),
    (
        "full card with swipe marker",
        ["CARD NO.: 6222021234561234 /S"],
        {"card_masked": "622202******1234"},
    ),
    ("card masked with x", ["卡号:622202xxxxxx1234(C)"], {"card_masked": "622202******1234"}),
    ("unlabelled masked card", ["6222 02** **** 1234 /I"], {"card_masked": "622202******1234"}),
    ("system reference label", ["系统参考号:312345678901"], {"reference": "312345678901"}),
    (
        "terminal serial number is the voucher",
        ["批次号:000123 终端流水号:004521"],
        {"batch": "000123", "voucher": "004521"},
    ),
    ("trace number label", ["TRACE NO. 004521"], {"voucher": "004521"}),
    (
        "swipe marker /S read as /5",
        ["卡号：", "625807******1723 /5"],
        {"card_masked": "625807******1723"},
    ),
    (
        "insert marker (I) read as (1)",
        ["卡号:622202******1234(1)"],
        {"card_masked": "622202******1234"},
    ),
    (
        "原 of the original reference misread: that line is not the slip's reference",
        ["检索参考号：597392546576", "原流水号：806859", "照参考号：173538401945"],
        {"reference": "597392546576"},
    ),
    (
        "原 of the original voucher misread",
        ["流水号：838896", "厚流水号：806859"],
        {"voucher": "838896"},
    ),
    ("RRN", ["RRN: 312345678901"], {"reference": "312345678901"}),
]


@pytest.mark.parametrize(
    ("lines", "expected"), [pytest.param(lines, exp, id=name) for name, lines, exp in DAMAGE_CASES]
)
def test_ocr_damage(lines: list[str], expected: dict[str, Any]) -> None:
    assert extract_fields(lines, now=NOW) == SlipFields(**expected)


# ------------------------------------------------------------------------------ confidence

SURE, UNSURE = TEXT_CONFIDENCE, TEXT_CONFIDENCE - 0.01
UNSURE_NAME_SLIP = [
    "商户名称:北京金莲烘培坊",  # blurred 烘焙坊, scored 0.96
    "商户编号:440242279488963",
    "收单机构:",
    "中国银行01040000",
    "发卡行:民生银行",
    "参考号:011698387852",
]


def test_names_are_only_read_off_lines_the_ocr_was_sure_of() -> None:
    found = extract_fields(UNSURE_NAME_SLIP, confidences=[UNSURE, UNSURE, SURE, SURE, SURE, UNSURE])
    # The merchant name is left out (asked), numbers on equally unsure lines are checked by
    # their format and kept, the acquirer is judged by the line its value is on.
    assert found.merchant_name is None
    assert found.merchant_id == "440242279488963"
    assert found.reference == "011698387852"
    assert found.acquirer == "中国银行01040000"
    assert found.issuer == "民生银行"


def test_a_name_below_its_label_is_judged_by_its_own_line() -> None:
    lines = ["收单机构:", "中国银行01040000", "发卡行:民生银行"]
    assert extract_fields(lines, confidences=[SURE, UNSURE, SURE]).acquirer is None
    assert extract_fields(lines, confidences=[UNSURE, SURE, UNSURE]).acquirer == "中国银行01040000"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("发卡行:浦发银行", True),
        ("收单机构:银联商务", True),
        ("ISSUER: BANK OF CHINA", True),
        ("ACQUIRER: CHINA UMS", True),
        ("收单机构:银联商务 48480000", False),  # the code's digits have no check
        ("发卡行:浦发很行", False),  # no bank of that name
    ],
)
def test_known_bank_and_acquirer_names_are_read_off_unsure_lines(line: str, kept: bool) -> None:
    found = extract_fields([line], confidences=[UNSURE]).found()
    assert bool(found.keys() & {"acquirer", "issuer"}) is kept


def test_without_confidences_every_line_is_trusted() -> None:
    assert extract_fields(UNSURE_NAME_SLIP).merchant_name == "北京金莲烘培坊"


def test_confidences_must_match_the_lines() -> None:
    with pytest.raises(ValueError, match="one confidence per line"):
        extract_fields(UNSURE_NAME_SLIP, confidences=[0.99])


# ------------------------------------------------------------------------------ trans type

TRANS_TYPE_CASES: list[tuple[list[str], str | None]] = [
    (["交易类型:消费"], "sale"),
    (["交易类型(TRANS TYPE):", "消费(SALE)"], "sale"),
    (["TRANS TYPE: PURCHASE"], "sale"),
    (["SALE"], "sale"),
    (["消费/SALE"], "sale"),
    (["交易类型:撤销"], "void"),
    (["撤销"], "void"),
    (["交易类型:消费撤销"], "void"),
    (["VOID"], "void"),
    (["预授权完成撤销"], "void"),
    (["交易类型:退货(REFUND)"], "refund"),
    (["REFUND"], "refund"),
    (["交易类型:预授权"], "preauth"),
    (["预授权(AUTH)"], "preauth"),
    (["TRANS TYPE: PRE-AUTH"], "preauth"),
    (["AUTH"], "preauth"),
    (["交易类型:预授权完成"], "preauth_complete"),
    (["交易类型(TRANS TYPE):预授权完成(请求)"], "preauth_complete"),
    (["预授权完成(AUTH COMPLETE)"], "preauth_complete"),
    (["TRANS TYPE: AUTH COMPLETE"], "preauth_complete"),
    (["交易类型:余额查询"], None),
    (["本人确认以上交易,同意将其记入本卡账户"], None),
]


@pytest.mark.parametrize(("lines", "expected"), TRANS_TYPE_CASES)
def test_trans_type(lines: list[str], expected: str | None) -> None:
    assert extract_fields(lines).trans_type == expected


def test_preauth_complete_is_not_preauth() -> None:
    assert extract_fields(["交易类型:预授权完成"]).trans_type != "preauth"


# ------------------------------------------------------------------------------ refusals

REFUSALS: list[tuple[str, list[str], str]] = [
    ("reference one digit short", ["参考号:31234567890"], "reference"),
    ("reference one digit long", ["参考号:3123456789012"], "reference"),
    ("terminal too short", ["终端编号:1234567"], "terminal_id"),
    ("merchant too short", ["商户编号:10210005812000"], "merchant_id"),
    ("batch too short", ["批次号:00012"], "batch"),
    ("voucher too long", ["凭证号:0045211"], "voucher"),
    ("auth too short", ["授权码:12345"], "auth_code"),
    ("letter that is no digit look-alike", ["参考号:31234567X901"], "reference"),
    ("S among letters is not a 5", ["凭证号:0045SX"], "voucher"),
    ("auth code: O or 0 cannot be told apart", ["授权码:12345O"], "auth_code"),
    ("alphanumeric id with a lowercase look-alike", ["终端编号:AC12345l"], "terminal_id"),
    ("conflicting references", ["参考号:312345678901", "REF NO: 312345678902"], "reference"),
    ("amount without cents", ["金额:RMB 128050"], "amount"),
    ("amount with one decimal", ["金额:RMB 1280.5"], "amount"),
    ("amount with a short thousands group", ["金额:RMB 1,28.50"], "amount"),
    ("amount above the ceiling", ["金额:RMB 99,999,999.00"], "amount"),
    ("zero amount", ["金额:RMB 0.00"], "amount"),
    ("RMB read as RM8", ["金额:RM8 1280.50"], "amount"),
    ("impossible date", ["日期:2026/02/30"], "day"),
    ("year before any POS slip here", ["日期:1999/11/24"], "day"),
    ("date without a year", ["DATE: 11/24"], "day"),
    ("impossible time", ["时间:25:61:00"], "time"),
    ("card too short", ["卡号:62220212"], "card_masked"),
    ("card with hidden last digits", ["卡号:622202**********"], "card_masked"),
    ("card with a glued marker: S or 5?", ["卡号:6222021234561234S"], "card_masked"),
    ("masked card with five digits after the mask", ["卡号:622202******1234 5"], "card_masked"),
    ("expiry date is not the date", ["有效期(EXP. DATE):2028/12/31"], "day"),
    ("original voucher on a void slip", ["原凭证号:004521"], "voucher"),
    ("original reference in English", ["ORIG. REF. NO.: 312345678901"], "reference"),
    ("a garbled prefix: maybe 原, so not the slip's own", ["照参考号:312345678901"], "reference"),
    ("original reference, O read as zero", ["0RIG. REF.NO.: 312345678901"], "reference"),
    ("value missing, next line is another label", ["参考号:", "授权码:123456"], "reference"),
    ("value of the next field missing", ["批次号:000123凭证号:"], "voucher"),
    (
        "two unlabelled lines under a name label: which is the name?",
        ["商户名称(MERCHANT NAME):", "北京鑫源便利店", "欢迎光临", "终端编号:12345678"],
        "merchant_name",
    ),
    (
        "a stray line between the type label and the type",
        ["交易类型(TRANS TYPE):", "AUTH", "消费(SALE)", "批次号:000123"],
        "trans_type",
    ),
]


@pytest.mark.parametrize(
    ("lines", "field"), [pytest.param(lines, f, id=name) for name, lines, f in REFUSALS]
)
def test_refuses_rather_than_guesses(lines: list[str], field: str) -> None:
    assert getattr(extract_fields(lines, now=NOW), field) is None


def test_wrong_lengths_drop_only_their_own_field() -> None:
    result = extract_fields(["批次号:00012凭证号:004521", "参考号:31234567890"])
    assert result == SlipFields(voucher="004521")


@pytest.mark.parametrize(
    ("printed", "masked"),
    [
        ("6222021234561234", "622202******1234"),
        ("6222 0212 3456 1234", "622202******1234"),
        ("6222021234567890123", "622202*********0123"),
        ("4367421234567", "436742***4567"),
    ],
)
def test_full_card_number_is_masked(printed: str, masked: str) -> None:
    result = extract_fields([f"卡号(CARD NO.):{printed}"])
    assert result.card_masked == masked
    compact = printed.replace(" ", "")
    assert compact not in repr(result)
    assert compact not in str(result.found())


def test_full_card_number_is_masked_in_free_text_too() -> None:
    result = extract_fields(["商户名称:6222021234561234", "发卡行:工商银行 6222 0212 3456 1234"])
    assert result.merchant_name == "622202******1234"
    assert result.issuer == "工商银行 622202******1234"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("日期/时间:2026/11/24 15:32:08", True),
        ("日期/时间:2026/11/25 13:59:00", True),
        ("日期/时间:2026/11/25 14:04:00", True),  # terminal clock a little fast
        ("日期/时间:2026/11/25 14:30:00", False),
        ("日期/时间:2026/11/26 09:00:00", False),
        ("日期/时间:2027/01/01 09:00:00", False),
    ],
)
def test_future_moments_are_dropped_when_now_is_given(line: str, kept: bool) -> None:
    with_now = extract_fields([line], now=NOW)
    assert (with_now.day is not None) is kept
    assert (with_now.time is not None) is kept
    assert extract_fields([line]).day is not None  # without now nothing is "future"


def test_now_may_be_naive_shanghai_time_or_any_zone() -> None:
    line = ["日期/时间:2026/11/25 13:59:00"]
    assert extract_fields(line, now=datetime(2026, 11, 25, 14, 0)).day == date(2026, 11, 25)
    assert extract_fields(line, now=datetime(2026, 11, 25, 6, 0, tzinfo=UTC)).day is not None
    assert extract_fields(line, now=datetime(2026, 11, 25, 5, 0, tzinfo=UTC)).day is None


def test_found_is_json_ready_and_only_non_none() -> None:
    assert extract_fields(ENGLISH_SLIP).found() == {
        "merchant_name": "GOLDEN LOTUS TEA HOUSE",
        "merchant_id": "440300058990123",
        "terminal_id": "20345678",
        "acquirer": "BANK OF CHINA 01040000",
        "issuer": "CHINA CONSTRUCTION BANK",
        "card_masked": "436742******0987",
        "trans_type": "sale",
        "batch": "000210",
        "voucher": "001877",
        "auth_code": "09F3C1",
        "reference": "601234567890",
        "day": "2026-11-03",
        "time": "18:30:11",
        "amount": "5000.00",
    }
    assert SlipFields().found() == {}
    assert extract_fields([]) == SlipFields()


# ------------------------------------------------------------------------------ properties

_DIGITS = "0123456789"
# Letters an OCR never confuses with a digit; an id mixing only look-alike letters with digits
# is read as digits by design (slips in China print numeric ids).
_CLEAR_LETTERS = "ACEFHJKMNPRTUVWXY"
_LOOKALIKES = {"0": "0Oo", "1": "1lI|", "9": "9g", "5": "5S", "8": "8B"}

_NAMES = [
    "北京鑫源便利店",
    "上海巧味餐饮有限公司",
    "GOLDEN LOTUS TEA HOUSE",
    "时间咖啡馆",
    "五金店",
]
_BANKS = ["工商银行", "银联商务 48480000", "BANK OF CHINA 01040000", "拉卡拉支付", "ICBC"]
_TRANS_TYPES = [
    ("消费(SALE)", "sale"),
    ("消费撤销(VOID)", "void"),
    ("退货(REFUND)", "refund"),
    ("预授权(PRE-AUTH)", "preauth"),
    ("预授权完成(AUTH COMPLETE)", "preauth_complete"),
]
_LABELS = {
    "merchant_name": ("商户名称", "MERCHANT NAME"),
    "terminal_id": ("终端编号", "TERMINAL NO."),
    "merchant_id": ("商户编号", "MERCHANT NO."),
    "acquirer": ("收单机构", "ACQUIRER"),
    "issuer": ("发卡行", "ISSUER"),
    "card": ("卡号", "CARD NO."),
    "trans_type": ("交易类型", "TRANS TYPE"),
    "batch": ("批次号", "BATCH NO."),
    "voucher": ("凭证号", "VOUCHER NO."),
    "auth_code": ("授权码", "AUTH NO."),
    "reference": ("参考号", "REFER NO."),
    "when": ("日期/时间", "DATE/TIME"),
    "amount": ("金额", "AMOUNT"),
}
# Fields printed in pairs on one line by some terminals.
_PAIRS = {"terminal_id": "merchant_id", "batch": "voucher"}
_CHECKED = ("reference", "terminal_id", "merchant_id", "voucher", "batch", "amount")


def _digit_string(length: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=_DIGITS, min_size=length, max_size=length)


def _id_string(length: int) -> st.SearchStrategy[str]:
    """Digits, or digits mixed with at least one letter no OCR takes for a digit."""
    mixed = st.text(alphabet=_DIGITS + _CLEAR_LETTERS, min_size=length, max_size=length).filter(
        lambda s: any(c in _CLEAR_LETTERS for c in s)
    )
    return _digit_string(length) | mixed


_AMOUNTS = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2, allow_nan=False
)
_MOMENTS = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2026, 11, 25, 13, 0)
).map(lambda moment: moment.replace(microsecond=0))


def _damage_digits(draw: st.DrawFn, value: str) -> str:
    """O for 0, l for 1 and friends, and stray spaces between digits."""
    out = []
    for char in value:
        if char in _LOOKALIKES and draw(st.integers(0, 5)) == 0:
            char = draw(st.sampled_from(_LOOKALIKES[char]))
        out.append(char)
        if draw(st.integers(0, 9)) == 0:
            out.append(" ")
    return "".join(out).strip()


def _render_amount(draw: st.DrawFn, amount: Decimal) -> str:
    whole, cents = f"{amount:.2f}".split(".")
    grouped = f"{int(whole):,}"
    style = draw(st.sampled_from(["plain", "comma", "dot"]))
    if style == "plain" or len(whole) <= 3:
        number = f"{whole}.{cents}"
    elif style == "comma":
        number = f"{grouped}.{cents}"
    else:  # the separator misread as a point
        number = f"{grouped.replace(',', '.')}.{cents}"
    number = _damage_digits(draw, number)
    return draw(st.sampled_from(["RMB ", "RMB", "¥", "￥", "CNY ", "人民币"])) + number


def _render_moment(draw: st.DrawFn, moment: datetime) -> str:
    style = draw(st.sampled_from(["spaced", "glued", "compact", "dashed"]))
    if style == "spaced":
        text = moment.strftime("%Y/%m/%d %H:%M:%S")
    elif style == "glued":
        text = moment.strftime("%Y/%m/%d%H:%M:%S")
    elif style == "compact":
        text = moment.strftime("%Y%m%d%H%M%S")
    else:
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
    return _damage_digits(draw, text)


def _label(draw: st.DrawFn, field: str) -> str:
    chinese, english = _LABELS[field]
    form = draw(st.sampled_from(["both", "chinese", "english", "both-fullwidth"]))
    if form == "both":
        return f"{chinese}({english})"
    if form == "both-fullwidth":
        return f"{chinese}（{english}）"
    return chinese if form == "chinese" else english


@st.composite
def _slips(draw: st.DrawFn, *, alphanumeric_ids: bool) -> tuple[list[str], dict[str, Any], str]:
    """A bilingual slip with random valid values and OCR damage: lines, truth, full card."""
    ids = _id_string if alphanumeric_ids else _digit_string
    moment = draw(_MOMENTS)
    card = draw(st.text(alphabet=_DIGITS, min_size=16, max_size=19))
    name = draw(st.sampled_from(_NAMES))
    acquirer, issuer = draw(st.sampled_from(_BANKS)), draw(st.sampled_from(_BANKS))
    trans_text, trans_type = draw(st.sampled_from(_TRANS_TYPES))
    truth: dict[str, Any] = {
        "merchant_name": name,
        "merchant_id": draw(ids(15)),
        "terminal_id": draw(ids(8)),
        "acquirer": acquirer,
        "issuer": issuer,
        "card_masked": card[:6] + "*" * (len(card) - 10) + card[-4:],
        "trans_type": trans_type,
        "batch": draw(_digit_string(6)),
        "voucher": draw(_digit_string(6)),
        "auth_code": draw(st.text(alphabet=_DIGITS + _CLEAR_LETTERS, min_size=6, max_size=6)),
        "reference": draw(_digit_string(12)),
        "day": moment.date(),
        "time": moment.time(),
        "amount": draw(_AMOUNTS),
    }

    def printed(field: str) -> str:
        if field in ("merchant_id", "terminal_id", "batch", "voucher", "reference"):
            value: str = truth[field]
            return _damage_digits(draw, value) if value.isdigit() else value
        if field == "card":
            shown = card if draw(st.booleans()) else truth["card_masked"]
            return shown + draw(st.sampled_from(["", " /S", " /C", "/I", " (C)"]))
        if field == "trans_type":
            return trans_text
        if field == "when":
            return _render_moment(draw, moment)
        if field == "amount":
            return _render_amount(draw, truth["amount"])
        return str(truth[field])

    lines = ["中国银联 POS签购单", "商户存根 MERCHANT COPY"]
    order = list(_LABELS)
    index = 0
    while index < len(order):
        field = order[index]
        partner = _PAIRS.get(field)
        assert partner is None or order[index + 1] == partner
        colon = draw(st.sampled_from([":", "：", "", " ", " : ", ":  "]))
        if partner is not None and draw(st.booleans()):
            # Two fields on one line, the first's value glued or spaced before the second label.
            gap = draw(st.sampled_from(["", " ", "  "]))
            second_colon = draw(st.sampled_from([":", "：", ""]))
            head = f"{_label(draw, field)}{colon}{printed(field)}{gap}{_label(draw, partner)}"
            if draw(st.booleans()):
                lines.append(f"{head}{second_colon}{printed(partner)}")
            else:
                lines += [f"{head}{second_colon}", printed(partner)]
            index += 2
            continue
        if draw(st.booleans()):
            lines.append(f"{_label(draw, field)}{colon}{printed(field)}")
        else:
            lines += [f"{_label(draw, field)}{colon.rstrip()}", printed(field)]
        index += 1
    lines += ["备注(REFERENCE):", "持卡人签名(CARDHOLDER SIGNATURE):", "本人确认以上交易"]
    padded = [
        draw(st.sampled_from(["", " ", "\u3000"])) + line + draw(st.sampled_from(["", " "]))
        for line in lines
    ]
    return padded, truth, card


@given(_slips(alphanumeric_ids=False))
def test_property_damaged_bilingual_slip_reads_back_exactly(
    slip: tuple[list[str], dict[str, Any], str],
) -> None:
    lines, truth, card = slip
    result = extract_fields(lines, now=NOW)
    assert {f.name: getattr(result, f.name) for f in fields(result)} == truth
    assert card not in repr(result)


# A smudge holds no digit and nothing NFKC turns into a digit look-alike ("ｌ", "ℴ"): a line of
# look-alikes under a label would be a valid-looking number, which no reader could tell apart.
_NOISE = st.text(max_size=12).filter(
    lambda text: not any(c in "0123456789OoIl|gSB" for c in unicodedata.normalize("NFKC", text))
)


@given(_slips(alphanumeric_ids=True), st.data())
def test_property_never_returns_a_wrong_value(
    slip: tuple[list[str], dict[str, Any], str], data: st.DataObject
) -> None:
    """One more accident (a lost line, a smudged label, noise): fields may go, never wrong."""
    lines, truth, card = slip
    accident = data.draw(st.sampled_from(["none", "drop", "smudge_label", "noise"]))
    at = data.draw(st.integers(0, len(lines) - 1))
    if accident == "drop":
        del lines[at]
    elif accident == "smudge_label":
        lines[at] = "■■" + lines[at].split(":")[-1].split("：")[-1]
    elif accident == "noise":
        lines.insert(at, data.draw(_NOISE))
    result = extract_fields(lines, now=NOW)
    for field in (*_CHECKED, "card_masked", "day", "time", "auth_code", "trans_type"):
        assert getattr(result, field) in (None, truth[field]), field
    for field in ("merchant_name", "acquirer", "issuer"):
        # A name is any text; beyond the trimmed smudge it must be the printed one.
        assert getattr(result, field) in (None, truth[field]), field
    assert card not in repr(result)


@given(st.lists(st.text()))
def test_property_never_raises_on_arbitrary_text(lines: list[str]) -> None:
    result = extract_fields(lines, now=NOW)
    assert isinstance(result.found(), dict)


_SLIP_ALPHABET = st.sampled_from(
    [
        *"0123456789OolI|gSB:：/.,*-() ￥¥",
        *[
            "参考号",
            "批次号",
            "凭证号",
            "REF NO.",
            "DATE",
            "TIME",
            "金额",
            "RMB",
            "卡号",
            "/S",
            "\n",
        ],
    ]
)


@given(st.lists(st.lists(_SLIP_ALPHABET, max_size=30).map("".join), max_size=20))
def test_property_never_raises_on_slip_like_garbage(lines: list[str]) -> None:
    result = extract_fields(lines, now=NOW)
    for field in ("reference", "batch", "voucher", "terminal_id", "merchant_id"):
        value = getattr(result, field)
        assert value is None or value.isalnum()
    if result.card_masked is not None:
        assert "*" in result.card_masked or len(result.card_masked) <= 10


# ------------------------------------------------------------------------------ seeded corpus


def test_seeded_damage_corpus_is_read_exactly() -> None:
    """A fixed random corpus, so a regression shows as a count rather than a shrunk example."""
    rng = random.Random(20261125)
    misses = []
    for _ in range(300):
        moment = NOW.replace(tzinfo=None) - timedelta(minutes=rng.randrange(1, 5_000_000))
        reference = "".join(rng.choice(_DIGITS) for _ in range(12))
        damaged = "".join(
            rng.choice(_LOOKALIKES.get(c, c)) if rng.random() < 0.2 else c for c in reference
        )
        lines = [
            "参考号(REFER NO.)",
            damaged,
            f"日期/时间:{moment:%Y/%m/%d%H:%M:%S}",
        ]
        result = extract_fields(lines, now=NOW)
        if (result.reference, result.day, result.time) != (
            reference,
            moment.date(),
            moment.time(),
        ):
            misses.append(lines)
    assert misses == []
