"""How much the merchant was paid: "1,280元", "一千二百八十", "1.2万", "¥ 1280.50".

An amount that could be two numbers (a pasted id, "2万多") is refused rather than rounded.
"""

import re
from decimal import Decimal

from flows.answers import CN_DIGIT_VALUES, InvalidAnswer, normalize_text, unrecognised

__all__ = ["MAX_AMOUNT", "parse_amount"]

# Far above any single card payment at a small merchant; larger numbers are typos or pasted ids.
MAX_AMOUNT = Decimal(10_000_000)

_CENT = Decimal("0.01")

_AMOUNT_TRANSLATION = str.maketrans(
    {
        "壹": "一",
        "贰": "二",
        "貳": "二",
        "叁": "三",
        "參": "三",
        "叄": "三",
        "肆": "四",
        "伍": "五",
        "陆": "六",
        "陸": "六",
        "柒": "七",
        "捌": "八",
        "玖": "九",
        "拾": "十",
        "佰": "百",
        "仟": "千",
        "萬": "万",
        "億": "亿",
        "两": "二",
        "兩": "二",
        "〇": "零",
        "圆": "元",
        "圓": "元",
        "塊": "块",
        "−": "-",
    }
)
# Hedges ("大概", "about", "~") only say the merchant is not sure to the fen; the number stands.
_AMOUNT_PREFIX = re.compile(
    r"^(?:人民币|rmb|cny|¥|金额|合计|一共|总共|共|大概|大约|约|差不多|approximately|approx\.?"
    r"|about|around|roughly|circa|[~≈]|[\s:])+"
)
_AMOUNT_SUFFIX = re.compile(r"(?:人民币|rmb|cny|yuan|左右|整|正|钱|or so|ish|[\s。!?~])+$")

# Thousands separators must be followed by exactly three digits; anything else ("12,80",
# "1.280,50") might be a European decimal comma and is refused rather than guessed.
_ARABIC_AMOUNT = re.compile(
    r"(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,3}(?: [0-9]{3})+|[0-9]*)(?:\.(?P<frac>[0-9]*))?"
)
_YUAN_MARK = re.compile(r"[元块]")
_CN_DIGIT = "[0-9零一二三四五六七八九]"
_SMALL_CHANGE = re.compile(
    rf"(?:(?P<jiao>{_CN_DIGIT})\s*[角毛])?\s*零?\s*(?:(?P<fen>{_CN_DIGIT})\s*分)?|(?P<bare>{_CN_DIGIT})"
)
_SECTION_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[零一二三四五六七八九十百千]")
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = (("亿", Decimal(10**8)), ("万", Decimal(10**4)))


def _digit_value(char: str) -> int:
    return int(char) if char.isascii() else CN_DIGIT_VALUES[char]


def _arabic_number(text: str) -> Decimal | None:
    match = _ARABIC_AMOUNT.fullmatch(text)
    if match is None:
        return None
    whole = match["int"].replace(",", "").replace(" ", "")
    fraction = match["frac"] or ""
    if not whole and not fraction:
        return None
    if len(fraction) > 2:
        raise InvalidAnswer("too_many_decimals")
    return Decimal(f"{whole or '0'}.{fraction or '0'}")


def _section(text: str) -> Decimal:
    """Value below 万: digits with 十/百/千, allowing "两千五" for 2500 and "一千零五" for 1005."""
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        match = _SECTION_TOKEN.match(text, pos)
        if match is None:
            raise unrecognised()
        tokens.append(match.group())
        pos = match.end()
    if not tokens:
        raise unrecognised()

    total = Decimal(0)
    current: Decimal | None = None
    last_unit: int | None = None
    after_zero = False
    for token in tokens:
        if token in ("零", "0") and len(tokens) > 1:
            if current is not None:
                raise unrecognised()
            after_zero = True
        elif token in _SMALL_UNITS:
            unit = _SMALL_UNITS[token]
            if last_unit is not None and unit >= last_unit:
                raise unrecognised()
            if current is None:
                if unit != 10 or total or after_zero:
                    raise unrecognised()
                current = Decimal(1)  # "十五" is 15
            if current >= 10:
                raise unrecognised()
            total += current * unit
            current, last_unit, after_zero = None, unit, False
        else:
            if current is not None:
                raise unrecognised()
            current = Decimal(_digit_value(token)) if len(token) == 1 else Decimal(token)
    if current is not None:
        if last_unit is None or after_zero:
            total += current
        elif current == current.to_integral_value() and 1 <= current <= 9:
            total += current * last_unit / 10  # "两千五": the digit counts in the next unit down
        else:
            raise unrecognised()
    return total


