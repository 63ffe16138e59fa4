"""Prometheus metrics: counted where things happen, database gauges read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.models import Case, OutboxMessage
from flows.case import OPEN_STATES

REGISTRY = CollectorRegistry()
UPDATES = Counter(
    "posbot_updates_total", "Telegram updates received, by type", ["type"], registry=REGISTRY
)
DUPLICATES = Counter(
    "posbot_duplicate_updates_total", "Redelivered updates ignored", registry=REGISTRY
)
ERRORS = Counter("posbot_errors_total", "Handler errors", registry=REGISTRY)
OUT_OF_SEQUENCE = Counter(
    "posbot_out_of_sequence_updates_total",
    "Updates run after waiting in vain for an earlier update id (webhook mode)",
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "posbot_handler_seconds",
    "Time to handle one update (webhook mode)",
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


@dataclass(frozen=True)
class DatabaseNumbers:
    """Outbox depth and cases by state: the same for every worker (read from the database)."""

    outbox_depth: int
    cases: dict[str, int]


def read_database_numbers(db: Database) -> DatabaseNumbers:
    with db.transaction() as session:
        depth = (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
            or 0
        )
        by_status = dict(
            session.execute(select(Case.status, func.count()).group_by(Case.status)).all()
        )
    return DatabaseNumbers(depth, by_status)


class DatabaseGauges(Collector):
    """The database's numbers as of the last read, which the /metrics endpoint makes (bounded
    in time) before each scrape. When that read failed, `posbot_database_up` is 0 and the
    database gauges are left out: a scrape never fails and never waits for the database."""

    def __init__(self) -> None:
        self.numbers: DatabaseNumbers | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "posbot_database_up", "1 when the database answered the last scrape, 0 when not"
        )
        up.add_metric([], 0 if self.numbers is None else 1)
        yield up
        if self.numbers is None:
            return
        outbox = GaugeMetricFamily("posbot_outbox_depth", "Messages waiting to be delivered")
        outbox.add_metric([], self.numbers.outbox_depth)
        yield outbox
        cases = GaugeMetricFamily("posbot_cases", "Cases by state", labels=["state"])
        for state in sorted(OPEN_STATES):
            cases.add_metric([state], self.numbers.cases.get(state, 0))
        yield cases


def update_type(data: dict[str, object]) -> str:
    """The kind of a raw update: message, callback_query, edited_message ..."""
    return next((key for key in data if key != "update_id"), "unknown")


#: Registered once per process (a registry refuses the same metric names twice).
DATABASE_GAUGES = DatabaseGauges()
REGISTRY.register(DATABASE_GAUGES)
