"""Parsers for what merchants type: when they paid, how much, and the keys on the receipt.

Merchants answer in whatever form comes to hand: full-width digits from a Chinese IME,
"昨天下午三点", "1，280元", a reference number copied with spaces. Each parser accepts the forms
people actually use and refuses to guess when an answer could mean two different things, because
a wrong date or amount sent on to the acquirer costs more than asking the merchant again.

Everything here is pure stdlib so the rules can be tested exhaustively and fuzzed.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_AMOUNT",
    "RECEIPT_KEY_LENGTHS",
    "SHANGHAI",
    "AmbiguousWhen",
    "InvalidAnswer",
    "When",
    "normalize_text",
    "parse_amount",
    "parse_receipt_key",
    "parse_when",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Clocks on phones and POS terminals drift; a merchant answering "14:03" at 14:00 is not lying.
FUTURE_TOLERANCE = timedelta(minutes=5)

# Far above any single card payment at a small merchant; larger numbers are typos or pasted ids.
MAX_AMOUNT = Decimal(10_000_000)

_CENT = Decimal("0.01")


class InvalidAnswer(ValueError):
    """Raised with a short machine-readable reason code; templates turn codes into words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unrecognised() -> InvalidAnswer:
    return InvalidAnswer("unrecognised")


@dataclass(frozen=True)
class When:
    """A payment moment as precisely as the merchant could say it.

    The time stays None instead of defaulting to midnight so that "some time yesterday" can be
    told apart from "yesterday at 00:00" when matching against the bank's records.
    """

    day: date
    time: time | None

    def as_datetime(self) -> datetime:
        """Midnight stands in for an unknown time so day-only answers still sort and compare."""
        clock = self.time if self.time is not None else time(0)
        return datetime.combine(self.day, clock, tzinfo=SHANGHAI)


class AmbiguousWhen(InvalidAnswer):
    """A date such as 3/4 that reads as 4 March or 3 April: the merchant must choose.

    `options` holds both readings (with the time, if one was typed), the month-first reading
    first. It is an InvalidAnswer so that callers that cannot ask back refuse it, never guess.
    """

    def __init__(self, options: tuple[When, When]) -> None:
        super().__init__("ambiguous")
        self.options = options


def normalize_text(text: str) -> str:
    """Fold IME output (full-width digits and colons, ideographic spaces) into plain ASCII.

    Parsers downstream then only need to know one spelling of each character.
    """
    return " ".join(unicodedata.normalize("NFKC", text).split())


# =============================================================================== parse_when

_CN_DIGIT_VALUES = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}

# Weekday names are rewritten before numerals so "周三十点" reads as Wednesday 10:00, not "周30点".
_WEEKDAY_NAME = re.compile(r"(周|星期|礼拜)\s*([一二三四五六七日天])")
_WEEKDAY_NUMBER = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "日": 7, "天": 7}
_CN_NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十]+")

_ISO_T = re.compile(r"(?<=[0-9])t(?=[0-9])")
_PUNCTUATION = re.compile(r"[,，。!！?？~～、;；()（）\[\]【】\"'“”‘’…]|\.(?=\s|$)")
_NOISE_CN = re.compile(
    "|".join(
        [
            "应该是",
            "应该",
            "可能是",
            "可能",
            "大概",
            "大约",
            "大致",
            "约莫",
            "差不多",
            "好像",
            "似乎",
            "估计",
            "左右",
            "前后",
            "的时候",
            "时候",
            "那天",
            "那会儿",
            "那会",
            "当时",
            "刷的卡",
            "刷卡",
            "刷的",
            "刷了",
            "交易",
            "付款",
            "消费",
            "约",
            "是",
            "(?<!现)在",
            "的",
            "了",
            "吧",
            "呢",
            "啊",
            "呀",
            "哦",
            "嗯",
        ]
    )
)
_NOISE_EN = re.compile(
    r"\b(?:around|about|approximately|approx|roughly|maybe|probably|sometime|circa"
    r"|at|on|in|the|of|ish)\b"
)


