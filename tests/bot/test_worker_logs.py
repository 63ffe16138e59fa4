"""What an operator reads: `posbot run --webhook` (uvicorn, one or two worker processes) writes
one line per request, every line with time and level, and redacts what it writes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from bot.channels.telegram.webhook import SECRET_HEADER
from tests.bot.telegram_harness import CHAT
from tests.fake_bot_api import FakeBotApi

SECRET = "log-secret"
#: Every line: date, time, level, logger.
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ ")
ACCESS = re.compile(r' uvicorn\.access 127\.0\.0\.1:\d+ "POST /telegram HTTP/1\.1" (\d{3}) [\w ]+$')
STARTED = "Application startup complete"
RUNNING = "Uvicorn running on"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def serve_and_post(
    api: FakeBotApi, database_url: str, workers: int, updates: list[bytes]
) -> tuple[list[str], list[int]]:
    """Start the real command, post `updates` once every worker is up, stop it; returns the
    lines it wrote after start-up and the status codes."""
    port = free_port()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.root,
        "POSBOT_WEBHOOK_SECRET": SECRET,
        "POSBOT_DATABASE_URL": database_url,
        "POSBOT_DEPLOYMENT_FILE": "",
        "POSBOT_AUTO_MIGRATE": "true",
        "POSBOT_LOG_LEVEL": "INFO",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--webhook",
        "--port",
        str(port),
        "--workers",
        str(workers),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    before: list[str] = []
    try:
        # Workers log their start-up; the listening line comes last with one, first with two.
        while sum(STARTED in line for line in before) < workers or not any(
            RUNNING in line for line in before
        ):
            raw = await asyncio.wait_for(process.stdout.readline(), 120)
            assert raw, "the server stopped:\n" + "".join(before)
            before.append(raw.decode())
        statuses = []
        async with httpx.AsyncClient() as client:
            for body in updates:
                response = await client.post(
                    f"http://127.0.0.1:{port}/telegram",
                    content=body,
                    headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
                )
                statuses.append(response.status_code)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 120)
    after = output.decode().splitlines()
    stopping = (n for n, line in enumerate(after) if "SIGINT" in line or "Shutting down" in line)
    during = after[: next(stopping, None)]
    for line in before + after:
        assert LINE.match(line), f"a line without time and level: {line!r}"
    return during, statuses


def text_update(api: FakeBotApi, update_id: int, text: str) -> bytes:
    import json

    return json.dumps({**api.text_update(CHAT, text), "update_id": update_id}).encode()


def one_line_per_request(during: list[str], statuses: list[int]) -> None:
    assert not [line for line in during if not ACCESS.search(line)], during
    assert [int(ACCESS.search(line).group(1)) for line in during] == statuses  # type: ignore[union-attr]


async def test_a_webhook_worker_writes_one_line_per_request(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        updates = [text_update(api, 7001, "/start"), text_update(api, 7002, "/help")]
        during, statuses = await serve_and_post(
            api, f"sqlite:///{tmp_path}/logs.sqlite3", 1, updates
        )
        assert statuses == [200, 200]
        assert len(api.sent_messages(CHAT)) == 3  # the updates were handled
    one_line_per_request(during, statuses)
    assert not any("Logging error" in line for line in during)


@pytest.mark.usefixtures("postgres_url")
async def test_two_worker_processes_log_like_one(postgres_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    async with FakeBotApi() as api:
        updates = [text_update(api, 7101 + n, "/start") for n in range(6)]
        updates.append(updates[0])  # Telegram delivers one again: a duplicate, one line too
        during, statuses = await serve_and_post(api, postgres_url, 2, updates)
        assert statuses == [200] * 7
        assert len(api.sent_messages(CHAT)) == 6  # handled, each once, whichever worker took it
    one_line_per_request(during, statuses)
    assert not any("Logging error" in line for line in during)
