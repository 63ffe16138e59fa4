"""The terminal channel: the same conversation as in Telegram, buttons shown as numbers."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot.conversation.lookups import look_up
from bot.conversation.messages import ChatRef, Incoming, Result
from bot.conversation.rendering import Outgoing
from bot.conversation.service import ConversationService
from bot.conversation.slip_reading import problem_before_reading, read_photo

#: Buttons that do not make a keyboard a choice: with only these, bare digits are an answer.
_NOT_CHOICES = re.compile(r"^(x:back|x:person|x:cancel|a:[a-z_]+:(skip|noreceipt))$")
CONSOLE_CHAT_ID = 1


def plain(text: str) -> str:
    """Telegram HTML to terminal text: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _is_choice_keyboard(buttons: list[tuple[str, str]]) -> bool:
    return any(not _NOT_CHOICES.match(data) for _, data in buttons)


def parse_line(line: str, buttons: list[tuple[str, str]]) -> Incoming:
    """A typed line: /command, #n (always a button), n (a button when there is a choice), text."""
    stripped = line.strip()
    if stripped.startswith("/"):
        name, _, args = stripped[1:].partition(" ")
        return Incoming("command", text=args, command=name)
    number = stripped[1:] if stripped.startswith("#") else stripped
    if number.isdecimal() and (stripped.startswith("#") or _is_choice_keyboard(buttons)):
        index = int(number) - 1
        if 0 <= index < len(buttons):
            return Incoming("button", text=buttons[index][1])
    return Incoming("text", text=line)


class Console:
    """Reads lines, hands them to the service, prints replies with numbered buttons."""

    def __init__(
        self,
        service: ConversationService,
        read: Callable[[str], str],
        write: Callable[[str], None],
        language_code: str | None = None,
        chat_id: int = CONSOLE_CHAT_ID,
    ) -> None:
        self.service = service
        self.read = read
        self.write = write
        self.chat = ChatRef("console", chat_id, chat_id, language_code)
        self.buttons: list[tuple[str, str]] = []

    def show(self, messages: list[Outgoing]) -> None:
        for message in messages:
            self.write(plain(message.text))
            if message.keyboard:
                self.buttons = [button for row in message.keyboard for button in row]
                self.write(
                    "  ".join(
                        f"[{i}] {label}" for i, (label, _) in enumerate(self.buttons, start=1)
                    )
                )
            self.write("")

    def send(self, incoming: Incoming) -> None:
        if incoming.kind == "command" and incoming.command.lower() == "slip":
            incoming = self.slip_photo(incoming.text)
        result = self.service.handle(self.chat, incoming)
        self.show(result.messages)
        answer = asyncio.run(self._look_up(result)) if result.lookup else None
        if answer is not None:  # what the records said is a turn of its own
            self.send(answer)

    async def _look_up(self, result: Result) -> Incoming | None:
        """Each lookup runs on a loop of its own here: its connections close with it."""

        async def show(messages: list[Outgoing]) -> None:
            self.show(messages)

        try:
            return await look_up(self.service, result, show)
        finally:
            if self.service.records is not None:
                await self.service.records.aclose()

    def slip_photo(self, path: str) -> Incoming:
        """`/slip <path>`: a photo on this machine, read as one sent in Telegram would be."""
        photo = Incoming("photo")
        if not self.service.db.run(lambda session: self.service.reads_slip(session, self.chat)):
            return photo  # the service says why it is not read now
        file = Path(path.strip()).expanduser()
        try:
            size = file.stat().st_size
            problem = problem_before_reading(size)
            if problem is not None:
                return replace(photo, slip_problem=problem)
            data = file.read_bytes()
        except OSError:
            return replace(photo, slip_problem="unreadable")
        return asyncio.run(read_photo(data, photo, self.service.clock()))

    def run(self) -> None:
        self.send(Incoming("command", command="start"))
        while True:
            try:
                line = self.read("> ")
            except (EOFError, KeyboardInterrupt):
                break
            if line.strip() in ("/quit", "/exit"):
                break
            if not line.strip():
                continue
            self.send(parse_line(line, self.buttons))
