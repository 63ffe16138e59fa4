"""Flood control: a merchant who floods the bot is slowed down, cheaply, without slowing others.

Sliding windows per chat (a short one against bursts, a daily one against scripts). The first
update over a limit gets one notice; the rest are dropped before any database work.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Chat:
    recent: deque[float] = field(default_factory=deque)
    day: deque[float] = field(default_factory=deque)
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
            chat = self._chats[chat_id] = _Chat()
        while chat.recent and chat.recent[0] <= now - self.window:
            chat.recent.popleft()
        while chat.day and chat.day[0] <= now - self.DAY:
            chat.day.popleft()
        if len(chat.recent) >= self.per_window or len(chat.day) >= self.per_day:
            if now >= chat.noticed_until:
                limit_ends = (
                    chat.recent[0] + self.window
                    if len(chat.recent) >= self.per_window
                    else chat.day[0] + self.DAY
                )
                chat.noticed_until = limit_ends
                return "notice"
            return "drop"
        chat.recent.append(now)
        chat.day.append(now)
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
