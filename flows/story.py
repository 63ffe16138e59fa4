"""The merchant's story read for facts: what the intake would otherwise ask, one question at a time.

Merchants open with what happened ("昨天下午3点刷了一笔5000块的，T+1，到现在一分钱都没到"), not
with a button. This module finds in such a text every fact the intake asks for, and returns them
in exactly the shape the intake stores its answers, so that taking them is one dict update and
the confirmation can show them like the facts read off a slip.

Precision comes first, because a wrong fact sent on to the acquirer costs more than a question:
- a fact is taken only when its words say it plainly; words that are negated ("不是微信", "没有
  超时"), asked ("是D+1吗") or hedged ("是不是被风控了") give nothing;
- the words of a fact are found here, but each value is read by the parser of the question that
  would otherwise ask for it (flows.answers through flows.questions), never by a second parser;
- when the text gives two different values for one fact ("刷卡失败了又刷了一次成功了"), or a value
  that reads two ways ("3/4"), nothing is taken and the field is listed in `ambiguous`, so the
  bot asks;
- amounts are read for what they are: next to 手续费 or 余额 they are nobody's business here,
  after 到了/到账/入账 they are what arrived (`received_amount`), never the sale amount.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flows.answers import InvalidAnswer, normalize_text
from flows.banks import BankDirectory
from flows.facts import (
    AccountSignal,
    CardType,
    CycleAnswer,
    Method,
    Received,
    Records,
    TerminalResult,
)
from flows.questions import BY_FIELD, Question, WantsFreeText, parse_answer, tailored
from flows.settlement_calendar import Cycle

__all__ = ["Ambiguity", "Intent", "Story", "read_story"]


class Intent(StrEnum):
    """What the merchant asks the bot to do, beside (or instead of) telling facts."""

    PERSON = "person"
    ARRIVED = "arrived"
    STILL_MISSING = "still_missing"
    CANCEL = "cancel"
    RESTART = "restart"


@dataclass(frozen=True)
class Ambiguity:
    """A fact seen but not taken; the bot asks its question instead of guessing.

    `field` is the answer field whose question to ask, `text` the merchant's words, and `reason`
    one of "two_readings" (3/4), "several_values" (two amounts, two banks), "not_in_directory"
    (a village bank), "void_or_refund" (a void or refund without saying where it was seen),
    "approximate" (2万多), "not_valid" (a receipt key of the wrong length).
    """

    field: str
    text: str
    reason: str


@dataclass(frozen=True)
class Story:
    """Everything one message says, split by what the conversation does with it.

    `facts` holds answers in the intake's stored shape (one `answers.update(story.facts)` takes
    them); `sources` the words each fact was read from, for the "this is what I understood"
    message and for people checking a case.
    """

    facts: dict[str, Any] = field(default_factory=dict)
    received_amount: str | None = None
    received_day: str | None = None
    intents: frozenset[Intent] = frozenset()
    ambiguous: tuple[Ambiguity, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Nothing to confirm and nothing to do: the message was not a story."""
        return not (
            self.facts
            or self.received_amount
            or self.received_day
            or self.intents
            or self.ambiguous
        )


# =============================================================================== normalizing

# Traditional characters merchants in Hong Kong, Taiwan or with a traditional IME send; folded to
# the simplified forms the cues below are written in (only characters the cues use).
_TRADITIONAL = str.maketrans(
    "還沒賬帳機顯筆錢額銀號點時間這個們結戶凍風調單換類聯雲閃碼掃預權終參憑證敗應無後臺錄記"
    "幣塊萬兩隻轉來問裡麼嗎說麵費續餘數歲種務動態刪",
    "还没账账机显笔钱额银号点时间这个们结户冻风调单换类联云闪码扫预权终参凭证败应无后台录记"
    "币块万两只转来问里么吗说面费续余数岁种务动态删",
)
# Common slips of the IME or the keyboard, each only where it cannot mean anything else.
_TYPOS = (
    ("刷咔", "刷卡"),
    ("到帐", "到账"),
    ("入帐", "入账"),
    ("yestday", "yesterday"),
    ("yesterdy", "yesterday"),
    ("yesteday", "yesterday"),
    ("swipd", "swiped"),
    ("t加1", "t+1"),
    ("d加1", "d+1"),
    ("d加0", "d0"),
    ("t加0", "t0"),
)


def _prepare(text: str) -> str:
    """One spelling per character: NFKC (full-width digits), lower case, simplified, typos."""
    folded = normalize_text(text).lower().translate(_TRADITIONAL).replace("￥", "¥")
    for wrong, right in _TYPOS:
        folded = folded.replace(wrong, right)
    return folded


# Clause boundaries: sentence punctuation, a comma that is not a thousands separator, and the
# words that turn a story ("但是", "后来", "but"). Negation and context never cross them.
_CLAUSE_BREAK = re.compile(
    r"[。！？!?；;\n【】\[\]]|[，、]|,(?![0-9]{3}(?![0-9]))|\.(?=\s|$)"
    r"|但是|可是|不过|然后|后来|结果|\bbut\b|\bthen\b|\bthough\b"
)


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int


def _clauses(s: str) -> list[_Clause]:
    bounds = [0]
    for match in _CLAUSE_BREAK.finditer(s):
        bounds.extend((match.start(), match.end()))
    bounds.append(len(s))
    return [
        _Clause(bounds[i], bounds[i + 1])
        for i in range(0, len(bounds), 2)
        if bounds[i + 1] > bounds[i]
    ]


def _clause_of(clauses: list[_Clause], pos: int) -> _Clause:
    for clause in clauses:
        if clause.start <= pos < clause.end:
            return clause
    return _Clause(pos, pos)


# =============================================================================== negation, doubt

