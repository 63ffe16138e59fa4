"""A scripted terminal chat: the merchant's lines in, the whole transcript out."""

from __future__ import annotations

from collections.abc import Iterable

from bot.channels.console import Console
from bot.conversation.service import ConversationService


def run_console(
    service: ConversationService, lines: Iterable[str], language_code: str = "zh"
) -> str:
    """Type `lines` one by one (then end of input, as Ctrl-D) and return everything printed."""
    script = iter(lines)
    output: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(script)
        except StopIteration:
            raise EOFError from None

    Console(service, read=read, write=output.append, language_code=language_code).run()
    return "\n".join(output)
