"""The `posbot` command: run the Telegram bot, chat in the terminal, and the operators' tools.

The commands that read case data live in `bot.ops.data_commands`; what they all share (exit codes,
errors, option types) in `bot.ops.cli_base`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bot.extras import require
from bot.monitoring.logs import configure_logging, logging_config
from bot.ops import data_commands
from bot.ops.cli_base import (
    EXIT_BAD_INPUT,
    ConfigurationError,
    build_or_exit,
    database_failure,
    settings_or_exit,
    telegram_failure,
)

__all__ = ["EXIT_BAD_INPUT", "main"]


class Posbot(click.Group):
    """The command group: a bad deployment file, or a database or Telegram that fails a command,
    ends it with the reason and exit code 1 or 2 (see database_failure), never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import DBAPIError

        from bot.deployment_file import DeploymentError
        from bot.extras import MissingExtra
        from bot.storage.db import DatabaseUnavailable

        try:
            return super().invoke(ctx)
        except (DeploymentError, MissingExtra) as error:
            raise ConfigurationError(str(error)) from None
        except (DBAPIError, DatabaseUnavailable) as error:
            raise database_failure(error) from None
        except Exception as error:
            failure = telegram_failure(error)
            if failure is None:
                raise
            raise failure from None


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

    settings = settings_or_exit()
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
        from bot.channels.telegram.preflight import check_bot_api

        check_bot_api(settings)
        build_or_exit(settings).db.dispose()  # migrate or refuse before workers start
        uvicorn.run(
            "bot.channels.telegram.webhook:create_app",
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
    from bot.channels.telegram.app import ALLOWED_UPDATES, build_application
    from bot.channels.telegram.preflight import check_bot_api

    check_bot_api(settings)  # before PTB, which would log a traceback of its own
    parts = build_or_exit(settings)
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
    from bot.channels.console import Console

    settings = settings_or_exit(log_level="WARNING")
    parts = build_or_exit(settings)
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


for command in (
    data_commands.stats,
    data_commands.export,
    data_commands.purge,
    data_commands.report,
):
    main.add_command(command)


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database at POSBOT_DATABASE_URL to the current schema."""
    from bot.storage.db import Database
    from bot.storage.migrate import current, head, upgrade

    settings = settings_or_exit()
    database = Database(settings.database_url)
    try:
        before = current(database.engine)
        upgrade(database.engine, settings.database_url)
        click.echo(f"schema: {before or 'empty'} -> {head(settings.database_url)}")
    finally:
        database.dispose()


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

    deployment = resolve(settings_or_exit())
    for line in deployment.describe():
        click.echo(line)
    click.echo("configuration OK")
    if reference is None:
        if extra_keys:
            raise click.UsageError("--try-key goes with --try-reference")
        return
    if deployment.records is None:
        raise click.UsageError("--try-reference needs a [records] section in the deployment file")
    from bot.ops.records_try import parse_keys, try_lookup

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

    from bot.records.fake import DEFAULT_FIXTURE, FakeRecords, Switches, create_app, load_fixture

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
    from flows import advice, case, intake_table
    from flows.diagram import dot, mermaid

    table = (
        (case.TRANSITIONS, case.STATES, case.INITIAL)
        if flow == "case"
        else (intake_table.TRANSITIONS, intake_table.STATES, intake_table.IDLE)
    )
    if flow == "advice":
        if fmt != "mermaid":
            raise click.UsageError("the advice table is Markdown text: leave --format out")
        data = advice.markdown().encode()
    elif fmt == "mermaid":
        data = mermaid(*table).encode()
    else:
        from bot.ops.diagrams import render

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