def _chinese_number(text: str) -> Decimal:
    """Chinese numerals with 万/亿, mixed freely with Arabic digits as people type "1.2万"."""
    for unit, multiplier in _BIG_UNITS:
        head, found, tail = text.partition(unit)
        if not found:
            continue
        if not head:
            raise unrecognised()
        value = _chinese_number(head) * multiplier
        if tail:
            if tail[0] in ("零", "0") and len(tail) > 1:
                rest = _chinese_number(tail[1:])
            elif len(tail) == 1 and tail in "123456789一二三四五六七八九":
                rest = _digit_value(tail) * multiplier / 10  # "一万二" is 12000
            else:
                rest = _chinese_number(tail)
            if rest >= multiplier:
                raise unrecognised()
            value += rest
        return value
    return _section(text)


def _number(text: str) -> Decimal:
    plain = _arabic_number(text)
    if plain is not None:
        return plain
    if "点" in text:
        whole, _, fraction = text.partition("点")
        if not fraction or any(char not in "0123456789零一二三四五六七八九" for char in fraction):
            raise unrecognised()
        if len(fraction) > 2:
            raise InvalidAnswer("too_many_decimals")
        digits = "".join(str(_digit_value(char)) for char in fraction)
        return (_chinese_number(whole) if whole else Decimal(0)) + Decimal(f"0.{digits}")
    return _chinese_number(text)


def _small_change(text: str) -> Decimal:
    """角 and 分 after the yuan; a lone digit after 块 ("1280块5") counts in 角."""
    match = _SMALL_CHANGE.fullmatch(text)
    if match is None:
        raise unrecognised()
    jiao = match["jiao"] or match["bare"]
    fen = match["fen"]
    if jiao is None and fen is None:
        raise unrecognised()
    value = Decimal(0)
    if jiao is not None:
        value += Decimal(_digit_value(jiao)) / 10
    if fen is not None:
        value += Decimal(_digit_value(fen)) / 100
    return value


def _amount_value(text: str) -> Decimal:
    parts = _YUAN_MARK.split(text, maxsplit=1)
    if len(parts) == 2:
        yuan_text, change_text = parts[0].strip(), parts[1].strip()
    elif re.search("[角毛分]", text):
        yuan_text, change_text = "", text
    else:
        yuan_text, change_text = text, ""
    if not yuan_text and not change_text:
        raise unrecognised()
    yuan = _number(yuan_text) if yuan_text else Decimal(0)
    if not change_text:
        return yuan
    if yuan != yuan.to_integral_value():
        raise unrecognised()  # "1280.5元5角" says the 角 twice
    return yuan + _small_change(change_text)


def parse_amount(text: str) -> Decimal:
    """Read a payment amount in yuan, refusing any form that could be read two ways."""
    s = normalize_text(text).lower().translate(_AMOUNT_TRANSLATION)
    s = _AMOUNT_SUFFIX.sub("", _AMOUNT_PREFIX.sub("", s))
    negative = s.startswith(("-", "负"))
    if negative:
        s = _AMOUNT_PREFIX.sub("", s[1:])
    if not s:
        raise unrecognised()
    value = _amount_value(s)
    if negative or value <= 0:
        raise InvalidAnswer("not_positive")
    if value > MAX_AMOUNT:
        raise InvalidAnswer("too_large")
    if value != value.quantize(_CENT):
        raise InvalidAnswer("too_many_decimals")
    return value.quantize(_CENT)
