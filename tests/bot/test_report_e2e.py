"""/report in the support group, through the real Application on the fake Bot API."""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path
from typing import Any

from PIL import Image

from tests.bot.helpers import Clock
from tests.bot.telegram_harness import running_bot
from tests.bot.test_report import seed
from tests.bot.test_support_e2e import AGENT, STRANGER, SUPPORT, message_with
from tests.fake_bot_api import FakeBotApi, UploadedFile

#: Drawing the first picture of a process loads matplotlib (and on a new machine its font cache).
FIRST_DRAWING = 60.0


async def test_report_sends_one_picture_to_agents_and_refuses_strangers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    async with FakeBotApi() as api:
        api.set_chat(SUPPORT, is_forum=False, title="POS support")
        api.set_chat_member(SUPPORT, STRANGER, status="left")
        async with running_bot(api, url, Clock(), support_chat_id=SUPPORT) as bot:
            seed(bot.parts.db)
            desk, drawn_in = bot.support, []
            draw = desk._report

            def spy(*args: Any) -> Any:
                drawn_in.append(threading.current_thread())
                return draw(*args)

            desk._report = spy  # type: ignore[method-assign]

            mark = api.mark()
            api.send_text(SUPPORT, "/report", user_id=AGENT)
            call = await api.wait_for_call("sendPhoto", since=mark, timeout=FIRST_DRAWING)
            assert call.params["chat_id"] == SUPPORT
            photo = call.params["photo"]
            assert isinstance(photo, UploadedFile)  # uploaded as multipart, not a file id
            assert photo.data.startswith(b"\x89PNG\r\n\x1a\n")
            with Image.open(io.BytesIO(photo.data)) as image:
                assert image.size == (1200, 1200)
            caption = call.params["caption"]
            assert "查询单报表" in caption
            assert "2026年10月27日" in caption  # the last 30 days by the bot's clock
            assert "查询单 3，转人工 2" in caption  # the seeded cases

            mark = api.mark()
            api.send_text(SUPPORT, "/report 7", user_id=AGENT)
            week = await api.wait_for_call("sendPhoto", since=mark, timeout=FIRST_DRAWING)
            assert "2026年11月19日" in week.params["caption"]
            assert "查询单 0" in week.params["caption"]

            for wrong in ("soon", "²"):  # "²" is a digit to str.isdigit, not to int()
                mark = api.mark()
                api.send_text(SUPPORT, f"/report {wrong}", user_id=AGENT)
                await message_with(api, SUPPORT, "/report", mark)

            mark = api.mark()
            api.send_text(SUPPORT, "/report", user_id=STRANGER)
            refusal = await api.wait_for_messages(SUPPORT, 1, since=mark)
            assert "/report" not in refusal[0]["text"]
            await asyncio.sleep(0.3)
            assert api.calls_to("sendPhoto", since=mark) == []
            # Drawn off the event loop (the loop runs in the main thread).
            assert len(drawn_in) == 2
            assert threading.main_thread() not in drawn_in
