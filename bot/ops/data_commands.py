"""The commands that read the case data: `stats`, `export cases`, `purge` and `report`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from bot.extras import require
from bot.ops.cli_base import Age, Day, build_or_exit, day_start, settings_or_exit


@click.command()
def stats() -> None:
    """Case counts and times (the /stats numbers), as a table."""
    from bot.ops.terminal_table import stats_table
    from bot.support.cases import case_stats

    settings = settings_or_exit()
    parts = build_or_exit(settings)
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


@click.group()
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

    settings = settings_or_exit()
    parts = build_or_exit(settings)
    try:
        with parts.db.transaction() as session, contextlib.ExitStack() as stack:
            query = select(Case).order_by(Case.id)
            if start is not None:
                query = query.where(Case.created_at >= day_start(start))
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


@click.command()
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

    from bot.conversation.privacy import purge as purge_data

    settings = settings_or_exit()
    parts = build_or_exit(settings)
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


@click.command()
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
    from bot.ops.report import load_numbers, report_html
    from flows.report import report_period
    from flows.settlement_calendar import SHANGHAI

    now = datetime.now(SHANGHAI)
    try:
        first, last = report_period(now.date(), start, days)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since/--days") from None
    settings = settings_or_exit()
    locale = language or settings.default_locale
    parts = build_or_exit(settings)
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
