"""The intake questions as data: field, choices, optional or not, when they apply, how parsed.

Each question's answer is stored JSON-ready under its field name. Choice questions also accept
the words a merchant is likely to type instead of pressing a button ("微信", "tap", "预授权").
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flows.amounts import parse_amount
from flows.answers import InvalidAnswer, normalize_text, parse_receipt_key
from flows.banks import DEFAULT_BANKS, BankDirectory
from flows.dates import parse_when
from flows.facts import RECEIPT_METHODS, WALLET_METHODS, Facts, Method, SlipType
from flows.settlement_calendar import SHANGHAI, Cycle

#: Button value that asks for free text instead (the "Other" buttons).
OTHER = "other"
#: Button value of "I don't have the receipt at hand": skips every remaining receipt key.
NO_RECEIPT = "noreceipt"
#: Value of the Skip button of optional questions.
SKIP = "skip"

Answers = Mapping[str, Any]


class WantsFreeText(Exception):
    """The merchant pressed "Other": ask them to type the answer."""


@dataclass(frozen=True)
class Question:
    """One intake question; `state` is the machine state that asks it."""

    field: str
    choices: tuple[str, ...] = ()
    free_text: bool = False
    optional: bool = False
    applies: Callable[[Answers], bool] = dataclasses.field(default=lambda answers: True)
    synonyms: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    parse: Callable[[str, datetime], Any] | None = None
    per_row: int = 2
    #: Button values the bot makes up while asking (one reading of a two-way date): they are
    #: parsed like typed text, so a pressed reading is checked as if it had been typed.
    offered: re.Pattern[str] | None = None

    @property
    def state(self) -> str:
        return f"asking_{self.field}"


def _paid_by_card(answers: Answers) -> bool:
    return answers.get("method") == Method.CARD.value


def _card_type_unknown(answers: Answers) -> bool:
    """Asked for card payments, unless a confirmed slip already printed the type, or the
    answers already given decide the outcome whatever the type (failed records, or money that
    partly arrived: a pre-authorization changes nothing there)."""
    if not _paid_by_card(answers) or answers.get("slip_type") is not None:
        return False
    return not _verdict_settled(answers, ("card_type",))


def _cycle_matters(answers: Answers) -> bool:
    """The cycle only places a due date: asked unless the answers given so far already decide
    that this payment will not settle as usual (failed records, a void, a pre-authorization,
    a terminal failure the records cannot contradict)."""
    return not _verdict_settled(answers, ("cycle",))


def _verdict_settled(answers: Answers, unasked: tuple[str, ...]) -> bool:
    """Whether the verdict rows give an outcome without a due date (or, for the card type,
    the same verdict) for every value the `unasked` fields may take, the other answers being
    known. Unknown answers the verdict reads: never settled, ask."""
    from flows.diagnosis import verdict_for  # the rules read the questions' answers

    needed = ("method", "terminal", "records", "received")
    if any(answers.get(name) is None for name in needed):
        return False
    card_types: tuple[str | None, ...] = (answers.get("card_type"),)
    if (
        answers.get("method") == Method.CARD.value
        and ("card_type" in unasked or answers.get("card_type") is None)
        and answers.get("slip_type") is None
    ):
        card_types = ("sale", "preauth", "unsure")
    verdicts = set()
    for card_type in card_types:
        probe = {**answers, "card_type": card_type, "cycle": "unsure"}
        probe.setdefault("when", {"day": "2000-01-03", "time": None})
        probe.setdefault("amount", "1")
        try:
            facts = Facts.from_answers(probe)
        except (KeyError, ValueError, TypeError):
            return False
        verdict = verdict_for(facts, datetime(2000, 1, 3, tzinfo=SHANGHAI))
        if "cycle" in unasked and verdict.outcome in ("settles", "F"):
            return False
        verdicts.add(verdict.name)
    return "cycle" in unasked or len(verdicts) == 1


def _read_from_slip(answers: Answers) -> bool:
    """The slip's type is never asked: it exists, and can be changed, once a slip gave it."""
    return answers.get("slip_type") is not None


def _has_receipt_keys(answers: Answers) -> bool:
    return answers.get("method") in {m.value for m in RECEIPT_METHODS}


def _pays_by_wallet(answers: Answers) -> bool:
    return answers.get("method") in {m.value for m in WALLET_METHODS}


def _parse_when(text: str, now: datetime) -> dict[str, Any]:
    when = parse_when(text, now)
    return {
        "day": when.day.isoformat(),
        "time": when.time.isoformat("minutes") if when.time else None,
    }


def _parse_amount(text: str, now: datetime) -> str:
    return str(parse_amount(text))


