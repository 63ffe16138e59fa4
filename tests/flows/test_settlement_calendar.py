"""The settlement calendar: T+1 / D+1 / D0 due dates over China's official working days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import chinese_calendar
import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import settlement_calendar as sc
from flows.settlement_calendar import (
    SHANGHAI,
    Cycle,
    DueDate,
    WorkCalendar,
    YearSchedule,
    is_overdue,
    settlement_due,
)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


OFF_2026 = [
    *_days(date(2026, 1, 1), date(2026, 1, 3)),
    *_days(date(2026, 2, 15), date(2026, 2, 23)),
    *_days(date(2026, 4, 4), date(2026, 4, 6)),
    *_days(date(2026, 5, 1), date(2026, 5, 5)),
    *_days(date(2026, 6, 19), date(2026, 6, 21)),
    *_days(date(2026, 9, 25), date(2026, 9, 27)),
    *_days(date(2026, 10, 1), date(2026, 10, 7)),
]
MAKE_UP_2026 = [
    date(2026, 1, 4),  # Sun
    date(2026, 2, 14),  # Sat
    date(2026, 2, 28),  # Sat
    date(2026, 5, 9),  # Sat
    date(2026, 9, 20),  # Sun
    date(2026, 10, 10),  # Sat
]


@pytest.fixture(autouse=True)
def _fresh_library_cache() -> Iterator[None]:
    """Tests that monkeypatch a library must not leak a cached year into the next test."""
    sc._library_year.cache_clear()
    yield
    sc._library_year.cache_clear()


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


# --- is_workday / next_workday ------------------------------------------------------------


@pytest.mark.parametrize("day", MAKE_UP_2026, ids=str)
def test_2026_make_up_days_are_workdays(calendar: WorkCalendar, day: date) -> None:
    assert day.weekday() >= 5
    assert calendar.is_workday(day)


@pytest.mark.parametrize("day", OFF_2026, ids=str)
def test_2026_holidays_are_not_workdays(calendar: WorkCalendar, day: date) -> None:
    assert not calendar.is_workday(day)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 21), False),  # ordinary Saturday
        (date(2026, 11, 22), False),  # ordinary Sunday
        (date(2026, 11, 20), True),  # ordinary Friday
        (date(2026, 10, 8), True),  # first day back after National Day
    ],
    ids=str,
)
def test_ordinary_days(calendar: WorkCalendar, day: date, expected: bool) -> None:
    assert calendar.is_workday(day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 30), date(2026, 10, 8)),
        (date(2026, 2, 13), date(2026, 2, 14)),
        (date(2026, 2, 14), date(2026, 2, 24)),
        (date(2026, 11, 20), date(2026, 11, 23)),
        (date(2026, 11, 23), date(2026, 11, 24)),  # strictly after, even from a workday
        (date(2026, 12, 31), date(2027, 1, 4)),
    ],
    ids=str,
)
def test_next_workday(calendar: WorkCalendar, day: date, expected: date) -> None:
    assert calendar.next_workday(day) == expected


def test_official_years(calendar: WorkCalendar) -> None:
    assert calendar.is_official(2026)
    assert calendar.is_official(2004)
    assert not calendar.is_official(2150)
    assert not calendar.is_official(1900)


# --- settlement_due -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "at", "cycle", "trade_day", "expected", "overdue_day"),
    [
        # T+1 over National Day: back on Thu 10-08, the next working day is Fri 10-09.
        (
            date(2026, 9, 30),
            None,
            Cycle.T1,
            date(2026, 9, 30),
            date(2026, 10, 8),
            date(2026, 10, 10),
        ),
        # T+1 onto the 补班 Saturday; the Spring Festival then runs to Mon 02-23.
        (
            date(2026, 2, 13),
            None,
            Cycle.T1,
            date(2026, 2, 13),
            date(2026, 2, 14),
            date(2026, 2, 25),
        ),
        # Cut-off: Fri 23:30 is booked on Sat, paid Mon.
        (
            date(2026, 11, 20),
            time(23, 30),
            Cycle.T1,
            date(2026, 11, 21),
            date(2026, 11, 23),
            date(2026, 11, 25),
        ),
        # Exactly at the cut-off counts as after it.
        (
            date(2026, 11, 19),
            time(23, 0),
            Cycle.T1,
            date(2026, 11, 20),
            date(2026, 11, 23),
            date(2026, 11, 25),
        ),
        (
            date(2026, 11, 19),
            time(22, 59, 59),
            Cycle.T1,
            date(2026, 11, 19),
            date(2026, 11, 20),
            date(2026, 11, 24),
        ),
        # D+1 is a calendar day: over a weekend and over a holiday.
        (
            date(2026, 11, 20),
            None,
            Cycle.D1,
            date(2026, 11, 20),
            date(2026, 11, 21),
            date(2026, 11, 24),
        ),
        (
            date(2026, 9, 30),
            None,
            Cycle.D1,
            date(2026, 9, 30),
            date(2026, 10, 1),
            date(2026, 10, 9),
        ),
        (
            date(2026, 11, 20),
            time(23, 30),
            Cycle.D1,
            date(2026, 11, 21),
            date(2026, 11, 22),
            date(2026, 11, 24),
        ),
        # D0: the same (booked) day.
        (
            date(2026, 11, 18),
            time(10, 0),
            Cycle.D0,
            date(2026, 11, 18),
            date(2026, 11, 18),
            date(2026, 11, 20),
        ),
        (
            date(2026, 11, 21),
            None,
            Cycle.D0,
            date(2026, 11, 21),
            date(2026, 11, 21),
            date(2026, 11, 24),
        ),
        (
            date(2026, 11, 20),
            time(23, 30),
            Cycle.D0,
            date(2026, 11, 21),
            date(2026, 11, 21),
            date(2026, 11, 24),
        ),
    ],
)
def test_settlement_due_2026(
    calendar: WorkCalendar,
    day: date,
    at: time | None,
    cycle: Cycle,
    trade_day: date,
    expected: date,
    overdue_day: date,
) -> None:
    due = settlement_due(day, at, cycle, calendar)
    assert due == DueDate(
        trade_day=trade_day,
        expected=expected,
        overdue_after=_midnight(overdue_day),
        estimated=False,
        cutoff_moved=due.cutoff_moved,  # checked in test_cutoff_moved
    )


@pytest.mark.parametrize(
    ("day", "at", "cycle", "moved"),
    [
        (date(2026, 12, 3), time(23, 30), Cycle.T1, True),  # Thu late: Fri -> Mon
        (date(2026, 12, 3), time(22, 59), Cycle.T1, False),  # before the cut-off
        (date(2026, 12, 4), time(23, 30), Cycle.T1, False),  # Fri late: Mon either way
        (date(2026, 12, 4), time(23, 30), Cycle.D1, True),  # Sat -> Sun
        (date(2026, 12, 4), time(23, 0), Cycle.D0, True),  # at the cut-off counts as after
        (date(2026, 12, 4), None, Cycle.D0, False),  # time unknown: never moved
        (date(2026, 9, 30), time(23, 30), Cycle.T1, False),  # holiday: Oct 8 either way
    ],
)
def test_cutoff_moved(
    calendar: WorkCalendar, day: date, at: time | None, cycle: Cycle, moved: bool
) -> None:
    assert settlement_due(day, at, cycle, calendar).cutoff_moved is moved


def test_overdue_after_is_shanghai_midnight(calendar: WorkCalendar) -> None:
    due = settlement_due(date(2026, 9, 30), None, Cycle.T1, calendar)
    assert due.overdue_after.tzinfo is SHANGHAI
    assert due.overdue_after.utcoffset() == timedelta(hours=8)
    assert due.overdue_after.astimezone(UTC) == datetime(2026, 10, 9, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cutoff", "at", "trade_day"),
    [
        (time(22, 0), time(21, 59), date(2026, 11, 19)),
        (time(22, 0), time(22, 0), date(2026, 11, 20)),
        (time(23, 0), time(22, 30), date(2026, 11, 19)),
        (time(23, 30), time(23, 15), date(2026, 11, 19)),
    ],
)
def test_configurable_cutoff(
    calendar: WorkCalendar, cutoff: time, at: time, trade_day: date
) -> None:
    due = settlement_due(date(2026, 11, 19), at, Cycle.T1, calendar, cutoff=cutoff)
    assert due.trade_day == trade_day


@pytest.mark.parametrize(
    ("at", "trade_day"),
    [
        (time(15, 30, tzinfo=UTC), date(2026, 11, 20)),  # 23:30 Shanghai, after the cut-off
        (time(14, 30, tzinfo=UTC), date(2026, 11, 19)),  # 22:30 Shanghai
        (time(16, 30, tzinfo=UTC), date(2026, 11, 20)),  # already 00:30 Fri in Shanghai
        (time(23, 30, tzinfo=SHANGHAI), date(2026, 11, 20)),
    ],
)
def test_aware_time_is_read_in_shanghai(calendar: WorkCalendar, at: time, trade_day: date) -> None:
    due = settlement_due(date(2026, 11, 19), at, Cycle.D0, calendar)
    assert due.trade_day == trade_day


def test_aware_cutoff_is_rejected(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="cutoff"):
        settlement_due(date(2026, 11, 19), None, Cycle.T1, calendar, cutoff=time(23, tzinfo=UTC))


# --- is_overdue ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (datetime(2026, 10, 9, 23, 59, 59, 999999, tzinfo=SHANGHAI), False),
        (datetime(2026, 10, 10, 0, 0, tzinfo=SHANGHAI), True),
        (datetime(2026, 10, 10, 0, 0, 1, tzinfo=SHANGHAI), True),
        (datetime(2026, 10, 8, 12, 0, tzinfo=SHANGHAI), False),  # on the expected day itself
        (datetime(2026, 10, 9, 15, 59, 59, tzinfo=UTC), False),
        (datetime(2026, 10, 9, 16, 0, tzinfo=UTC), True),  # the same instant, seen from UTC
        (datetime(2027, 1, 1, tzinfo=SHANGHAI), True),
    ],
    ids=str,
)
def test_is_overdue_boundaries(calendar: WorkCalendar, now: datetime, overdue: bool) -> None:
    due = settlement_due(date(2026, 9, 30), None, Cycle.T1, calendar)
    assert is_overdue(due, now) is overdue


def test_is_overdue_rejects_naive_now(calendar: WorkCalendar) -> None:
    due = settlement_due(date(2026, 9, 30), None, Cycle.T1, calendar)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_overdue(due, datetime(2026, 10, 10))


# --- years without an official schedule ---------------------------------------------------


def test_new_year_2027_is_estimated_not_crashed(calendar: WorkCalendar) -> None:
    due = settlement_due(date(2026, 12, 31), None, Cycle.T1, calendar)
    assert due.trade_day == date(2026, 12, 31)
    # 1 Jan holiday, 2-3 Jan weekend: Monday 4 Jan (rule-based, or official once known).
    assert due.expected == date(2027, 1, 4)
    assert due.overdue_after == _midnight(date(2027, 1, 6))
    assert due.estimated == (not calendar.is_official(2027))


def test_official_days_but_overdue_walk_into_2027_is_estimated(calendar: WorkCalendar) -> None:
    due = settlement_due(date(2026, 12, 30), None, Cycle.D1, calendar)
    assert due.expected == date(2026, 12, 31)
    assert due.overdue_after == _midnight(date(2027, 1, 5))
    assert due.estimated == (not calendar.is_official(2027))


def test_cutoff_shift_into_2027_is_estimated(calendar: WorkCalendar) -> None:
    due = settlement_due(date(2026, 12, 31), time(23, 59), Cycle.D0, calendar)
    assert due.trade_day == date(2027, 1, 1)
    assert due.estimated == (not calendar.is_official(2027))


def test_2027_becomes_official_when_chinesecalendar_learns_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = chinese_calendar.is_workday

    def knows_2027(day: date) -> bool:
        if day.year == 2027:
            return day.weekday() < 5 and day != date(2027, 1, 1)
        return bool(real(day))

    monkeypatch.setattr(chinese_calendar, "is_workday", knows_2027)
    calendar = WorkCalendar()
    assert calendar.is_official(2027)
    due = settlement_due(date(2026, 12, 31), None, Cycle.T1, calendar)
    assert due.expected == date(2027, 1, 4)
    assert due.estimated is False


@pytest.mark.parametrize("cycle", list(Cycle))
@pytest.mark.parametrize("day", [date(2150, 1, 1), date(2150, 12, 31), date(1900, 1, 1)], ids=str)
def test_far_years_never_raise_and_are_estimated(
    calendar: WorkCalendar, cycle: Cycle, day: date
) -> None:
    due = settlement_due(day, time(23, 30), cycle, calendar)
    assert due.estimated is True
    assert due.expected >= due.trade_day
    assert not calendar.is_official(day.year)


def test_2150_falls_back_to_weekends(calendar: WorkCalendar) -> None:
    # holidays.China knows nothing past 2100, so only weekends are off.
    assert calendar.is_workday(date(2150, 1, 1))  # a Thursday
    assert not calendar.is_workday(date(2150, 1, 3))  # a Saturday
    due = settlement_due(date(2150, 1, 2), None, Cycle.T1, calendar)
    assert due.expected == date(2150, 1, 5)


@pytest.mark.parametrize("year", [1900, 1949, 2003, 2101, 2199, 2200])
def test_is_workday_never_raises(calendar: WorkCalendar, year: int) -> None:
    for day in _days(date(year, 1, 1), date(year, 12, 31)):
        assert isinstance(calendar.is_workday(day), bool)


# --- operator overrides -------------------------------------------------------------------

OVERRIDE_2031 = YearSchedule(
    holidays=frozenset({date(2031, 3, 14)}),  # a Friday off
    workdays=frozenset({date(2031, 3, 15)}),  # a make-up Saturday
)


@pytest.mark.parametrize(
    ("overrides", "expected", "overdue_day", "official"),
    [
        ({}, date(2031, 3, 14), date(2031, 3, 18), False),
        ({2031: OVERRIDE_2031}, date(2031, 3, 15), date(2031, 3, 18), True),
    ],
)
def test_override_moves_due_date_and_makes_year_official(
    overrides: dict[int, YearSchedule],
    expected: date,
    overdue_day: date,
    official: bool,
) -> None:
    calendar = WorkCalendar(overrides)
    if not official and calendar.is_official(2031):
        pytest.skip("chinesecalendar now knows 2031 itself")
    due = settlement_due(date(2031, 3, 13), None, Cycle.T1, calendar)
    assert calendar.is_official(2031) is official
    assert due.expected == expected
    assert due.overdue_after == _midnight(overdue_day)
    assert due.estimated is not official


def test_override_schedule_days(calendar: WorkCalendar) -> None:
    overridden = WorkCalendar({2031: OVERRIDE_2031})
    assert not overridden.is_workday(date(2031, 3, 14))
    assert overridden.is_workday(date(2031, 3, 15))
    assert not overridden.is_workday(date(2031, 3, 16))  # an ordinary Sunday
    # The override replaces the library's guesses for the whole year, 1 Jan included.
    assert overridden.is_workday(date(2031, 1, 1))
    assert not calendar.is_workday(date(2031, 1, 1))


def test_override_wins_over_chinesecalendar() -> None:
    calendar = WorkCalendar(
        {2026: YearSchedule(holidays=frozenset({date(2026, 11, 23)}), workdays=frozenset())}
    )
    due = settlement_due(date(2026, 11, 20), None, Cycle.T1, calendar)
    assert due.expected == date(2026, 11, 24)
    assert due.estimated is False


def test_overrides_are_copied() -> None:
    overrides = {2031: OVERRIDE_2031}
    calendar = WorkCalendar(overrides)
    overrides.clear()
    assert calendar.is_official(2031)


@pytest.mark.parametrize(
    "schedule",
    [
        YearSchedule(holidays=frozenset({date(2032, 3, 14)}), workdays=frozenset()),
        YearSchedule(holidays=frozenset(), workdays=frozenset({date(2030, 3, 15)})),
        YearSchedule(
            holidays=frozenset({date(2031, 3, 14)}), workdays=frozenset({date(2031, 3, 14)})
        ),
    ],
)
def test_inconsistent_override_is_rejected(schedule: YearSchedule) -> None:
    with pytest.raises(ValueError, match="2031"):
        WorkCalendar({2031: schedule})


# --- the libraries may not crash the bot ----------------------------------------------------


def test_chinesecalendar_failure_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(day: date) -> bool:
        raise RuntimeError("corrupt data")

    monkeypatch.setattr(chinese_calendar, "is_workday", broken)
    calendar = WorkCalendar()
    assert not calendar.is_official(2026)
    due = settlement_due(date(2026, 11, 20), None, Cycle.T1, calendar)
    assert due.expected == date(2026, 11, 23)
    assert due.estimated is True


def test_holidays_failure_falls_back_to_weekends(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> holidays.HolidayBase:
        raise RuntimeError("no lunar table")

    monkeypatch.setattr(holidays, "China", broken)
    calendar = WorkCalendar()
    assert calendar.is_workday(date(2040, 1, 2))  # a Monday
    assert not calendar.is_workday(date(2040, 1, 1))  # a Sunday
    assert calendar.is_workday(date(2026, 10, 10))  # chinesecalendar is unaffected


def test_per_year_lookups_are_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    real = holidays.China

    def counting(*, years: int) -> holidays.HolidayBase:
        built.append(years)
        return real(years=years)

    calls = 0
    real_workday = chinese_calendar.is_workday

    def counting_workday(day: date) -> bool:
        nonlocal calls
        calls += 1
        return bool(real_workday(day))

    monkeypatch.setattr(holidays, "China", counting)
    monkeypatch.setattr(chinese_calendar, "is_workday", counting_workday)
    calendar = WorkCalendar()
    for _ in range(3):
        settlement_due(date(2026, 12, 31), None, Cycle.T1, calendar)
        settlement_due(date(2040, 6, 1), None, Cycle.T1, WorkCalendar())
    calls_after = calls
    settlement_due(date(2026, 12, 30), None, Cycle.T1, calendar)
    assert calls == calls_after
    # Built lazily, once per year that chinesecalendar does not know; never for 2026.
    assert sorted(built) == sorted({2027, 2040} - ({2027} if calendar.is_official(2027) else set()))


# --- property ------------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    at=st.none() | st.times(),
    cycle=st.sampled_from(Cycle),
)
def test_settlement_due_property(day: date, at: time | None, cycle: Cycle) -> None:
    calendar = WorkCalendar()
    due = settlement_due(day, at, cycle, calendar)
    assert due.trade_day in (day, day + timedelta(1))
    assert due.expected >= due.trade_day
    assert due.overdue_after > _midnight(due.expected)
    if cycle is Cycle.T1:
        assert calendar.is_workday(due.expected)
        assert due.expected > due.trade_day
    years = {due.trade_day.year, due.expected.year, (due.overdue_after - timedelta(1)).year}
    if any(not calendar.is_official(year) for year in years):
        assert due.estimated
