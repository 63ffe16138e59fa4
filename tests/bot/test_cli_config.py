"""Every `posbot` command refuses a bad environment or deployment file the same way: the
explanation, exit code 2, no traceback, nothing touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.ops.cli import main

#: Every command that reads the settings, with arguments that would otherwise let it work.
COMMANDS = [
    pytest.param(["run"], id="run"),
    pytest.param(["run", "--webhook"], id="run-webhook"),
    pytest.param(["chat"], id="chat"),
    pytest.param(["stats"], id="stats"),
    pytest.param(["export", "cases"], id="export"),
    pytest.param(["purge"], id="purge"),
    pytest.param(["report", "--out", "{tmp}/report.html"], id="report"),
    pytest.param(["check-config"], id="check-config"),
]
#: ... and the one that reads only the environment, not the deployment file.
ENVIRONMENT_ONLY = [pytest.param(["db", "upgrade"], id="db-upgrade")]


def invoke(args: list[str], tmp_path: Path, **env: str) -> Result:
    database = tmp_path / "db.sqlite3"
    return CliRunner().invoke(
        main,
        [arg.replace("{tmp}", str(tmp_path)) for arg in args],
        env={
            "POSBOT_DEPLOYMENT_FILE": "",
            "POSBOT_DATABASE_URL": f"sqlite:///{database}",
            "TELEGRAM_BOT_TOKEN": "123:test",
            "POSBOT_WEBHOOK_SECRET": "secret",
            **env,
        },
        input="/quit\n",
    )


def refused(result: Result, tmp_path: Path, *words: str) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an exception caught
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching the database
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POSBOT_RETENTION_DAYS", "soon"),
        ("POSBOT_AGENT_IDS", "12,abc"),
        ("POSBOT_DEFAULT_LOCALE", "fr"),
        ("POSBOT_LOG_LEVEL", "loud"),
        ("POSBOT_DATABASE_URL", "not a url"),
        ("POSBOT_DATABASE_URL", "nosuchdb://host/db"),
    ],
)
@pytest.mark.parametrize("args", COMMANDS + ENVIRONMENT_ONLY)
def test_a_bad_environment_variable_is_explained_with_exit_2(
    args: list[str], variable: str, value: str, tmp_path: Path
) -> None:
    result = invoke(args, tmp_path, **{variable: value})
    refused(result, tmp_path, "invalid environment", variable)


@pytest.mark.parametrize("args", COMMANDS)
def test_a_bad_deployment_file_is_explained_with_exit_2(args: list[str], tmp_path: Path) -> None:
    path = tmp_path / "deployment.toml"
    path.write_text("[[banks]]\ncode = 1\n", encoding="utf-8")
    result = invoke(args, tmp_path, POSBOT_DEPLOYMENT_FILE=str(path))
    refused(result, tmp_path, f"invalid deployment file {path}", "banks[0].code")
    assert "Error:" not in result.output  # the explanation as it is, as check-config prints it


def test_a_good_environment_still_works(tmp_path: Path) -> None:
    result = invoke(["stats"], tmp_path, POSBOT_LOG_LEVEL="warning")
    assert result.exit_code == 0, result.output