def _small_cn_numeral(match: re.Match[str]) -> str:
    run = match.group()
    if "十" not in run:
        # 二〇二六 is written digit by digit.
        return "".join(str(_CN_DIGIT_VALUES[char]) for char in run)
    tens, _, units = run.partition("十")
    if len(tens) > 1 or len(units) > 1 or "十" in units:
        return run  # not a day or hour; leave it to fail as unrecognised
    value = (_CN_DIGIT_VALUES[tens] if tens else 1) * 10 + (_CN_DIGIT_VALUES[units] if units else 0)
    return str(value)


# "this afternoon at 2:30" is 14:30: an English part of the day carries on to the clock after it,
# as 下午 does, unless that clock says am or pm itself.
_EN_PART_OF_DAY = {
    "morning": "上午",
    "afternoon": "下午",
    "evening": "晚上",
    "night": "晚上",
    "tonight": "晚上",
}
_EN_PART_BEFORE_CLOCK = re.compile(
    r"\b(?P<part>morning|afternoon|evening|night|tonight)\b(?P<gap>\s*(?:at\s*)?)"
    r"(?=[0-9]{1,2}\s*:\s*[0-9]{2}(?![0-9])(?!\s*[ap]\.?m))"
)


def _prepare_when_text(text: str) -> str:
    s = normalize_text(text).lower()
    s = _EN_PART_BEFORE_CLOCK.sub(
        lambda m: f"{m['part']}{m['gap']} {_EN_PART_OF_DAY[m['part']]} ", s
    )
    s = _ISO_T.sub(" ", s)
    s = _PUNCTUATION.sub(" ", s)
    s = _WEEKDAY_NAME.sub(lambda m: f"{m.group(1)}{_WEEKDAY_NUMBER[m.group(2)]} ", s)
    s = _CN_NUMERAL_RUN.sub(_small_cn_numeral, s)
    s = _NOISE_CN.sub(" ", s)
    s = _NOISE_EN.sub(" ", s)
    return " ".join(s.split())


@dataclass(frozen=True)
class _Piece:
    day: date | None = None
    clock: time | None = None
    # Days to add to the date: "晚上12点" and "昨晚1点" belong to the night after the day named.
    shift: int = 0
    # Both readings of a date like 3/4 (month first, then day first); `day` is then unset.
    readings: tuple[date, ...] = ()


_Handler = Callable[[re.Match[str], datetime], _Piece]


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    sets_date: bool
    sets_time: bool
    handler: _Handler


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _unrecognised() from None


def _add_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise _unrecognised() from None


