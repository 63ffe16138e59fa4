"""Flood control: a merchant who floods the bot is slowed down, cheaply, without slowing others.

Per chat, a token bucket against bursts and a daily count against scripts, in constant space
per merchant. The first
update over a limit gets one notice; the rest are dropped before any database work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Chat:
    #: Burst allowance left (a token bucket: `per_window` at most, refilled over `window`).
    tokens: float
    stamp: float
    #: The daily limit counts from the chat's first update of its day (a fixed window).
    day_start: float
    day_count: int = 0
    noticed_until: float = 0.0


class FloodGate:
    """`check(chat_id)` says "pass", "notice" (first excess: tell them once) or "drop".

    A merchant costs a handful of numbers whatever they send (a token bucket and a daily count,
    not a timestamp per message), so 100,000 merchants in a day stay within a few megabytes.
    """

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
        self._rate = per_window / window
        self._chats: dict[int, _Chat] = {}

    def check(self, chat_id: int) -> str:
        now = self.clock()
        chat = self._chats.get(chat_id)
        if chat is None:
            if len(self._chats) >= self.max_chats:
                self._evict(now)
            chat = self._chats[chat_id] = _Chat(float(self.per_window), now, now)
        chat.tokens = min(self.per_window, chat.tokens + (now - chat.stamp) * self._rate)
        chat.stamp = now
        if now - chat.day_start >= self.DAY:
            chat.day_start, chat.day_count = now, 0
        flooding = chat.tokens < 1
        if flooding or chat.day_count >= self.per_day:
            if now >= chat.noticed_until:
                chat.noticed_until = (
                    now + (1 - chat.tokens) / self._rate if flooding else chat.day_start + self.DAY
                )
                return "notice"
            return "drop"
        chat.tokens -= 1
        chat.day_count += 1
        return "pass"

    def _evict(self, now: float) -> None:
        """Forget chats that have been quiet for a whole window (bounded memory)."""
        quiet = [key for key, chat in self._chats.items() if chat.stamp <= now - self.window]
        for key in quiet or [next(iter(self._chats))]:
            del self._chats[key]
