"""Runs the real PTB Application against the tests' fake Bot API, and drives it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application

from bot.channels.telegram.app import build_application
from bot.channels.telegram.support_group import SupportDesk
from bot.wiring import Components
from tests.bot.helpers import Clock, components
from tests.fake_bot_api import FakeBotApi

CHAT = 5001
Step = tuple[str, str, int]  # ("say"|"press", text or data, messages expected)


@dataclass
class Running:
    parts: Components
    application: Application  # type: ignore[type-arg]

    @property
    def support(self) -> SupportDesk:
        desk: SupportDesk = self.application.bot_data["support"]
        return desk


@asynccontextmanager
async def running_bot(
    api: FakeBotApi, database_url: str, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[Running]:
    """A bot process: polling, timers driven by the test (run_due) instead of a loop."""
    parts = components(database_url, clock, telegram_api_url=api.root, **overrides)
    application = build_application(parts.settings, parts.service, parts.renderer, run_timers=False)
    try:
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            try:
                yield Running(parts, application)
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        if parts.records is not None:  # post_shutdown runs only under run_polling/run_webhook
            await parts.records.aclose()
        parts.db.dispose()


async def step(
    api: FakeBotApi, kind: str, value: str, expect: int = 1, chat: int = CHAT, **kwargs: Any
) -> list[dict[str, Any]]:
    """The merchant (or an agent, with chat=group) says or presses; wait for `expect` replies."""
    mark = api.mark()
    if kind == "say":
        api.send_text(chat, value, **kwargs)
    else:
        api.press(chat, value, **kwargs)
    return await api.wait_for_messages(chat, expect, since=mark)


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]
