"""What every `posbot` command shares: exit codes, the errors that end a command with a reason
instead of a traceback, the option types, and settings and components built or refused."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from typing import IO, Any

import click
from pydantic import ValidationError

from bot.config import Settings, explain
from bot.monitoring.logs import configure_logging
from bot.wiring import Components, build

#: Exit codes (docs/operators.md): 0 done; 1 the work could not be done (a schema to
#: upgrade, a file that cannot be written, Graphviz missing); 2 bad usage or configuration.
EXIT_BAD_INPUT = 2


class ConfigurationError(click.ClickException):
    """A bad environment variable or deployment file: its explanation as is, and exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), err=True)


class WorkFailed(click.ClickException):
    """The work could not be done (the database or Telegram did not answer): exit code 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), err=True)


#: Dates the command line takes: before the first case, after any report anyone will want.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)


class Day(click.ParamType):
    """A YYYY-MM-DD option within EARLIEST_DAY..LATEST_DAY (else exit 2 naming the option)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date like 2026-11-01", param, ctx)
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            self.fail(f"{value} is not between {EARLIEST_DAY} and {LATEST_DAY}", param, ctx)
        return day


class Age(click.ParamType):
    """An age such as 180d or 12h (bot.conversation.privacy.parse_age)."""

    name = "age"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        from bot.conversation.privacy import parse_age

        if isinstance(value, timedelta):
            return value
        try:
            return parse_age(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


def database_failure(error: Exception) -> click.ClickException:
    """Why the database could not be used: exit 2 when the URL itself is wrong (no such
    database, file or user), 1 when the server did not answer."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    if any(sign in reason for sign in _DATABASE_CONFIGURATION_ERRORS):
        return ConfigurationError(f"POSBOT_DATABASE_URL: {reason}")
    return WorkFailed(f"database unavailable: {reason}")


#: What the database says when POSBOT_DATABASE_URL names something that is not there.
_DATABASE_CONFIGURATION_ERRORS = (
    "unable to open database file",  # SQLite: the directory does not exist or is not writable
    "does not exist",  # PostgreSQL: no such database or role
    "authentication failed",
    "no password supplied",
    "no pg_hba.conf entry",
)


def telegram_failure(error: BaseException) -> click.ClickException | None:
    """A Bot API problem as the command's exit: 2 for a refused token, 1 when it did not answer."""
    if "telegram" not in sys.modules:  # no Telegram call was made: not Telegram's error
        return None
    from bot.channels.telegram.preflight import BotApiProblem, explain

    problem = error if isinstance(error, BotApiProblem) else explain(error)
    if problem is None:
        return None
    if problem.configuration:
        return ConfigurationError(problem.reason)
    return WorkFailed(problem.reason)


def day_start(day: date) -> datetime:
    from flows.settlement_calendar import SHANGHAI

    return datetime.combine(day, datetime.min.time(), SHANGHAI)


def settings_or_exit(log_level: str | None = None) -> Settings:
    """Settings from the environment, or exit 2 naming each bad variable and its problem; then
    logging configured (POSBOT_LOG_LEVEL unless the command says otherwise)."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigurationError(explain(error)) from None
    configure_logging(log_level or settings.log_level)
    return settings


def build_or_exit(settings: Settings) -> Components:
    """Build, or stop with the operator's next step instead of a traceback (a bad deployment
    file: see Posbot.invoke)."""
    from bot.storage.migrate import SchemaOutdated

    try:
        return build(settings)
    except SchemaOutdated as error:
        raise click.ClickException(str(error)) from None