def _recent_month_day(month: int, day: int, today: date) -> date:
    """The latest such month/day on or before today; a missing year never means next year."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise _unrecognised()
    # Nine years back reaches a 29 February from any starting year.
    for year in range(today.year, today.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    raise _unrecognised()


def _readings(candidates: list[date]) -> _Piece:
    """One reading is a date; two are a question for the merchant, never a guess."""
    unique = list(dict.fromkeys(candidates))
    if not unique:
        raise _unrecognised()
    if len(unique) == 1:
        return _Piece(day=unique[0])
    return _Piece(readings=tuple(unique))


def _ymd(match: re.Match[str], now: datetime) -> _Piece:
    return _Piece(day=_make_date(int(match["y"]), int(match["mo"]), int(match["d"])))


_YEAR_WORDS = {"今年": 0, "去年": -1, "前年": -2}


def _year_word_md(match: re.Match[str], now: datetime) -> _Piece:
    year = now.year + _YEAR_WORDS[match["yw"]]
    return _Piece(day=_make_date(year, int(match["mo"]), int(match["d"])))


def _ambiguous_with_year(match: re.Match[str], now: datetime) -> _Piece:
    """3/4/2026: March or April; a reading in the future is dropped at the end of parsing."""
    year, first, second = int(match["y"]), int(match["a"]), int(match["b"])
    candidates: list[date] = []
    for month, day in ((first, second), (second, first)):
        try:
            candidates.append(_make_date(year, month, day))
        except InvalidAnswer:
            continue
    return _readings(candidates)


def _ambiguous_without_year(match: re.Match[str], now: datetime) -> _Piece:
    """3/4 is 3月4日 to some merchants and 3 April to others: both readings are kept."""
    first, second = int(match["a"]), int(match["b"])
    candidates: list[date] = []
    for month, day in ((first, second), (second, first)):
        try:
            candidates.append(_recent_month_day(month, day, now.date()))
        except InvalidAnswer:
            continue
    return _readings(candidates)


def _month_day(match: re.Match[str], now: datetime) -> _Piece:
    return _Piece(day=_recent_month_day(int(match["mo"]), int(match["d"]), now.date()))


_MONTH_WORDS = {
    "上上个月": 2,
    "上上月": 2,
    "上个月": 1,
    "上月": 1,
    "这个月": 0,
    "这月": 0,
    "本月": 0,
}


def _month_word_day(match: re.Match[str], now: datetime) -> _Piece:
    months_back = _MONTH_WORDS[match["mw"]]
    index = now.year * 12 + now.month - 1 - months_back
    return _Piece(day=_make_date(index // 12, index % 12 + 1, int(match["d"])))


_EN_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sept": 9,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}


def _english_month_day(match: re.Match[str], now: datetime) -> _Piece:
    month, day = _EN_MONTHS[match["mon"]], int(match["d"])
    if match["y"]:
        return _Piece(day=_make_date(int(match["y"]), month, day))
    return _Piece(day=_recent_month_day(month, day, now.date()))


def _day_of_month(match: re.Match[str], now: datetime) -> _Piece:
    """A bare "24号" is the latest 24th on or before today."""
    day = int(match["d"])
    if not 1 <= day <= 31:
        raise _unrecognised()
    index = now.year * 12 + now.month - 1
    for _ in range(13):
        try:
            candidate = date(index // 12, index % 12 + 1, day)
        except ValueError:
            index -= 1
            continue
        if candidate <= now.date():
            return _Piece(day=candidate)
        index -= 1
    raise _unrecognised()


def _days_ago(match: re.Match[str], now: datetime) -> _Piece:
    unit = match["unit"]
    days = int(match["n"]) * (7 if unit in {"周", "星期", "礼拜", "week", "weeks"} else 1)
    return _Piece(day=_add_days(now.date(), -days))


_RELATIVE_DAYS = {
    "大大前天": -4,
    "大前天": -3,
    "前天": -2,
    "前日": -2,
    "昨天": -1,
    "昨日": -1,
    "昨儿个": -1,
    "昨儿": -1,
    "昨": -1,
    "今天": 0,
    "今日": 0,
    "今儿个": 0,
    "今儿": 0,
    "今": 0,
    "明天": 1,
    "明日": 1,
    "明": 1,
    "后天": 2,
    "大后天": 3,
    "day before yesterday": -2,
    "yesterday": -1,
    "yday": -1,
    "last night": -1,
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "tomorrow": 1,
}


def _relative_day(match: re.Match[str], now: datetime) -> _Piece:
    return _Piece(day=_add_days(now.date(), _RELATIVE_DAYS[match["rel"]]))


_CN_WEEK_OFFSETS = {
    "上上个": -2,
    "上上": -2,
    "上个": -1,
    "上": -1,
    "这个": 0,
    "这": 0,
    "本": 0,
    "下个": 1,
    "下": 1,
}


def _chinese_weekday(match: re.Match[str], now: datetime) -> _Piece:
    """Plain 周X is the latest such day (today included); 上周X/这周X name a calendar week."""
    today = now.date()
    weekday = int(match["wd"]) - 1
    if match["rel"] is None:
        return _Piece(day=_add_days(today, -((today.weekday() - weekday) % 7)))
    monday = _add_days(today, -today.weekday())
    return _Piece(day=_add_days(monday, 7 * _CN_WEEK_OFFSETS[match["rel"]] + weekday))


_EN_WEEKDAYS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tues": 1,
    "tue": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}


def _english_weekday(match: re.Match[str], now: datetime) -> _Piece:
    """In English "last friday" is the latest Friday before today, not last week's Friday."""
    today = now.date()
    weekday = _EN_WEEKDAYS[match["wd"]]
    relation = match["rel"]
    if relation == "this":
        return _Piece(day=_add_days(today, weekday - today.weekday()))
    if relation == "last":
        return _Piece(day=_add_days(today, -((today.weekday() - weekday - 1) % 7 + 1)))
    return _Piece(day=_add_days(today, -((today.weekday() - weekday) % 7)))