_ZH_NEGATION = re.compile(r"[不没未非别无]|没有")
_EN_NEGATION = re.compile(
    r"\b(?:not|no|never|without|didn't|didnt|wasn't|wasnt|isn't|isnt|don't|dont|doesn't|"
    r"doesnt|hasn't|hasnt|haven't|havent|neither|nor)\b"
)
_HEDGE_BEFORE = re.compile(
    r"(?:是不是|是否|会不会|难道|有没有|可能|也许|怕|担心|不知道|不确定|不清楚"
    r"|\bif|\bwhether|\bmaybe)\s*$"
)
_HEDGE_AFTER = re.compile(r"^\s*(?:了|的)?\s*(?:吗|么|嘛|没有?\s*$|\?|\?)")


# Phrases whose negation is their own meaning ("没到账", "没反应"): it never reaches the next word.
_NEGATIVE_PHRASES = re.compile(
    r"(?:还|都|也|一直|始终)?(?:没有?|未)(?:到账|到|入账|收到钱?|结算|反应|结果|显示什么)"
    r"|一分钱?(?:都|也)?没(?:到|有)?|收不到钱?|不到|能不能|可不可以|可以不可以|能否"
)


def _window_before(s: str, clause: _Clause, start: int, width: int) -> str:
    """Up to `width` characters before `start`: within the clause, after the last space, and
    after any phrase whose negation is its own ("没到账 刷了" does not negate 刷了)."""
    begin = max(clause.start, start - width)
    space = s.rfind(" ", begin, start)
    if space >= 0:
        begin = space + 1
    for phrase in _NEGATIVE_PHRASES.finditer(s, max(clause.start, begin - 8), start):
        if phrase.end() > begin:
            begin = phrase.end()
    return s[begin:start]


def _negated(s: str, clause: _Clause, start: int) -> bool:
    if _ZH_NEGATION.search(_window_before(s, clause, start, 4)):
        return True
    words = s[clause.start : start].split()[-3:]
    return bool(_EN_NEGATION.search(" ".join(words)))


def _hedged(s: str, clause: _Clause, start: int, end: int) -> bool:
    before = s[max(clause.start, start - 6) : start]
    after = s[end : min(clause.end, end + 4)]
    return bool(_HEDGE_BEFORE.search(before) or _HEDGE_AFTER.search(after))


# =============================================================================== cues


@dataclass(frozen=True)
class _Cue:
    """Words that state one value of one field."""

    field: str
    value: str
    pattern: re.Pattern[str]
    #: The cue carries its own negation ("没到账", "not in the app"): not checked again.
    negative: bool = False
    #: Stated only when a records word (App, 后台 ...) comes before it in the clause.
    records: bool = False


def _cue(field: str, value: str, pattern: str, **flags: bool) -> _Cue:
    return _Cue(field, value, re.compile(pattern), **flags)


# Where the acquirer's records are looked at: the App, the portal, the back office.
_RECORDS_WORDS = re.compile(
    r"后台|平台|商户通|记录|明细|账单|对账|系统里"
    r"|(?<![a-z])(?:app|portal|dashboard|records?|statement)(?![a-z])"
)
# Words before 成功 that make it something else than the payment's result.
_NOT_PAYMENT_RESULT = re.compile(
    r"(?:认证|验证|换卡|绑定|登录|注册|解冻|扣款|扣钱|转账|提现|到账|入账)\s*$"
)

_METHOD_CUES = (
    _cue(
        "method",
        Method.CARD,
        r"刷卡|刷了?的?卡|插卡|挥卡|拍卡|信用卡|借记卡|刷(?:了|的|过|完)"
        r"(?!\s*(?:码|脸|二维码|微信|支付宝|单))"
        r"|刷(?=\s*(?:一笔|[0-9]|[一二两三四五六七八九十]+[百千万]))"
        r"|\b(?:swiped|swipe|inserted|tapped)\b|\bby card\b|\bcard payment\b|\bcredit card\b"
        r"|\bdebit card\b|\bchip card\b|\bwith (?:a|his|her|their|my|the) card\b",
    ),
    _cue(
        "method",
        Method.WECHAT,
        r"微信(?:支付|收款|付款|扫码|扫的|付的|付了|收的|二维码|码)|扫了?微信|用微信(?:付|支付|扫)"
        r"|\bwechat\s*pay\b|\b(?:with|by|via) wechat\b",
    ),
    _cue(
        "method",
        Method.ALIPAY,
        r"支付宝(?!\s*(?:转账|提现|余额))|\balipay\b",
    ),
    _cue(
        "method",
        Method.UNIONPAY_QR,
        r"云闪付|银联二维码|银联扫码|\bunion\s*pay qr\b|\bquick\s*pass\b",
    ),
)

_CARD_TYPE_CUES = (
    _cue(
        "card_type",
        CardType.PREAUTH,
        r"预授权(?!\s*完成)|\bpre-?auth(?:ori[sz]ation)?\b(?!\s*complet)",
    ),
)

