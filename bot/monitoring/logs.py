"""Logging for every posbot process: one line format, personal data redacted from what is written.

Redaction happens in the handlers' formatters, on the final text (message, arguments and any
traceback together), so the records themselves stay as their libraries made them: uvicorn's
access formatter, for one, unpacks its record's arguments. The same dictConfig is applied by the
command line and, through uvicorn's `log_config`, by every webhook worker process it spawns.
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterable
from typing import Any

from flows.redaction import redact_text

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
#: One line per webhook request: who, what, and the status code.
ACCESS_FORMAT = (
    '%(asctime)s %(levelname)s %(name)s %(client_addr)s "%(request_line)s" %(status_code)s'
)
#: Libraries that say too much at INFO: httpx logs every request URL, and the URL carries the bot
#: token; a stale button is expected and answered, transitions would log each one as a warning;
#: alembic describes its plugins on every command (`posbot db upgrade` says what it did).
QUIET = {"httpx": "WARNING", "httpcore": "WARNING", "transitions": "ERROR", "alembic": "WARNING"}


#: What a configured secret shows as in a log line.
HIDDEN = "<hidden>"
#: Configured secrets (the records lookup's header values): never in a log line, whoever logs.
_secrets: list[str] = []  # longest first: a whole header before the token inside it


def hide_in_logs(secrets: Iterable[str]) -> None:
    """Every later log line shows these values as <hidden>."""
    global _secrets
    _secrets = sorted({*_secrets, *secrets} - {""}, key=len, reverse=True)


def _hide(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, HIDDEN)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes card, ID and phone numbers and configured secrets from
    the whole text."""

    def format(self, record: logging.LogRecord) -> str:
        return _hide(redact_text(super().format(record)))


def logging_config(level: str, server: bool = False) -> dict[str, Any]:
    """The dictConfig for a posbot process at `level` (INFO, WARNING ...); with `server`, for
    the webhook server's processes, uvicorn's loggers too (the `webhook` extra)."""
    level = level.upper()
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"()": f"{__name__}.RedactingFormatter", "fmt": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {name: {"level": quiet} for name, quiet in QUIET.items()},
    }
    if server:
        config["formatters"]["access"] = {
            "()": "bot.monitoring.access_log.RedactingAccessFormatter",
            "fmt": ACCESS_FORMAT,
            "use_colors": False,
        }
        config["handlers"]["access"] = {
            "class": "logging.StreamHandler",
            "formatter": "access",
            "stream": "ext://sys.stderr",
        }
        config["loggers"].update(
            {
                # uvicorn's own loggers: no handlers of their own, so they print like ours.
                "uvicorn": {"level": level, "handlers": [], "propagate": True},
                "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
                "uvicorn.access": {"level": level, "handlers": ["access"], "propagate": False},
            }
        )
    return config


def configure_logging(level: str) -> dict[str, Any]:
    """Configure this process; returns the config, for uvicorn to apply in its workers."""
    config = logging_config(level)
    logging.config.dictConfig(config)
    return config
