"""Photos of POS slips from Telegram: size check, download into memory, read off the event loop.

A merchant's photo (or a picture sent as a file) is fetched with getFile into a bytearray, never
written to disk, and read by `bot.conversation.slip_reading` on the OCR worker thread, so other
merchants' updates keep flowing while one slip takes seconds. Telegram reports the size first,
so a photo over the limit is refused without downloading it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from telegram import Bot, Message
from telegram.error import TelegramError

from bot.conversation.messages import Incoming
from bot.conversation.ocr import SlipReader
from bot.conversation.slip_reading import problem_before_reading, read_photo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Picture:
    """What to download: the largest size of a photo, or an image sent as a document."""

    file_id: str
    file_size: int | None


def picture_of(message: Message) -> Picture | None:
    if message.photo:
        largest = message.photo[-1]
        return Picture(largest.file_id, largest.file_size)
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return Picture(document.file_id, document.file_size)
    return None


class SlipPhotos:
    """Turns a merchant's photo into a channel-neutral `Incoming` carrying what was read."""

    def __init__(self, clock: Callable[[], datetime], reader: SlipReader | None = None) -> None:
        self.clock = clock
        self.reader = reader  # None: the process-wide reader, its models loaded once

    async def read(self, bot: Bot, message: Message, incoming: Incoming) -> Incoming:
        picture = picture_of(message)
        if picture is None:
            return incoming
        problem = problem_before_reading(picture.file_size)
        if problem is not None:
            return replace(incoming, slip_problem=problem)
        try:
            file = await bot.get_file(picture.file_id)
            data = await file.download_as_bytearray()
        except TelegramError as error:
            log.warning("slip photo not downloaded: %s", type(error).__name__)
            return replace(incoming, slip_problem="download_failed")
        return await read_photo(bytes(data), incoming, self.clock(), self.reader)