_OUTCOME_CUES = (
    # The acquirer's records: only with a records word before them in the clause.
    _cue(
        "records", Records.SUCCESS, r"交易成功|成功|\bsuccess(?:ful)?\b|\bapproved\b", records=True
    ),
    _cue(
        "records",
        Records.FAILED,
        r"交易失败|失败|撤销|冲正|退货|退款|\bfailed\b|\breversed\b"
        r"|\bvoided\b|\brefunded\b",
        records=True,
    ),
    _cue(
        "records",
        Records.MISSING,
        r"查不到|没有记录|没记录|没有这笔|找不到|查无",
        records=True,
        negative=True,
    ),
    _cue(
        "records",
        Records.MISSING,
        r"\bnot (?:in|on) the (?:app|portal|records?)\b|\bno record\b|\bnot listed\b"
        r"|\b(?:isn't|is not|doesn't show|does not show)(?: up)? (?:in|on) the (?:app|portal)\b",
        negative=True,
    ),
    _cue(
        "records",
        Records.CANNOT_CHECK,
        r"查不了|没法查|不会查|\bcan'?t check\b|\bcannot check\b",
        negative=True,
    ),
    # What the terminal showed.
    _cue(
        "terminal",
        TerminalResult.SUCCESS,
        r"交易成功|成功|打单了|出单了|出了小票|小票(?:也)?打(?:了|出来)|打印了小票|签购单(?:也)?打出来"
        r"|\bapproved\b|\bsuccess(?:ful)?\b|\b(?:receipt|slip) (?:was )?printed\b|\bwent through\b"
        r"|\bprinted (?:the |a )?(?:receipt|slip)\b",
    ),
    _cue(
        "terminal",
        TerminalResult.FAILED,
        r"交易失败|失败|被拒|拒绝|余额不足|额度不足|请重试|\bdeclined\b|\bfailed\b"
        r"|\binsufficient funds\b",
    ),
    _cue(
        "terminal",
        TerminalResult.NO_RESULT,
        r"超时|卡住|转圈|\btimed out\b|\btime ?out\b|\bfroze\b|\bhung\b|\bstuck\b",
    ),
    _cue(
        "terminal",
        TerminalResult.NO_RESULT,
        r"没反应|没有反应|没结果|没有结果|无响应|\bno response\b|\bno result\b",
        negative=True,
    ),
)

_RECEIVED_CUES = (
    _cue(
        "received",
        Received.NOTHING,
        r"(?<![到有])(?:没到账|没有到账|未到账|没(?:有)?[入进]账|未进账|没(?:有)?结算"
        r"|没(?:有)?[看见]到钱|没到(?!\s*(?:时间|期|点|日子|位)))"
        r"|没有到(?!\s*(?:时间|期|点|日子|位))|没(?:有)?收到(?:\s*(?:钱|款|这笔|货款|结算))"
        r"|收不到钱|一分(?:钱)?(?:都|也)?没|钱(?:也|都|还)?不到|没钱"
        r"|\bnothing (?:has )?(?:arrived|came|in the bank|yet)\b|\bnot arrived\b"
        r"|\bnever (?:came|arrived)\b|\b(?:hasn't|has not|didn't|did not|haven't|have not)"
        r" (?:arrived|come|received|been credited)\b|\bnot (?:received|credited)\b"
        r"|\bno money\b|\bstill missing\b|\bstill not\b",
        negative=True,
    ),
    _cue(
        "received",
        Received.PARTIAL,
        r"少了|少到|只到|只收到|到了一部分|到账了?一部分|部分到账|\bonly (?:got|received)\b"
        r"|\bonly [0-9][0-9,.]* (?:yuan )?(?:arrived|came)\b|\bshort by\b",
    ),
)

_CYCLE_CUES = (
    _cue("cycle", CycleAnswer.T1, r"(?<![a-z0-9])t\s*\+?\s*1(?![0-9a-z])"),
    _cue("cycle", CycleAnswer.D1, r"(?<![a-z0-9])d\s*\+?\s*1(?![0-9a-z])"),
    _cue(
        "cycle",
        CycleAnswer.D0,
        r"(?<![a-z0-9])[dt]\s*(?:\+\s*)?0(?![0-9.])|秒到|实时到账|\bsame[ -]day\b",
    ),
)

_ACCOUNT_CUES = (
    _cue("account", AccountSignal.FROZEN, r"冻结|止付|\bfrozen\b|\bfroze\b"),
    _cue("account", AccountSignal.RISK, r"风控|调单|\brisk (?:control|review)\b|\bunder review\b"),
    _cue(
        "account",
        AccountSignal.CHANGED,
        r"(?:换|更换)(?:了|过)?\s*(?:结算)?(?:卡|账户|账号)(?!\s*(?:也|都)?\s*(?:没|未))"
        r"|\bchanged (?:my |the )?(?:settlement )?(?:card|account)\b|\bnew settlement card\b",
    ),
    _cue(
        "account",
        AccountSignal.TYPE23,
        r"[二三]类(?:户|卡|账户)|iii?类|\btype (?:ii|iii|2|3)\b|\bclass (?:ii|iii|2|3)\b",
    ),
)

_INTENT_PERSON = re.compile(
    r"转人工|人工客服|人工服务|找人工|要人工|人工(?!智能)|真人|找客服|转客服|联系你们客服"
    r"|\btalk to (?:a |an )?(?:person|human|agent|someone|somebody)\b|\breal person\b"
    r"|\bhuman\b|\bspeak to (?:a |an )?(?:person|human|agent|someone)\b|\blive agent\b"
)
_INTENT_ARRIVED = re.compile(
    r"到账了|已到账|已经到账|钱到了|到了|收到了|收到钱了|\barrived\b|\bcame in\b|\bgot it\b"
    r"|\breceived it\b|\bgot the money\b"
)
_INTENT_CANCEL = re.compile(
    r"取消|算了(?!\s*一?下)|不查了|不用了|不弄了|\bcancel\b|\bnever ?mind\b|\bforget it\b"
)
_INTENT_RESTART = re.compile(
    r"重新开始|重来|重新来|从头开始|重新填|\bstart (?:over|again)\b|\brestart\b|\bnew case\b"
)

# =============================================================================== amounts