def _ago(match: re.Match[str], now: datetime) -> _Piece:
    count = 0.5 if match["n"] == "半" else float(match["n"])
    if match["half"]:
        count += 0.5
    minutes = count * (1 if match["unit"].startswith(("分", "min")) else 60)
    moment = now - timedelta(minutes=minutes)
    return _Piece(day=moment.date(), clock=moment.time().replace(second=0, microsecond=0))


def _just_now(match: re.Match[str], now: datetime) -> _Piece:
    return _Piece(day=now.date(), clock=now.time().replace(second=0, microsecond=0))


_AM_WORDS = frozenset({"凌晨", "清晨", "早上", "早晨", "上午", "早"})
_PM_WORDS = frozenset({"下午", "傍晚"})
_NIGHT_WORDS = frozenset({"晚上", "夜里", "夜晚", "半夜", "晚", "夜"})
_MERIDIEM_WORDS = "凌晨|清晨|早上|早晨|上午|早|中午|下午|傍晚|晚上|夜里|夜晚|半夜|晚|夜"


def _clock(hour: int, minute: int, second: int, word: str | None, ampm: str | None) -> _Piece:
    """Apply a time-of-day word to an hour the way a Chinese speaker means it."""
    if word and ampm:
        raise _unrecognised()
    shift = 0
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise _unrecognised()
        hour = hour % 12 + (12 if ampm == "p" else 0)
    elif word in _AM_WORDS:
        if hour > 12:
            raise _unrecognised()
        if hour == 12 and word == "凌晨":
            hour = 0
    elif word == "中午":
        if 1 <= hour <= 4:
            hour += 12
        elif not 11 <= hour <= 14:
            raise _unrecognised()
    elif word in _PM_WORDS:
        if 1 <= hour <= 11:
            hour += 12
        elif not 12 <= hour <= 23:
            raise _unrecognised()
    elif word in _NIGHT_WORDS:
        if hour in (0, 12):
            hour, shift = 0, 1
        elif 1 <= hour <= 4:
            shift = 1
        elif 5 <= hour <= 11:
            hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise _unrecognised()
    return _Piece(clock=time(hour, minute, second), shift=shift)


def _colon_clock(match: re.Match[str], now: datetime) -> _Piece:
    second = int(match["s"]) if match["s"] else 0
    return _clock(int(match["h"]), int(match["m"]), second, match["mer"], match["ampm"])


def _chinese_clock(match: re.Match[str], now: datetime) -> _Piece:
    if match["half"]:
        minute = 30
    elif match["quarter"]:
        quarters = int(match["quarter"])
        if not 1 <= quarters <= 3:
            raise _unrecognised()
        minute = 15 * quarters
    else:
        minute = int(match["m"]) if match["m"] else 0
    second = int(match["s"]) if match["s"] else 0
    return _clock(int(match["h"]), minute, second, match["mer"], None)


def _ampm_clock(match: re.Match[str], now: datetime) -> _Piece:
    return _clock(int(match["h"]), 0, 0, None, match["ampm"])


def _noon(match: re.Match[str], now: datetime) -> _Piece:
    return _Piece(clock=time(12))


def _vague_part_of_day(match: re.Match[str], now: datetime) -> _Piece:
    return _Piece()  # "昨天下午" without an hour: keep the day, leave the time unknown


