"""Bot-level fixtures: components built on a test database and always disposed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bot.wiring import Components
from tests.bot.helpers import Clock, components

Factory = Callable[..., Components]


@pytest.fixture
def make_components() -> Iterator[Factory]:
    """Build components (like a process start); every engine is disposed at teardown."""
    built: list[Components] = []

    def factory(database_url: str, clock: Clock | None = None, **overrides: object) -> Components:
        parts = components(database_url, clock, **overrides)
        built.append(parts)
        return parts

    yield factory
    for parts in built:
        parts.db.dispose()