_CN_NUM = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
_NUMBER = rf"(?:[0-9][0-9,]*(?:\.[0-9]+)?|[{_CN_NUM}])(?:[0-9,.]|[{_CN_NUM}])*"
_AMOUNT = re.compile(
    rf"(?P<pre>(?:¥|rmb|cny|人民币)\s*)?(?P<num>{_NUMBER})"
    r"(?P<unit>\s*(?:块钱|块|元整|元|圆|yuan\b|rmb\b|cny\b)(?:\s*[0-9一二三四五六七八九]\s*[角毛分])*)?"
    r"(?P<approx>\s*(?:多|几|来|余(?!额)|出头|\+|k\b))?"
)
# Before an amount: the sale ("刷了", "一共", "for").
_SALE_BEFORE = re.compile(
    r"(?:刷了?|刷的|刷卡|插卡|挥卡|这笔|那笔|收了|收款|付了?|付款|一笔|金额(?:是|为)?|消费了?|一共|总共|共|合计"
    r"|预授权了?|原来是?|本来是?|原本是?|应该是|应到"
    r"|\bfor|\bof|\bpaid|\bcharged|\bswiped|\bcharge|\bamount(?: is| was)?|\bpayment of"
    r"|\binstead of)"
    r"\s*(?:了|的|一笔|是|为|:)?\s*$"
)
# Before an amount: what arrived.
_RECEIVED_BEFORE = re.compile(
    r"(?:只到了?|只到账了?|只收到了?|到账了?|入账了?|到了|收到了?|代付交易(?:人民币)?|存入|转入|收入"
    r"|\bonly got|\bgot|\bcredited|\breceived)\s*(?:了|的|:)?\s*(?:人民币)?\s*$"
)
_RECEIVED_AFTER = re.compile(r"^\s*(?:yuan\s*)?(?:arrived|came in|was credited)\b")
# Before an amount: anything but the sale or what arrived.
_OTHER_BEFORE = re.compile(
    r"(?:手续费|费率|扣了?|余额|尾号|少(?:到账|到|收|入账|给)?了?|短了|差了|多了|还差"
    r"|\bfee\b(?: was| is| of)?|\bbalance|\bshort by|\bexcept)"
    r"\s*(?:显示|是|为|了|:|还有|只有|剩|剩下)*\s*$"
)
# After a number: not an amount at all (a count, a date, a time, a rate).
_NOT_AMOUNT_AFTER = re.compile(
    r"^\s*(?:%|点|时|号|日|月|年|笔|次|天|个|分钟|小时|秒|岁|台|张|周|星期|倍|楼|[/:\-]"
    r"|(?:am|pm|days?|hours?|minutes?|weeks?|st|nd|rd|th)\b)"
)
_AMOUNT_LIKE = re.compile(r"[0-9]{2,}|[一二两三四五六七八九十]+[百千万]|¥|元|块|yuan")
# Public service numbers merchants quote ("打了95588"): never an amount.
_HOTLINES = frozenset({"95516", "95017", "95188", "12363", "12378", "95588"})
_SEVERAL_PAYMENTS = re.compile(
    r"(?:[两二三四五六七八九十几多]|[2-9])\s*笔|\b(?:two|three|several) payments\b"
)


@dataclass(frozen=True)
class _Found:
    field: str
    value: Any
    start: int
    end: int


# =============================================================================== dates

