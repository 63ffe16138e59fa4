"""Builders for service-level tests: a real service on a given database with a fixed clock."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from bot.config import Settings
from bot.monitoring.logs import FORMAT, RedactingFormatter
from bot.wiring import Components, build
from flows.settlement_calendar import SHANGHAI

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)


class Clock:
    """An injectable clock tests move by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def components(database_url: str, clock: Clock | None = None, **overrides: object) -> Components:
    overrides.setdefault("flood_per_minute", 100_000)  # tests type faster than merchants
    overrides.setdefault("auto_migrate", True)
    overrides.setdefault("rate_limit", False)  # one test turns Telegram's limits on
    settings = Settings(
        database_url=database_url,
        telegram_bot_token="123456:TEST",
        operator_name="Test Pay",
        **overrides,
    )  # type: ignore[arg-type]
    return build(settings, clock=clock or Clock())


@contextmanager
def written_logs(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """What a posbot log handler writes (its redacting formatter), at `level`, from any logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(FORMAT))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
