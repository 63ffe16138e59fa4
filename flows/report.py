"""The report's numbers from plain case rows: cases per day by outcome, reply and resolution times,
how many were resolved without a person, ratings. Pure: `bot/` loads the rows and draws the charts.

A case counts in the period it was opened (Beijing time); its times count with it, so a report
of last month does not change when an old case is resolved today, except for that case.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from flows.settlement_calendar import SHANGHAI

OUTCOMES = ("A", "B", "C", "D", "E", "F")
#: Cases handed to a person before the bot reached a diagnosis.
NO_OUTCOME = "none"
SERIES = (*OUTCOMES, NO_OUTCOME)
RATINGS = (1, 2, 3, 4, 5)
DEFAULT_DAYS = 30
#: Longest period with one bar per day, per week; longer ones get one bar per month.
DAILY_UP_TO = 92
WEEKLY_UP_TO = 731


@dataclass(frozen=True)
class CaseTimes:
    """What the report needs of one case (aware datetimes)."""

    created_at: datetime
    outcome: str | None = None
    escalated_at: datetime | None = None
    first_reply_at: datetime | None = None
    resolved_at: datetime | None = None
    rating: int | None = None


@dataclass(frozen=True)
class Distribution:
    """Sorted durations and the points a reader asks for: the middle, 90% within, the worst."""

    values: tuple[float, ...]
    median: float | None
    p90: float | None
    maximum: float | None

    @property
    def count(self) -> int:
        return len(self.values)


def percentile(values: Sequence[float], share: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default); None when empty."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be between 0 and 1")
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def distribution(values: Iterable[float]) -> Distribution:
    ordered = tuple(sorted(values))
    return Distribution(
        ordered,
        percentile(ordered, 0.5),
        percentile(ordered, 0.9),
        ordered[-1] if ordered else None,
    )


@dataclass(frozen=True)
class ReportNumbers:
    """Everything the report page, the /report picture and its caption show."""

    start: date
    end: date
    bucket: str  # "day", "week" or "month": the width of one bar of `per_period`
    periods: tuple[date, ...]  # first day of each bar
    per_period: dict[str, tuple[int, ...]]  # series (A-F, "none") -> counts aligned with periods
    total: int
    escalated: int
    resolved: int
    resolved_without_person: int
    first_reply_minutes: Distribution
    resolution_hours: Distribution
    ratings: tuple[int, ...]  # how many cases got 1, 2, 3, 4, 5

    @property
    def by_outcome(self) -> dict[str, int]:
        return {series: sum(counts) for series, counts in self.per_period.items()}

    @property
    def resolved_with_person(self) -> int:
        return self.resolved - self.resolved_without_person

    @property
    def unresolved(self) -> int:
        return self.total - self.resolved

    @property
    def share_without_person(self) -> float | None:
        """Of the resolved cases, the share nobody from support had to touch (as in /stats)."""
        return self.resolved_without_person / self.resolved if self.resolved else None

    @property
    def rated(self) -> int:
        return sum(self.ratings)

    @property
    def rating_mean(self) -> float | None:
        if not self.rated:
            return None
        return sum(value * count for value, count in zip(RATINGS, self.ratings, strict=True)) / (
            self.rated
        )


def report_period(today: date, since: date | None, days: int | None) -> tuple[date, date]:
    """First and last day (inclusive): the last `days` days, or from `since` (for `days` days).

    Raises ValueError with the reason for a period that cannot be reported.
    """
    if days is not None and days < 1:
        raise ValueError("the number of days must be at least 1")
    if since is None:
        return today - timedelta(days=(days or DEFAULT_DAYS) - 1), today
    if since > today:
        raise ValueError(f"{since.isoformat()} is in the future")
    end = today if days is None else min(today, since + timedelta(days=days - 1))
    return since, end


def bucket_for(start: date, end: date) -> str:
    """One bar per day for up to three months, per week up to two years, then per month."""
    span = (end - start).days + 1
    if span <= DAILY_UP_TO:
        return "day"
    return "week" if span <= WEEKLY_UP_TO else "month"


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def periods(start: date, end: date, bucket: str) -> tuple[date, ...]:
    result: list[date] = []
    current = bucket_start(start, bucket)
    while current <= end:
        result.append(current)
        if bucket == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7 if bucket == "week" else 1)
    return tuple(result)


def _hours(later: datetime, earlier: datetime) -> float:
    return max(0.0, (later - earlier).total_seconds() / 3600)


def aggregate(
    cases: Iterable[CaseTimes], start: date, end: date, tz: tzinfo = SHANGHAI
) -> ReportNumbers:
    """The numbers of the cases opened from `start` to `end` (inclusive; others are ignored)."""
    bucket = bucket_for(start, end)
    bars = periods(start, end, bucket)
    index = {first: position for position, first in enumerate(bars)}
    counts = {series: [0] * len(bars) for series in SERIES}
    chosen = [c for c in cases if start <= c.created_at.astimezone(tz).date() <= end]
    for case in chosen:
        series = case.outcome if case.outcome in OUTCOMES else NO_OUTCOME
        opened = bucket_start(case.created_at.astimezone(tz).date(), bucket)
        counts[series][index[opened]] += 1
    resolved = [c for c in chosen if c.resolved_at is not None]
    return ReportNumbers(
        start=start,
        end=end,
        bucket=bucket,
        periods=bars,
        per_period={series: tuple(values) for series, values in counts.items()},
        total=len(chosen),
        escalated=sum(c.escalated_at is not None for c in chosen),
        resolved=len(resolved),
        resolved_without_person=sum(c.escalated_at is None for c in resolved),
        first_reply_minutes=distribution(
            _hours(c.first_reply_at, c.escalated_at) * 60
            for c in chosen
            if c.first_reply_at is not None and c.escalated_at is not None
        ),
        resolution_hours=distribution(
            _hours(c.resolved_at, c.created_at) for c in resolved if c.resolved_at is not None
        ),
        ratings=tuple(sum(c.rating == value for c in chosen) for value in RATINGS),
    )