_DATE_START = re.compile(
    r"大大前天|大前天|前天|昨天|昨日|昨晚|昨儿|今天|今日|今早|今晚|今儿|刚才|刚刚"
    r"|上上?个?(?:周|星期|礼拜)|这个?(?:周|星期|礼拜)|本周|(?:周|星期|礼拜)[一二三四五六日天1-7]"
    r"|上上?个?月|这个?月|本月|今年|去年"
    r"|[0-9]{4}\s*[-/.年]|[0-9]{1,2}\s*月|[一二三四五六七八九十]{1,3}\s*月"
    r"|[0-9]{1,2}\s*[/\-.]\s*[0-9]{1,2}(?![0-9]*\s*[万千百元块%])|[0-9]{1,2}\s*[号日]"
    r"|[0-9一二两三四五六七八九十半]{1,3}\s*个?\s*(?:天|小时|钟头|分钟|周|星期)\s*(?:之|以)?前"
    r"|凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜"
    r"|[0-9]{1,2}\s*[:点时]|[一二两三四五六七八九十]{1,3}\s*点"
    r"|\b(?:yesterday|today|tonight|last night|this (?:morning|afternoon|evening)"
    r"|day before yesterday|(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?\s*[0-9]+"
    r"|[0-9]{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"|(?:last |this )?(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
    r"|[0-9]+ (?:days?|hours?) ago|just now)\b|[0-9]{1,2}\s*(?:am|pm)\b"
)
# Words that name "now" in a story ("到现在还没到"): never the payment's date.
_UNTIL_NOW = re.compile(r"到现在|直到现在|至今|到今天|until now|so far|till now|up to now")
_JUST_NOW = re.compile(r"刚才|刚刚|现在|\bnow\b")
_MONTH_DAY_PAIR = re.compile(
    r"(?<![0-9./\-])(?P<a>[0-9]{1,2})\s*(?P<sep>[/\-.])\s*(?P<b>[0-9]{1,2})(?![0-9])"
    r"(?!\s*(?P=sep)\s*[0-9]{3})"
)
_MAX_DATE_SPAN = 32

_PAYMENT_WORDS = re.compile(
    r"刷|插卡|挥卡|付|收了|收款|收的|交易|消费|预授权|做的|一笔|(?<![a-z])pos(?![a-z])|机器"
    r"|\b(?:pay|paid|swiped|tapped|inserted|charged|payment|card|pre-?auth\w*|sale)\b"
)
_ARRIVAL_WORDS = re.compile(r"入账|到账|到了|收到|\b(?:arrived|credited|came in|got)\b")


def _date_spans(s: str, now: datetime) -> Iterator[tuple[int, int, dict[str, Any] | None]]:
    """Every stretch the date parser reads whole, longest first from each start.

    Yields (start, end, answer); answer None when the stretch reads two ways (3/4).
    """
    masked = _UNTIL_NOW.sub(lambda m: " " * len(m.group()), s)
    pos = 0
    while True:
        match = _DATE_START.search(masked, pos)
        if match is None:
            return
        start = match.start()
        best: tuple[int, dict[str, Any] | None] | None = None
        for end in range(min(len(masked), start + _MAX_DATE_SPAN), match.end() - 1, -1):
            piece = masked[start:end]
            if piece != piece.rstrip() or not piece.strip():
                continue
            try:
                answer = _typed(BY_FIELD["when"], piece, now)
            except InvalidAnswer as error:
                if error.reason == "ambiguous":
                    best = (end, None)
                    break
                continue
            except _NOT_TAKEN:
                continue
            best = (end, answer)
            break
        if best is None:
            pos = match.end()
            continue
        end, answer = best
        if answer is not None and _reads_two_ways(masked[start:end], now):
            answer = None
        yield start, end, answer
        pos = end


_DATE_LABEL = re.compile(
    r"[\s的了是吧啊呢:]*(?:(?:交易)?(?:时间|日期)|\b(?:time|date)\b)?[\s是为:]*"
)
# "今天应该到账了": when it should arrive is no arrival.
_EXPECTED = re.compile(r"应该|应当|按理|本该|理应|\bshould\b|\bsupposed\b|\bdue\b")
_ROLE_PRIORITY = {"missing": 0, "arrival": 1, "sale": 2}


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def _reads_two_ways(piece: str, now: datetime) -> bool:
    """3/4 is 3 March or 4 April; 4/12 too. 11/28 and 28/11 are one date."""
    for match in _MONTH_DAY_PAIR.finditer(piece):
        a, b = int(match["a"]), int(match["b"])
        if a != b and 1 <= a <= 12 and 1 <= b <= 12:
            return True
    return False


# =============================================================================== acquirers

# Licensed acquirers merchants name most; stored as the merchant would read it on the slip.
_ACQUIRERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("拉卡拉", ("拉卡拉",)),
    ("Lakala", ("lakala",)),
    ("银联商务", ("银联商务", "全民付")),
    ("China UMS", ("chinaums", "china ums", "ums")),
    ("乐刷", ("乐刷",)),
    ("Leshua", ("leshua",)),
    ("通联支付", ("通联支付", "通联")),
    ("Allinpay", ("allinpay",)),
    ("快钱", ("快钱",)),
    ("99Bill", ("99bill",)),
    ("汇付天下", ("汇付天下", "汇付")),
    ("Huifu", ("huifu",)),
    ("随行付", ("随行付",)),
    ("Vbill", ("vbill",)),
    ("银盛支付", ("银盛支付", "银盛")),
    ("富友支付", ("富友支付", "富友")),
    ("Fuiou", ("fuiou",)),
    ("杉德支付", ("杉德支付", "杉德")),
    ("Sandpay", ("sandpay",)),
    ("海科融通", ("海科融通",)),
    ("易宝支付", ("易宝支付", "易宝")),
    ("Yeepay", ("yeepay",)),
    ("合利宝", ("合利宝",)),
    ("联动优势", ("联动优势",)),
    ("盛付通", ("盛付通",)),
    ("嘉联支付", ("嘉联支付", "嘉联")),
    ("中付支付", ("中付支付",)),
    ("收钱吧", ("收钱吧",)),
    ("星驿付", ("星驿付",)),
)

# =============================================================================== banks

_OTHER_BANK_SUFFIX = (
    "村镇银行|农村商业银行|农商银行|农商行|农村合作银行|农合行|农村信用社|农信社|信用社|信用合作社"
)
_OTHER_BANK = re.compile(rf"(?P<head>[\u4e00-\u9fff]{{0,10}}?)(?P<suffix>{_OTHER_BANK_SUFFIX})")
# Characters that never belong to a bank's place name: where the name starts after them.
_NOT_IN_NAME = re.compile(r"[的是在用到我卡了户张家个这那结算绑定账收付刷钱说给把被从]")
# Who holds the card: a bank named for the customer's card is the issuer, not the settlement bank.
_CUSTOMER = re.compile(r"客户|客人|顾客|持卡人|\bcustomer'?s?\b|\bcardholder\b")

# =============================================================================== receipt keys

_KEY_LABELS = (
    ("reference", r"检索参考号|参考号码?|\bref(?:erence)?\.? ?(?:no\.?|number|#)|\brrn\b"),
    ("terminal_id", r"终端(?:编号|号|id)|\bterminal (?:id|no\.?|number)|\btid\b"),
    ("merchant_id", r"商户(?:编号|号|id)|\bmerchant (?:id|no\.?|number)|\bmid\b"),
    ("voucher", r"凭证号|流水号|\bvoucher (?:no\.?|number)|\btrace (?:no\.?|number)"),
)
_KEY_VALUE = re.compile(r"\s*(?:[:是为]|is)?\s*(?P<v>[0-9a-z](?:[0-9a-z]|[ \-](?=[0-9a-z]))*)")

# =============================================================================== helpers

_NOT_TAKEN = (WantsFreeText, ValueError)


def _typed(question: Question, text: str, now: datetime) -> Any:
    """As if the merchant had typed `text` in answer to the question (one validation path)."""
    return parse_answer(question, text, pressed=False, now=now)


def _pressed(question: Question, choice: str, now: datetime) -> Any:
    """As if the merchant had pressed `choice`: the deployment must offer it."""
    return parse_answer(question, choice, pressed=True, now=now)


