"""Settlement banks and payment platforms the bot may name, with their published hotlines.

The numbers are the banks' public customer-service lines (re-check them yearly).
Acquirers' own numbers are deliberately absent: the merchant must read them off the receipt,
the terminal, the official app or the contract, because numbers found by web search can be fake.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Institution:
    """A bank or platform: short code (stored, used in callback data), names, hotline, aliases."""

    code: str
    name_zh: str
    name_en: str
    hotline: str
    aliases: tuple[str, ...] = ()

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en


BANKS: tuple[Institution, ...] = (
    Institution(
        "icbc",
        "工商银行",
        "ICBC",
        "95588",
        ("中国工商银行", "工行", "icbc", "industrial and commercial bank of china"),
    ),
    Institution(
        "ccb", "建设银行", "China Construction Bank", "95533", ("中国建设银行", "建行", "ccb")
    ),
    Institution(
        "abc", "农业银行", "Agricultural Bank of China", "95599", ("中国农业银行", "农行", "abc")
    ),
    Institution("boc", "中国银行", "Bank of China", "95566", ("中行", "boc", "bank of china")),
    Institution("bocom", "交通银行", "Bank of Communications", "95559", ("交行", "bocom")),
    Institution(
        "psbc",
        "邮储银行",
        "Postal Savings Bank of China",
        "95580",
        ("中国邮政储蓄银行", "邮政储蓄银行", "邮政银行", "邮储", "psbc", "postal savings bank"),
    ),
    Institution("cmb", "招商银行", "China Merchants Bank", "95555", ("招行", "cmb")),
    Institution("cib", "兴业银行", "Industrial Bank", "95561", ("兴业", "cib")),
    Institution(
        "spdb",
        "浦发银行",
        "SPD Bank",
        "95528",
        ("上海浦东发展银行", "浦发", "spdb", "shanghai pudong development bank"),
    ),
    Institution("citic", "中信银行", "China CITIC Bank", "95558", ("中信", "citic")),
    Institution(
        "ceb",
        "光大银行",
        "China Everbright Bank",
        "95595",
        ("中国光大银行", "光大", "ceb", "everbright"),
    ),
    Institution(
        "cmbc",
        "民生银行",
        "China Minsheng Bank",
        "95568",
        ("中国民生银行", "民生", "cmbc", "minsheng"),
    ),
    Institution("pingan", "平安银行", "Ping An Bank", "95511", ("平安", "pingan", "ping an")),
    Institution("hxb", "华夏银行", "Hua Xia Bank", "95577", ("华夏", "huaxia", "hua xia")),
    Institution("cgb", "广发银行", "China Guangfa Bank", "95508", ("广发", "cgb", "guangfa")),
)

#: The banks offered as buttons; the rest are matched from free text.
BUTTON_BANKS: tuple[str, ...] = ("icbc", "ccb", "abc", "boc", "bocom", "psbc", "cmb")

UNIONPAY = Institution("unionpay", "中国银联", "China UnionPay", "95516", ("银联", "unionpay"))
WECHAT_PAY = Institution("wechat", "微信支付", "WeChat Pay", "95017", ("微信", "wechat"))
ALIPAY = Institution("alipay", "支付宝", "Alipay", "95188", ("alipay",))
#: PBoC financial consumer hotline: payment institutions and payment-settlement matters.
PBOC = Institution(
    "pboc", "中国人民银行金融消费者权益保护咨询投诉电话", "PBoC financial consumer hotline", "12363"
)
#: National Financial Regulatory Administration: complaints about banks.
NFRA = Institution("nfra", "国家金融监督管理总局投诉电话", "NFRA hotline", "12378")


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


# Village and rural banks are banks of their own (their hotline is on the back of the card),
# even when a big bank founded them and lends them its name: 蓬莱民生村镇银行 is not CMBC.
_RURAL = re.compile(
    "村镇银行|农商行|农商银行|农村商业银行|农信|农村信用|信用联社|信用社|农村合作银行|农合行"
    r"|\brural\b|\bvillage\b|\bcounty bank\b|\bcredit (?:union|cooperative)\b"
)
_CJK = "\u3400-\u9fff"
# What may stand before a bank's name: nothing, punctuation, or a few words of a sentence
# ("我的卡是", "开户行：", "中国"); any other Chinese character makes it part of another name.
_HEAD = re.compile(rf"(?:^|[^\w]|[{_CJK}]*(?:是|在|用|的|行|中国)|[a-z0-9 ]*[^a-z0-9])$")
# What may follow it: the word bank, a branch, the company form, "card"; anything else
# ("中信百信银行", "招商永隆银行", "CITIC Baixin Bank") is another bank with a shareholder's name.
_TAIL = re.compile(
    rf"(?:[^\w]|银行|总行|(?:(?!银行)[{_CJK}]){{0,10}}(?:分行|支行|营业部)|(?:股份)?有限公司"
    r"|信用卡|储蓄卡|借记卡|卡|的|吧|啊|呢|bank|co|ltd|limited|card|(?:[a-z]+ )*branch)*"
)


@dataclass(frozen=True)
class BankDirectory:
    """The settlement banks one deployment knows: hotlines, names to match, which are buttons.

    The built-in :data:`DEFAULT_BANKS` lists the national banks; an operator's deployment file may
    add banks or change hotlines (``bot/deployment.py`` builds the directory, flows only read it).
    """

    banks: tuple[Institution, ...]
    buttons: tuple[str, ...]  # codes offered as buttons, in order; the rest are typed
    _by_code: dict[str, Institution] = field(init=False, repr=False, compare=False, hash=False)
    _aliases: tuple[tuple[str, Institution], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_code = {bank.code: bank for bank in self.banks}
        unknown = [code for code in self.buttons if code not in by_code]
        if len(by_code) != len(self.banks) or unknown:
            raise ValueError(f"bank codes must be unique and buttons known: {unknown}")
        # Longest name first, so "中国银行" is not read as a fragment of a longer bank name.
        aliases = sorted(
            {
                (_fold(alias), bank)
                for bank in self.banks
                for alias in (bank.name_zh, bank.name_en, *bank.aliases)
            },
            key=lambda pair: (-len(pair[0]), pair[0]),
        )
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_aliases", tuple(aliases))

    def by_code(self, code: str) -> Institution | None:
        return self._by_code.get(code)

    def match(self, text: str) -> Institution | None:
        """The bank the merchant named by its own name; None for any other bank.

        A known name inside a longer one (蓬莱民生村镇银行, 中信百信银行) is not that bank: the
        merchant is then sent to the number on the back of the card, never to a wrong hotline.
        """
        folded = _fold(text)
        for alias, bank in self._aliases:
            boundary = r"(?<![a-z0-9])" if alias.isascii() else ""
            for found in re.finditer(boundary + re.escape(alias), folded):
                head, tail = folded[: found.start()], folded[found.end() :]
                if alias.isascii() and tail[:1].isalnum():
                    continue
                outside = f"{head} {tail}"
                if _RURAL.search(outside) and not _RURAL.search(alias):
                    return None
                if _HEAD.search(head) and _TAIL.fullmatch(tail):
                    return bank
        return None


DEFAULT_BANKS = BankDirectory(BANKS, BUTTON_BANKS)
