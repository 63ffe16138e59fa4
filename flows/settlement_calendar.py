"""When a card payment should reach the merchant's settlement account, and when it is overdue.

Working days come from, in order of trust:

1. an operator's override for the year (:class:`YearSchedule`), which counts as official;
2. ``chinesecalendar``, which carries the State Council's published schedule, make-up working
   days (调休/补班) included.  A year it does not know raises ``NotImplementedError``; that is
   how support is detected, so a newer release that knows another year is picked up without
   code changes;
3. ``holidays.China``, a rule-based estimate (lunar festivals, observed days) that has no make-up
   working days for unpublished years.  Anything decided from it is flagged ``estimated``.
4. If even that fails, Monday to Friday — also ``estimated``.

No lookup ever raises: a broken or outdated library degrades to an estimate, never to a crash.
Per-year tables are computed once per process and shared by every :class:`WorkCalendar`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

__all__ = [
    "SHANGHAI",
    "Cycle",
    "DueDate",
    "WorkCalendar",
    "YearSchedule",
    "is_overdue",
    "settlement_due",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

_log = logging.getLogger(__name__)
_ONE_DAY = timedelta(days=1)
_SATURDAY = 5


class Cycle(StrEnum):
    """The settlement cycle agreed with the acquirer."""

    T1 = "t1"  # next working day
    D1 = "d1"  # next calendar day
    D0 = "d0"  # same day (callers fall back to T1 outside the acquirer's D0 hours)


@dataclass(frozen=True)
class YearSchedule:
    """An operator's official schedule for one year.

    It replaces the libraries for that whole year: every Monday-Friday is a working day except
    ``holidays``, every Saturday/Sunday is a day off except ``workdays``.
    """

    holidays: frozenset[date]  # days off that would otherwise be working days
    workdays: frozenset[date]  # make-up working days that would otherwise be weekend days


@dataclass(frozen=True)
class _YearTable:
    official: bool
    days_off: frozenset[date]


def _year_days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year, 12, 31) - first).days + 1)]


def _is_weekend(day: date) -> bool:
    return day.weekday() >= _SATURDAY


def _official_days_off(year: int) -> frozenset[date] | None:
    """The year's days off per chinesecalendar, or None if it has no official data for it."""
    try:
        return frozenset(day for day in _year_days(year) if not chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None
    except Exception:
        _log.exception("chinesecalendar failed for %d; estimating instead", year)
        return None


def _estimated_days_off(year: int) -> frozenset[date]:
    """Weekends plus holidays.China's rule-based holidays; weekends only if that fails."""
    weekends = {day for day in _year_days(year) if _is_weekend(day)}
    try:
        cn = holidays.China(years=year)
        festivals = {day for day in cn if day.year == year}
        # Make-up days the library happens to know (only for years already published, and only
        # in releases that have the attribute).
        make_up = {day for day in getattr(cn, "weekend_workdays", ()) if day.year == year}
    except Exception:
        _log.exception("holidays.China failed for %d; only weekends are days off", year)
        return frozenset(weekends)
    return frozenset((weekends - make_up) | festivals)


@functools.lru_cache(maxsize=256)
def _library_year(year: int) -> _YearTable:
    official = _official_days_off(year)
    if official is not None:
        return _YearTable(official=True, days_off=official)
    return _YearTable(official=False, days_off=_estimated_days_off(year))


def _override_table(year: int, schedule: YearSchedule) -> _YearTable:
    strays = sorted(d for d in schedule.holidays | schedule.workdays if d.year != year)
    if strays:
        raise ValueError(f"override for {year} lists days of another year: {strays}")
    both = sorted(schedule.holidays & schedule.workdays)
    if both:
        raise ValueError(f"override for {year} lists days as both holiday and workday: {both}")
    weekends = {day for day in _year_days(year) if _is_weekend(day)}
    return _YearTable(
        official=True, days_off=frozenset((weekends - schedule.workdays) | schedule.holidays)
    )


class WorkCalendar:
    """China's working days: official where known, estimated otherwise, never raising."""

    def __init__(self, overrides: Mapping[int, YearSchedule] | None = None) -> None:
        self._overrides: dict[int, _YearTable] = {
            year: _override_table(year, schedule) for year, schedule in (overrides or {}).items()
        }

    def _table(self, year: int) -> _YearTable:
        override = self._overrides.get(year)
        return override if override is not None else _library_year(year)

    def is_workday(self, day: date) -> bool:
        return day not in self._table(day.year).days_off

    def is_official(self, year: int) -> bool:
        return self._table(year).official

    def next_workday(self, day: date) -> date:
        return self._walk(day)[0]

    def _walk(self, day: date) -> tuple[date, set[int]]:
        """The first working day strictly after ``day``, and the years of every day looked at."""
        years: set[int] = set()
        day += _ONE_DAY
        while True:
            years.add(day.year)
            if self.is_workday(day):
                return day, years
            day += _ONE_DAY


@dataclass(frozen=True)
class DueDate:
    """When a sale should be credited.

    ``overdue_after`` is tz-aware (Asia/Shanghai): 00:00 of the day after the working day
    following ``expected`` — the product rule gives the bank that whole working day.
    """

    trade_day: date  # the day the acquirer books it, after the cut-off shift
    expected: date  # the day the money should be in the settlement account
    overdue_after: datetime  # see above
    estimated: bool  # some day consulted lies in a year without an official schedule
    #: The sale was at or after the cut-off and that moved ``expected`` later (a Friday 23:30
    #: T+1 sale is due on Monday either way: not moved).
    cutoff_moved: bool = False


def _local_moment(day: date, at: time | None) -> tuple[date, time | None]:
    """``day``/``at`` as a Shanghai wall-clock date and time; an aware ``at`` is converted."""
    if at is None or at.tzinfo is None:
        return day, at
    local = datetime.combine(day, at).astimezone(SHANGHAI)
    return local.date(), local.time()


def settlement_due(
    day: date,
    at: time | None,
    cycle: Cycle,
    calendar: WorkCalendar,
    cutoff: time = time(23, 0),
) -> DueDate:
    """When a sale on ``day`` at ``at`` (Shanghai time; None = unknown) should be credited.

    A sale at or after the acquirer's ``cutoff`` (日切) is booked on the next day.  An aware
    ``at`` is converted to Shanghai first, which may change the day.
    """
    if cutoff.tzinfo is not None:
        raise ValueError("cutoff must be a naive Asia/Shanghai wall-clock time")
    day, at = _local_moment(day, at)
    after_cutoff = at is not None and at >= cutoff
    trade_day = day + _ONE_DAY if after_cutoff else day
    expected, years = _expected(trade_day, cycle, calendar)
    last_chance, walked = calendar._walk(expected)
    years |= walked
    return DueDate(
        trade_day=trade_day,
        expected=expected,
        overdue_after=datetime.combine(last_chance + _ONE_DAY, time(0), tzinfo=SHANGHAI),
        estimated=not all(calendar.is_official(year) for year in years),
        cutoff_moved=after_cutoff and _expected(day, cycle, calendar)[0] != expected,
    )


def _expected(trade_day: date, cycle: Cycle, calendar: WorkCalendar) -> tuple[date, set[int]]:
    """The day the money should arrive for a sale booked on ``trade_day``, and the years seen."""
    years = {trade_day.year}
    if cycle is Cycle.T1:
        expected, walked = calendar._walk(trade_day)
        years |= walked
    elif cycle is Cycle.D1:
        expected = trade_day + _ONE_DAY
    else:
        expected = trade_day
    years.add(expected.year)
    return expected, years


def is_overdue(due: DueDate, now: datetime) -> bool:
    """Whether the money is overdue at ``now`` (which must be timezone-aware)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now >= due.overdue_after
