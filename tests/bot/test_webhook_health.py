"""/healthz and /metrics answer whatever the database does: down, refused or frozen."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.channels.telegram.webhook import PROBE_SECONDS
from bot.monitoring.probe import Probe
from bot.storage.db import Database
from tests.bot.test_webhook import serving, settings_for
from tests.fake_bot_api import FakeBotApi


@contextmanager
def database_at(url: str) -> Iterator[None]:
    """The running worker's database replaced by the one at `url` (down, frozen ...)."""
    parts = serving.last_app.state.parts  # type: ignore[attr-defined]
    healthy, parts.db = parts.db, Database(url)
    try:
        yield
    finally:
        parts.db.dispose()
        parts.db = healthy


@contextmanager
def frozen_server() -> Iterator[int]:
    """A port whose connections open and then hear nothing (a frozen database server); closing
    it resets them, which frees whatever still waits on one."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # never accepted: the kernel completes the handshake, nobody talks
        yield int(listener.getsockname()[1])


REFUSED = "postgresql+psycopg://nobody@127.0.0.1:9/none"


async def test_metrics_answer_while_the_database_is_down(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        httpx.AsyncClient() as client,
        serving(settings_for(api, f"sqlite:///{tmp_path}/m.sqlite3")) as url,
    ):
        healthy = await client.get(f"{url}/metrics")
        assert "posbot_database_up 1.0" in healthy.text
        assert "posbot_outbox_depth" in healthy.text
        with database_at(REFUSED):
            down = await client.get(f"{url}/metrics")
        assert down.status_code == 200
        assert "posbot_database_up 0.0" in down.text
        assert "posbot_updates_total" in down.text  # the counters are still there
        assert "posbot_outbox_depth" not in down.text
        assert 'posbot_cases{state="open"}' not in down.text
        again = await client.get(f"{url}/metrics")
        assert "posbot_database_up 1.0" in again.text


async def test_health_and_metrics_answer_while_the_database_is_frozen(tmp_path: Path) -> None:
    async with (
        FakeBotApi() as api,
        httpx.AsyncClient(timeout=30) as client,
        serving(settings_for(api, f"sqlite:///{tmp_path}/f.sqlite3")) as url,
    ):
        with (
            frozen_server() as port,
            database_at(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none"),
        ):
            first, metrics, second = await asyncio.gather(
                client.get(f"{url}/healthz"),
                client.get(f"{url}/metrics"),
                client.get(f"{url}/healthz"),
            )
        assert (first.status_code, first.json()) == (503, {"ok": False, "database": "timeout"})
        assert second.status_code == 503
        assert metrics.status_code == 200
        assert "posbot_database_up 0.0" in metrics.text
        # Back to normal once the database answers again.
        healthy = await client.get(f"{url}/healthz")
        for _ in range(50):  # the stuck read ends when its connection is reset
            if healthy.status_code == 200:
                break
            await asyncio.sleep(0.1)
            healthy = await client.get(f"{url}/healthz")
        assert healthy.json() == {"ok": True}


def test_the_probe_deadline_leaves_room_under_two_seconds() -> None:
    assert PROBE_SECONDS < 2.0


async def test_a_probe_runs_one_read_at_a_time_and_reports_its_error() -> None:
    import threading

    release = threading.Event()
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        release.wait(10)
        if len(reads) > 1:
            raise ValueError("broken")
        return 7

    probe: Probe[int] = Probe(read, 0.05)
    for _ in range(3):
        with pytest.raises(TimeoutError):
            await probe()
    assert len(reads) == 1  # the stuck read was waited on again, not started three times
    release.set()
    probe.timeout = 5
    assert await probe() == 7
    with pytest.raises(ValueError, match="broken"):
        await probe()