def _alternation(words: Iterable[str]) -> str:
    """Longest first, so "昨天" wins over "昨" and "sept" over "sep"."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_MER = rf"(?:(?P<mer>{_MERIDIEM_WORDS})\s*)?"
_AMPM = r"(?:\s*(?P<ampm>[ap])\.?m\.?(?![a-z]))"
_EN_MONTH = rf"(?P<mon>{_alternation(_EN_MONTHS)})\.?(?![a-z])"
_ORDINAL = r"(?:st|nd|rd|th)?"


def _rule(
    pattern: str, handler: _Handler, *, sets_date: bool = False, sets_time: bool = False
) -> _Rule:
    return _Rule(re.compile(pattern), sets_date=sets_date, sets_time=sets_time, handler=handler)


# Tried in order at each position; the first that matches consumes its text. Longer, more
# specific forms come first so "2026-11-24" is never read as "2026" followed by "-11-24".
_WHEN_RULES = [
    _rule(
        r"(?P<y>[0-9]{4})\s*(?P<sep>[-/.])\s*(?P<mo>[0-9]{1,2})\s*(?P=sep)\s*(?P<d>[0-9]{1,2})"
        r"(?![0-9])",
        _ymd,
        sets_date=True,
    ),
    _rule(
        r"(?P<y>[0-9]{4})\s*年\s*(?P<mo>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*(?:[日号]|(?![0-9]))",
        _ymd,
        sets_date=True,
    ),
    _rule(
        r"(?P<y>(?:19|20)[0-9]{2})(?P<mo>[0-9]{2})(?P<d>[0-9]{2})(?![0-9])", _ymd, sets_date=True
    ),
    _rule(
        r"(?P<yw>今年|去年|前年)\s*(?P<mo>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*(?:[日号]|(?![0-9]))",
        _year_word_md,
        sets_date=True,
    ),
    _rule(
        r"(?P<a>[0-9]{1,2})\s*(?P<sep>[-/.])\s*(?P<b>[0-9]{1,2})\s*(?P=sep)\s*(?P<y>[0-9]{4})"
        r"(?![0-9])",
        _ambiguous_with_year,
        sets_date=True,
    ),
    _rule(
        r"(?P<mo>[0-9]{1,2})\s*月份?\s*(?P<d>[0-9]{1,2})\s*(?:[日号]|(?![0-9]))",
        _month_day,
        sets_date=True,
    ),
    _rule(
        rf"(?P<mw>{_alternation(_MONTH_WORDS)})\s*(?P<d>[0-9]{{1,2}})\s*(?:[日号]|(?![0-9]))",
        _month_word_day,
        sets_date=True,
    ),
    _rule(
        rf"{_EN_MONTH}\s*(?P<d>[0-9]{{1,2}}){_ORDINAL}(?![0-9a-z])(?:\s*(?P<y>[0-9]{{4}}))?"
        r"(?![0-9])",
        _english_month_day,
        sets_date=True,
    ),
    _rule(
        rf"(?P<d>[0-9]{{1,2}}){_ORDINAL}\s*{_EN_MONTH}(?:\s*(?P<y>[0-9]{{4}})(?![0-9]))?",
        _english_month_day,
        sets_date=True,
    ),
    _rule(
        r"(?P<n>[0-9]{1,4})\s*个?\s*(?P<unit>天|日|周|星期|礼拜|days?|weeks?)\s*(?:之|以)?\s*"
        r"(?:前|ago)",
        _days_ago,
        sets_date=True,
    ),
    _rule(
        rf"(?P<rel>{_alternation(_RELATIVE_DAYS)})(?![a-z])",
        _relative_day,
        sets_date=True,
    ),
    _rule(
        rf"(?P<rel>{_alternation(_CN_WEEK_OFFSETS)})?\s*(?:周|星期|礼拜)\s*(?P<wd>[1-7])(?![0-9])",
        _chinese_weekday,
        sets_date=True,
    ),
    _rule(
        rf"(?:(?P<rel>last|this|past)\s*)?(?P<wd>{_alternation(_EN_WEEKDAYS)})(?![a-z])",
        _english_weekday,
        sets_date=True,
    ),
    _rule(
        r"(?P<a>[0-9]{1,2})\s*(?P<sep>[-/.])\s*(?P<b>[0-9]{1,2})(?![0-9])(?!\s*[-/.:]\s*[0-9])",
        _ambiguous_without_year,
        sets_date=True,
    ),
    _rule(r"(?P<d>[0-9]{1,2})\s*[日号]", _day_of_month, sets_date=True),
    # "on the 3rd" is the English "3号": after the month-name rules, so "Dec 3rd" stays theirs.
    _rule(r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th)(?![a-z])", _day_of_month, sets_date=True),
    _rule(
        r"(?P<n>[0-9]{1,3}|半)\s*个?\s*(?P<half>半)?\s*"
        r"(?P<unit>小时|钟头|分钟|hours?|hrs?|minutes?|mins?)\s*(?:之|以)?\s*(?:前|ago)",
        _ago,
        sets_date=True,
        sets_time=True,
    ),
    _rule(
        r"刚才|刚刚|现在|just\s*now|right\s*now|now(?![a-z])",
        _just_now,
        sets_date=True,
        sets_time=True,
    ),
    _rule(
        _MER + r"(?P<h>[0-9]{1,2})\s*:\s*(?P<m>[0-9]{2})(?:\s*:\s*(?P<s>[0-9]{2}))?"
        r"(?:\.[0-9]+)?(?![0-9])" + _AMPM + "?",
        _colon_clock,
        sets_time=True,
    ),
    _rule(
        _MER + r"(?P<h>[0-9]{1,2})\s*[点时]钟?(?:(?P<half>半)|(?P<quarter>[0-9])刻"
        r"|(?P<m>[0-9]{1,2})(?![0-9])分?(?:(?P<s>[0-9]{1,2})秒)?|多)?",
        _chinese_clock,
        sets_time=True,
    ),
    _rule(r"(?P<h>[0-9]{1,2})" + _AMPM, _ampm_clock, sets_time=True),
    _rule(r"正午|noon|midday", _noon, sets_time=True),
    _rule(
        rf"(?:{_MERIDIEM_WORDS}|morning|afternoon|evening|night)(?![a-z])(?!\s*[0-9])",
        _vague_part_of_day,
    ),
]


def parse_when(text: str, now: datetime) -> When:
    """Read a payment moment; refuse anything in the future, since a payment cannot be."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(SHANGHAI)
    today = local_now.date()
    s = _prepare_when_text(text)

    day: date | None = None
    readings: tuple[date, ...] = ()
    clock: time | None = None
    shift = 0
    pos = 0
    while pos < len(s):
        if s[pos] == " ":
            pos += 1
            continue
        for rule in _WHEN_RULES:
            has_date = day is not None or bool(readings)
            if (rule.sets_date and has_date) or (rule.sets_time and clock is not None):
                continue
            match = rule.pattern.match(s, pos)
            if match is None or match.end() == pos:
                continue
            piece = rule.handler(match, local_now)
            if piece.day is not None:
                day = piece.day
            readings = readings or piece.readings
            if piece.clock is not None:
                clock, shift = piece.clock, piece.shift
            pos = match.end()
            break
        else:
            raise _unrecognised()

    if day is None and not readings and clock is None:
        raise _unrecognised()
    if not readings:
        # A bare time means today; a bare "晚上12点" means the night that has just ended.
        return _checked_when(day or _add_days(today, -shift), clock, shift, local_now)
    options: list[When] = []
    for reading in readings:
        try:
            options.append(_checked_when(reading, clock, shift, local_now))
        except InvalidAnswer:
            continue  # a reading in the future cannot be the payment
    if not options:
        raise InvalidAnswer("future")
    if len(options) == 1:
        return options[0]
    raise AmbiguousWhen((options[0], options[1]))


