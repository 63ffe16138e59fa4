"""A slip photo's bytes to the channel-neutral `Incoming` the service takes, for every channel.

Telegram downloads the photo into memory, the terminal reads a local file; both hand the bytes
here. The photo is read by `bot.conversation.ocr` on its worker thread, never written anywhere,
and whatever goes wrong comes back as a reason (`Incoming.slip_problem`) rather than an
exception: the service still attaches the photo and the merchant gets a clear message and the
question again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.conversation.messages import Incoming
from bot.conversation.ocr import (
    MAX_BYTES,
    OcrUnavailable,
    SlipReader,
    UnreadableImage,
    ocr_available,
    read_slip,
)

log = logging.getLogger(__name__)


def problem_before_reading(size: int | None) -> str | None:
    """What stops a photo of this size from being read here at all (None: nothing)."""
    if size is not None and size > MAX_BYTES:
        return "too_large"
    if not ocr_available():
        return "unavailable"
    return None


async def read_photo(
    data: bytes, incoming: Incoming, now: datetime, reader: SlipReader | None = None
) -> Incoming:
    """`incoming` with the slip's fields, or with the reason they could not be read."""
    problem = problem_before_reading(len(data))
    if problem is not None:
        return replace(incoming, slip_problem=problem)
    try:
        slip = await read_slip(data, now=now, reader=reader)
    except UnreadableImage as error:
        return replace(incoming, slip_problem=error.reason)
    except OcrUnavailable:
        log.warning("slip reading unavailable: the OCR engine did not load")
        return replace(incoming, slip_problem="unavailable")
    except Exception as error:  # an engine failure must not lose the merchant's photo
        log.warning("slip reading failed: %s", type(error).__name__)
        return replace(incoming, slip_problem="unreadable")
    log.info("slip read fields=%d", len(slip.found()))
    return replace(incoming, slip=slip)
