"""The forms of a date or a time merchants type, as one ordered table of patterns and handlers.

Each rule reads one piece (a date, a clock, or both) at a position of the prepared text;
`flows.dates.parse_when` combines the pieces and checks the result.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flows.answers import InvalidAnswer, unrecognised


@dataclass(frozen=True)
class Piece:
    day: date | None = None
    clock: time | None = None
    # Days to add to the date: "晚上12点" and "昨晚1点" belong to the night after the day named.
    shift: int = 0
    # Both readings of a date like 3/4 (month first, then day first); `day` is then unset.
    readings: tuple[date, ...] = ()


_Handler = Callable[[re.Match[str], datetime], Piece]


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
        raise unrecognised() from None


def add_days(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise unrecognised() from None


def _recent_month_day(month: int, day: int, today: date) -> date:
    """The latest such month/day on or before today; a missing year never means next year."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise unrecognised()
    # Nine years back reaches a 29 February from any starting year.
    for year in range(today.year, today.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    raise unrecognised()


def _readings(candidates: list[date]) -> Piece:
    """One reading is a date; two are a question for the merchant, never a guess."""
    unique = list(dict.fromkeys(candidates))
    if not unique:
        raise unrecognised()
    if len(unique) == 1:
        return Piece(day=unique[0])
    return Piece(readings=tuple(unique))


def _ymd(match: re.Match[str], now: datetime) -> Piece:
    return Piece(day=_make_date(int(match["y"]), int(match["mo"]), int(match["d"])))


_YEAR_WORDS = {"今年": 0, "去年": -1, "前年": -2}


def _year_word_md(match: re.Match[str], now: datetime) -> Piece:
    year = now.year + _YEAR_WORDS[match["yw"]]
    return Piece(day=_make_date(year, int(match["mo"]), int(match["d"])))


def _ambiguous_with_year(match: re.Match[str], now: datetime) -> Piece:
    """3/4/2026: March or April; a reading in the future is dropped at the end of parsing."""
    year, first, second = int(match["y"]), int(match["a"]), int(match["b"])
    candidates: list[date] = []
    for month, day in ((first, second), (second, first)):
        try:
            candidates.append(_make_date(year, month, day))
        except InvalidAnswer:
            continue
    return _readings(candidates)


def _ambiguous_without_year(match: re.Match[str], now: datetime) -> Piece:
    """3/4 is 3月4日 to some merchants and 3 April to others: both readings are kept."""
    first, second = int(match["a"]), int(match["b"])
    candidates: list[date] = []
    for month, day in ((first, second), (second, first)):
        try:
            candidates.append(_recent_month_day(month, day, now.date()))
        except InvalidAnswer:
            continue
    return _readings(candidates)


def _month_day(match: re.Match[str], now: datetime) -> Piece:
    return Piece(day=_recent_month_day(int(match["mo"]), int(match["d"]), now.date()))


_MONTH_WORDS = {
    "上上个月": 2,
    "上上月": 2,
    "上个月": 1,
    "上月": 1,
    "这个月": 0,
    "这月": 0,
    "本月": 0,
}


def _month_word_day(match: re.Match[str], now: datetime) -> Piece:
    months_back = _MONTH_WORDS[match["mw"]]
    index = now.year * 12 + now.month - 1 - months_back
    return Piece(day=_make_date(index // 12, index % 12 + 1, int(match["d"])))


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


def _english_month_day(match: re.Match[str], now: datetime) -> Piece:
    month, day = _EN_MONTHS[match["mon"]], int(match["d"])
    if match["y"]:
        return Piece(day=_make_date(int(match["y"]), month, day))
    return Piece(day=_recent_month_day(month, day, now.date()))


def _day_of_month(match: re.Match[str], now: datetime) -> Piece:
    """A bare "24号" is the latest 24th on or before today."""
    day = int(match["d"])
    if not 1 <= day <= 31:
        raise unrecognised()
    index = now.year * 12 + now.month - 1
    for _ in range(13):
        try:
            candidate = date(index // 12, index % 12 + 1, day)
        except ValueError:
            index -= 1
            continue
        if candidate <= now.date():
            return Piece(day=candidate)
        index -= 1
    raise unrecognised()


def _days_ago(match: re.Match[str], now: datetime) -> Piece:
    unit = match["unit"]
    days = int(match["n"]) * (7 if unit in {"周", "星期", "礼拜", "week", "weeks"} else 1)
    return Piece(day=add_days(now.date(), -days))


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


def _relative_day(match: re.Match[str], now: datetime) -> Piece:
    return Piece(day=add_days(now.date(), _RELATIVE_DAYS[match["rel"]]))


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


def _chinese_weekday(match: re.Match[str], now: datetime) -> Piece:
    """Plain 周X is the latest such day (today included); 上周X/这周X name a calendar week."""
    today = now.date()
    weekday = int(match["wd"]) - 1
    if match["rel"] is None:
        return Piece(day=add_days(today, -((today.weekday() - weekday) % 7)))
    monday = add_days(today, -today.weekday())
    return Piece(day=add_days(monday, 7 * _CN_WEEK_OFFSETS[match["rel"]] + weekday))


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


def _english_weekday(match: re.Match[str], now: datetime) -> Piece:
    """In English "last friday" is the latest Friday before today, not last week's Friday."""
    today = now.date()
    weekday = _EN_WEEKDAYS[match["wd"]]
    relation = match["rel"]
    if relation == "this":
        return Piece(day=add_days(today, weekday - today.weekday()))
    if relation == "last":
        return Piece(day=add_days(today, -((today.weekday() - weekday - 1) % 7 + 1)))
    return Piece(day=add_days(today, -((today.weekday() - weekday) % 7)))


def _ago(match: re.Match[str], now: datetime) -> Piece:
    count = 0.5 if match["n"] == "半" else float(match["n"])
    if match["half"]:
        count += 0.5
    minutes = count * (1 if match["unit"].startswith(("分", "min")) else 60)
    moment = now - timedelta(minutes=minutes)
    return Piece(day=moment.date(), clock=moment.time().replace(second=0, microsecond=0))


def _just_now(match: re.Match[str], now: datetime) -> Piece:
    return Piece(day=now.date(), clock=now.time().replace(second=0, microsecond=0))


_AM_WORDS = frozenset({"凌晨", "清晨", "早上", "早晨", "上午", "早"})
_PM_WORDS = frozenset({"下午", "傍晚"})
_NIGHT_WORDS = frozenset({"晚上", "夜里", "夜晚", "半夜", "晚", "夜"})
_MERIDIEM_WORDS = "凌晨|清晨|早上|早晨|上午|早|中午|下午|傍晚|晚上|夜里|夜晚|半夜|晚|夜"


def _clock(hour: int, minute: int, second: int, word: str | None, ampm: str | None) -> Piece:
    """Apply a time-of-day word to an hour the way a Chinese speaker means it."""
    if word and ampm:
        raise unrecognised()
    shift = 0
    if ampm is not None:
        if not 1 <= hour <= 12:
            raise unrecognised()
        hour = hour % 12 + (12 if ampm == "p" else 0)
    elif word in _AM_WORDS:
        if hour > 12:
            raise unrecognised()
        if hour == 12 and word == "凌晨":
            hour = 0
    elif word == "中午":
        if 1 <= hour <= 4:
            hour += 12
        elif not 11 <= hour <= 14:
            raise unrecognised()
    elif word in _PM_WORDS:
        if 1 <= hour <= 11:
            hour += 12
        elif not 12 <= hour <= 23:
            raise unrecognised()
    elif word in _NIGHT_WORDS:
        if hour in (0, 12):
            hour, shift = 0, 1
        elif 1 <= hour <= 4:
            shift = 1
        elif 5 <= hour <= 11:
            hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise unrecognised()
    return Piece(clock=time(hour, minute, second), shift=shift)


def _colon_clock(match: re.Match[str], now: datetime) -> Piece:
    second = int(match["s"]) if match["s"] else 0
    return _clock(int(match["h"]), int(match["m"]), second, match["mer"], match["ampm"])


def _chinese_clock(match: re.Match[str], now: datetime) -> Piece:
    if match["half"]:
        minute = 30
    elif match["quarter"]:
        quarters = int(match["quarter"])
        if not 1 <= quarters <= 3:
            raise unrecognised()
        minute = 15 * quarters
    else:
        minute = int(match["m"]) if match["m"] else 0
    second = int(match["s"]) if match["s"] else 0
    return _clock(int(match["h"]), minute, second, match["mer"], None)


def _ampm_clock(match: re.Match[str], now: datetime) -> Piece:
    return _clock(int(match["h"]), 0, 0, None, match["ampm"])


def _noon(match: re.Match[str], now: datetime) -> Piece:
    return Piece(clock=time(12))


def _vague_part_of_day(match: re.Match[str], now: datetime) -> Piece:
    return Piece()  # "昨天下午" without an hour: keep the day, leave the time unknown


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
WHEN_RULES = [
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
