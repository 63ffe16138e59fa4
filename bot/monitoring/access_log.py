"""uvicorn's access line, redacted like every other line (needs the `webhook` extra)."""

from __future__ import annotations

from uvicorn.logging import AccessFormatter

from bot.monitoring.logs import RedactingFormatter


class RedactingAccessFormatter(RedactingFormatter, AccessFormatter):
    """uvicorn's access line (client, request line, status), redacted like every other line."""
