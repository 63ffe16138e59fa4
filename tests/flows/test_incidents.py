"""Incident ranges: what `/incident` accepts and refuses, and which transactions are covered."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.incidents import (
    MAX_TEXT,
    Incident,
    InvalidIncident,
    affecting,
    affects,
    parse_incident,
    parse_incident_id,
)
from flows.settlement_calendar import SHANGHAI
from tests.flows.dialogue import Dialogue
from tests.flows.test_intake import CARD_SALE

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


GOOD = [
    # args, starts, ends, text
    (
        "2026-11-24 2026-11-24 拉卡拉结算批次延迟",
        "2026-11-24 00:00",
        "2026-11-24 23:59:59",
        "拉卡拉结算批次延迟",
    ),
    ("2026-11-24 08:00 2026-11-24 12:30 batch late", "2026-11-24 08:00", "2026-11-24 12:30", None),
    ("2026-11-24T08:00 2026-11-25T09:30 batch late", "2026-11-24 08:00", "2026-11-25 09:30", None),
    ("11-24 11-25 batch late", "2026-11-24 00:00", "2026-11-25 23:59:59", None),
    ("11-24 08:00 11-24 09:00 batch late", "2026-11-24 08:00", "2026-11-24 09:00", None),
    ("2026/11/24 2026.11.25 batch late", "2026-11-24 00:00", "2026-11-25 23:59:59", None),
    ("２０２６-11-24 08：00 11-24 23:00 全角", "2026-11-24 08:00", "2026-11-24 23:00", "全角"),
    ("2026-11-01 2026-12-01 a whole month", "2026-11-01 00:00", "2026-12-01 23:59:59", None),
    ("  2026-11-24   2026-11-24\n多行\n说明 ", "2026-11-24 00:00", "2026-11-24 23:59:59", None),
    # The window's edges: a year back, 31 days ahead (now is 2026-11-25 14:00).
    ("2025-11-25 14:01 2025-11-26 a year ago", "2025-11-25 14:01", "2025-11-26 23:59:59", None),
    ("2026-12-20 2026-12-26 14:00 planned", "2026-12-20 00:00", "2026-12-26 14:00", None),
]


@pytest.mark.parametrize(("args", "starts", "ends", "text"), GOOD)
def test_good_ranges(args: str, starts: str, ends: str, text: str | None) -> None:
    draft = parse_incident(args, NOW)
    assert (draft.starts, draft.ends) == (at(starts), at(ends))
    assert draft.starts.tzinfo is SHANGHAI
    assert draft.text
    if text is not None:
        assert draft.text == text


def test_a_date_without_a_year_is_the_nearest_one() -> None:
    january = datetime(2027, 1, 3, 9, 0, tzinfo=SHANGHAI)
    draft = parse_incident("12-30 01-02 over new year", january)
    assert (draft.starts, draft.ends) == (at("2026-12-30 00:00"), at("2027-01-02 23:59:59"))
    assert parse_incident("12-20 12-21 next month", NOW).starts == at("2026-12-20 00:00")


BAD = [
    ("", "usage"),
    ("   ", "usage"),
    ("2026-11-24", "usage"),
    ("yesterday 2026-11-24 text", "bad_from"),
    ("2026-02-30 2026-03-01 text", "bad_from"),
    ("2026-11-24 25:00 2026-11-25 text", "bad_from"),
    ("2026-11-24T08:00 09:00 2026-11-25 text", "bad_to"),
    ("2026-11-24 tomorrow text", "bad_to"),
    ("2026-11-24 11-31 text", "bad_to"),
    ("2026-11-25 2026-11-24 text", "reversed"),
    ("2026-11-24 12:00 2026-11-24 08:00 text", "reversed"),
    ("2026-11-24 08:00 2026-11-24 08:00 text", "reversed"),
    ("2026-11-01 2026-12-02 text", "too_long"),
    ("2026-01-01 2026-12-31 text", "too_long"),
    # Within a year back and 31 days ahead of now (2026-11-25 14:00): else a typo for the year.
    ("0001-01-01 0001-01-02 x", "out_of_range"),
    ("9999-12-30 9999-12-31 x", "out_of_range"),
    ("2025-11-24 2025-11-26 text", "out_of_range"),
    ("2025-11-25 13:59 2025-11-26 text", "out_of_range"),
    ("2026-12-20 2026-12-26 text", "out_of_range"),
    ("2026-12-26 14:00 2026-12-26 14:01 text", "out_of_range"),
    ("2027-11-24 2027-11-25 text", "out_of_range"),
    ("2026-11-24 2026-11-25", "no_text"),
    ("2026-11-24 2026-11-25    ", "no_text"),
    ("2026-11-24 2026-11-25 " + "x" * (MAX_TEXT + 1), "text_too_long"),
]


@pytest.mark.parametrize(("args", "reason"), BAD)
def test_bad_ranges_say_why(args: str, reason: str) -> None:
    with pytest.raises(InvalidIncident) as caught:
        parse_incident(args, NOW)
    assert caught.value.reason == reason


IDS = [("3", 3), ("#12", 12), (" ３ ", 3), ("x", None), ("", None), ("-1", None)]


@pytest.mark.parametrize(("text", "expected"), IDS)
def test_incident_ids(text: str, expected: int | None) -> None:
    assert parse_incident_id(text) == expected


MORNING = Incident(1, at("2026-11-24 08:00"), at("2026-11-24 12:00"), "batch late")

COVERS = [
    # day, time, covered
    (date(2026, 11, 24), time(8, 0), True),  # both ends count
    (date(2026, 11, 24), time(12, 0), True),
    (date(2026, 11, 24), time(10, 30), True),
    (date(2026, 11, 24), time(7, 59), False),
    (date(2026, 11, 24), time(12, 1), False),
    (date(2026, 11, 24), None, True),  # time unknown: the day touches the range
    (date(2026, 11, 23), None, False),
    (date(2026, 11, 25), None, False),
]


@pytest.mark.parametrize(("day", "clock", "covered"), COVERS)
def test_which_transactions_an_incident_covers(
    day: date, clock: time | None, covered: bool
) -> None:
    assert affects(MORNING, day, clock) is covered
    assert affecting([MORNING], day, clock) == ([MORNING] if covered else [])


def test_date_only_range_covers_the_last_minute_of_the_day() -> None:
    draft = parse_incident("11-24 11-24 x", NOW)
    whole_day = Incident(2, draft.starts, draft.ends, draft.text)
    assert affects(whole_day, date(2026, 11, 24), time(23, 59))
    assert affects(whole_day, date(2026, 11, 24), time(0, 0))
    assert not affects(whole_day, date(2026, 11, 25), time(0, 0))
    assert not affects(whole_day, date(2026, 11, 23), time(23, 59))


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SHANGHAI)
).map(lambda d: d.replace(second=0, microsecond=0))


@st.composite
def incidents(draw: st.DrawFn) -> Incident:
    starts = draw(moments)
    span = draw(st.integers(min_value=1, max_value=31 * 24 * 60))
    return Incident(draw(st.integers(1, 10_000)), starts, starts + timedelta(minutes=span), "x")


@given(st.lists(incidents(), max_size=6), moments)
def test_affecting_is_exactly_the_incidents_whose_range_holds_the_moment(
    found: list[Incident], moment: datetime
) -> None:
    result = affecting(found, moment.date(), moment.time())
    assert result == sorted(result, key=lambda i: (i.starts, i.id))
    assert {id(i) for i in result} == {id(i) for i in found if i.starts <= moment <= i.ends}


@given(st.lists(incidents(), max_size=6), moments)
def test_an_unknown_time_is_covered_whenever_some_time_that_day_is(
    found: list[Incident], moment: datetime
) -> None:
    day = moment.date()
    known = affecting(found, day, moment.time())
    unknown = affecting(found, day, None)
    assert all(incident in unknown for incident in known)
    assert all(i.starts.date() <= day <= i.ends.date() for i in unknown)


def summary_incidents(when: str, posted: list[Incident]) -> list[Incident]:
    """Walk a merchant through the intake with `posted` incidents; the summary's notices."""
    dialogue = Dialogue()
    dialogue.desk.incidents = posted
    dialogue.command("start")
    script = list(CARD_SALE)
    script[1] = when
    dialogue.answer_all(script[:9])
    if dialogue.state == "asking_bank":  # overdue: the summary gives the bank's hotline
        dialogue.press("a:bank:icbc")
    dialogue.answer_all([*script[9:], "press:x:confirm"])
    (summary,) = [reply for reply in dialogue.last if reply.template == "summary"]
    found: list[Incident] = summary.context["incidents"]
    dialogue.press("x:missing")  # "still missing" re-checks with the same incidents
    (again,) = [reply for reply in dialogue.last if reply.template == "still_missing"]
    assert again.context["incidents"] == found
    return found


def test_the_summary_carries_the_incidents_covering_the_transaction() -> None:
    afternoon = Incident(7, at("2026-11-24 14:00"), at("2026-11-24 16:00"), "batch late")
    posted = [MORNING, afternoon]
    assert summary_incidents("昨天下午3点", posted) == [afternoon]  # 2026-11-24 15:00
    assert summary_incidents("2026-11-24 09:30", posted) == [MORNING]
    assert summary_incidents("11月24日", posted) == [MORNING, afternoon]  # time unknown
    assert summary_incidents("11月18日 10:00", posted) == []
    assert summary_incidents("昨天下午3点", []) == []
