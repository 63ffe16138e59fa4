"""The `posbot` command: run the Telegram bot, or chat in the terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import click
from pydantic import ValidationError

from bot.config import Settings, explain
from bot.extras import require
from bot.logs import configure_logging, logging_config
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
    """An age such as 180d or 12h (bot.privacy.parse_age)."""

    name = "age"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        from bot.privacy import parse_age

        if isinstance(value, timedelta):
            return value
        try:
            return parse_age(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


def _database_failure(error: Exception) -> click.ClickException:
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


def _telegram_failure(error: Exception) -> click.ClickException | None:
    from telegram.error import InvalidToken, NetworkError, TelegramError

    if isinstance(error, InvalidToken):
        return ConfigurationError(f"TELEGRAM_BOT_TOKEN was refused by Telegram: {error.message}")
    if isinstance(error, NetworkError):
        return WorkFailed(f"Telegram (TELEGRAM_API_URL) did not answer: {error.message}")
    if isinstance(error, TelegramError):
        return WorkFailed(f"Telegram refused: {error.message}")
    return None


class Posbot(click.Group):
    """The command group: a bad deployment file, or a database or Telegram that fails a command,
    ends it with the reason and exit code 1 or 2 (see _database_failure), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError

        from bot.deployment import DeploymentError
        from bot.extras import MissingExtra
        from bot.storage.db import DatabaseUnavailable

        try:
            return super().invoke(ctx)
        except (DeploymentError, MissingExtra) as error:
            raise ConfigurationError(str(error)) from None
        except (DBAPIError, DatabaseUnavailable) as error:
            raise _database_failure(error) from None
        except Exception as error:
            failure = _telegram_failure(error) if "telegram" in sys.modules else None
            if failure is None:
                raise
            raise failure from None


def _day_start(day: date) -> datetime:
    from flows.settlement_calendar import SHANGHAI

    return datetime.combine(day, datetime.min.time(), SHANGHAI)


