"""The `posbot` command: run the Telegram bot, or chat in the terminal."""

from __future__ import annotations

import logging
import sys

import click

from bot.config import Settings
from bot.wiring import build


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # httpx logs every request URL, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


@click.group()
def main() -> None:
    """posbot: the support bot for POS payments that were not credited."""


@main.command()
def run() -> None:
    """Run the Telegram bot with long polling."""
    from telegram import Update

    from bot.telegram.app import build_application

    settings = Settings()
    _setup_logging(settings.log_level)
    if not settings.telegram_bot_token:
        raise click.UsageError("TELEGRAM_BOT_TOKEN is not set (see README: Configuration)")
    parts = build(settings)
    application = build_application(settings, parts.service, parts.renderer)
    application.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])


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
    parts = build(settings)
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
