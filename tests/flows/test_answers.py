"""Tests for the free-text answer parsers: every accepted form, every rejection, and fuzzing."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.amounts import parse_amount
from flows.answers import (
    RECEIPT_KEY_LENGTHS,
    SHANGHAI,
    InvalidAnswer,
    normalize_text,
    parse_receipt_key,
)
from flows.dates import AmbiguousWhen, When, parse_when

# A Wednesday afternoon.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)
TODAY = date(2026, 11, 25)
YESTERDAY = date(2026, 11, 24)


def _when(y: int, mo: int, d: int, h: int | None = None, mi: int = 0, s: int = 0) -> When:
    return When(date(y, mo, d), None if h is None else time(h, mi, s))


# --------------------------------------------------------------------------- parse_when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ISO, slashes, dots, Chinese full dates
        ("2026-11-24", _when(2026, 11, 24)),
        ("2026-11-24 15:30", _when(2026, 11, 24, 15, 30)),
        ("2026-11-24T15:30", _when(2026, 11, 24, 15, 30)),
        ("2026/11/24 15:30:08", _when(2026, 11, 24, 15, 30, 8)),
        ("2026.11.24", _when(2026, 11, 24)),
        ("2026-1-5", _when(2026, 1, 5)),
        ("20261124", _when(2026, 11, 24)),
        ("2026年11月24日", _when(2026, 11, 24)),
        ("2026年11月24号", _when(2026, 11, 24)),
        ("2026年11月24日 15点30分", _when(2026, 11, 24, 15, 30)),
        ("2026年11月24日15时30分", _when(2026, 11, 24, 15, 30)),
        ("二〇二六年十一月二十四日", _when(2026, 11, 24)),
        # Chinese month/day without year
        ("11月24日", _when(2026, 11, 24)),
        ("11月24号", _when(2026, 11, 24)),
        ("11月24", _when(2026, 11, 24)),
        ("11月24日 15:30", _when(2026, 11, 24, 15, 30)),
        ("11月24日下午3点", _when(2026, 11, 24, 15)),
        ("十一月二十四日", _when(2026, 11, 24)),
        ("十一月二十四号下午三点半", _when(2026, 11, 24, 15, 30)),
        ("11月25日", _when(2026, 11, 25)),
        ("11月26日", _when(2025, 11, 26)),
        ("12月30日", _when(2025, 12, 30)),
        ("去年12月30日", _when(2025, 12, 30)),
        ("今年1月5日", _when(2026, 1, 5)),
        ("24号", _when(2026, 11, 24)),
        ("on the 24th", _when(2026, 11, 24)),
        ("the 3rd at 3pm", _when(2026, 11, 3, 15)),
        ("21st", _when(2026, 11, 21)),
        ("26号", _when(2026, 10, 26)),
        ("24号3点", _when(2026, 11, 24, 3)),
        ("11月24日15:30", _when(2026, 11, 24, 15, 30)),
        ("11月24 3点", _when(2026, 11, 24, 3)),
        ("31日", _when(2026, 10, 31)),
        ("上个月24号", _when(2026, 10, 24)),
        ("本月3日", _when(2026, 11, 3)),
        # relative days
        ("今天", _when(2026, 11, 25)),
        ("今天 9:05", _when(2026, 11, 25, 9, 5)),
        ("今天上午9点", _when(2026, 11, 25, 9)),
        ("今早8点", _when(2026, 11, 25, 8)),
        ("昨天", _when(2026, 11, 24)),
        ("昨日", _when(2026, 11, 24)),
        ("昨天下午3点", _when(2026, 11, 24, 15)),
        ("昨天下午", _when(2026, 11, 24)),
        ("昨晚8点", _when(2026, 11, 24, 20)),
        ("昨天晚上8点", _when(2026, 11, 24, 20)),
        ("前天", _when(2026, 11, 23)),
        ("大前天", _when(2026, 11, 22)),
        ("3天前", _when(2026, 11, 22)),
        ("三天前", _when(2026, 11, 22)),
        ("两天前", _when(2026, 11, 23)),
        ("1周前", _when(2026, 11, 18)),
        ("3小时前", _when(2026, 11, 25, 11)),
        ("半小时前", _when(2026, 11, 25, 13, 30)),
        ("刚才", _when(2026, 11, 25, 14)),
        ("today", _when(2026, 11, 25)),
        ("Today", _when(2026, 11, 25)),
        ("yesterday", _when(2026, 11, 24)),
        ("yesterday 3pm", _when(2026, 11, 24, 15)),
        ("yesterday 15:30", _when(2026, 11, 24, 15, 30)),
        ("yesterday at 3 PM", _when(2026, 11, 24, 15)),
        ("3pm yesterday", _when(2026, 11, 24, 15)),
        ("the day before yesterday", _when(2026, 11, 23)),
        ("last night 8pm", _when(2026, 11, 24, 20)),
        # an English part of the day applies to the clock after it
        ("this afternoon at 1:30", _when(2026, 11, 25, 13, 30)),
        ("this morning 9:30", _when(2026, 11, 25, 9, 30)),
        ("yesterday afternoon at 3:15", _when(2026, 11, 24, 15, 15)),
        ("last night 11:30", _when(2026, 11, 24, 23, 30)),
        ("last night 1:30", _when(2026, 11, 25, 1, 30)),
        ("yesterday evening 7:00", _when(2026, 11, 24, 19, 0)),
        ("last night 11:30 pm", _when(2026, 11, 24, 23, 30)),
        ("2 days ago", _when(2026, 11, 23)),
        ("1 day ago", _when(2026, 11, 24)),
        ("today 9:05 am", _when(2026, 11, 25, 9, 5)),
        ("today 9:05 a.m.", _when(2026, 11, 25, 9, 5)),
        ("2 hours ago", _when(2026, 11, 25, 12)),
        # weekdays: most recent such day not in the future, today counts
        ("周一", _when(2026, 11, 23)),
        ("星期一", _when(2026, 11, 23)),
        ("礼拜一", _when(2026, 11, 23)),
        ("周二", _when(2026, 11, 24)),
        ("周三", _when(2026, 11, 25)),
        ("周四", _when(2026, 11, 19)),
        ("周五", _when(2026, 11, 20)),
        ("星期六", _when(2026, 11, 21)),
        ("周日", _when(2026, 11, 22)),
        ("星期天", _when(2026, 11, 22)),
        ("礼拜天", _when(2026, 11, 22)),
        ("周1", _when(2026, 11, 23)),
        ("上周五", _when(2026, 11, 20)),
        ("上个星期五", _when(2026, 11, 20)),
        ("上周三", _when(2026, 11, 18)),
        ("上周日", _when(2026, 11, 22)),
        ("上上周一", _when(2026, 11, 9)),
        ("这周二", _when(2026, 11, 24)),
        ("本周一", _when(2026, 11, 23)),
        ("周二下午3点", _when(2026, 11, 24, 15)),
        ("周三十点", _when(2026, 11, 25, 10)),
        ("星期一十点半", _when(2026, 11, 23, 10, 30)),
        ("monday", _when(2026, 11, 23)),
        ("Wednesday", _when(2026, 11, 25)),
        ("fri", _when(2026, 11, 20)),
        ("last friday", _when(2026, 11, 20)),
        ("last wednesday", _when(2026, 11, 18)),
        ("this tuesday", _when(2026, 11, 24)),
        ("last friday 3pm", _when(2026, 11, 20, 15)),
        # short numeric: one part above 12, the same number twice, or one reading in the future
        ("24/11", _when(2026, 11, 24)),
        ("11/24", _when(2026, 11, 24)),
        ("11-24", _when(2026, 11, 24)),
        ("11.24", _when(2026, 11, 24)),
        ("24/11 15:30", _when(2026, 11, 24, 15, 30)),
        ("11/11", _when(2026, 11, 11)),
        ("24/11/2026", _when(2026, 11, 24)),
        ("11/24/2026", _when(2026, 11, 24)),
        ("12/11/2026", _when(2026, 11, 12)),  # 11 December 2026 has not come yet
        ("2026-03-04", _when(2026, 3, 4)),
        ("3月4日", _when(2026, 3, 4)),
        ("dec 3", _when(2025, 12, 3)),
        # English month names
        ("nov 24", _when(2026, 11, 24)),
        ("24 Nov 2026", _when(2026, 11, 24)),
        ("November 24th, 2026", _when(2026, 11, 24)),
        ("dec 30", _when(2025, 12, 30)),
        # time-of-day words
        ("昨天上午9点", _when(2026, 11, 24, 9)),
        ("昨天早上8点", _when(2026, 11, 24, 8)),
        ("昨天早8点", _when(2026, 11, 24, 8)),
        ("昨天凌晨2点", _when(2026, 11, 24, 2)),
        ("昨天凌晨12点", _when(2026, 11, 24, 0)),
        ("昨天零点", _when(2026, 11, 24, 0)),
        ("昨天中午12点", _when(2026, 11, 24, 12)),
        ("昨天中午1点", _when(2026, 11, 24, 13)),
        ("昨天下午12点", _when(2026, 11, 24, 12)),
        ("昨天下午15:30", _when(2026, 11, 24, 15, 30)),
        ("昨天傍晚6点", _when(2026, 11, 24, 18)),
        ("昨天晚8点", _when(2026, 11, 24, 20)),
        ("昨天晚上12点", _when(2026, 11, 25, 0)),
        ("昨晚1点", _when(2026, 11, 25, 1)),
        ("晚上12点", _when(2026, 11, 25, 0)),
        ("昨天3点", _when(2026, 11, 24, 3)),
        ("昨天3点半", _when(2026, 11, 24, 3, 30)),
        ("昨天3点15分", _when(2026, 11, 24, 3, 15)),
        ("昨天3点15", _when(2026, 11, 24, 3, 15)),
        ("昨天3点05分", _when(2026, 11, 24, 3, 5)),
        ("昨天3点一刻", _when(2026, 11, 24, 3, 15)),
        ("昨天3点多", _when(2026, 11, 24, 3)),
        ("昨天15:30", _when(2026, 11, 24, 15, 30)),
        ("昨天15：30", _when(2026, 11, 24, 15, 30)),
        ("昨天3pm", _when(2026, 11, 24, 15)),
        ("昨天3:15 pm", _when(2026, 11, 24, 15, 15)),
        ("昨天9:05am", _when(2026, 11, 24, 9, 5)),
        ("昨天12am", _when(2026, 11, 24, 0)),
        ("昨天12pm", _when(2026, 11, 24, 12)),
        ("yesterday noon", _when(2026, 11, 24, 12)),
        ("昨天下午三点", _when(2026, 11, 24, 15)),
        ("昨天十点零五分", _when(2026, 11, 24, 10, 5)),
        ("两点", _when(2026, 11, 25, 2)),
        # a time alone means today
        ("13:30", _when(2026, 11, 25, 13, 30)),
        ("9:05am", _when(2026, 11, 25, 9, 5)),
        ("14:04", _when(2026, 11, 25, 14, 4)),
        ("下午1点", _when(2026, 11, 25, 13)),
        # noise, punctuation, full width
        ("大概昨天下午3点左右", _when(2026, 11, 24, 15)),
        ("昨天下午3点的时候", _when(2026, 11, 24, 15)),
        ("应该是昨天下午3点左右刷的卡。", _when(2026, 11, 24, 15)),
        ("昨天。", _when(2026, 11, 24)),
        ("昨天下午3点！", _when(2026, 11, 24, 15)),
        ("  昨天，下午 3 点 ", _when(2026, 11, 24, 15)),
        ("２０２６－１１－２４", _when(2026, 11, 24)),
        ("１１月２４日　１５：３０", _when(2026, 11, 24, 15, 30)),
        ("around 3pm yesterday", _when(2026, 11, 24, 15)),
        ("yesterday, about 3:30pm.", _when(2026, 11, 24, 15, 30)),
        # old dates are the caller's business, not ours
        ("2020-01-01", _when(2020, 1, 1)),
        ("1000天前", When(TODAY - timedelta(days=1000), None)),
    ],
)
def test_parse_when_accepts(text: str, expected: When) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26",
        "2027-01-01",
        "2026年11月26日",
        "今年12月30日",
        "今天 15:30",
        "今天 14:06",
        "15:30",
        "下午3点",
        "今天晚上12点",
        "这周五",
        "下周一",
        "明天",
        "tomorrow",
        "this friday",
    ],
)
def test_parse_when_rejects_future(text: str) -> None:
    with pytest.raises(InvalidAnswer) as excinfo:
        parse_when(text, NOW)
    assert excinfo.value.reason == "future"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "。",
        "abc",
        "hello world",
        "不知道",
        "2月30日",
        "2026-02-30",
        "2026-13-01",
        "2026-11-24-25",
        "0000-01-01",
        "13/13",
        "24/13",
        "15.30",
        "26/11/24",
        "25:00",
        "12:60",
        "昨天25点",
        "上午13点",
        "13pm",
        "下午3pm",
        "昨天 昨天",
        "3",
        "24",
        "1280",
        "周八",
        "上周",
        "2026年11月",
    ],
)
def test_parse_when_rejects_unrecognised(text: str) -> None:
    with pytest.raises(InvalidAnswer) as excinfo:
        parse_when(text, NOW)
    assert excinfo.value.reason == "unrecognised"


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("3/4", _when(2026, 3, 4), _when(2026, 4, 3)),
        ("5/6", _when(2026, 5, 6), _when(2026, 6, 5)),
        ("3/4 10:00", _when(2026, 3, 4, 10), _when(2026, 4, 3, 10)),
        ("10:00 3/4", _when(2026, 3, 4, 10), _when(2026, 4, 3, 10)),
        ("3.4 下午3点", _when(2026, 3, 4, 15), _when(2026, 4, 3, 15)),
        ("3-4", _when(2026, 3, 4), _when(2026, 4, 3)),
        ("12/11", _when(2025, 12, 11), _when(2026, 11, 12)),
        ("11/12", _when(2026, 11, 12), _when(2025, 12, 11)),
        ("1/12", _when(2026, 1, 12), _when(2025, 12, 1)),
        ("3/4/2026", _when(2026, 3, 4), _when(2026, 4, 3)),
        ("about 3/4", _when(2026, 3, 4), _when(2026, 4, 3)),
    ],
)
def test_parse_when_asks_which_reading_of_a_two_way_date(
    text: str, first: When, second: When
) -> None:
    with pytest.raises(AmbiguousWhen) as excinfo:
        parse_when(text, NOW)
    assert excinfo.value.options == (first, second)
    assert excinfo.value.reason == "ambiguous"


@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.sampled_from("/.-"),
    st.sampled_from(["", " 10:00", " 9am"]),
)
def test_parse_when_never_guesses_day_and_month(a: int, b: int, sep: str, clock: str) -> None:
    text = f"{a}{sep}{b}{clock}"
    if a == b:
        assert parse_when(text, NOW).day == date(2026 if a <= 11 else 2025, a, a)
        return
    with pytest.raises(AmbiguousWhen) as excinfo:
        parse_when(text, NOW)
    options = excinfo.value.options
    assert [(o.day.month, o.day.day) for o in options] == [(a, b), (b, a)]
    for option in options:
        _assert_not_future(option)


def test_parse_when_converts_now_to_shanghai() -> None:
    # 20:00 UTC on the 24th is already 04:00 on the 25th in Shanghai.
    utc_now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    assert parse_when("今天", utc_now) == _when(2026, 11, 25)
    assert parse_when("昨天 23:00", utc_now) == _when(2026, 11, 24, 23)
    with pytest.raises(InvalidAnswer):
        parse_when("今天 9:00", utc_now)


def test_parse_when_requires_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("今天", datetime(2026, 11, 25, 14, 0))


def test_when_as_datetime() -> None:
    assert _when(2026, 11, 24, 15, 30).as_datetime() == datetime(
        2026, 11, 24, 15, 30, tzinfo=SHANGHAI
    )
    midnight = _when(2026, 11, 24).as_datetime()
    assert midnight == datetime(2026, 11, 24, 0, 0, tzinfo=SHANGHAI)
    assert midnight.utcoffset() == timedelta(hours=8)


_WHEN_FRAGMENTS = [
    "2026",
    "-",
    "/",
    ".",
    ":",
    " ",
    "年",
    "月",
    "日",
    "号",
    "点",
    "半",
    "分",
    "今天",
    "昨天",
    "前天",
    "明天",
    "上周",
    "这周",
    "周",
    "星期",
    "五",
    "日",
    "十",
    "二十",
    "下午",
    "晚上",
    "凌晨",
    "中午",
    "天前",
    "小时前",
    "0",
    "1",
    "3",
    "9",
    "11",
    "12",
    "24",
    "25",
    "30",
    "59",
    "am",
    "pm",
    "yesterday",
    "today",
    "last",
    "friday",
    "days ago",
    "nov",
]


def _readings_of(text: str) -> tuple[When, ...]:
    """What parse_when gives: one moment, both readings of a two-way date, or nothing."""
    try:
        return (parse_when(text, NOW),)
    except AmbiguousWhen as ambiguous:
        return ambiguous.options
    except InvalidAnswer:
        return ()


def _assert_not_future(result: When) -> None:
    assert result.day <= TODAY
    if result.time is not None:
        assert result.as_datetime() <= NOW + timedelta(minutes=5)


@given(st.text())
def test_parse_when_fuzz_only_raises_invalid_answer(text: str) -> None:
    readings = _readings_of(text)
    assert len(set(readings)) == len(readings)
    for result in readings:
        _assert_not_future(result)


@given(st.lists(st.sampled_from(_WHEN_FRAGMENTS), max_size=8).map("".join))
def test_parse_when_fragments_never_future(text: str) -> None:
    for result in _readings_of(text):
        _assert_not_future(result)


# --------------------------------------------------------------------------- parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1280", "1280.00"),
        ("1280.5", "1280.50"),
        ("1280.", "1280.00"),
        ("0.5", "0.50"),
        (".5", "0.50"),
        ("1,280.50", "1280.50"),
        ("1，280.50", "1280.50"),
        ("1,280", "1280.00"),
        ("1,234,567.89", "1234567.89"),
        ("1 280", "1280.00"),
        ("1 280.50", "1280.50"),
        ("¥1280", "1280.00"),
        ("￥1,280", "1280.00"),
        ("¥ 1,280.50", "1280.50"),
        ("1280元", "1280.00"),
        ("1280.5元", "1280.50"),
        ("1280 元", "1280.00"),
        ("RMB 1280", "1280.00"),
        ("rmb1280", "1280.00"),
        ("CNY1280", "1280.00"),
        ("1280 CNY", "1280.00"),
        ("人民币1280元", "1280.00"),
        ("1280块", "1280.00"),
        ("1280块钱", "1280.00"),
        ("1280块5", "1280.50"),
        ("1280元整", "1280.00"),
        ("１２８０元", "1280.00"),
        ("金额：1280", "1280.00"),
        ("大概1280元左右", "1280.00"),
        ("1280。", "1280.00"),
        ("一千二百八十元", "1280.00"),
        ("一千二百八十", "1280.00"),
        ("一千二百八十元五角", "1280.50"),
        ("一千二百八十元五毛", "1280.50"),
        ("一千二百八十元五角三分", "1280.53"),
        ("一千二百八十元零三分", "1280.03"),
        ("一千二百八十块五", "1280.50"),
        ("一千二百八十点五", "1280.50"),
        ("五角", "0.50"),
        ("两千", "2000.00"),
        ("两千五", "2500.00"),
        ("一千零五十", "1050.00"),
        ("一百零八元", "108.00"),
        ("十元", "10.00"),
        ("十五", "15.00"),
        ("二十", "20.00"),
        ("十万", "100000.00"),
        ("一万二千", "12000.00"),
        ("一万二", "12000.00"),
        ("一万零五百", "10500.00"),
        ("一万两千五百元", "12500.00"),
        ("1.2万", "12000.00"),
        ("1.25万元", "12500.00"),
        ("3万", "30000.00"),
        ("1万2", "12000.00"),
        ("1千2百", "1200.00"),
        ("壹仟贰佰捌拾元整", "1280.00"),
        ("壹仟贰佰捌拾圆伍角", "1280.50"),
        ("壹万贰仟元正", "12000.00"),
        ("一千万", "10000000.00"),
        ("10,000,000", "10000000.00"),
        ("0.01", "0.01"),
    ],
)
def test_parse_amount_accepts(text: str, expected: str) -> None:
    result = parse_amount(text)
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "text",
    [
        "大概1280",
        "约1280元",
        "差不多1280",
        "about 1280",
        "About 1,280",
        "around 1280 yuan",
        "approx. 1280",
        "approx 1280",
        "approximately ¥1280",
        "roughly 1280",
        "~1280",
        "～1280",
        "≈1280",
        "1280 or so",
        "1280ish",
        "about ¥1280.00",
    ],
)
def test_parse_amount_takes_hedged_amounts_in_both_languages(text: str) -> None:
    assert str(parse_amount(text)) == "1280.00"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "not_positive"),
        ("0.00", "not_positive"),
        ("-5", "not_positive"),
        ("-1,280.50", "not_positive"),
        ("¥-5", "not_positive"),
        ("负五十", "not_positive"),
        ("零元", "not_positive"),
        ("1.234", "too_many_decimals"),
        ("1280.505", "too_many_decimals"),
        ("1.280", "too_many_decimals"),
        ("一千二百八十点五三五", "too_many_decimals"),
        ("10000000.01", "too_large"),
        ("10000001", "too_large"),
        ("2亿", "too_large"),
        ("9" * 40, "too_large"),
        ("", "unrecognised"),
        ("元", "unrecognised"),
        ("abc", "unrecognised"),
        ("1,28", "unrecognised"),
        ("12,80", "unrecognised"),
        ("1.280,50", "unrecognised"),
        ("1,2805", "unrecognised"),
        ("1,280,5", "unrecognised"),
        ("1 28", "unrecognised"),
        ("12 80", "unrecognised"),
        ("1.2.3", "unrecognised"),
        ("1e3", "unrecognised"),
        ("NaN", "unrecognised"),
        ("Infinity", "unrecognised"),
        ("$100", "unrecognised"),
        ("1280块50", "unrecognised"),
        ("1280.5元5角", "unrecognised"),
        ("一二三", "unrecognised"),
        ("百千", "unrecognised"),
        ("一百二千", "unrecognised"),
        ("12 and 13", "unrecognised"),
    ],
)
def test_parse_amount_rejects(text: str, reason: str) -> None:
    with pytest.raises(InvalidAnswer) as excinfo:
        parse_amount(text)
    assert excinfo.value.reason == reason


_AMOUNTS = st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal(10_000_000),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@given(_AMOUNTS)
def test_parse_amount_round_trips(amount: Decimal) -> None:
    assert parse_amount(f"{amount:,.2f}") == amount
    assert parse_amount(f"¥{amount}") == amount
    assert parse_amount(f"{amount}元") == amount


@given(st.text())
def test_parse_amount_fuzz_only_raises_invalid_answer(text: str) -> None:
    try:
        result = parse_amount(text)
    except InvalidAnswer:
        return
    assert Decimal(0) < result <= Decimal(10_000_000)


# --------------------------------------------------------------------------- parse_receipt_key


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("reference", "123456789012", "123456789012"),
        ("reference", "1234 5678 9012", "123456789012"),
        ("reference", "123-456-789-012", "123456789012"),
        ("reference", "１２３４５６７８９０１２", "123456789012"),
        ("terminal", "ab12cd34", "AB12CD34"),
        ("terminal", "12345678", "12345678"),
        ("merchant", "898310048161234", "898310048161234"),
        ("merchant", "8983 1004 816 12AB", "8983100481612AB"),
        ("voucher", "000123", "000123"),
        ("voucher", " 000 123 ", "000123"),
        ("batch", "000001", "000001"),
        ("auth", "a1b2c3", "A1B2C3"),
        ("auth", "ＡＢ１２３４", "AB1234"),
    ],
)
def test_parse_receipt_key_accepts(kind: str, text: str, expected: str) -> None:
    assert parse_receipt_key(kind, text) == expected


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("reference", "12345678901", "wrong_length"),
        ("reference", "1234567890123", "wrong_length"),
        ("reference", "", "wrong_length"),
        ("reference", "12345678901A", "bad_characters"),
        ("reference", "参考号123456789012", "bad_characters"),
        ("terminal", "AB12CD3", "wrong_length"),
        ("terminal", "AB12CD3!", "bad_characters"),
        ("merchant", "89831004816123", "wrong_length"),
        ("voucher", "12345A", "bad_characters"),
        ("voucher", "١٢٣٤٥٦", "bad_characters"),
        ("voucher", "1234567", "wrong_length"),
        ("batch", "00001", "wrong_length"),
        ("auth", "a1b2c", "wrong_length"),
        ("auth", "a1b2cß", "bad_characters"),
    ],
)
def test_parse_receipt_key_rejects(kind: str, text: str, reason: str) -> None:
    with pytest.raises(InvalidAnswer) as excinfo:
        parse_receipt_key(kind, text)
    assert excinfo.value.reason == reason


def test_parse_receipt_key_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown") as excinfo:
        parse_receipt_key("pin", "123456")
    assert not isinstance(excinfo.value, InvalidAnswer)


def test_receipt_key_lengths() -> None:
    assert RECEIPT_KEY_LENGTHS == {
        "reference": 12,
        "terminal": 8,
        "merchant": 15,
        "voucher": 6,
        "batch": 6,
        "auth": 6,
    }


_DIGITS = "0123456789"
_ALNUM = _DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGIT_KINDS = {"reference", "voucher", "batch"}


@given(st.data())
def test_parse_receipt_key_ignores_inserted_spaces(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(RECEIPT_KEY_LENGTHS)))
    length = RECEIPT_KEY_LENGTHS[kind]
    alphabet = _DIGITS if kind in _DIGIT_KINDS else _ALNUM
    key = data.draw(st.text(alphabet=alphabet, min_size=length, max_size=length))
    gaps = data.draw(
        st.lists(
            st.sampled_from(["", "", " ", "  ", "-", "\u3000", "\t"]),
            min_size=length + 1,
            max_size=length + 1,
        )
    )
    spaced = gaps[0] + "".join(char + gap for char, gap in zip(key, gaps[1:], strict=True))
    assert parse_receipt_key(kind, spaced) == key.upper()


# --------------------------------------------------------------------------- misc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("１５：３０", "15:30"),
        ("  a   b  ", "a b"),
        ("\u3000昨天\u3000 下午 ", "昨天 下午"),
        ("￥１，２８０", "¥1,280"),
        ("", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_invalid_answer_carries_reason() -> None:
    error = InvalidAnswer("future")
    assert error.reason == "future"
    assert isinstance(error, ValueError)
