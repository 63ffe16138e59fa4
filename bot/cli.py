"""The `posbot` command: run the Telegram bot, or chat in the terminal."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from bot.config import Settings
from bot.wiring import Components, build


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # httpx logs every request URL, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # A stale button is expected and answered; transitions would log each one as a warning.
    logging.getLogger("transitions").setLevel(logging.ERROR)


def _build_or_exit(settings: Settings) -> Components:
    """Build, or stop with the operator's next step instead of a traceback."""
    from bot.deployment import DeploymentError
    from bot.storage.migrate import SchemaOutdated

    try:
        return build(settings)
    except (SchemaOutdated, DeploymentError) as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """posbot: the support bot for POS payments that were not credited."""


@main.command()
@click.option("--webhook", is_flag=True, help="Serve a webhook (ASGI) instead of long polling.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Webhook: listen address.")
@click.option("--port", default=8080, show_default=True, help="Webhook: listen port.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    help="Webhook: worker processes (use PostgreSQL for more than one).",
)
def run(webhook: bool, host: str, port: int, workers: int) -> None:
    """Run the Telegram bot: long polling, or a webhook server with --webhook."""
    settings = Settings()
    _setup_logging(settings.log_level)
    if not settings.telegram_bot_token:
        raise click.UsageError("TELEGRAM_BOT_TOKEN is not set (see README: Configuration)")
    if webhook:
        import uvicorn

        if not settings.webhook_secret:
            raise click.UsageError("POSBOT_WEBHOOK_SECRET is required with --webhook")
        if workers > 1 and settings.database_url.startswith("sqlite"):
            raise click.UsageError("several workers need PostgreSQL (POSBOT_DATABASE_URL)")
        _build_or_exit(settings).db.dispose()  # migrate or refuse before workers start
        uvicorn.run(
            "bot.webhook:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=settings.log_level.lower(),
        )
        return
    from bot.telegram.app import ALLOWED_UPDATES, build_application

    parts = _build_or_exit(settings)
    application = build_application(parts.settings, parts.service, parts.renderer)
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


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

    settings = Settings()
    _setup_logging("WARNING")
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
    """Case counts and times, as support sees them with /stats."""
    from bot.cases import case_stats
    from bot.console import plain

    settings = Settings()
    parts = _build_or_exit(settings)
    try:
        with parts.db.transaction() as session:
            numbers = case_stats(session)
        click.echo(plain(parts.renderer.text("stats", settings.default_locale, numbers)))
    finally:
        parts.db.dispose()


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
    "--since", default=None, help="Only cases created on or after this date (YYYY-MM-DD)."
)
@click.option("--out", type=click.File("w"), default="-", help="File to write (default: stdout).")
def export_cases(fmt: str, since: str | None, out: Any) -> None:
    """Cases as CSV or JSON lines."""
    import csv
    import json
    from datetime import date, datetime

    from sqlalchemy import select

    from bot.storage.models import Case
    from flows.settlement_calendar import SHANGHAI

    try:
        start = date.fromisoformat(since) if since else None
    except ValueError:
        raise click.BadParameter(
            f"{since!r} is not a date like 2026-11-01", param_hint="--since"
        ) from None
    settings = Settings()
    parts = _build_or_exit(settings)
    try:
        with parts.db.transaction() as session:
            query = select(Case).order_by(Case.id)
            if start is not None:
                query = query.where(
                    Case.created_at >= datetime.combine(start, datetime.min.time(), SHANGHAI)
                )
            rows = [
                {column: _plain(getattr(case, column)) for column in EXPORT_COLUMNS}
                for case in session.scalars(query)
            ]
    finally:
        parts.db.dispose()
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


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

    settings = Settings()
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
    "older_than",
    default=None,
    help="Age such as 180d or 12h (default: POSBOT_RETENTION_DAYS days).",
)
def purge(older_than: str | None) -> None:
    """Delete old transcripts and the personal fields of old finished cases."""
    from datetime import UTC, datetime, timedelta

    from bot.privacy import parse_age
    from bot.privacy import purge as purge_data

    settings = Settings()
    _setup_logging(settings.log_level)
    try:
        age = parse_age(older_than) if older_than else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--older-than") from None
    parts = _build_or_exit(settings)
    # The retention in force: the deployment file's unless POSBOT_RETENTION_DAYS is set.
    if age is None:
        age = timedelta(days=parts.settings.retention_days)
    try:
        with parts.db.transaction() as session:
            report = purge_data(session, age, datetime.now(UTC))
    finally:
        parts.db.dispose()
    click.echo(
        f"purged: {report.transcript_lines} transcript lines, {report.cases} cases "
        f"anonymised, {report.conversations} conversations reset (older than {age})"
    )


@main.command("check-config")
def check_config() -> None:
    """Check the environment and the deployment file (POSBOT_DEPLOYMENT_FILE); exit 2 if bad."""
    from pydantic import ValidationError

    from bot.config import explain
    from bot.deployment import DeploymentError, resolve

    try:
        deployment = resolve(Settings())
    except ValidationError as error:
        click.echo(explain(error), err=True)
        sys.exit(2)
    except DeploymentError as error:
        click.echo(str(error), err=True)
        sys.exit(2)
    for line in deployment.describe():
        click.echo(line)
    click.echo("configuration OK")


@main.command()
@click.option(
    "--flow",
    type=click.Choice(["intake", "case"]),
    default="intake",
    help="Which state machine to draw.",
)
def diagram(flow: str) -> None:
    """Print a state diagram (Mermaid), generated from the flow's transition table."""
    from flows.diagram import mermaid

    if flow == "case":
        from flows import case

        click.echo(mermaid(case.TRANSITIONS, case.STATES, case.INITIAL), nl=False)
    else:
        from flows import intake

        click.echo(mermaid(intake.TRANSITIONS, intake.STATES, intake.IDLE), nl=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
