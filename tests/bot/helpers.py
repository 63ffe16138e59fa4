"""Builders for service-level tests: a real service on a given database with a fixed clock."""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
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
