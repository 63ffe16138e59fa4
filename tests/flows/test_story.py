"""Tests for the story reader: each fact kind in Chinese and English, the precision rules, the
benchmark corpus (never a wrong fact), and fuzzing (never raises, never invents a fact)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.answers import SHANGHAI
from flows.banks import DEFAULT_BANKS
from flows.facts import Facts
from flows.settlement_calendar import Cycle
from flows.story import MAX_STORY_CHARS, Intent, Story, read_story

# Saturday afternoon: 昨天 is Friday 12-04, 前天 Thursday 12-03, 上周五 Friday 11-27.
NOW = datetime(2026, 12, 5, 15, 0, tzinfo=SHANGHAI)


def read(text: str) -> Story:
    return read_story(text, NOW, DEFAULT_BANKS)


def _day(day: str, time: str | None = None) -> dict[str, Any]:
    return {"day": day, "time": time}


# ------------------------------------------------------------------------------- each fact kind

FACTS: list[tuple[str, dict[str, Any]]] = [
    # date and time, relative and absolute
    ("昨天下午3点刷的", {"when": _day("2026-12-04", "15:00")}),
    ("前天晚上刷了一笔", {"when": _day("2026-12-03")}),
    ("上周五刷的卡", {"when": _day("2026-11-27")}),
    ("12月1号刷了3000", {"when": _day("2026-12-01")}),
    ("十一月二十八号下午三点刷的", {"when": _day("2026-11-28", "15:00")}),
    ("交易时间2026-12-03 14:25:10", {"when": _day("2026-12-03", "14:25")}),
    ("swiped a card yesterday at 3pm", {"when": _day("2026-12-04", "15:00")}),
    ("paid on Dec 2 at 4pm", {"when": _day("2026-12-02", "16:00")}),
    ("the money from the 2nd still hasn't come", {"when": _day("2026-12-02")}),
    ("4200 yuan on the 3rd, no money yet", {"when": _day("2026-12-03")}),
    ("昨天下午四点左右，用云闪付收了900", {"when": _day("2026-12-04", "16:00")}),
    ("昨天下午3点", {"when": _day("2026-12-04", "15:00")}),
    ("昨天一个客人买了好多东西 一共刷了2680", {"when": _day("2026-12-04")}),
    ("我的是光大银行，昨天那笔一直没到", {"when": _day("2026-12-04")}),
    ("swiped this afternoon at 2:30", {"when": _day("2026-12-05", "14:30")}),
    ("today 11am customer tapped card 260 yuan", {"when": _day("2026-12-05", "11:00")}),
    ("上个月15号刷的卡到现在还没到", {"when": _day("2026-11-15")}),
    # amount
    ("刷了5000块", {"amount": "5000.00"}),
    ("¥３８００", {"amount": "3800.00"}),
    ("金额1,280.50元", {"amount": "1280.50"}),
    ("交易成功，金额6500，12月2号下午", {"amount": "6500.00", "when": _day("2026-12-02")}),
    ("交易显示失败但客户的钱扣了 3880", {"amount": "3880.00"}),
    ("刷了一万二", {"amount": "12000.00"}),
    ("刷了1.5万", {"amount": "15000.00"}),
    ("叁仟伍佰元整", {"amount": "3500.00"}),
    ("刷卡1280 交易成功", {"amount": "1280.00"}),
    ("a card payment of RMB 12,000", {"amount": "12000.00"}),
    ("for 5000 yuan", {"amount": "5000.00"}),
    ("一万二", {"amount": "12000.00"}),
    ("凌晨1点刷了一笔RMB8,888", {"amount": "8888.00"}),
    ("帮我看看那笔2000的", {"amount": "2000.00"}),
    # method
    ("刷卡的", {"method": "card"}),
    ("插卡付的", {"method": "card"}),
    ("挥卡", {"method": "card"}),
    ("微信收款的", {"method": "wechat"}),
    ("用的是微信的收款码", {"method": "wechat"}),
    ("客户用支付宝付的", {"method": "alipay"}),
    ("云闪付扫的", {"method": "upqr"}),
    ("I swiped the card", {"method": "card"}),
    ("paid with WeChat Pay", {"method": "wechat"}),
    ("not wechat, it was alipay", {"method": "alipay"}),
    # transaction type
    ("预授权", {"card_type": "preauth"}),
    ("it was a pre-authorization", {"card_type": "preauth"}),
    ("不是预授权 是普通消费", {"card_type": "sale"}),
    # the terminal
    ("机器显示超时", {"terminal": "noresult"}),
    ("刷完没反应", {"terminal": "noresult"}),
    ("POS上显示交易失败", {"terminal": "failed"}),
    ("小票打出来了", {"terminal": "success"}),
    ("显示交易成功", {"terminal": "success"}),
    ("the terminal said approved", {"terminal": "success"}),
    ("the POS timed out", {"terminal": "noresult"}),
    ("the terminal showed declined", {"terminal": "failed"}),
    ("刷卡提示余额不足", {"terminal": "failed"}),
    ("the terminal printed the receipt", {"terminal": "success"}),
    # the records
    ("App里显示成功", {"records": "success"}),
    ("后台查不到这笔", {"records": "missing"}),
    ("商户平台上显示已撤销", {"records": "failed"}),
    ("it is not in the app", {"records": "missing"}),
    ("app shows success", {"records": "success"}),
    # what arrived
    ("一分钱都没到", {"received": "none"}),
    ("还没到账", {"received": "none"}),
    ("少了60块钱", {"received": "partial"}),
    ("钱只到了一半", {"received": "partial"}),
    ("到了一半", {"received": "partial"}),
    ("nothing arrived", {"received": "none"}),
    ("yesterday's payments are missing", {"received": "none"}),
    ("钱没进账", {"received": "none"}),
    ("钱都进不来", {"received": "none"}),
    ("银行说没有这笔入账", {"received": "none"}),
    ("still nothing in my ICBC account", {"received": "none"}),
    ("今天没看到钱", {"received": "none"}),
    ("刷了5000只到了4970", {"received": "partial", "amount": "5000.00"}),
    ("刷了两万 到了一万九千八百八十", {"received": "partial", "amount": "20000.00"}),
    # cycle
    ("T+1的", {"cycle": "t1"}),
    ("Ｔ＋１", {"cycle": "t1"}),
    ("T1结算", {"cycle": "t1"}),
    ("D+1结算", {"cycle": "d1"}),
    ("我们是秒到的", {"cycle": "d0"}),
    ("we are D0", {"cycle": "d0"}),
    # bank
    ("工行卡", {"bank": {"code": "icbc"}}),
    ("结算卡是招商银行的", {"bank": {"code": "cmb"}}),
    ("ICBC account", {"bank": {"code": "icbc"}}),
    ("北京农商银行的卡", {"bank": {"name": "北京农商银行"}}),
    # acquirer
    ("拉卡拉的机器", {"acquirer": "拉卡拉"}),
    ("银联商务的pos", {"acquirer": "银联商务"}),
    ("Lakala terminal", {"acquirer": "Lakala"}),
    # account notices
    ("卡被冻结了", {"account": "frozen"}),
    ("收到调单通知", {"account": "risk"}),
    ("您的商户存在风险交易，结算已暂停", {"account": "risk"}),
    ("把结算卡从农行换成了招行", {"account": "changed"}),
    ("结算账户被风控了", {"account": "risk"}),
    ("上个月换了结算卡", {"account": "changed"}),
    ("结算卡是二类户", {"account": "type23"}),
    ("my settlement account got frozen", {"account": "frozen"}),
    # receipt keys
    ("参考号 1234 5678 9012", {"reference": "123456789012"}),
    ("终端号12345678", {"terminal_id": "12345678"}),
    ("商户号：898310012345678", {"merchant_id": "898310012345678"}),
    ("凭证号000123", {"voucher": "000123"}),
    ("reference number 332812345678", {"reference": "332812345678"}),
    # Corrections, typed at "this is what I understood": the field, "wrong", the right value.
    ("金额不对，是5800", {"amount": "5800.00"}),
    ("金额错了 应该是5800", {"amount": "5800.00"}),
    ("金额应该是5800元", {"amount": "5800.00"}),
    ("不是5000，是5800", {"amount": "5800.00"}),
    ("不是5000块是5800", {"amount": "5800.00"}),
    ("时间不对，是前天下午3点", {"when": {"day": "2026-12-03", "time": "15:00"}}),
    ("时间是前天下午3点", {"when": {"day": "2026-12-03", "time": "15:00"}}),
    ("日期错了，应该是12月2日", {"when": {"day": "2026-12-02", "time": None}}),
    ("银行不对，是建行", {"bank": {"code": "ccb"}}),
    ("the amount is wrong, it's 5800", {"amount": "5800.00"}),
    ("amount should be 5800", {"amount": "5800.00"}),
    (
        "the time is wrong, it was yesterday at 3pm",
        {"when": {"day": "2026-12-04", "time": "15:00"}},
    ),
]


@pytest.mark.parametrize(("text", "expected"), FACTS)
def test_each_fact_is_read(text: str, expected: dict[str, Any]) -> None:
    facts = read(text).facts
    assert {key: facts.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    "text",
    [
        "金额不对",  # wrong, but no value: the ✏ button asks it
        "不是5000",
        "不是12345678，是12345679",  # a key's digits, not an amount
        "应该是T+1吧",  # a guess stays a guess
        "日期为什么是12月3号",  # asks why: no correction
        "金额为什么是5000",
    ],
)
def test_a_correction_without_a_plain_value_takes_nothing_it_did_not_say(text: str) -> None:
    facts = read(text).facts
    assert not {"amount", "cycle", "when"} & set(facts), facts


def test_the_issue_story_gives_every_fact_in_the_intake_shape() -> None:
    story = read("昨天下午3点刷了一笔5000块的，T+1，到现在一分钱都没到")
    assert story.facts == {
        "when": {"day": "2026-12-04", "time": "15:00"},
        "amount": "5000.00",
        "method": "card",
        "cycle": "t1",
        "received": "none",
    }
    assert story.ambiguous == ()


def test_english_story() -> None:
    story = read("I swiped a card for 5000 yesterday at 3pm, nothing arrived")
    assert story.facts == {
        "when": {"day": "2026-12-04", "time": "15:00"},
        "amount": "5000.00",
        "method": "card",
        "received": "none",
    }


def test_facts_merge_into_answers_that_the_diagnosis_reads() -> None:
    story = read(
        "前天刷了一笔八千八的信用卡，机器上显示成功了，App里也显示成功，T+1，钱一直没到，工行卡"
    )
    facts = Facts.from_answers(story.facts)
    assert (facts.amount, facts.method.value, facts.bank_code) == (8800, "card", "icbc")
    assert (facts.terminal.value, facts.records.value, facts.received.value) == (
        "success",
        "success",
        "none",
    )


# ------------------------------------------------------------------------------- what arrived


def test_pasted_bank_sms_is_what_arrived_not_the_sale() -> None:
    story = read("您尾号1234的账户12月4日入账1,240.00元")
    assert story.received_amount == "1240.00"
    assert story.received_day == "2026-12-04"
    assert "amount" not in story.facts
    assert "when" not in story.facts


def test_bank_sms_with_balance_and_sender() -> None:
    story = read(
        "【中国农业银行】您尾号5678账户12月03日15:32完成代付交易人民币4,985.00，余额12,345.67"
    )
    assert (story.received_amount, story.received_day) == ("4985.00", "2026-12-03")
    assert story.facts == {"bank": {"code": "abc"}}


def test_amount_after_fee_or_arrival_is_not_the_sale() -> None:
    story = read("手续费扣了60，到了9940，原来是10000")
    assert story.facts["amount"] == "10000.00"
    assert story.received_amount == "9940.00"
    assert story.facts["received"] == "partial"


def test_acquirer_settlement_notice() -> None:
    story = read("【拉卡拉】尊敬的商户，您12月4日的交易款4,985.00元已结算至尾号1234的账户")
    assert story.received_amount == "4985.00"
    assert story.received_day is None  # 12月4日 names the trades settled, not the arrival
    assert story.facts == {"acquirer": "拉卡拉"}


def test_bank_sms_with_a_bracketed_source() -> None:
    story = read(
        "【工商银行】您尾号3321卡12月4日08:12工资以外收入(银联入账)3,000.00元，余额5,120.33元"
    )
    assert (story.received_amount, story.received_day) == ("3000.00", "2026-12-04")
    assert "amount" not in story.facts


def test_what_did_not_arrive_is_the_sale() -> None:
    story = read("客户说他信用卡扣了钱 我这边没收到 1500 昨天下午5点")
    assert story.facts["amount"] == "1500.00"
    assert story.received_amount is None
    assert story.facts["received"] == "none"


def test_chinese_arrival_after_the_amount() -> None:
    story = read("钱到了一部分 3000到了 还差2000")
    assert story.received_amount == "3000.00"
    assert story.facts == {"received": "partial"}


def test_what_should_have_arrived_is_no_amount() -> None:
    story = read("刷了20000 手续费120 应该到19880 结果只到了19000")
    assert story.facts["amount"] == "20000.00"
    assert story.received_amount == "19000.00"


def test_only_a_received_amount() -> None:
    story = read("只到了9940")
    assert story.received_amount == "9940.00"
    assert story.facts == {"received": "partial"}


def test_received_day_from_the_arrival() -> None:
    story = read("昨天刷的卡今天早上到了一部分")
    assert story.facts["when"] == _day("2026-12-04")
    assert story.received_day == "2026-12-05"


def test_shortfall_is_not_what_arrived() -> None:
    story = read("钱是打到农业银行卡上的 少到账了50")
    assert story.received_amount is None
    assert story.facts["received"] == "partial"


def test_when_it_should_arrive_is_no_arrival() -> None:
    story = read("我昨天刷了4500，按理说今天应该到账了，可是一分钱都没有")
    assert story.received_day is None
    assert story.facts["when"] == _day("2026-12-04")


def test_balance_is_not_an_amount() -> None:
    assert read("余额显示12,345.67 我刷了8000还没到").facts["amount"] == "8000.00"


# ------------------------------------------------------------------------------- precision


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("不是微信，是刷卡", "method"),  # method is card, never wechat: checked below
        ("没有超时，显示成功了", "terminal"),
        ("交易没失败，是成功的", "terminal"),
    ],
)
def test_negated_words_give_the_other_value(text: str, field: str) -> None:
    assert read(text).facts[field] in {"card", "success"}


@pytest.mark.parametrize(
    "text",
    [
        "卡没被冻结，也没收到什么通知",
        "不是二类户",
        "是不是被风控了",
        "是D+1吗",
        "加你微信说吧",
        "微信转账给我的",
        "客户扫码付的",
        "今天天气不好 店里人少",
        "尾号6688的卡",
        "我的电话13812345678，麻烦回电",
        "打了95588问了",
        "算了一下",
        "this is the 3rd time I ask",
        "不知道到没到",
        "我不知道是T+1还是D+1",
        "是微信还是支付宝来着",
        "wechat or alipay, not sure",
        "打了工行客服电话问了",
    ],
)
def test_no_fact_where_none_is_stated(text: str) -> None:
    story = read(text)
    assert story.facts == {}
    assert story.received_amount is None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("3/4刷的卡 3000元", "when"),
        ("5/6那笔", "when"),
        ("swiped 3000 on 3/4", "when"),
        ("我先刷卡失败了又刷了一次成功了", "terminal"),
        ("客户刷卡提示余额不足 又换了张卡刷成功了", "terminal"),
        ("12月1号刷了两笔一笔3000一笔5000", "amount"),
        ("刷了2万多", "amount"),
        ("结算卡是中信百信银行", "bank"),
        ("用的是浦发村镇银行的卡", "bank"),
        ("农商行的卡", "bank"),
        ("刷卡失败后来用微信付的", "method"),
        ("做了退货", "records"),
        ("yesterday I swiped 3 cards, total 9000", "amount"),
        ("昨天刷了2笔，3000和5000，一笔到了一笔没到", "amount"),
        ("昨天刷了2笔，3000和5000，一笔到了一笔没到", "received"),
        ("I'm not sure if it was WeChat or Alipay", "method"),
        ("customer tapped Apple Pay for 99", "method"),
        ("昨天的交易被风控拦截了吗", "account"),
        ("机器显示交易成功了吗", "terminal"),
        ("商户APP上能看到这笔，状态是交易成功", "terminal"),
        ("预授权完成了", "card_type"),
    ],
)
def test_ambiguous_facts_are_asked_not_taken(text: str, field: str) -> None:
    story = read(text)
    assert field not in story.facts
    assert field in {ambiguity.field for ambiguity in story.ambiguous}


def test_a_question_is_not_a_statement() -> None:
    assert read("刷卡成功了吗").facts == {"method": "card"}
    assert read("后台显示已冲正 这笔5000还能到吗").facts["records"] == "failed"
    assert read("我账户是三类户 限额了吗").facts == {"account": "type23"}


def test_the_payers_app_is_not_the_acquirers_records() -> None:
    assert read("云闪付 APP 上显示支付成功").facts == {"method": "upqr"}


def test_a_frozen_screen_is_not_a_frozen_account() -> None:
    assert read("the POS screen froze").facts == {"terminal": "noresult"}


def test_a_name_with_a_cue_inside_is_only_a_name() -> None:
    assert read("不是拉卡拉的机器 是乐刷的").facts == {"acquirer": "乐刷"}


def test_issuer_bank_of_the_customer_is_not_the_settlement_bank() -> None:
    assert "bank" not in read("客人用招行信用卡刷的").facts


def test_cycle_the_deployment_does_not_offer_is_asked() -> None:
    story = read_story("我们是秒到的", NOW, DEFAULT_BANKS, cycles=(Cycle.T1,))
    assert "cycle" not in story.facts
    assert [ambiguity.field for ambiguity in story.ambiguous] == ["cycle"]


@pytest.mark.parametrize(
    "text", ["11月25日至今的交易都没有结算", "我想问一下 T+1的话周六刷的卡什么时候到"]
)
def test_a_range_or_a_condition_is_no_payment_date(text: str) -> None:
    assert "when" not in read(text).facts


def test_the_customers_side_is_not_the_terminal() -> None:
    story = read("payment failed on the terminal but went through on the customer's side, 2,200")
    assert story.facts["terminal"] == "failed"


def test_date_that_is_now_is_not_the_payment_date() -> None:
    story = read("客人用微信扫码付了680元今天还没到账")
    assert "when" not in story.facts
    assert read("帮我重新开始吧 刚才填错了").facts == {}


def test_a_card_number_is_never_kept_in_what_was_seen() -> None:
    story = read("参考号6222020200112233445 刷了5000")
    assert story.facts["amount"] == "5000.00"
    assert "reference" not in story.facts
    assert all("6222020200112233445" not in seen.text for seen in story.ambiguous)
    assert story.ambiguous[0].field == "reference"


def test_sources_name_the_words() -> None:
    story = read("昨天刷了5000块")
    assert story.sources["amount"] == "5000块"


# ------------------------------------------------------------------------------- intents


@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("转人工", {Intent.PERSON}),
        ("人工客服", {Intent.PERSON}),
        ("talk to a person please", {Intent.PERSON}),
        ("I want to talk to a human", {Intent.PERSON}),
        ("到账了", {Intent.ARRIVED}),
        ("钱已经到账了，谢谢", {Intent.ARRIVED}),
        ("It arrived, thanks", {Intent.ARRIVED}),
        ("还没到", {Intent.STILL_MISSING}),
        ("still not arrived", {Intent.STILL_MISSING}),
        ("算了", {Intent.CANCEL}),
        ("取消", {Intent.CANCEL}),
        ("cancel", {Intent.CANCEL}),
        ("重新开始", {Intent.RESTART}),
        ("start over", {Intent.RESTART}),
        ("转人工 我昨天刷的钱没到", {Intent.PERSON}),
        ("能不能转人工啊", {Intent.PERSON}),
        ("我问了银行客服，说没收到这笔钱", set()),
        ("不用人工", set()),
        ("交易被取消了", set()),
        ("还是没到账", {Intent.STILL_MISSING}),
        ("还没到账吗", set()),
        # Small talk: greetings, thanks and acknowledgements, nothing to act on.
        ("你好", {Intent.SMALL_TALK}),
        ("在吗？", {Intent.SMALL_TALK}),
        ("谢谢", {Intent.SMALL_TALK}),
        ("好的，辛苦了", {Intent.SMALL_TALK}),
        ("明白了 👍", {Intent.SMALL_TALK}),
        ("👍", {Intent.SMALL_TALK}),
        ("hi", {Intent.SMALL_TALK}),
        ("ok got it", {Intent.SMALL_TALK}),
        ("Got it, thanks!", {Intent.SMALL_TALK}),
        ("Thank you", {Intent.SMALL_TALK}),
        # "收到" is how a chat says "noted" as much as "it arrived": asked, never taken.
        ("收到", {Intent.NOTED}),
        ("收到了", {Intent.NOTED}),
        ("好的收到，谢谢", {Intent.NOTED}),
        ("received", {Intent.NOTED}),
        ("钱收到了", {Intent.ARRIVED}),
        ("收到钱了，谢谢", {Intent.ARRIVED}),
        # Asking whether it came is not saying it did: the bot cannot see the account.
        ("钱到了吗", {Intent.ASKS_IF_ARRIVED}),
        ("到账了吗？", {Intent.ASKS_IF_ARRIVED}),
        ("到了没", {Intent.ASKS_IF_ARRIVED}),
        ("钱到账了没有?", {Intent.ASKS_IF_ARRIVED}),
        ("has it arrived?", {Intent.ASKS_IF_ARRIVED}),
        ("it arrived?", {Intent.ASKS_IF_ARRIVED}),
        ("钱到了没啊", {Intent.ASKS_IF_ARRIVED}),
        ("应该到了吧", {Intent.ASKS_IF_ARRIVED}),
        ("好像到了", {Intent.ASKS_IF_ARRIVED}),
        ("到了吧", {Intent.ASKS_IF_ARRIVED}),
        ("maybe it arrived", {Intent.ASKS_IF_ARRIVED}),
        ("到了", {Intent.ARRIVED}),
        ("收到款了", {Intent.ARRIVED}),
        ("到了，谢谢", {Intent.ARRIVED}),
        ("到了啊", {Intent.ARRIVED}),
        # "到了" of a person, or half of it: no arrival.
        ("我到了银行问了", set()),
        ("人到了银行", set()),
        # Somebody else saying so is not the merchant seeing it: asked.
        ("银行说到了", {Intent.ASKS_IF_ARRIVED}),
        ("客服说已经到账了", {Intent.ASKS_IF_ARRIVED}),
        ("app显示已到账", {Intent.ASKS_IF_ARRIVED}),
        ("the bank says it arrived", {Intent.ASKS_IF_ARRIVED}),
        ("款已收到，谢谢", {Intent.ARRIVED}),
        ("money received, thanks", {Intent.ARRIVED}),
        ("received the money", {Intent.ARRIVED}),
        ("到了到了", {Intent.ARRIVED}),
        ("钱到了，不用查了", {Intent.ARRIVED}),
        ("到账了！", {Intent.ARRIVED}),
        # Words of small talk inside a message do not make it small talk.
        ("好几天了还没到", {Intent.STILL_MISSING}),
        ("谢谢，但是钱还没到", {Intent.STILL_MISSING}),
        ("?", set()),
        ("this", set()),
    ],
)
def test_intents(text: str, intents: set[Intent]) -> None:
    assert read(text).intents == intents


def test_a_wall_of_dates_is_read_and_asked() -> None:
    story = read("3/4 " * 1000)
    assert story.facts == {}
    assert "when" in {ambiguity.field for ambiguity in story.ambiguous}


def test_empty_story() -> None:
    assert read("你好").empty  # small talk is not a story
    assert not read("收到").empty  # "noted" or "it arrived": asked
    assert not read("转人工").empty


# ------------------------------------------------------------------------------- the corpus


def _corpus() -> Any:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "stories_corpus.py"
    spec = importlib.util.spec_from_file_location("stories_corpus", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("stories_corpus", module)
    spec.loader.exec_module(module)
    return module


CORPUS = _corpus()


@pytest.mark.parametrize(
    "case", CORPUS.STORIES + CORPUS.HOLDOUT + CORPUS.HOLDOUT_2, ids=lambda case: case.text[:24]
)
def test_corpus_story_takes_no_wrong_fact(case: Any) -> None:
    story = read_story(case.text, CORPUS.NOW, DEFAULT_BANKS)
    for key, value in story.facts.items():
        stated = case.facts.get(key)
        if key == "when" and stated and value["time"] is None:
            assert value["day"] == stated["day"], case.text
        else:
            assert value == stated, (key, case.text)
    assert story.received_amount in {None, case.received_amount}, case.text
    assert story.received_day in {None, case.received_day}, case.text
    assert {intent.value for intent in story.intents} <= case.intents, case.text
    assert not set(case.ambiguous) & set(story.facts), case.text


# ------------------------------------------------------------------------------- fuzzing

# Words merchants write around their facts, none of which states a fact.
FILLERS = (
    "你好",
    "请问",
    "怎么回事",
    "麻烦看看",
    "老板",
    "谢谢",
    "急",
    "我们店",
    "帮我查一下",
    "hello",
    "please help",
    "what happened",
    "the shop",
    "哎",
    "好的",
    "客户",
    "机器",
)
SEPARATORS = ("，", " ", "", "。", ", ", "！", "\n")

# Fragments stating facts, each with every (field, value) it may give.
FRAGMENTS: tuple[tuple[str, frozenset[tuple[str, Any]]], ...] = (
    ("昨天刷的卡", frozenset({("when", ("2026-12-04", None)), ("method", "card")})),
    ("刷了5000块", frozenset({("amount", "5000.00"), ("method", "card")})),
    ("金额3000元", frozenset({("amount", "3000.00")})),
    ("微信支付的", frozenset({("method", "wechat")})),
    ("支付宝收款", frozenset({("method", "alipay")})),
    ("显示交易成功", frozenset({("terminal", "success")})),
    ("机器显示超时", frozenset({("terminal", "noresult")})),
    ("App里查不到", frozenset({("records", "missing")})),
    ("一分钱都没到", frozenset({("received", "none")})),
    ("只到了4970", frozenset({("received", "partial"), ("received_amount", "4970.00")})),
    ("T+1结算", frozenset({("cycle", "t1")})),
    ("秒到的", frozenset({("cycle", "d0")})),
    ("工行卡", frozenset({("bank", "icbc")})),
    ("拉卡拉的机器", frozenset({("acquirer", "拉卡拉")})),
    ("账户被冻结", frozenset({("account", "frozen")})),
    ("参考号123456789012", frozenset({("reference", "123456789012")})),
    ("预授权", frozenset({("card_type", "preauth")})),
    ("不是微信", frozenset()),
    ("没有超时", frozenset()),
    ("不是二类户", frozenset()),
    ("swiped a card", frozenset({("method", "card")})),
    ("for 800 yuan", frozenset({("amount", "800.00")})),
    ("nothing arrived", frozenset({("received", "none")})),
    ("ICBC account", frozenset({("bank", "icbc")})),
    ("the POS timed out", frozenset({("terminal", "noresult")})),
)


def _flat(story: Story) -> set[tuple[str, Any]]:
    found: set[tuple[str, Any]] = set()
    for key, value in story.facts.items():
        if key == "when":
            found.add((key, (value["day"], value["time"])))
        elif key == "bank":
            found.add((key, value.get("code") or value.get("name")))
        else:
            found.add((key, value))
    if story.received_amount is not None:
        found.add(("received_amount", story.received_amount))
    if story.received_day is not None:
        found.add(("received_day", story.received_day))
    return found


@given(st.text(max_size=200))
def test_never_raises_on_any_text(text: str) -> None:
    story = read(text)
    assert isinstance(story.facts, dict)


@given(
    st.text(
        alphabet="0123456789０１２３４５６７８９/.-:年月日号点半上下午昨今天前元块万千¥, ",
        max_size=60,
    )
)
def test_never_raises_on_number_soup(text: str) -> None:
    read(text)


@given(st.lists(st.tuples(st.sampled_from(FILLERS), st.sampled_from(SEPARATORS)), max_size=8))
def test_no_fact_from_words_without_facts(parts: list[tuple[str, str]]) -> None:
    text = "".join(word + separator for word, separator in parts)
    story = read(text)
    assert story.facts == {}
    assert story.received_amount is None
    assert story.received_day is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(FRAGMENTS),
            st.sampled_from((*FILLERS, "")),
            st.sampled_from(SEPARATORS),
            st.sampled_from(SEPARATORS),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_every_fact_found_was_planted(parts: list[tuple[Any, str, str, str]]) -> None:
    text = "".join(
        filler + before + fragment + after for (fragment, _), filler, before, after in parts
    )
    planted = set().union(*(plants for (_, plants), *_ in parts))
    assert _flat(read(text)) <= planted, text


def test_a_text_longer_than_any_telegram_message_gives_nothing() -> None:
    story = "我昨天下午刷了一笔5000块的，到现在还没到账。"
    assert read(story).facts  # the same story, within the limit, is read
    padded = story + " " * (MAX_STORY_CHARS - len(story))
    assert read(padded).facts
    assert read(padded + " ").facts == {}
    assert read(padded + " ").intents == frozenset()
