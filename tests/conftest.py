"""Shared fixtures: databases (SQLite always, PostgreSQL when POSBOT_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("POSBOT_TEST_DATABASE_URL")
# PTB 22 warns on RetryAfter unless timedelta periods are opted into; tests turn warnings to errors.
os.environ.setdefault("PTB_TIMEDELTA", "true")

# Deadlines make property tests flaky on a loaded CI machine; CI runs more examples instead.
settings.register_profile("default", deadline=None)
# CI explores more examples, always the same ones (derandomized), so a red CI is reproducible
# and a green main stays green; local runs keep exploring at random. 300, not 500: CI must stay
# under 15 minutes on a slow 2-core machine too.
settings.register_profile("ci", deadline=None, max_examples=300, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test session's own on the PostgreSQL server, dropped at the end."""
    if not PG_URL:
        pytest.skip("POSBOT_TEST_DATABASE_URL is not set")
    name = f"posbot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs on SQLite and, where configured, on PostgreSQL (clean schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'posbot.sqlite3'}"
        return
    url = request.getfixturevalue("postgres_url")
    from bot.storage.models import Base

    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    yield url


@pytest.fixture(autouse=True)
def _process_logging_restored() -> Iterator[None]:
    """A command run in this process configures logging for the whole process
    (bot/monitoring/logs.py), with a handler on a stream the test runner closes afterwards:
    undo it after each test."""
    from bot.monitoring.logs import RedactingFormatter, logging_config

    root = logging.getLogger()
    level = root.level
    yield
    for logger in [root, *map(logging.getLogger, logging_config("INFO", server=True)["loggers"])]:
        for handler in logger.handlers[:]:
            if isinstance(handler.formatter, RedactingFormatter):
                logger.removeHandler(handler)
        if logger is not root:
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
    root.setLevel(level)
