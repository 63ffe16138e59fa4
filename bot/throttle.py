"""Flood control: a merchant who floods the bot is slowed down, cheaply, without slowing others.

Per chat, a short sliding window against bursts and a daily count against scripts, in constant
space per merchant. The first
update over a limit gets one notice; the rest are dropped before any database work.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Chat:
    #: The last `per_window` passes (older ones fall off): a sliding window in constant space.
    recent: deque[float]
    #: The daily limit counts from the chat's first update of its day (a fixed window), so a
    #: merchant costs a few numbers whatever they send, not one entry per message.
    day_start: float
    day_count: int = 0
    noticed_until: float = 0.0


class FloodGate:
    """`check(chat_id)` says "pass", "notice" (first excess: tell them once) or "drop"."""

    DAY = 86_400.0

    def __init__(
        self,
        per_window: int = 20,
        window: float = 10.0,
        per_day: int = 2000,
        clock: Callable[[], float] = time.monotonic,
        max_chats: int = 100_000,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.per_day = per_day
        self.clock = clock
        self.max_chats = max_chats
        self._chats: dict[int, _Chat] = {}

    def check(self, chat_id: int) -> str:
        now = self.clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            if len(self._chats) >= self.max_chats:
                self._evict(now)
            chat = self._chats[chat_id] = _Chat(deque(maxlen=self.per_window), now)
        if now - chat.day_start >= self.DAY:
            chat.day_start, chat.day_count = now, 0
        flooding = len(chat.recent) == self.per_window and chat.recent[0] > now - self.window
        if flooding or chat.day_count >= self.per_day:
            if now >= chat.noticed_until:
                chat.noticed_until = (
                    chat.recent[0] + self.window if flooding else chat.day_start + self.DAY
                )
                return "notice"
            return "drop"
        chat.recent.append(now)
        chat.day_count += 1
        return "pass"

    def _evict(self, now: float) -> None:
        """Forget chats that have been quiet for a whole window (bounded memory)."""
        quiet = [
            key
            for key, chat in self._chats.items()
            if not chat.recent or chat.recent[-1] <= now - self.window
        ]
        for key in quiet or [next(iter(self._chats))]:
            del self._chats[key]