def _checked_when(day: date, clock: time | None, shift: int, local_now: datetime) -> When:
    """The moment named, refused when it lies in the future, since a payment cannot."""
    day = _add_days(day, shift)
    today = local_now.date()
    if day > today:
        raise InvalidAnswer("future")
    if (
        clock is not None
        and day == today
        and datetime.combine(day, clock, tzinfo=SHANGHAI) > local_now + FUTURE_TOLERANCE
    ):
        raise InvalidAnswer("future")
    return When(day, clock)


# =============================================================================== parse_amount

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
    return int(char) if char.isascii() else _CN_DIGIT_VALUES[char]


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
            raise _unrecognised()
        tokens.append(match.group())
        pos = match.end()
    if not tokens:
        raise _unrecognised()

    total = Decimal(0)
    current: Decimal | None = None
    last_unit: int | None = None
    after_zero = False
    for token in tokens:
        if token in ("零", "0") and len(tokens) > 1:
            if current is not None:
                raise _unrecognised()
            after_zero = True
        elif token in _SMALL_UNITS:
            unit = _SMALL_UNITS[token]
            if last_unit is not None and unit >= last_unit:
                raise _unrecognised()
            if current is None:
                if unit != 10 or total or after_zero:
                    raise _unrecognised()
                current = Decimal(1)  # "十五" is 15
            if current >= 10:
                raise _unrecognised()
            total += current * unit
            current, last_unit, after_zero = None, unit, False
        else:
            if current is not None:
                raise _unrecognised()
            current = Decimal(_digit_value(token)) if len(token) == 1 else Decimal(token)
    if current is not None:
        if last_unit is None or after_zero:
            total += current
        elif current == current.to_integral_value() and 1 <= current <= 9:
            total += current * last_unit / 10  # "两千五": the digit counts in the next unit down
        else:
            raise _unrecognised()
    return total


