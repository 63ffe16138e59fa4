"""Incident notices as data: a range of transaction times support knows is affected.

Support posts `/incident <from> <to> <text>` (e.g. an acquirer's settlement batch is late). The
bounds are transaction times, so they are read in Beijing time (Asia/Shanghai), the time POS
slips and merchants' answers are in, whatever time zone the deployment's support hours are given
in. They are checked here, and `affecting` says which incidents cover a merchant's transaction.
Both ends of a range are inclusive: a date-only `to` means the end of that day. No I/O: `bot/`
loads the incidents and stores what was decided.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from flows.settlement_calendar import SHANGHAI

#: The longest range one incident may cover; longer is a typo more often than an incident.
MAX_SPAN = timedelta(days=31)
#: How far back a range may start: cases older than this are long settled (or retained no more).
MAX_AGE = timedelta(days=365)
#: How far ahead a range may end: a planned outage is announced at most this early.
MAX_AHEAD = timedelta(days=31)
#: The longest notice text: it is shown inside the merchant's summary.
MAX_TEXT = 500
#: The last moment of a day a date-only `to` stands for (transaction times have minutes only).
END_OF_DAY = time(23, 59, 59)

_BOUND = re.compile(
    r"(?:(?P<year>\d{4})[-/.])?(?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"
    r"(?:[Tt ](?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
)
_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_TOKEN = re.compile(r"\s*(\S+)(.*)", re.DOTALL)


@dataclass(frozen=True)
class Incident:
    """A posted incident: transactions from `starts` to `ends` (aware, inclusive) are affected."""

    id: int
    starts: datetime
    ends: datetime
    text: str


@dataclass(frozen=True)
class IncidentDraft:
    """What a valid `/incident` command asks for, before it is stored and numbered."""

    starts: datetime
    ends: datetime
    text: str


class InvalidIncident(ValueError):
    """Why an `/incident` command cannot be posted; `reason` selects the explanation."""

    REASONS = frozenset(
        {
            "usage",
            "bad_from",
            "bad_to",
            "reversed",
            "too_long",
            "out_of_range",
            "no_text",
            "text_too_long",
        }
    )

    def __init__(self, reason: str) -> None:
        assert reason in self.REASONS, reason
        super().__init__(reason)
        self.reason = reason


def _nearest_year(month: int, day: int, today: date) -> date:
    """`11-24` without a year: the occurrence closest to today (last December in January)."""
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError("no such day")
    return min(candidates, key=lambda d: abs((d - today).days))


def parse_bound(text: str, now: datetime, end: bool = False, tz: tzinfo = SHANGHAI) -> datetime:
    """`2026-11-24`, `2026-11-24 08:00`, `2026-11-24T08:00`, `11-24` (also with / or .) in `tz`.

    A date without a time is the start of that day, or with `end` its last moment. Raises
    ValueError when the text is not one of these or names no real day or time.
    """
    normal = unicodedata.normalize("NFKC", text).strip()
    match = _BOUND.fullmatch(normal)
    if match is None:
        raise ValueError("not a date")
    month, day = int(match["month"]), int(match["day"])
    if match["year"]:
        when = date(int(match["year"]), month, day)
    else:
        when = _nearest_year(month, day, now.astimezone(tz).date())
    if match["hour"] is not None:
        at = time(int(match["hour"]), int(match["minute"]))
    else:
        at = END_OF_DAY if end else time(0, 0)
    return datetime.combine(when, at, tz)


def _take_bound(rest: str) -> tuple[str, str] | None:
    """The next bound's text (a date, plus a following `HH:MM` token) and what follows it."""
    first = _TOKEN.fullmatch(rest)
    if first is None:
        return None
    bound, rest = first[1], first[2]
    second = _TOKEN.fullmatch(rest)
    has_clock = ":" in unicodedata.normalize("NFKC", bound)
    if (
        second is not None
        and not has_clock
        and _CLOCK.fullmatch(unicodedata.normalize("NFKC", second[1]))
    ):
        bound, rest = f"{bound} {second[1]}", second[2]
    return bound, rest


def parse_incident(args: str, now: datetime, tz: tzinfo = SHANGHAI) -> IncidentDraft:
    """`<from> <to> <text>` -> a checked draft, or InvalidIncident saying what is wrong."""
    taken = _take_bound(args)
    if taken is None:
        raise InvalidIncident("usage")
    try:
        starts = parse_bound(taken[0], now, end=False, tz=tz)
    except ValueError:
        raise InvalidIncident("bad_from") from None
    taken = _take_bound(taken[1])
    if taken is None:
        raise InvalidIncident("usage")
    try:
        ends = parse_bound(taken[0], now, end=True, tz=tz)
    except ValueError:
        raise InvalidIncident("bad_to") from None
    text = taken[1].strip()
    if ends <= starts:
        raise InvalidIncident("reversed")
    if ends - starts > MAX_SPAN:
        raise InvalidIncident("too_long")
    if starts < now - MAX_AGE or ends > now + MAX_AHEAD:
        raise InvalidIncident("out_of_range")
    if not text:
        raise InvalidIncident("no_text")
    if len(text) > MAX_TEXT:
        raise InvalidIncident("text_too_long")
    return IncidentDraft(starts, ends, text)


def parse_incident_id(text: str) -> int | None:
    """`3` or `#3` -> 3; anything else -> None."""
    value = unicodedata.normalize("NFKC", text).strip().lstrip("#")
    return int(value) if value.isdigit() and len(value) < 12 else None


def affects(incident: Incident, day: date, at: time | None = None, tz: tzinfo = SHANGHAI) -> bool:
    """Does the incident cover a transaction on `day` at `at`? An unknown time means any
    moment of that day may be the one, so an incident touching the day counts."""
    if at is not None:
        moment = datetime.combine(day, at, tz)
        return incident.starts <= moment <= incident.ends
    first, last = datetime.combine(day, time(0, 0), tz), datetime.combine(day, END_OF_DAY, tz)
    return incident.starts <= last and first <= incident.ends


def affecting(
    incidents: Iterable[Incident], day: date, at: time | None = None, tz: tzinfo = SHANGHAI
) -> list[Incident]:
    """The incidents covering a transaction, earliest range first."""
    found = [incident for incident in incidents if affects(incident, day, at, tz)]
    return sorted(found, key=lambda incident: (incident.starts, incident.id))


__all__ = [
    "MAX_AGE",
    "MAX_AHEAD",
    "MAX_SPAN",
    "MAX_TEXT",
    "Incident",
    "IncidentDraft",
    "InvalidIncident",
    "affecting",
    "affects",
    "parse_bound",
    "parse_incident",
    "parse_incident_id",
]