class _Reader:
    """One pass over one message; collects candidate values per field, then decides."""

    def __init__(
        self, text: str, now: datetime, banks: BankDirectory, cycles: Collection[Cycle]
    ) -> None:
        self.s = _prepare(text)
        self.now = now
        self.banks = banks
        self.questions = tailored(cycles, banks)
        self.clauses = _clauses(self.s)
        self.found: list[_Found] = []
        self.ambiguous: list[Ambiguity] = []
        self.received_amounts: list[_Found] = []
        self.received_days: list[_Found] = []
        self.used: list[tuple[int, int]] = []

    # ------------------------------------------------------------------ plumbing
    def clause(self, pos: int) -> _Clause:
        return _clause_of(self.clauses, pos)

    def ask(self, field: str, start: int, end: int, reason: str) -> None:
        self.ambiguous.append(Ambiguity(field, self.s[start:end].strip(), reason))

    def take(self, field: str, value: Any, start: int, end: int) -> None:
        self.found.append(_Found(field, value, start, end))

    def overlaps_used(self, start: int, end: int) -> bool:
        return any(start < used_end and used_start < end for used_start, used_end in self.used)

    def question(self, field: str) -> Question:
        return self.questions[BY_FIELD[field].state]

    def choice(self, field: str, value: str, start: int, end: int) -> None:
        try:
            self.take(field, _pressed(self.question(field), str(value), self.now), start, end)
        except InvalidAnswer:
            self.ask(field, start, end, "not_offered")

    def stated(self, match: re.Match[str], cue: _Cue) -> bool:
        clause = self.clause(match.start())
        if not cue.negative and _negated(self.s, clause, match.start()):
            return False
        return not _hedged(self.s, clause, match.start(), match.end())

    # ------------------------------------------------------------------ facts
    def cues(self, cues: tuple[_Cue, ...]) -> None:
        taken: list[tuple[int, int]] = []
        for cue in cues:
            for match in cue.pattern.finditer(self.s):
                if any(match.start() < e and s < match.end() for s, e in taken):
                    continue
                if not self.stated(match, cue):
                    continue
                taken.append((match.start(), match.end()))
                self.choice(cue.field, cue.value, match.start(), match.end())

    def outcomes(self) -> None:
        """成功/失败/超时 ...: the records when a records word precedes them, else the terminal."""
        taken: list[tuple[int, int]] = []
        for cue in _OUTCOME_CUES:
            for match in cue.pattern.finditer(self.s):
                start, end = match.span()
                if any(start < e and s < end for s, e in taken):
                    continue
                clause = self.clause(start)
                in_records = bool(
                    _RECORDS_WORDS.search(self.s[max(clause.start, start - 14) : start])
                )
                if cue.records and not in_records:
                    continue
                if cue.field == "terminal" and in_records:
                    continue
                if _NOT_PAYMENT_RESULT.search(self.s[max(clause.start, start - 4) : start]):
                    continue
                if not self.stated(match, cue):
                    continue
                taken.append((start, end))
                self.choice(cue.field, cue.value, start, end)
        for match in re.finditer(r"撤销|退货|退款|冲正|\bvoid(?:ed)?\b|\brefund(?:ed)?\b", self.s):
            overlaps = any(match.start() < e and s < match.end() for s, e in taken)
            if not overlaps and self.stated(match, _METHOD_CUES[0]):
                self.ask("records", match.start(), match.end(), "void_or_refund")

    def received(self) -> None:
        self.cues(_RECEIVED_CUES)
        # "没到" inside "一分没到" or "没到账" must not count twice: one value per field anyway.

    def card_type(self) -> None:
        self.cues(_CARD_TYPE_CUES)
        for match in re.finditer(r"预授权\s*完成|\bpre-?auth\w* complet\w*", self.s):
            self.ask("card_type", match.start(), match.end(), "two_readings")

    def keys(self) -> None:
        for field_name, label in _KEY_LABELS:
            for match in re.finditer(label, self.s):
                value = _KEY_VALUE.match(self.s, match.end())
                if value is None:
                    continue
                run = value["v"]
                candidates = [run, run.split(" ")[0], re.split(r"[ \-]", run)[0]]
                question = self.question(field_name)
                for candidate in dict.fromkeys(candidates):
                    try:
                        key = _typed(question, candidate, self.now)
                    except (InvalidAnswer, *_NOT_TAKEN):
                        continue
                    end = value.start("v") + len(candidate)
                    self.take(field_name, key, match.start(), end)
                    self.used.append((match.start(), end))
                    break
                else:
                    self.ask(field_name, match.start(), value.end(), "not_valid")
                    self.used.append((match.start(), value.end()))
        for match in re.finditer(r"尾号\s*[0-9]{3,4}|[0-9]{11,}", self.s):
            self.used.append(match.span())

    def banks_named(self) -> None:
        question = self.question("bank")
        names = sorted(
            {alias.lower() for bank in self.banks.banks for alias in (bank.name_zh, *bank.aliases)},
            key=len,
            reverse=True,
        )
        taken: list[tuple[int, int]] = []
        for other in _OTHER_BANK.finditer(self.s):
            head = _NOT_IN_NAME.split(other["head"])[-1]
            start = other.start("suffix") - len(head)
            taken.append((other.start(), other.end()))
            named_inside = any(name in self.s[other.start() : other.end()] for name in names)
            if len(head) >= 2 and not named_inside:
                try:
                    value = (
                        question.parse(self.s[start : other.end()], self.now)
                        if question.parse
                        else None
                    )
                except InvalidAnswer:
                    value = None
                if value is not None and "name" in value:
                    self.take("bank", value, start, other.end())
                    continue
            self.ask("bank", start, other.end(), "not_in_directory")
        for name in names:
            if name.isascii():
                pattern = rf"(?<![a-z]){re.escape(name)}(?![a-z])"
            else:
                pattern = re.escape(name)
            for match in re.finditer(pattern, self.s):
                start, end = match.span()
                if any(start < e and s < end for s, e in taken):
                    continue
                taken.append((start, end))
                if (
                    not name.isascii()
                    and not name.endswith("行")
                    and re.match(r"[\u4e00-\u9fff]{1,4}银行", self.s[end:])
                ):
                    self.ask("bank", start, end + 6, "not_in_directory")  # 中信百信银行
                    continue
                clause = self.clause(start)
                before = self.s[clause.start : start]
                if _CUSTOMER.search(before) and not re.search(r"结算|settlement|my|我的", before):
                    continue
                if _negated(self.s, clause, start):
                    continue
                value = question.parse(name, self.now) if question.parse else None
                if value is not None:
                    self.take("bank", value, start, end)

    def acquirers(self) -> None:
        question = self.question("acquirer")
        aliases = sorted(
            ((alias, name) for name, names in _ACQUIRERS for alias in names),
            key=lambda pair: -len(pair[0]),
        )
        taken: list[tuple[int, int]] = []
        for alias, name in aliases:
            pattern = (
                rf"(?<![a-z]){re.escape(alias)}(?![a-z])" if alias.isascii() else re.escape(alias)
            )
            for match in re.finditer(pattern, self.s):
                if any(match.start() < e and s < match.end() for s, e in taken):
                    continue
                taken.append(match.span())
                if _negated(self.s, self.clause(match.start()), match.start()):
                    continue
                if question.parse is not None:
                    self.take("acquirer", question.parse(name, self.now), *match.span())

    # ------------------------------------------------------------------ dates
    def dates(self) -> None:
        sms = bool(re.search(r"尾号\s*[0-9]{4}", self.s)) and bool(
            re.search(r"入账|存入|转入|代付|收入|到账", self.s)
        )
        loose: list[_Found] = []
        for start, end, answer in _date_spans(self.s, self.now):
            if self.overlaps_used(start, end):
                continue
            self.used.append((start, end))
            role = "received" if sms else self.date_role(start, end)
            if answer is None:
                self.ask("when", start, end, "two_readings")  # whoever's date it is, ask
            elif role is None:
                continue
            elif role == "received":
                self.received_days.append(_Found("received_day", answer["day"], start, end))
            elif role == "sale":
                self.take("when", answer, start, end)
            else:
                loose.append(_Found("when", answer, start, end))
        dated = any(found.field == "when" for found in self.found)
        alone = len(loose) == 1 and self.only_date(loose[0])
        if loose and not dated and (_PAYMENT_WORDS.search(self.s) or alone):
            self.found.extend(loose)

    def date_role(self, start: int, end: int) -> str | None:
        """Whose date: the payment's ("sale"), what arrived ("received"), nobody's (None), or
        "loose" when it stands alone in its clause ("昨天下午四点左右，用云闪付收了900").

        Chinese puts the time before its verb, so the first cue after the date decides; in
        English the cue comes before ("swiped 5000 yesterday"), so the nearest before is next.
        """
        clause = self.clause(start)
        span, before, after = (
            self.s[start:end],
            self.s[clause.start : start],
            self.s[end : clause.end],
        )
        if _PAYMENT_WORDS.search(span):
            return "sale"
        kinds = (
            ("missing", _RECEIVED_CUES[0].pattern),
            ("arrival", _ARRIVAL_WORDS),
            ("sale", _PAYMENT_WORDS),
            ("sale", _AMOUNT_LIKE),
        )
        after_hits = [(m.start(), kind) for kind, p in kinds for m in p.finditer(after)]
        near_after = [hit for hit in after_hits if hit[0] <= 8]
        before_hits = [
            (len(before) - m.end(), kind) for kind, p in kinds for m in p.finditer(before)
        ]
        near_before = [hit for hit in before_hits if hit[0] <= 12]
        missing = [
            m.span() for m in _RECEIVED_CUES[0].pattern.finditer(self.s, clause.start, clause.end)
        ]
        near_after = [
            h for h in near_after if not _inside(end + h[0], missing) or h[1] == "missing"
        ]
        near_before = [
            h for h in near_before if not _inside(start - h[0] - 1, missing) or h[1] == "missing"
        ]
        hits = near_before or near_after if span.isascii() else near_after or near_before
        if not hits:
            if _DATE_LABEL.fullmatch(before + after) and not _JUST_NOW.search(span):
                return "loose"
            return None
        kind = min(hits, key=lambda hit: (hit[0], _ROLE_PRIORITY[hit[1]]))[1]
        if kind == "missing":
            return None  # "今天还没到", "nothing arrived since yesterday"
        if kind == "arrival":
            position = (
                end + min(d for d, k in hits if k == "arrival") if hits is near_after else start
            )
            expected = _EXPECTED.search(self.s[min(start, position) : max(end, position)])
            return None if expected or _negated(self.s, clause, position) else "received"
        return "sale"

    def only_date(self, found: _Found) -> bool:
        """A message that is just a date answers the date question ("昨天下午3点")."""
        rest = self.s[: found.start] + self.s[found.end :]
        return not _JUST_NOW.search(self.s[found.start : found.end]) and not re.sub(
            r"[\s\W的了是吧啊呢]", "", rest
        )

    # ------------------------------------------------------------------ amounts
    def amounts(self) -> None:
        several = _SEVERAL_PAYMENTS.search(self.s)
        hotlines = {bank.hotline for bank in self.banks.banks} | _HOTLINES
        sales: list[_Found] = []
        for match in _AMOUNT.finditer(self.s):
            start, end = match.span()
            num_start, num_end = match.span("num")
            number = match["num"].rstrip(",.")
            if self.overlaps_used(num_start, num_end) or number in hotlines:
                continue
            if start > 0 and re.match(r"[0-9a-z.+]", self.s[start - 1]):
                continue
            clause = self.clause(num_start)
            before = self.s[clause.start : num_start if not match["pre"] else start]
            after = self.s[num_start + len(number) : clause.end]
            marked = bool(match["pre"] or match["unit"])
            if not marked and _NOT_AMOUNT_AFTER.match(after):
                continue
            digits = bool(re.search(r"[0-9]", number))
            big_unit = bool(re.search(r"[十百千万亿拾佰仟]", number))
            if not (digits or big_unit or marked):
                continue  # "一直", "一部分", "两次": a word, not a number
            is_received = bool(_RECEIVED_BEFORE.search(before) or _RECEIVED_AFTER.match(after))
            is_sale = bool(_SALE_BEFORE.search(before))
            if _OTHER_BEFORE.search(before):
                continue
            bare_in_payment = (
                digits
                and re.fullmatch(
                    r"[0-9]{2,8}(?:\.[0-9]{1,2})?|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?", number
                )
                and _PAYMENT_WORDS.search(self.s[clause.start : clause.end])
            )
            cued = is_received or is_sale or marked or big_unit or bare_in_payment
            if not cued and not self.only_number(start, end):
                continue
            text = (match["pre"] or "") + number + (match["unit"] or "")
            if match["approx"]:
                if not is_received:
                    self.ask("amount", start, end, "approximate")
                continue
            try:
                value = _typed(self.question("amount"), text, self.now)
            except (InvalidAnswer, *_NOT_TAKEN):
                continue
            if is_received:
                self.received_amounts.append(_Found("received_amount", value, start, end))
            else:
                sales.append(_Found("amount", value, start, end))
        if several and sales:
            self.ask("amount", several.start(), several.end(), "several_values")
            return
        self.found.extend(sales)

    def only_number(self, start: int, end: int) -> bool:
        """An amount alone in its clause answers the amount question ("一万二", "5000，工行卡")."""
        clause = self.clause(start)
        return not self.s[clause.start : start].strip() and not self.s[end : clause.end].strip()

    # ------------------------------------------------------------------ deciding
    def decide(self) -> Story:
        facts: dict[str, Any] = {}
        sources: dict[str, str] = {}
        by_field: dict[str, list[_Found]] = {}
        for found in self.found:
            by_field.setdefault(found.field, []).append(found)
        asked = {ambiguity.field for ambiguity in self.ambiguous}
        for field_name, values in by_field.items():
            distinct = {repr(found.value) for found in values}
            if len(distinct) > 1 or field_name in asked:
                if field_name not in asked:
                    first = min(found.start for found in values)
                    last = max(found.end for found in values)
                    self.ask(field_name, first, last, "several_values")
                continue
            facts[field_name] = values[0].value
            sources[field_name] = self.s[values[0].start : values[0].end]
        received_amount = _single(self.received_amounts, self, "received")
        received_day = _single(self.received_days, self, "received")
        if (
            received_amount is not None
            and "amount" in facts
            and Decimal(received_amount) < Decimal(facts["amount"])
            and facts.get("received", Received.PARTIAL.value) == Received.PARTIAL.value
            and "received" not in asked
        ):
            facts["received"] = Received.PARTIAL.value  # 5000 sold, 4970 arrived: partly
        if facts.get("received") == Received.NOTHING.value and received_amount is not None:
            facts.pop("received")  # "nothing arrived" and "9940 arrived": ask
            self.ask("received", 0, len(self.s), "several_values")
        intents = self.intents(facts, received_amount)
        return Story(
            facts=facts,
            received_amount=received_amount,
            received_day=received_day,
            intents=frozenset(intents),
            ambiguous=tuple(dict.fromkeys(self.ambiguous)),
            sources=sources,
        )

    def intents(self, facts: dict[str, Any], received_amount: str | None) -> set[Intent]:
        intents: set[Intent] = set()
        for match in _INTENT_PERSON.finditer(self.s):
            if not _negated(self.s, self.clause(match.start()), match.start()) and not re.search(
                r"(?:不用|不要|不需要)\s*$", self.s[: match.start()]
            ):
                intents.add(Intent.PERSON)
        # The rest are what a message says when it says only that: a story is a story.
        if set(facts) - {"received"} or received_amount or self.ambiguous:
            return intents
        for intent, pattern in ((Intent.CANCEL, _INTENT_CANCEL), (Intent.RESTART, _INTENT_RESTART)):
            for match in pattern.finditer(self.s):
                if not re.search(r"(?:被|已|交易|自动)\s*$", self.s[: match.start()]):
                    intents.add(intent)
        words = re.sub(r"[\s\W_]", "", self.s)
        short = len(words) <= 10 or (self.s.isascii() and len(self.s.split()) <= 6)
        if not short:
            return intents
        if facts.get("received") == Received.NOTHING.value:
            intents.add(Intent.STILL_MISSING)
        elif "received" not in facts:
            for match in _INTENT_ARRIVED.finditer(self.s):
                if not _negated(self.s, self.clause(match.start()), match.start()):
                    intents.add(Intent.ARRIVED)
        return intents


def _single(found: list[_Found], reader: _Reader, field: str) -> Any:
    values = {str(item.value) for item in found}
    if len(values) == 1:
        return found[0].value
    if values:
        reader.ask(field, found[0].start, found[-1].end, "several_values")
    return None


def read_story(
    text: str,
    now: datetime,
    banks: BankDirectory,
    cycles: Collection[Cycle] = tuple(Cycle),
) -> Story:
    """Read one message for facts and intents; never raises on any text.

    `banks` and `cycles` are the deployment's: a bank or cycle it does not offer is asked, not
    taken, exactly as a typed answer to its question would be refused.
    """
    reader = _Reader(text, now, banks, cycles)
    steps: tuple[Callable[[], None], ...] = (
        reader.keys,
        lambda: reader.cues(_METHOD_CUES),
        reader.card_type,
        reader.outcomes,
        reader.received,
        lambda: reader.cues(_CYCLE_CUES),
        lambda: reader.cues(_ACCOUNT_CUES),
        reader.banks_named,
        reader.acquirers,
        reader.dates,
        reader.amounts,
    )
    for step in steps:
        step()
    return reader.decide()