def _chinese_number(text: str) -> Decimal:
    """Chinese numerals with 万/亿, mixed freely with Arabic digits as people type "1.2万"."""
    for unit, multiplier in _BIG_UNITS:
        head, found, tail = text.partition(unit)
        if not found:
            continue
        if not head:
            raise _unrecognised()
        value = _chinese_number(head) * multiplier
        if tail:
            if tail[0] in ("零", "0") and len(tail) > 1:
                rest = _chinese_number(tail[1:])
            elif len(tail) == 1 and tail in "123456789一二三四五六七八九":
                rest = _digit_value(tail) * multiplier / 10  # "一万二" is 12000
            else:
                rest = _chinese_number(tail)
            if rest >= multiplier:
                raise _unrecognised()
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
            raise _unrecognised()
        if len(fraction) > 2:
            raise InvalidAnswer("too_many_decimals")
        digits = "".join(str(_digit_value(char)) for char in fraction)
        return (_chinese_number(whole) if whole else Decimal(0)) + Decimal(f"0.{digits}")
    return _chinese_number(text)


def _small_change(text: str) -> Decimal:
    """角 and 分 after the yuan; a lone digit after 块 ("1280块5") counts in 角."""
    match = _SMALL_CHANGE.fullmatch(text)
    if match is None:
        raise _unrecognised()
    jiao = match["jiao"] or match["bare"]
    fen = match["fen"]
    if jiao is None and fen is None:
        raise _unrecognised()
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
        raise _unrecognised()
    yuan = _number(yuan_text) if yuan_text else Decimal(0)
    if not change_text:
        return yuan
    if yuan != yuan.to_integral_value():
        raise _unrecognised()  # "1280.5元5角" says the 角 twice
    return yuan + _small_change(change_text)


def parse_amount(text: str) -> Decimal:
    """Read a payment amount in yuan, refusing any form that could be read two ways."""
    s = normalize_text(text).lower().translate(_AMOUNT_TRANSLATION)
    s = _AMOUNT_SUFFIX.sub("", _AMOUNT_PREFIX.sub("", s))
    negative = s.startswith(("-", "负"))
    if negative:
        s = _AMOUNT_PREFIX.sub("", s[1:])
    if not s:
        raise _unrecognised()
    value = _amount_value(s)
    if negative or value <= 0:
        raise InvalidAnswer("not_positive")
    if value > MAX_AMOUNT:
        raise InvalidAnswer("too_large")
    if value != value.quantize(_CENT):
        raise InvalidAnswer("too_many_decimals")
    return value.quantize(_CENT)


# =========================================================================== parse_receipt_key

# Field widths printed on a 签购单 (POS sales slip).
RECEIPT_KEY_LENGTHS: dict[str, int] = {
    "reference": 12,  # 参考号
    "terminal": 8,  # 终端编号
    "merchant": 15,  # 商户编号
    "voucher": 6,  # 凭证号 / 流水号
    "batch": 6,  # 批次号
    "auth": 6,  # 授权码
}
_DIGIT_ONLY_KINDS = frozenset({"reference", "voucher", "batch"})
_KEY_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−]+")
_DIGITS_ONLY = re.compile(r"[0-9]*")
_DIGITS_AND_LETTERS = re.compile(r"[0-9A-Za-z]*")


def parse_receipt_key(kind: str, text: str) -> str:
    """Read a key copied off the receipt; merchants group digits with spaces or dashes."""
    try:
        length = RECEIPT_KEY_LENGTHS[kind]
    except KeyError:
        raise ValueError(f"unknown receipt key kind: {kind!r}") from None
    key = _KEY_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    # Checked before upper-casing so "ß" or "ı" cannot turn into ASCII letters.
    allowed = _DIGITS_ONLY if kind in _DIGIT_ONLY_KINDS else _DIGITS_AND_LETTERS
    if not allowed.fullmatch(key):
        raise InvalidAnswer("bad_characters")
    if len(key) != length:
        raise InvalidAnswer("wrong_length")
    return key.upper()
