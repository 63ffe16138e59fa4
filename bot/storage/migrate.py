"""Schema migrations (Alembic): upgrade, and the check that refuses to run on an old schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaOutdated(RuntimeError):
    """The database is behind the code: the operator must run `posbot db upgrade`."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, url: str) -> None:
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def ensure_schema(engine: Engine, url: str, auto_upgrade: bool) -> None:
    """Upgrade (the embedded SQLite default) or refuse to start on an outdated schema."""
    if current(engine) == head(url):
        return
    if auto_upgrade:
        upgrade(engine, url)
        return
    raise SchemaOutdated(
        f"the database schema is at {current(engine) or 'nothing'}, the code needs "
        f"{head(url)}: run `posbot db upgrade` (with the same POSBOT_DATABASE_URL) first"
    )