@functools.lru_cache(maxsize=8)  # one parser per directory: a deployment builds it once
def _bank_parser(banks: BankDirectory) -> Callable[[str, datetime], dict[str, Any]]:
    def parse(text: str, now: datetime) -> dict[str, Any]:
        bank = banks.match(text)
        if bank is not None:
            return {"code": bank.code}
        name = normalize_text(text)
        if not 2 <= len(name) <= 40 or not re.search(r"[\w\u4e00-\u9fff]", name):
            raise InvalidAnswer("unrecognised")
        return {"name": name}

    return parse


def _parse_name(text: str, now: datetime) -> str:
    name = normalize_text(text)
    if not 2 <= len(name) <= 60 or not re.search(r"[\w\u4e00-\u9fff]", name):
        raise InvalidAnswer("unrecognised")
    return name


def _receipt_parser(kind: str) -> Callable[[str, datetime], str]:
    def parse(text: str, now: datetime) -> str:
        return parse_receipt_key(kind, text)

    return parse


def _parse_order_no(text: str, now: datetime) -> str:
    value = re.sub(r"[\s-]", "", normalize_text(text)).upper()
    if not re.fullmatch(r"[0-9A-Z]{10,64}", value):
        raise InvalidAnswer("unrecognised")
    return value


def when_choice(day: date, clock: time | None) -> str:
    """The button value of one reading of a two-way date, e.g. 2026-03-04T10:00 (fits 64 bytes)."""
    return day.isoformat() + (f"T{clock.isoformat('minutes')}" if clock else "")


QUESTIONS: tuple[Question, ...] = (
    Question(
        "when",
        choices=("today", "yesterday", OTHER),
        free_text=True,
        parse=_parse_when,
        per_row=3,
        offered=re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2})?"),
    ),
    Question("amount", free_text=True, parse=_parse_amount),
    Question(
        "method",
        choices=("card", "upqr", "wechat", "alipay", "other"),
        synonyms={
            "card": (
                "刷卡",
                "银行卡",
                "插卡",
                "挥卡",
                "卡",
                "信用卡",
                "借记卡",
                "card",
                "swipe",
                "tap",
                "insert",
                "bank card",
            ),
            "upqr": ("银联二维码", "云闪付", "银联扫码", "unionpay qr", "unionpay"),
            "wechat": ("微信", "微信支付", "wechat", "weixin"),
            "alipay": ("支付宝", "alipay"),
            "other": ("其他", "其它", "other"),
        },
    ),
    Question(
        "card_type",
        choices=("sale", "preauth", "unsure"),
        applies=_card_type_unknown,
        synonyms={
            "sale": ("消费", "普通消费", "sale", "purchase"),
            "preauth": ("预授权", "pre-auth", "preauth", "pre-authorization", "pre-authorisation"),
            "unsure": ("不确定", "不知道", "不清楚", "not sure", "unsure", "don't know"),
        },
    ),
    Question(
        "slip_type",
        choices=tuple(kind.value for kind in SlipType),
        applies=_read_from_slip,
        synonyms={
            "sale": ("消费", "sale", "purchase"),
            "preauth": ("预授权", "pre-auth", "preauth", "pre-authorization"),
            "preauth_complete": ("预授权完成", "pre-auth completion", "completion"),
            "void": ("撤销", "消费撤销", "void"),
            "refund": ("退货", "退款", "refund"),
        },
    ),
    Question(
        "terminal",
        choices=("success", "failed", "noresult", "unknown"),
        per_row=1,
        synonyms={
            "success": ("成功", "交易成功", "打印了", "出单了", "success", "approved", "printed"),
            "failed": ("失败", "交易失败", "拒绝", "被拒", "failed", "declined", "fail"),
            "noresult": ("超时", "没结果", "没反应", "卡住", "timeout", "timed out", "no result"),
            "unknown": ("不记得", "忘了", "不确定", "don't remember", "not sure", "unknown"),
        },
    ),
    Question(
        "records",
        choices=("success", "failed", "missing", "cantcheck"),
        per_row=1,
        synonyms={
            "success": ("成功", "显示成功", "有", "yes", "success", "successful"),
            "failed": (
                "失败",
                "冲正",
                "撤销",
                "退货",
                "退款",
                "failed",
                "reversed",
                "voided",
                "refunded",
            ),
            "missing": ("没有", "查不到", "没记录", "not listed", "missing", "no"),
            "cantcheck": ("查不了", "没法查", "不会查", "cannot check", "can't check"),
        },
    ),
    Question(
        "received",
        choices=("none", "partial", "unchecked"),
        per_row=1,
        synonyms={
            "none": ("没有", "一分没到", "都没到", "nothing", "none", "no"),
            "partial": ("部分", "少了", "到了一部分", "partial", "less", "part"),
            "unchecked": ("没看", "没查", "还没看", "not checked", "haven't checked"),
        },
    ),
    Question(
        "cycle",
        choices=("t1", "d1", "d0", "unsure"),
        applies=_cycle_matters,
        synonyms={
            "t1": ("t+1", "t1", "次工作日", "下一个工作日", "下个工作日"),
            "d1": ("d+1", "d1", "次日", "第二天"),
            "d0": ("d0", "t0", "d+0", "t+0", "秒到", "当天", "实时", "same day"),
            "unsure": ("不确定", "不知道", "不清楚", "not sure", "unsure", "don't know"),
        },
    ),
    Question(
        "bank",
        choices=(*DEFAULT_BANKS.buttons, OTHER, "unsure"),
        free_text=True,
        parse=_bank_parser(DEFAULT_BANKS),
        per_row=3,
        synonyms={"unsure": ("不确定", "不知道", "not sure", "unsure")},
    ),
    Question(
        "account",
        choices=("none", "changed", "frozen", "verify", "risk", "type23"),
        per_row=1,
        synonyms={
            "none": ("没有", "都没有", "正常", "none", "no", "nothing"),
            "changed": ("换过卡", "换卡", "更换", "changed"),
            "frozen": ("冻结", "止付", "frozen"),
            "verify": ("验证", "认证", "实名", "verification", "verify"),
            "risk": ("风控", "调单", "审核", "risk", "review"),
            "type23": ("二类", "三类", "ii类", "iii类", "type ii", "type iii"),
        },
    ),
    Question("acquirer", free_text=True, optional=True, parse=_parse_name),
    Question(
        "reference",
        free_text=True,
        optional=True,
        applies=_has_receipt_keys,
        parse=_receipt_parser("reference"),
    ),
    Question(
        "terminal_id",
        free_text=True,
        optional=True,
        applies=_has_receipt_keys,
        parse=_receipt_parser("terminal"),
    ),
    Question(
        "merchant_id",
        free_text=True,
        optional=True,
        applies=_has_receipt_keys,
        parse=_receipt_parser("merchant"),
    ),
    Question(
        "voucher",
        free_text=True,
        optional=True,
        applies=_has_receipt_keys,
        parse=_receipt_parser("voucher"),
    ),
    Question(
        "order_no", free_text=True, optional=True, applies=_pays_by_wallet, parse=_parse_order_no
    ),
)

