"""The words merchants use for each fact, as patterns the story reader (flows.story) looks for.

Kept apart from the reading logic so that adding a word (a new acquirer, a new way of saying "it
timed out") is a one-line change reviewed on its own. Every pattern runs on text prepared by
`prepare`: NFKC-folded (full-width digits and letters become ASCII), lower case, traditional
characters folded to simplified, and a few IME slips corrected. It is over 500 lines because it
is a word list: splitting it by fact would only add imports between tables that are read together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.answers import normalize_text
from flows.facts import (
    AccountSignal,
    CardType,
    CycleAnswer,
    Method,
    Received,
    Records,
    TerminalResult,
)

# Traditional characters merchants in Hong Kong, Taiwan or with a traditional IME send; folded to
# the simplified forms the cues below are written in (only characters the cues use).
TRADITIONAL = str.maketrans(
    "還沒賬帳機顯筆錢額銀號點時間這個們結戶凍風調單換類聯雲閃碼掃預權終參憑證敗應無後臺錄記"
    "幣塊萬兩隻轉來問裡麼嗎說麵費續餘數歲種務動態刪",
    "还没账账机显笔钱额银号点时间这个们结户冻风调单换类联云闪码扫预权终参凭证败应无后台录记"
    "币块万两只转来问里么吗说面费续余数岁种务动态删",
)


# Common slips of the IME or the keyboard, each only where it cannot mean anything else.
TYPOS = (
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


def prepare(text: str) -> str:
    """One spelling per character: NFKC (full-width digits), lower case, simplified, typos."""
    folded = normalize_text(text).lower().translate(TRADITIONAL).replace("￥", "¥")
    for wrong, right in TYPOS:
        folded = folded.replace(wrong, right)
    return folded


# Clause boundaries: sentence punctuation, a comma that is not a thousands separator, and the
# words that turn a story ("但是", "后来", "but"). Negation and context never cross them.
CLAUSE_BREAK = re.compile(
    r"[。！？!?；;\n【】\[\]]|[，、]|,(?![0-9]{3}(?![0-9]))|\.(?=\s|$)"
    r"|但是|可是|不过|然后|后来|结果|\bbut\b|\bthen\b|\bthough\b"
)


# A negation right before a cue takes it back ("不是微信", "没有超时", "not wechat").
ZH_NEGATION = re.compile(r"[不没未非别无]|没有")
EN_NEGATION = re.compile(
    r"\b(?:not|no|never|without|didn't|didnt|wasn't|wasnt|isn't|isnt|don't|dont|doesn't|"
    r"doesnt|hasn't|hasnt|haven't|havent|neither|nor)\b"
)


# A cue asked about or doubted states nothing ("是不是被风控了", "是D+1吗", "不知道到没到").
HEDGE_BEFORE = re.compile(
    r"(?:是不是|是否|会不会|难道|有没有|可能|也许|怕|担心|不知道|不确定|不清楚"
    r"|\bif|\bwhether|\bmaybe)\s*$"
)

HEDGE_AFTER = re.compile(r"^\s*(?:了|的)?\s*(?:吗|么|嘛|吧|没有?\s*$|\?)")
# "T+1还是D+1", "wechat or alipay": one of two is neither.
ALTERNATIVE_BEFORE = re.compile(r"(?:还是|或者|或是|\bor)\s*$")
ALTERNATIVE_AFTER = re.compile(r"^\s*(?:的)?\s*(?:还是|或者|或是|\bor\b)")


# Phrases whose negation is their own meaning ("没到账", "没反应"): it never reaches the next word.
NEGATIVE_PHRASES = re.compile(
    r"(?:还|都|也|一直|始终)?(?:没有?|未)(?:到账|到|入账|收到钱?|结算|反应|结果|显示什么)"
    r"|一分钱?(?:都|也)?没(?:到|有)?|收不到钱?|不到|能不能|可不可以|可以不可以|能否"
)


@dataclass(frozen=True)
class Cue:
    """Words that state one value of one field."""

    field: str
    value: str
    pattern: re.Pattern[str]
    #: The cue carries its own negation ("没到账", "not in the app"): not checked again.
    negative: bool = False
    #: Stated only when a records word (App, 后台 ...) comes before it in the clause.
    records: bool = False


def cue(field: str, value: str, pattern: str, **flags: bool) -> Cue:
    return Cue(field, value, re.compile(pattern), **flags)


# Apps that are the payer's, not the acquirer's: what they show is no record of the merchant's.
PAYER_APPS = re.compile(r"云闪付|微信|支付宝|客户|客人|顾客|\bcustomer|\bwechat|\balipay")
# Where the acquirer's records are looked at: the App, the portal, the back office.
RECORDS_WORDS = re.compile(
    r"后台|平台|商户通|记录|明细|账单|对账|系统里"
    r"|(?<![a-z])(?:app|portal|dashboard|records?|statement)(?![a-z])"
)


# Words before 成功 that make it something else than the payment's result.
NOT_PAYMENT_RESULT = re.compile(
    r"(?:认证|验证|换卡|绑定|登录|注册|解冻|扣款|扣钱|转账|提现|到账|入账)\s*$"
)


METHOD_CUES = (
    cue(
        "method",
        Method.CARD,
        r"刷卡|刷了?的?卡|插卡|挥卡|拍卡|信用卡|借记卡|刷(?:了|的|过|完)"
        r"(?!\s*(?:码|脸|二维码|微信|支付宝|单))"
        r"|刷(?=\s*(?:一笔|[0-9]|[一二两三四五六七八九十]+[百千万]))"
        r"|\b(?:swiped|swipe|inserted|tapped)\b|\bby card\b|\bcard payment\b|\bcredit card\b"
        r"|\bdebit card\b|\bchip card\b|\bwith (?:a|his|her|their|my|the) card\b",
    ),
    cue(
        "method",
        Method.WECHAT,
        r"微信(?:支付|收款|付款|扫码|扫的|付的|付了|收的|二维码|码|的收款码)|扫了?微信|用微信(?:付|支付|扫)"
        r"|\bwechat\s*pay\b|\b(?:with|by|via) wechat\b",
    ),
    cue(
        "method",
        Method.ALIPAY,
        r"支付宝(?!\s*(?:转账|提现|余额))|\balipay\b",
    ),
    cue(
        "method",
        Method.UNIONPAY_QR,
        r"云闪付|银联二维码|银联扫码|\bunion\s*pay qr\b|\bquick\s*pass\b",
    ),
)


# A phone paying at the terminal: a card inside a wallet app, or not, depending on the wallet.
PHONE_WALLET = re.compile(r"apple\s*pay|huawei\s*pay|samsung\s*pay|mi\s*pay|手机闪付|\bnfc\b")


CARD_TYPE_CUES = (
    cue("card_type", CardType.SALE, r"普通消费|正常消费|一般消费|消费交易"),
    cue(
        "card_type",
        CardType.PREAUTH,
        r"预授权(?!\s*完成)|\bpre-?auth(?:ori[sz]ation)?\b(?!\s*complet)",
    ),
)


OUTCOME_CUES = (
    # The acquirer's records: only with a records word before them in the clause.
    cue(
        "records", Records.SUCCESS, r"交易成功|成功|\bsuccess(?:ful)?\b|\bapproved\b", records=True
    ),
    cue(
        "records",
        Records.FAILED,
        r"交易失败|失败|撤销|冲正|退货|退款|\bfailed\b|\breversed\b"
        r"|\bvoided\b|\brefunded\b",
        records=True,
    ),
    cue(
        "records",
        Records.MISSING,
        r"查不到|没有记录|没记录|没有这笔|找不到|查无",
        records=True,
        negative=True,
    ),
    cue(
        "records",
        Records.MISSING,
        r"\bnot (?:in|on) the (?:app|portal|records?)\b|\bno record\b|\bnot listed\b"
        r"|\b(?:isn't|is not|doesn't show|does not show)(?: up)? (?:in|on) the (?:app|portal)\b",
        negative=True,
    ),
    cue(
        "records",
        Records.CANNOT_CHECK,
        r"查不了|没法查|不会查|\bcan'?t check\b|\bcannot check\b",
        negative=True,
    ),
    # What the terminal showed.
    cue(
        "terminal",
        TerminalResult.SUCCESS,
        r"交易成功|成功|打单了|出单了|出了小票|小票(?:也)?打(?:了|出来)|打印了小票|签购单(?:也)?打出来"
        r"|\bapproved\b|\bsuccess(?:ful)?\b|\b(?:receipt|slip) (?:was )?printed\b|\bwent through\b"
        r"|\bprinted (?:the |a )?(?:receipt|slip)\b",
    ),
    cue(
        "terminal",
        TerminalResult.FAILED,
        r"交易失败|失败|被拒|拒绝|余额不足|额度不足|请重试|\bdeclined\b|\bfailed\b"
        r"|\binsufficient funds\b",
    ),
    cue(
        "terminal",
        TerminalResult.NO_RESULT,
        r"超时|卡住|转圈|\btimed out\b|\btime ?out\b|\bfroze\b|\bhung\b|\bstuck\b",
    ),
    cue(
        "terminal",
        TerminalResult.NO_RESULT,
        r"没反应|没有反应|没结果|没有结果|无响应|\bno response\b|\bno result\b",
        negative=True,
    ),
)


RECEIVED_CUES = (
    cue(
        "received",
        Received.NOTHING,
        r"(?<![到有])(?:没到账|没有到账|未到账|没(?:有)?[入进]账|未进账|没(?:有)?结算"
        r"|没(?:有)?[看见]到钱|没到(?!\s*(?:时间|期|点|日子|位)))"
        r"|没有到(?!\s*(?:时间|期|点|日子|位))|没(?:有)?收到(?:\s*(?:钱|款|这笔|货款|结算)|(?=\s*[0-9]))"
        r"|收不到钱|一分(?:钱)?(?:都|也)?没|钱(?:也|都|还)?不到|没钱"
        r"|\bnothing (?:has )?(?:arrived|came|in the bank|yet)\b|\bnot arrived\b"
        r"|\bnone (?:of (?:it|them) )?(?:has |have )?(?:arrived|came)\b|\bstill nothing\b"
        r"|\b(?:is|are) (?:still )?missing\b"
        r"|\bnothing in (?:my|the) (?:\w+ )?(?:account|bank)\b|进不来|进不了账"
        r"|没有?(?:这笔|这个)\s*[入进]账"
        r"|\bnever (?:came|arrived)\b|\b(?:hasn't|has not|didn't|did not|haven't|have not)"
        r" (?:arrived|come|received|been credited)\b|\bnot (?:received|credited)\b"
        r"|\bno money\b|\bstill missing\b|\bstill not\b",
        negative=True,
    ),
    cue(
        "received",
        Received.PARTIAL,
        r"少了|少到|只到|只收到|到了一部分|到账了?一部分|部分到账|一笔到了|有的到了|到了一笔|部分到了"
        r"|(?:到了?|到账了?|收到了?)一半|一半(?:到了|到账)"
        r"|\bsome (?:of it |of them )?arrived\b|\bonly (?:got|received)\b"
        r"|\bonly [0-9][0-9,.]* (?:yuan )?(?:arrived|came)\b|\bshort by\b",
    ),
)


CYCLE_CUES = (
    cue("cycle", CycleAnswer.T1, r"(?<![a-z0-9])t\s*\+?\s*1(?![0-9a-z])"),
    cue("cycle", CycleAnswer.D1, r"(?<![a-z0-9])d\s*\+?\s*1(?![0-9a-z])"),
    cue(
        "cycle",
        CycleAnswer.D0,
        r"(?<![a-z0-9])[dt]\s*(?:\+\s*)?0(?![0-9.])|秒到|实时到账|\bsame[ -]day\b",
    ),
)


ACCOUNT_CUES = (
    cue(
        "account",
        AccountSignal.FROZEN,
        r"冻结|止付|\b(?:account|card) (?:is |was |got |has been )?frozen\b"
        r"|\bfrozen (?:account|card)\b|\bfroze (?:my|the) (?:account|card)\b",
    ),
    cue(
        "account",
        AccountSignal.RISK,
        r"风控|调单|风险交易|暂停结算|结算(?:已|被)?暂停|\brisk (?:control|review)\b"
        r"|\bunder review\b",
    ),
    cue(
        "account",
        AccountSignal.CHANGED,
        r"(?:换|更换)(?:了|过)?\s*(?:结算)?(?:卡|账户|账号)(?!\s*(?:也|都)?\s*(?:没|未))"
        r"|结算(?:卡|账户)从\S{1,8}?换成"
        r"|\bchanged (?:my |the )?(?:settlement )?(?:card|account)\b|\bnew settlement card\b",
    ),
    cue(
        "account",
        AccountSignal.TYPE23,
        r"[二三]类(?:户|卡|账户)|iii?类|\btype (?:ii|iii|2|3)\b|\bclass (?:ii|iii|2|3)\b",
    ),
)


INTENT_PERSON = re.compile(
    r"转人工|人工客服|人工服务|找人工|要人工|人工(?!智能)|真人|找客服|转客服|联系你们客服"
    r"|\btalk to (?:a |an )?(?:person|human|agent|someone|somebody)\b|\breal person\b"
    r"|\bhuman\b|\bspeak to (?:a |an )?(?:person|human|agent|someone)\b|\blive agent\b"
)


INTENT_ARRIVED = re.compile(
    # "到了" ends its phrase (a particle may follow): "我到了银行" is a person arriving.
    r"到账了|已到账|已经到账|钱到了|到了(?![^\W啊呀哈哦啦吧吗么嘛呢没])|收到了|收到(?:钱|款)了?|(?:钱|款)(?:已经?)?收到了?"
    r"|\barrived\b|\bcame in\b|\bgot it\b|\breceived it\b"
    r"|\b(?:got|received) the (?:money|payment|funds)\b|\b(?:money|payment|funds) received\b"
)


#: What a whole message says when it only greets, thanks or acknowledges (`small_talk`).
SMALL_TALK = re.compile(
    r"你好|您好|哈喽|嗨|在吗|在不在|在么|谢谢(?:你|您|啦|了)?|多谢|感谢|辛苦(?:了|啦)?|麻烦(?:你|您)?了"
    r"|好的|好滴|好吧|好|行|可以|嗯+|哦+|噢+|喔+|明白了?|知道了?|了解|懂了|再见|拜拜"
    r"|ok(?:ay)?|k+|hi|hello|hey|thank you|thanks|thank|thx|ty|cheers|got it|understood|noted"
    r"|sure|fine|great|good|cool|bye"
)
#: Acknowledgements that may as well say the money came: "收到" is a chat's "noted".
NOTED = re.compile(r"收到(?:了|啦)?|received")


INTENT_CANCEL = re.compile(
    r"取消|算了(?!\s*一?下)|不查了|不用了|不弄了|\bcancel\b|\bnever ?mind\b|\bforget it\b"
)


INTENT_RESTART = re.compile(
    r"重新开始|重来|重新来|从头开始|重新填|\bstart (?:over|again)\b|\brestart\b|\bnew case\b"
)


CN_NUM = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"


# A comma groups exactly three digits: "金额6500，12月2号" is 6500 and a date, not "6500,12".
NUMBER = (
    rf"(?:(?:[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?|[{CN_NUM}])"
    rf"(?:[0-9.]|[{CN_NUM}])*"
)


AMOUNT = re.compile(
    rf"(?P<pre>(?:¥|rmb|cny|人民币)\s*)?(?P<num>{NUMBER})"
    r"(?P<unit>\s*(?:块钱|块|元整|元|圆|yuan\b|rmb\b|cny\b)(?:\s*[0-9一二三四五六七八九]\s*[角毛分])*)?"
    r"(?P<approx>\s*(?:多|几|来|余(?!额)|出头|\+|k\b))?"
)


# Before an amount: the sale ("刷了", "一共", "for").
SALE_BEFORE = re.compile(
    r"(?:刷了?|刷的|刷卡|插卡|挥卡|这笔|那笔|收了|收款|付了?|付款|一笔|金额(?:是|为)?|消费了?|一共|总共|共|合计"
    r"|预授权了?|原来是?|本来是?|原本是?"
    r"|\bfor|\bof|\bpaid|\bcharged|\bswiped|\bcharge|\bamount(?: is| was)?|\bpayment of"
    r"|\btotal(?: of| is| was)?"
    r"|\binstead of)"
    r"\s*(?:了|的|一笔|是|为|:)?\s*$"
)


# Before an amount: what arrived.
RECEIVED_BEFORE = re.compile(
    r"(?:只到了?|只到账了?|只收到了?|到账了?|入账了?|到了|收到了?|代付交易(?:人民币)?|存入|转入|收入"
    r"|\bonly got|\bgot|\bcredited|\breceived)\s*(?:了|的|:)?\s*(?:人民币)?\s*$"
)


RECEIVED_AFTER = re.compile(
    r"^\s*(?:yuan\s*)?(?:arrived|came in|was credited)\b"
    r"|^(?:元|块)?(?:到了|到账了|已到账|入账了)(?!\s*[0-9一二两三四五六七八九十])"
)


# Before an amount: anything but the sale or what arrived.
OTHER_BEFORE = re.compile(
    r"(?:(?:手续费|费率|服务费|费用)(?:扣了?|收了?)?|余额|尾号|少(?:到账|到|收|入账|给)?了?"
    r"|短了|差了|多了|还差|应该?到账?|应该入账|应入账"
    r"|\bfee\b(?: was| is| of)?|\bbalance|\bshort by|\bexcept)"
    r"\s*(?:显示|是|为|了|:|还有|只有|剩|剩下)*\s*$"
)


# After a number: not an amount at all (a count, a date, a time, a rate).
NOT_AMOUNT_AFTER = re.compile(
    r"^\s*(?:%|点|时|号|日|月|年|笔|次|天|个|分钟|小时|秒|岁|台|张|周|星期|倍|楼|[/:\-]"
    r"|(?:am|pm|days?|hours?|minutes?|weeks?|st|nd|rd|th|cards?|times?|payments?"
    r"|transactions?|txns?|swipes?)\b)"
)


AMOUNT_LIKE = re.compile(r"[0-9]{2,}|[一二两三四五六七八九十]+[百千万]|¥|元|块|yuan")


# Public service numbers merchants quote ("打了95588"): never an amount.
HOTLINES = frozenset({"95516", "95017", "95188", "12363", "12378", "95588"})


SEVERAL_PAYMENTS = re.compile(
    r"(?:[两二三四五六七八九十几多]|[2-9])\s*笔"
    r"|\b(?:[2-9]|two|three|four|five|several) (?:payments|cards|transactions|swipes)\b"
)


DATE_START = re.compile(
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
    r"|the [0-9]{1,2}(?:st|nd|rd|th)(?!\s+(?:time|payment|card|transaction|swipe|one|attempt|try))"
    r"|(?:last |this )?(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
    r"|[0-9]+ (?:days?|hours?) ago|just now)\b|[0-9]{1,2}\s*(?:am|pm)\b"
)


# Words that name "now" in a story ("到现在还没到"): never the payment's date.
UNTIL_NOW = re.compile(r"到现在|直到现在|至今|到今天|until now|so far|till now|up to now")


# "昨天的钱", "前天那笔": the date names the payment whatever follows.
OF_THE_PAYMENT = re.compile(r"\s*(?:的|那|的那)?\s*(?:钱|款|笔|交易|单|货款)")
# "the money from the 2nd", "the payment on Monday": the date names the payment.
PAYMENT_OF = re.compile(
    r"\b(?:money|payment|sale|transaction|swipe)s? (?:from|of|on|made on)(?: the)?\s*$"
)
# A yes/no question about the clause ("被风控拦截了吗"): its notices and results are asked.
YES_NO_QUESTION = re.compile(
    r"(?:吗|么|嘛)\s*\??\s*$|^\s*(?:is|was|did|does|has|have|are|were|can|could|will)\b[^?]*\?\s*$"
)
# A correction: the field, "wrong", the right value ("金额不对，是5800", "时间错了 应该是前天",
# "the amount is wrong, it's 5800"), or the field and what it should be; read as the field
# stated ("金额是5800"). The time is the payment's ("交易时间是", which the date reader takes).
_FIELD = r"(金额|钱数|数额|时间|日期|银行|结算周期|周期)"
_WRONG = r"(?:不对|错了|有误|写错了?|搞错了|弄错了)"
_SHOULD = r"(?:应该|应|实际上?|其实)"
_IS = r"(?:是|为)(?!什么)"  # "为什么" asks why, it states nothing
CORRECTIONS = (
    re.compile(rf"{_FIELD}\s*{_WRONG}[\s，,。;；!！]*{_SHOULD}?\s*{_IS}"),
    re.compile(rf"{_FIELD}\s*{_SHOULD}\s*{_IS}"),
    re.compile(rf"^\s*{_FIELD}\s*{_IS}"),
)
EN_CORRECTIONS = (
    re.compile(
        r"\b(amount|sum|time|date|bank|cycle)\s+(?:is|was)\s+(?:wrong|not right|incorrect)"
        r"[\s,.;!]*(?:it(?:'s|\s+is|\s+was|\s+should\s+be)|should\s+be)?"
    ),
    re.compile(r"\b(amount|sum|time|date|bank|cycle)\s+should\s+(?:be|have\s+been)"),
)
CANONICAL_FIELD = {"钱数": "金额", "数额": "金额", "时间": "交易时间", "日期": "交易时间"}
EN_CANONICAL_FIELD = {"sum": "amount", "time": "payment time", "date": "payment date"}
# "不是5000，是5800": the second plain number is the amount (plain: no key's length).
_PLAIN = r"(?:[0-9]{1,3}(?:,[0-9]{3}){1,2}|[0-9]{1,7})(?:\.[0-9]{1,2})?(?![0-9]|,[0-9])"
NOT_BUT = re.compile(rf"不是\s*{_PLAIN}\s*(?:元|块)?[\s，,]*而?是\s*(?={_PLAIN})")


def corrected(text: str) -> str:
    """`text` (as `prepare` leaves it) with each correction rewritten as the field stated."""
    for pattern in CORRECTIONS:
        text = pattern.sub(lambda m: CANONICAL_FIELD.get(m[1], m[1]) + "是", text)
    for pattern in EN_CORRECTIONS:
        text = pattern.sub(lambda m: EN_CANONICAL_FIELD.get(m[1], m[1]) + " is", text)
    return NOT_BUT.sub("金额是", text)


# What follows words to make them a question: "了没有?", "没", "?" ("到了没", "it arrived?").
ASKED_AFTER = re.compile(
    r"\s*了?\s*(?:没有?|不)?\s*(?:啊|呀|呢|吧)?\s*\?+\s*|\s*了?\s*(?:没有?\s*(?:啊|呀|呢)?|吧)\s*"
)
# Somebody else saying it arrived ("银行说到了", "app显示已到账"): the merchant has not seen it.
SAID_BEFORE = re.compile(
    r"(?:说|讲|显示|告诉我|通知)\s*(?:是|的是)?\s*(?:钱|款)?\s*(?:已经?)?\s*$"
    r"|\b(?:says?|said|shows?|showed|told me)\b(?:\s+\w+){0,3}\s*$"
)
# Words that make an arrival a guess ("应该到了吧", "好像到了"): asked, never taken.
GUESSED_BEFORE = re.compile(
    r"(?:应该|好像|大概|估计|似乎|也许|可能)\s*(?:已经|都)?\s*$"
    r"|\b(?:probably|maybe|perhaps|should have|i think)\b(?:\s+\w+){0,2}\s*$"
)
# A notice of money paid out (bank SMS, acquirer's settlement notice): its amounts arrived.
NOTICE = re.compile(r"入账|存入|转入|代付|收入|到账|已?结算至|划款|划入|汇入")
# A notice's date of the trades it settles ("12月4日的交易款") is not when the money arrived.
TRADES_OF = re.compile(r"\s*(?:的)?\s*(?:交易|消费|营业)")
# Masked card numbers and labelled card numbers: digits that are no amount and no date.
CARD_DIGITS = re.compile(r"[0-9]{4,6}[*x]{2,}[0-9]{3,4}|卡号\s*:?\s*[0-9*x ]{8,}|[0-9]{11,}")
JUST_NOW = re.compile(r"刚才|刚刚|现在|\bnow\b")


MONTH_DAY_PAIR = re.compile(
    r"(?<![0-9./\-])(?P<a>[0-9]{1,2})\s*(?P<sep>[/\-.])\s*(?P<b>[0-9]{1,2})(?![0-9])"
    r"(?!\s*(?P=sep)\s*[0-9]{3})"
)


MAX_DATE_SPAN = 32
#: Date-parser calls per message: a long story needs a few dozen.
MAX_DATE_PARSES = 300


PAYMENT_WORDS = re.compile(
    r"刷|插卡|挥卡|付|收了|收款|收的|交易|消费|买|预授权|做的|一笔|(?<![a-z])pos(?![a-z])|机器"
    r"|\b(?:pay|paid|swiped|tapped|inserted|charged|payment|card|pre-?auth\w*|sale)\b"
)


ARRIVAL_WORDS = re.compile(r"入账|到账|到了|收到|\b(?:arrived|credited|came in|got)\b")


DATE_LABEL = re.compile(
    r"[\s的了是吧啊呢:]*(?:(?:交易)?(?:时间|日期)|\b(?:time|date)\b)?[\s是为:]*"
)


# "今天应该到账了": when it should arrive is no arrival.
EXPECTED = re.compile(r"应该|应当|按理|本该|理应|\bshould\b|\bsupposed\b|\bdue\b")


ROLE_PRIORITY = {"missing": 0, "arrival": 1, "sale": 2}


# Licensed acquirers merchants name most; stored as the merchant would read it on the slip.
ACQUIRERS: tuple[tuple[str, tuple[str, ...]], ...] = (
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


OTHER_BANK_SUFFIX = (
    "村镇银行|农村商业银行|农商银行|农商行|农村合作银行|农合行|农村信用社|农信社|信用社|信用合作社"
)


OTHER_BANK = re.compile(rf"(?P<head>[\u4e00-\u9fff]{{0,10}}?)(?P<suffix>{OTHER_BANK_SUFFIX})")


# Characters that never belong to a bank's place name: where the name starts after them.
NOT_IN_NAME = re.compile(r"[的是在用到我卡了户张家个这那结算绑定账收付刷钱说给把被从]")


# Words of a range or a condition: "11月25日至今", "since Monday", "周六刷的话": no sale date.
RANGE_AFTER = re.compile(r"\s*(?:至今|以来|开始|起|之后|以后|\bonwards\b)")
CONDITION_BEFORE = re.compile(r"(?:的话|如果|假如|要是|万一|\bif\b|\bsince\b|从|自从)")
# What the terminal shows, against what the acquirer's records show.
TERMINAL_WORDS = re.compile(
    r"机器|机子|pos|终端|屏幕|小票|签购单|刷卡机|\bterminal\b|\bmachine\b|\bscreen\b"
)
# "went through on the customer's side": the payer's view, not the terminal's.
PAYER_SIDE = re.compile(
    r"\s*(?:on|at|from|for) (?:the )?customer|\s*(?:在)?(?:客户|客人|顾客)(?:那边|那里|那儿|端)"
)
# Whom the merchant called or visited: a bank named there may be any bank, not the settlement's.
CONTACTED = re.compile(r"客服|电话|热线|打了|网点|柜台|\bhotline\b|\bcalled\b|\bbranch\b")
# Who holds the card: a bank named for the customer's card is the issuer, not the settlement bank.
CUSTOMER = re.compile(r"客户|客人|顾客|持卡人|\bcustomer'?s?\b|\bcardholder\b")


KEY_LABELS = (
    ("reference", r"检索参考号|参考号码?|\bref(?:erence)?\.? ?(?:no\.?|number|#)|\brrn\b"),
    ("terminal_id", r"终端(?:编号|号|id)|\bterminal (?:id|no\.?|number)|\btid\b"),
    ("merchant_id", r"商户(?:编号|号|id)|\bmerchant (?:id|no\.?|number)|\bmid\b"),
    ("voucher", r"凭证号|流水号|\bvoucher (?:no\.?|number)|\btrace (?:no\.?|number)"),
)


KEY_VALUE = re.compile(r"\s*(?:[:是为]|is)?\s*(?P<v>[0-9a-z](?:[0-9a-z]|[ \-](?=[0-9a-z]))*)")
