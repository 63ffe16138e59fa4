"""The report's numbers: periods, bars, percentiles, people and ratings, from plain rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from flows.report import (
    NO_OUTCOME,
    CaseTimes,
    aggregate,
    bucket_for,
    percentile,
    periods,
    report_period,
)
from flows.settlement_calendar import SHANGHAI

TODAY = date(2026, 11, 25)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("since", "days", "expected"),
    [
        (None, None, (date(2026, 10, 27), TODAY)),
        (None, 1, (TODAY, TODAY)),
        (None, 7, (date(2026, 11, 19), TODAY)),
        (date(2026, 11, 1), None, (date(2026, 11, 1), TODAY)),
        (date(2026, 11, 1), 7, (date(2026, 11, 1), date(2026, 11, 7))),
        (date(2026, 11, 20), 30, (date(2026, 11, 20), TODAY)),  # never past today
        (TODAY, None, (TODAY, TODAY)),
    ],
)
def test_report_period(since: date | None, days: int | None, expected: tuple[date, date]) -> None:
    assert report_period(TODAY, since, days) == expected


@pytest.mark.parametrize(
    ("since", "days", "message"),
    [
        (date(2026, 11, 26), None, "in the future"),
        (None, 0, "at least 1"),
        (date(2026, 11, 1), -3, "at least 1"),
    ],
)
def test_report_period_refuses(since: date | None, days: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        report_period(TODAY, since, days)


@pytest.mark.parametrize(
    ("start", "end", "bucket", "first", "count"),
    [
        (date(2026, 11, 1), date(2026, 11, 30), "day", date(2026, 11, 1), 30),
        (date(2026, 9, 1), date(2026, 11, 30), "day", date(2026, 9, 1), 91),
        (date(2026, 1, 1), date(2026, 12, 31), "week", date(2025, 12, 29), 53),
        (date(2020, 2, 15), date(2026, 11, 25), "month", date(2020, 2, 1), 82),
    ],
)
def test_bars(start: date, end: date, bucket: str, first: date, count: int) -> None:
    assert bucket_for(start, end) == bucket
    bars = periods(start, end, bucket)
    assert (bars[0], len(bars)) == (first, count)
    assert bars[-1] <= end


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.9, 7.0),
        ([1.0, 3.0], 0.5, 2.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9, 9.1),
        ([5.0, 1.0], 0.0, 1.0),
        ([5.0, 1.0], 1.0, 5.0),
    ],
)
def test_percentile(values: list[float], share: float, expected: float | None) -> None:
    assert percentile(values, share) == pytest.approx(expected)


def test_percentile_refuses_a_share_outside_0_1() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1.0], 90)


CASES = [
    # Bot only: summarised, money arrived, rated.
    CaseTimes(at(20), "A", resolved_at=at(21, 10), rating=5),
    CaseTimes(at(20, 23, 30), "B"),  # 23:30 Beijing is 15:30 UTC: still the 20th
    # Escalated: first reply after 30 minutes, resolved after 6 hours, rated 2.
    CaseTimes(at(21), "E", at(21, 11), at(21, 11, 30), at(21, 16), 2),
    # Handed to a person before a diagnosis; answered after 90 minutes, still open.
    CaseTimes(at(23), None, at(23), at(23, 11, 30)),
    # Outside the period: ignored whatever they hold.
    CaseTimes(at(19, 23, 59), "A", resolved_at=at(20), rating=1),
    CaseTimes(at(26), "C"),
]


def test_aggregate_counts_each_case_once_in_its_day() -> None:
    numbers = aggregate(CASES, date(2026, 11, 20), date(2026, 11, 25))
    assert numbers.bucket == "day"
    assert numbers.periods[0] == date(2026, 11, 20)
    assert numbers.total == 4
    assert numbers.per_period["A"] == (1, 0, 0, 0, 0, 0)
    assert numbers.per_period["B"] == (1, 0, 0, 0, 0, 0)
    assert numbers.per_period["E"] == (0, 1, 0, 0, 0, 0)
    assert numbers.per_period[NO_OUTCOME] == (0, 0, 0, 1, 0, 0)
    assert numbers.by_outcome == {"A": 1, "B": 1, "C": 0, "D": 0, "E": 1, "F": 0, "none": 1}


def test_aggregate_times_people_and_ratings() -> None:
    numbers = aggregate(CASES, date(2026, 11, 20), date(2026, 11, 25))
    assert numbers.first_reply_minutes.values == (30.0, 90.0)
    assert numbers.first_reply_minutes.median == pytest.approx(60.0)
    assert numbers.first_reply_minutes.p90 == pytest.approx(84.0)
    assert numbers.resolution_hours.values == (6.0, 24.0)
    assert numbers.resolution_hours.maximum == 24.0
    assert (numbers.escalated, numbers.resolved) == (2, 2)
    assert (numbers.resolved_without_person, numbers.resolved_with_person) == (1, 1)
    assert numbers.unresolved == 2
    assert numbers.share_without_person == 0.5
    assert numbers.ratings == (0, 1, 0, 0, 1)
    assert (numbers.rated, numbers.rating_mean) == (2, 3.5)


def test_aggregate_of_nothing_has_no_times_and_no_shares() -> None:
    numbers = aggregate([], date(2026, 11, 1), date(2026, 11, 1))
    assert numbers.total == 0
    assert numbers.per_period["A"] == (0,)
    assert numbers.first_reply_minutes.median is None
    assert numbers.first_reply_minutes.count == 0
    assert numbers.share_without_person is None
    assert numbers.rating_mean is None


def test_weekly_bars_start_on_monday() -> None:
    start = date(2026, 1, 1)  # a Thursday
    cases = [
        CaseTimes(datetime(2026, 1, 1, 9, tzinfo=SHANGHAI) + timedelta(days=d)) for d in (0, 3, 4)
    ]
    numbers = aggregate(cases, start, date(2026, 6, 30))
    assert numbers.bucket == "week"
    assert numbers.periods[:2] == (date(2025, 12, 29), date(2026, 1, 5))
    assert numbers.per_period[NO_OUTCOME][:2] == (2, 1)