BY_FIELD: dict[str, Question] = {question.field: question for question in QUESTIONS}
BY_STATE: dict[str, Question] = {question.state: question for question in QUESTIONS}
RECEIPT_FIELDS: tuple[str, ...] = ("reference", "terminal_id", "merchant_id", "voucher")


def tailored(cycles: Collection[Cycle], banks: BankDirectory) -> dict[str, Question]:
    """Every question by state, as one deployment asks it.

    The cycle question offers only the cycles the acquirer offers (plus "not sure"; typed names
    of other cycles are not accepted), the bank question the deployment's banks.
    """
    cycle = BY_FIELD["cycle"]
    offered = (*(c.value for c in Cycle if c in cycles), "unsure")
    bank = BY_FIELD["bank"]
    return {
        **BY_STATE,
        cycle.state: dataclasses.replace(
            cycle,
            choices=offered,
            synonyms={k: v for k, v in cycle.synonyms.items() if k in offered},
        ),
        bank.state: dataclasses.replace(
            bank, choices=(*banks.buttons, OTHER, "unsure"), parse=_bank_parser(banks)
        ),
    }


def _match_choice(question: Question, text: str) -> str | None:
    folded = normalize_text(text).lower().rstrip("。.!！")
    if folded in question.choices:
        return folded
    for choice, words in question.synonyms.items():
        if folded in words:
            return choice
    return None


def parse_answer(question: Question, value: str, *, pressed: bool, now: datetime) -> Any:
    """Turn a button value or typed text into the stored answer, or raise InvalidAnswer.

    A pressed button must be one of the question's own choices; typed text may name a choice.
    """
    if value == SKIP and pressed:
        if not question.optional:
            raise InvalidAnswer("unrecognised")
        return None
    if value == NO_RECEIPT and pressed and question.field in RECEIPT_FIELDS:
        return None
    choice = value if pressed else _match_choice(question, value)
    if pressed and choice not in question.choices:
        if question.parse and question.offered and question.offered.fullmatch(value):
            return question.parse(value, now)
        raise InvalidAnswer("unrecognised")
    if choice == OTHER and question.free_text:
        raise WantsFreeText
    if choice is not None:
        return _choice_value(question, choice, now)
    if question.parse is None:
        raise InvalidAnswer("choose")
    return question.parse(value, now)


def _choice_value(question: Question, choice: str, now: datetime) -> Any:
    if question.field == "when":
        today = now.astimezone(SHANGHAI).date()
        day = today if choice == "today" else today - timedelta(days=1)
        return {"day": day.isoformat(), "time": None}
    if question.field == "bank":  # choices are the deployment's bank codes, OTHER and "unsure"
        return {"code": None, "unsure": True} if choice == "unsure" else {"code": choice}
    return choice


def applicable(answers: Answers) -> tuple[Question, ...]:
    return tuple(question for question in QUESTIONS if question.applies(answers))