def _settings(log_level: str | None = None) -> Settings:
    """Settings from the environment, or exit 2 naming each bad variable and its problem; then
    logging configured (POSBOT_LOG_LEVEL unless the command says otherwise)."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigurationError(explain(error)) from None
    configure_logging(log_level or settings.log_level)
    return settings


def _build_or_exit(settings: Settings) -> Components:
    """Build, or stop with the operator's next step instead of a traceback (a bad deployment
    file: see Posbot.invoke)."""
    from bot.storage.migrate import SchemaOutdated

    try:
        return build(settings)
    except SchemaOutdated as error:
        raise click.ClickException(str(error)) from None


@click.group(cls=Posbot)
@click.version_option(package_name="posbot", message="posbot %(version)s")
def main() -> None:
    """posbot: the support bot for POS payments that were not credited."""


@main.command()
@click.option("--webhook", is_flag=True, help="Serve a webhook (ASGI) instead of long polling.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Webhook: listen address.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8080,
    show_default=True,
    help="Webhook: listen port.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Webhook: worker processes (use PostgreSQL for more than one).",
)
def run(webhook: bool, host: str, port: int, workers: int) -> None:
    """Run the Telegram bot: long polling, or a webhook server with --webhook."""
    from bot.deployment import resolve

    settings = _settings()
    if not settings.telegram_bot_token:
        raise click.UsageError("TELEGRAM_BOT_TOKEN is not set (see README: Configuration)")
    resolve(settings)  # a bad deployment file is refused before Telegram is asked anything
    if webhook:
        require("webhook")
        import uvicorn

        if not settings.webhook_secret:
            raise click.UsageError("POSBOT_WEBHOOK_SECRET is required with --webhook")
        if workers > 1 and settings.database_url.startswith("sqlite"):
            raise click.UsageError("several workers need PostgreSQL (POSBOT_DATABASE_URL)")
        # Refuse here, with the reason, what would otherwise fail inside each worker.
        _check_listen(host, port)
        _check_telegram(settings)
        _build_or_exit(settings).db.dispose()  # migrate or refuse before workers start
        uvicorn.run(
            "bot.webhook:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
            log_config=logging_config(
                settings.log_level, server=True
            ),  # applied in every worker process
        )
        return
    from bot.telegram.app import ALLOWED_UPDATES, build_application

    _check_telegram(settings)  # before PTB, which would log a traceback of its own
    parts = _build_or_exit(settings)
    application = build_application(parts.settings, parts.service, parts.renderer)
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


def _check_listen(host: str, port: int) -> None:
    """The address can be listened on (exit 2 otherwise), as uvicorn will bind it."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as error:
        raise click.BadParameter(
            f"{host!r} is not an address: {error}", param_hint="--host"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise click.UsageError(
                f"cannot listen on {host}:{port}: {error.strerror or error}"
            ) from None


def _check_telegram(settings: Settings) -> None:
    """The token is accepted and the Bot API answers (errors: see _telegram_failure)."""
    import asyncio

    from telegram import Bot

    async def ask() -> None:
        api = settings.telegram_api_url
        async with Bot(
            settings.telegram_bot_token,
            base_url=f"{api}/bot",
            base_file_url=f"{api}/file/bot",
        ):
            pass  # entering asks getMe

    asyncio.run(ask())


@main.command()
@click.option(
    "--lang",
    "language",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the conversation (default: POSBOT_DEFAULT_LOCALE).",
)
def chat(language: str | None) -> None:
    """The merchant conversation in this terminal, on the same code and database."""
    from bot.console import Console

    settings = _settings(log_level="WARNING")
    parts = _build_or_exit(settings)
    console = Console(
        parts.service,
        read=input,
        write=click.echo,
        language_code=language or settings.default_locale,
    )
    try:
        console.run()
    finally:
        parts.db.dispose()


@main.command()
def stats() -> None:
    """Case counts and times (the /stats numbers), as a table."""
    from bot.cases import case_stats
    from bot.terminal_table import stats_table

    settings = _settings()
    parts = _build_or_exit(settings)
    try:
        with parts.db.transaction() as session:
            numbers = case_stats(session)
    finally:
        parts.db.dispose()
    click.echo(stats_table(parts.renderer, settings.default_locale, numbers))


#: Exports this long show a progress bar (on a terminal); shorter ones finish before it is read.
PROGRESS_MIN_ROWS = 2000

EXPORT_COLUMNS = (
    "number",
    "status",
    "outcome",
    "amount",
    "trade_date",
    "due_date",
    "due_estimated",
    "escalation_reason",
    "duplicate_of",
    "rating",
    "created_at",
    "escalated_at",
    "first_reply_at",
    "resolved_at",
)


@main.group()
def export() -> None:
    """Exports for reporting (masked: no chat ids, names, receipt keys or messages)."""


@export.command("cases")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv")
@click.option(
    "--since",
    "start",
    type=Day(),
    default=None,
    help="Only cases created on or after this date (YYYY-MM-DD).",
)
@click.option("--out", type=click.File("w"), default="-", help="File to write (default: stdout).")
def export_cases(fmt: str, start: date | None, out: Any) -> None:
    """Cases as CSV or JSON lines (a progress bar on a terminal's stderr for large exports)."""
    from sqlalchemy import func, select

    from bot.storage.models import Case

    settings = _settings()
    parts = _build_or_exit(settings)
    try:
        with parts.db.transaction() as session, contextlib.ExitStack() as stack:
            query = select(Case).order_by(Case.id)
            if start is not None:
                query = query.where(Case.created_at >= _day_start(start))
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            bar = None
            # Only for a person watching: pipes and files stay clean.
            if total >= PROGRESS_MIN_ROWS and sys.stderr.isatty():
                label = parts.renderer.label(settings.default_locale, "report.exporting")
                bar = stack.enter_context(
                    click.progressbar(
                        length=total,
                        label=label,
                        file=sys.stderr,
                        update_min_steps=max(1, total // 200),
                    )
                )
            write = _row_writer(fmt, out)
            for case in session.scalars(query.execution_options(yield_per=500)):
                write({column: _plain(getattr(case, column)) for column in EXPORT_COLUMNS})
                if bar is not None:
                    bar.update(1)
    finally:
        parts.db.dispose()


def _row_writer(fmt: str, out: Any) -> Callable[[dict[str, Any]], object]:
    """A function writing one export row (the CSV header is written at once)."""
    import csv
    import json

    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        return writer.writerow
    return lambda row: out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value) if not hasattr(value, "isoformat") else value.isoformat()


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database at POSBOT_DATABASE_URL to the current schema."""
    from bot.storage.db import Database
    from bot.storage.migrate import current, head, upgrade

    settings = _settings()
    database = Database(settings.database_url)
    try:
        before = current(database.engine)
        upgrade(database.engine, settings.database_url)
        click.echo(f"schema: {before or 'empty'} -> {head(settings.database_url)}")
    finally:
        database.dispose()


@main.command()
@click.option(
    "--older-than",
    "age",
    type=Age(),
    default=None,
    help="Age such as 180d or 12h (default: POSBOT_RETENTION_DAYS days).",
)
def purge(age: timedelta | None) -> None:
    """Delete old transcripts and the personal fields of old finished cases, and forget the
    ids of updates processed longer ago than POSBOT_INBOX_RETENTION_HOURS."""
    from datetime import UTC

    from bot.privacy import purge as purge_data

    settings = _settings()
    parts = _build_or_exit(settings)
    # The retention in force: the deployment file's unless POSBOT_RETENTION_DAYS is set.
    if age is None:
        age = timedelta(days=parts.settings.retention_days)
    try:
        with parts.db.transaction() as session:
            report = purge_data(
                session,
                age,
                datetime.now(UTC),
                timedelta(hours=parts.settings.inbox_retention_hours),
            )
    finally:
        parts.db.dispose()
    click.echo(
        f"purged: {report.transcript_lines} transcript lines, {report.cases} cases "
        f"anonymised, {report.conversations} conversations reset (older than {age}), "
        f"{report.inbox_updates} processed update ids forgotten "
        f"(older than {parts.settings.inbox_retention_hours}h)"
    )


@main.command("check-config")
@click.option(
    "--try-reference",
    "reference",
    default=None,
    help="Also look this reference number up in the [records] system and show the answer.",
)
@click.option(
    "--try-key",
    "extra_keys",
    multiple=True,
    metavar="NAME=VALUE",
    help="Another key for that lookup: merchant_no, terminal_no, date (YYYY-MM-DD), amount.",
)
def check_config(reference: str | None, extra_keys: tuple[str, ...]) -> None:
    """Check the environment and the deployment file (POSBOT_DEPLOYMENT_FILE); exit 2 if bad."""
    from bot.deployment import resolve

    deployment = resolve(_settings())
    for line in deployment.describe():
        click.echo(line)
    click.echo("configuration OK")
    if reference is None:
        if extra_keys:
            raise click.UsageError("--try-key goes with --try-reference")
        return
    if deployment.records is None:
        raise click.UsageError("--try-reference needs a [records] section in the deployment file")
    from bot.records_try import parse_keys, try_lookup

    try:
        keys = parse_keys(reference, extra_keys)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--try-reference/--try-key") from None
    configure_logging("WARNING")
    line, answered = try_lookup(deployment.records, keys)
    if not answered:
        raise click.ClickException(line)
    click.echo(line)


@main.command("records-fake")
@click.option(
    "--fixture",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON object of reference number -> record (default: the one shipped with posbot).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8099, show_default=True)
@click.option("--slow", "slow_s", type=float, default=0.0, help="Answer after this many seconds.")
@click.option("--fail", is_flag=True, help="Answer every lookup with HTTP 500.")
@click.option("--malformed", is_flag=True, help="Answer with JSON that [records] cannot read.")
@click.option(
    "--token-env",
    default=None,
    metavar="NAME",
    help="Require 'Authorization: Bearer <the value of this environment variable>'.",
)
def records_fake(
    fixture: Path | None,
    host: str,
    port: int,
    slow_s: float,
    fail: bool,
    malformed: bool,
    token_env: str | None,
) -> None:
    """A stand-in acquirer system for trying [records] (see docs/records-lookup.md)."""
    import os

    require("webhook")
    import uvicorn

    from bot.records_fake import DEFAULT_FIXTURE, FakeRecords, Switches, create_app, load_fixture

    token = None
    if token_env is not None:
        token = os.environ.get(token_env)
        if not token:
            raise click.UsageError(f"environment variable {token_env} is not set")
    try:
        records = load_fixture(fixture or DEFAULT_FIXTURE)
    except ValueError as error:  # a JSON syntax error is a ValueError too
        raise click.BadParameter(str(error), param_hint="--fixture") from None
    fake = FakeRecords(records, Switches(slow_s=slow_s, fail=fail, malformed=malformed), token)
    click.echo(f"records fake: {len(records)} references, http://{host}:{port}/api/tx", err=True)
    uvicorn.run(create_app(fake), host=host, port=port, log_level="warning")


@main.command()
@click.option("--out", default="report.html", show_default=True, help="HTML file to write.")
@click.option(
    "--since", "start", type=Day(), default=None, help="First day (YYYY-MM-DD, Beijing time)."
)
@click.option(
    "--days",
    type=click.IntRange(1, 36600),
    default=None,
    help="How many days: the last N (default 30), or N from --since.",
)
@click.option(
    "--lang",
    "language",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of the page (default: POSBOT_DEFAULT_LOCALE).",
)
def report(out: str, start: date | None, days: int | None, language: str | None) -> None:
    """A self-contained HTML page of charts: cases per day by outcome, first reply and
    resolution times, share resolved without a person, ratings."""
    require("report")
    from bot.report import load_numbers, report_html
    from flows.report import report_period
    from flows.settlement_calendar import SHANGHAI

    now = datetime.now(SHANGHAI)
    try:
        first, last = report_period(now.date(), start, days)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since/--days") from None
    settings = _settings()
    locale = language or settings.default_locale
    parts = _build_or_exit(settings)
    try:
        with parts.db.transaction() as session:
            numbers = load_numbers(session, first, last)
    finally:
        parts.db.dispose()
    page = report_html(parts.renderer, numbers, locale, now)
    try:
        Path(out).write_text(page, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(parts.renderer.label(locale, "report.written", path=out), err=True)


@main.command()
@click.option(
    "--flow",
    type=click.Choice(["intake", "case", "advice"]),
    default="intake",
    help="Which state machine to draw; 'advice' prints the decision table as Markdown.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "svg", "png"]),
    default="mermaid",
    show_default=True,
    help="Mermaid text, or a picture drawn by Graphviz (apt-get install graphviz).",
)
@click.option("--out", default="-", help="File to write (default: stdout).")
def diagram(flow: str, fmt: str, out: str) -> None:
    """A state diagram, generated from the flow's transition table (or the advice table)."""
    from flows import advice, case, intake
    from flows.diagram import dot, mermaid

    table = (
        (case.TRANSITIONS, case.STATES, case.INITIAL)
        if flow == "case"
        else (intake.TRANSITIONS, intake.STATES, intake.IDLE)
    )
    if flow == "advice":
        if fmt != "mermaid":
            raise click.UsageError("the advice table is Markdown text: leave --format out")
        data = advice.markdown().encode()
    elif fmt == "mermaid":
        data = mermaid(*table).encode()
    else:
        from bot.diagrams import render

        if fmt == "png" and out == "-" and sys.stdout.isatty():
            raise click.UsageError("a PNG is binary: write it to a file with --out FILE")
        try:
            data = render(dot(*table), fmt)
        except RuntimeError as error:  # Graphviz missing (with how to install it) or failing
            raise click.ClickException(str(error)) from None
    if out == "-":
        click.echo(data, nl=False)
        return
    try:
        Path(out).write_bytes(data)
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
