"""Alembic: empty to head, models and migrations agree, old schemas are refused clearly."""

from __future__ import annotations

import pytest
from alembic import command
from click.testing import CliRunner

from bot.ops.cli import main
from bot.storage.db import Database
from bot.storage.migrate import SchemaOutdated, alembic_config, current, head, upgrade


def test_empty_to_head_and_models_match_migrations(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert current(database.engine) is None
        upgrade(database.engine, database_url)
        assert current(database.engine) == head(database_url)
        config = alembic_config(database_url)
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.check(config)  # raises when the models differ from the migrations
    finally:
        database.dispose()


def test_an_outdated_schema_is_refused_with_the_command_to_run(database_url: str) -> None:
    database = Database(database_url)
    try:
        with pytest.raises(SchemaOutdated, match="posbot db upgrade"):
            database.ensure_schema(auto_upgrade=False)
    finally:
        database.dispose()


def test_posbot_db_upgrade_then_chat_starts(tmp_path: object, database_url: str) -> None:
    env = {"POSBOT_DATABASE_URL": database_url, "POSBOT_AUTO_MIGRATE": "false"}
    refused = CliRunner().invoke(main, ["chat"], input="/quit\n", env=env)
    assert refused.exit_code == 1
    assert "posbot db upgrade" in refused.output
    assert "Traceback" not in refused.output
    upgraded = CliRunner().invoke(main, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    started = CliRunner().invoke(main, ["chat"], input="/quit\n", env=env)
    assert started.exit_code == 0, started.output
