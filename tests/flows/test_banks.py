"""A bank is recognised only by its own name; every other bank is sent to the back of the card."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.banks import BANKS, DEFAULT_BANKS, Institution
from tests.flows.dialogue import Dialogue


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # full and short names, with and without 中国
        ("中国工商银行", "icbc"),
        ("工商银行", "icbc"),
        ("工行", "icbc"),
        ("中国建设银行", "ccb"),
        ("建行", "ccb"),
        ("中国农业银行", "abc"),
        ("农行", "abc"),
        ("中国银行", "boc"),
        ("中行", "boc"),
        ("交通银行", "bocom"),
        ("交行", "bocom"),
        ("中国邮政储蓄银行", "psbc"),
        ("邮储", "psbc"),
        ("招商银行", "cmb"),
        ("招行", "cmb"),
        ("兴业银行", "cib"),
        ("上海浦东发展银行", "spdb"),
        ("浦发", "spdb"),
        ("中信银行", "citic"),
        ("中信", "citic"),
        ("中国光大银行", "ceb"),
        ("中国民生银行", "cmbc"),
        ("民生银行", "cmbc"),
        ("民生", "cmbc"),
        ("平安银行", "pingan"),
        ("华夏银行", "hxb"),
        ("广发银行", "cgb"),
        # in a sentence, with a branch, the company form or the card
        ("我的卡是工商银行的", "icbc"),
        ("开户行：建行", "ccb"),
        ("工商银行深圳分行", "icbc"),
        ("中国建设银行北京朝阳支行", "ccb"),
        ("中国工商银行股份有限公司", "icbc"),
        ("中信银行信用卡", "citic"),
        ("建行的卡", "ccb"),
        ("ＩＣＢＣ", "icbc"),
        # English names and abbreviations
        ("ICBC", "icbc"),
        ("Industrial and Commercial Bank of China", "icbc"),
        ("icbc shenzhen branch", "icbc"),
        ("China Construction Bank", "ccb"),
        ("Agricultural Bank of China", "abc"),
        ("ABC", "abc"),
        ("Bank of China", "boc"),
        ("Bank of Communications", "bocom"),
        ("Postal Savings Bank of China", "psbc"),
        ("China Merchants Bank", "cmb"),
        ("Industrial Bank", "cib"),
        ("SPD Bank", "spdb"),
        ("China CITIC Bank", "citic"),
        ("CITIC Bank", "citic"),
        ("China Everbright Bank", "ceb"),
        ("China Minsheng Bank", "cmbc"),
        ("Ping An Bank", "pingan"),
        ("Hua Xia Bank", "hxb"),
        ("China Guangfa Bank", "cgb"),
    ],
)
def test_a_bank_named_by_its_own_name_is_recognised(text: str, code: str) -> None:
    bank = DEFAULT_BANKS.match(text)
    assert bank is not None, text
    assert bank.code == code, text


@pytest.mark.parametrize(
    "text",
    [
        # village and rural banks carry a founder's name but have their own hotline
        "蓬莱民生村镇银行",
        "民生村镇银行",
        "浙江长兴建设村镇银行",
        "北京顺义银座村镇银行",
        "广州农商银行",
        "上海农村商业银行",
        "XX农商行",
        "山东省农村信用社",
        "农信社",
        "宁波鄞州农村合作银行",
        "Minsheng Village Bank",
        "Guangzhou Rural Commercial Bank",
        # banks with a shareholder's name inside are other banks
        "中信百信银行",
        "中信百信银行北京分行",
        "百信银行",
        "CITIC aiBank",
        "CITIC Baixin Bank",
        "招商永隆银行",
        "浦发硅谷银行",
        "Bank of China (Hong Kong)",
        # policy and city banks we do not list
        "中国农业发展银行",
        "宁波银行",
        "Bank of Ningbo",
        "abcd bank",
    ],
)
def test_any_other_bank_is_not_matched(text: str) -> None:
    assert DEFAULT_BANKS.match(text) is None, text


@given(st.sampled_from(BANKS), st.sampled_from(["村镇银行", "农商银行", "农村信用社"]))
def test_a_rural_bank_named_after_a_big_bank_is_never_that_bank(
    bank: Institution, kind: str
) -> None:
    for name in (bank.name_zh.removesuffix("银行"), *bank.aliases):
        assert DEFAULT_BANKS.match(f"某某{name}{kind}") is None


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("蓬莱民生村镇银行", {"name": "蓬莱民生村镇银行"}),
        ("中信百信银行", {"name": "中信百信银行"}),
        ("民生银行", {"code": "cmbc"}),
    ],
)
def test_the_bank_question_stores_other_banks_by_name(text: str, stored: object) -> None:
    dialogue = Dialogue()
    dialogue.command("start")
    # A week ago: overdue, so the summary calls the bank and the question is asked.
    dialogue.answer_all(["press:x:begin", "11月18日", "1", "press:a:method:card"])
    dialogue.answer_all(["press:a:card_type:sale", "press:a:terminal:success"])
    dialogue.answer_all(["press:a:records:success", "press:a:received:none", "press:a:cycle:t1"])
    assert dialogue.state == "asking_bank"
    dialogue.say(text)
    assert dialogue.record.answers["bank"] == stored
