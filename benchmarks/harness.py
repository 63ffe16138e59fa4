"""What the benchmarks share: the fake Bot API on a thread of its own, simulated merchants,
the bot started as `posbot run` (polling or webhook workers), and process accounting.

The fake Bot API is the tests' (tests/fake_bot_api.py) with three additions: it runs its own
event loop on a separate thread, so its CPU time is measured apart from the driver's; it
tells the driver about every message the bot sends (no scanning of the call log); and it can
enforce Telegram's limits (about 30 messages/s overall as a token bucket, 20/min per group),
answering 429 with retry_after like Telegram does.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_bot_api import Call, FakeBotApi, FakeBotApiError  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
TOKEN = "123456:BENCH"
SECRET = "bench-secret"
PG_ROOT = os.environ.get("POSBOT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")

#: What a merchant does in the real bot, (kind, value); every step gets one reply.
INTAKE = [
    ("say", "/start"),
    ("press", "x:begin"),
    ("say", "昨天下午3点"),
    ("say", "1,280.50"),
    ("press", "a:method:card"),
    ("press", "a:card_type:sale"),
    ("press", "a:terminal:success"),
    ("press", "a:records:success"),
    ("press", "a:received:none"),
    ("press", "a:cycle:t1"),
    ("press", "a:account:none"),
    # Not due yet, a card payment: the bank, the acquirer's name and the receipt keys are not
    # asked (flows.intake_core.asked_on_the_way; benchmarks/baseline_bot.py asks the same).
    ("press", "x:confirm"),
]


def intake(chat_id: int) -> list[tuple[str, str]]:
    """The intake one merchant goes through (the same for every chat: no receipt keys are
    given, so two chats are never a possible duplicate of each other)."""
    return list(INTAKE)


SENDING = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"})


class TokenBucket:
    """Telegram's overall limit as a bucket: `rate` per second, bursts up to `capacity`."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class BenchApi(FakeBotApi):
    """The tests' fake Bot API, reporting sent messages and optionally enforcing limits."""

    def __init__(self, on_send: Callable[[int, str, float], None], limits: bool) -> None:
        super().__init__(TOKEN)
        self.on_send = on_send
        self.limits = limits
        self.bucket = TokenBucket(30, 30)
        self.group_sends: dict[int, deque[float]] = defaultdict(deque)
        self.rejected = 0
        self.last_message: dict[int, int] = {}

    def _method_table(self) -> dict[str, Any]:
        table = super()._method_table()
        for name in SENDING & table.keys():
            table[name] = self._limited(table[name])
        return table

    def _limited(self, handler: Any) -> Any:
        async def limited(call: Call) -> Any:
            chat_id = int(call.params.get("chat_id", 0))
            if self.limits:
                self._check_limits(chat_id)
            result = await handler(call)
            self.last_message[chat_id] = result["message_id"]
            self.on_send(chat_id, str(result.get("text", "")), time.perf_counter())
            return result

        return limited

    def _check_limits(self, chat_id: int) -> None:
        if chat_id < 0:
            window, now = self.group_sends[chat_id], time.monotonic()
            while window and window[0] < now - 60:
                window.popleft()
            if len(window) >= 20:
                self.rejected += 1
                raise FakeBotApiError("Too Many Requests: retry after 3", 429, 3)
            window.append(now)
        if not self.bucket.take():
            self.rejected += 1
            raise FakeBotApiError("Too Many Requests: retry after 1", 429, 1)


class Replies:
    """Messages the bot sent, per chat, as the driver sees them (filled from the API thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.by_chat: dict[int, list[tuple[str, float]]] = defaultdict(list)
        self._waiters: dict[int, list[tuple[int, asyncio.Future[None]]]] = defaultdict(list)

    def from_api_thread(self, chat_id: int, text: str, at: float) -> None:
        self.loop.call_soon_threadsafe(self._add, chat_id, text, at)

    def _add(self, chat_id: int, text: str, at: float) -> None:
        got = self.by_chat[chat_id]
        got.append((text, at))
        waiting = self._waiters.get(chat_id)
        if waiting:
            for count, future in [w for w in waiting if len(got) >= w[0]]:
                waiting.remove((count, future))
                if not future.done():
                    future.set_result(None)

    async def wait(self, chat_id: int, count: int) -> None:
        """Until the chat has received `count` messages in all (two minutes at most)."""
        if len(self.by_chat[chat_id]) >= count:
            return
        future: asyncio.Future[None] = self.loop.create_future()
        self._waiters[chat_id].append((count, future))
        async with asyncio.timeout(120):
            await future


class ApiThread:
    """Runs a BenchApi on its own thread and event loop."""

    def __init__(self, replies: Replies, limits: bool = False) -> None:
        self.loop = asyncio.new_event_loop()
        self.api = BenchApi(replies.from_api_thread, limits)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ApiThread:
        self.thread.start()
        self.run(self.api.start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self.api.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def cpu_seconds(self) -> float:
        async def thread_time() -> float:
            return time.thread_time()

        return float(self.run(thread_time()))

    def push(self, update: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self.api.push_update, update)

    def calls(self, method: str) -> int:
        return sum(1 for call in list(self.api.calls) if call.method == method)


# -- updates, built by the driver -----------------------------------------------------------

_update_ids = itertools.count(1)
_message_ids = itertools.count(1_000_000)


def merchant_user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "M", "language_code": "zh-hans"}


def update_for(chat_id: int, kind: str, value: str, last_bot_message: int) -> dict[str, Any]:
    """A Telegram update as the Bot API would deliver it (with a fresh update id)."""
    user = merchant_user(chat_id)
    chat = {"id": chat_id, "type": "private", "first_name": "M"}
    if kind == "say":
        message: dict[str, Any] = {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": value,
        }
        if value.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(value.split()[0])}
            ]
        return {"update_id": next(_update_ids), "message": message}
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cq{next(_message_ids)}",
            "from": user,
            "chat_instance": f"ci{chat_id}",
            "data": value,
            "message": {
                "message_id": last_bot_message or 1,
                "date": int(time.time()),
                "chat": chat,
                "from": {"id": 123456, "is_bot": True, "first_name": "PosBot"},
                "text": "question",
            },
        },
    }


class Webhook:
    """Posts updates to the bot's webhook, as Telegram does (several connections at once)."""

    def __init__(self, port: int, path: str = "/telegram", connections: int = 40) -> None:
        self.url = f"http://127.0.0.1:{port}{path}"
        self.connections = connections
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Webhook:
        connector = aiohttp.TCPConnector(limit=self.connections, force_close=False)
        self.session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        await self.session.close()

    async def post(self, update: dict[str, Any]) -> int:
        assert self.session is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with self.session.post(self.url, json=update, headers=headers) as response:
            await response.read()
            return response.status


# -- the bot as a process ------------------------------------------------------------------


def cpu_of_tree(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants, live ones only."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return total
    return total + sum(cpu_of_tree(int(child)) for child in children)


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend now serving `database` (its connections)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if not command.startswith(b"postgres: ") or f" {database} ".encode() not in command:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


def rss_of_tree(pid: int) -> list[float]:
    """Resident memory (MB) of a process and its descendants (uvicorn's supervisor first)."""
    sizes = []
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return sizes
    for child in children:
        sizes.extend(rss_of_tree(int(child)))
    return sizes


def fresh_postgres(name: str) -> str:
    """A new, empty PostgreSQL database for one run; returns its SQLAlchemy URL. The name
    carries the process id: two benchmarks running at once (several people share a machine)
    must not drop each other's database mid-run."""
    name = f"{name}_{os.getpid()}"
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{PG_ROOT}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{PG_ROOT}/{name}"


def drop_postgres(url: str) -> None:
    """Remove a database made by `fresh_postgres` (the bot must have stopped)."""
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    engine = create_engine(f"{PG_ROOT}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@dataclass
class Bot:
    """A running bot: `posbot run` (polling), `posbot run --webhook`, or the baseline."""

    process: subprocess.Popen[bytes]
    port: int | None = None
    log: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def cpu(self) -> float:
        return cpu_of_tree(self.process.pid)

    def rss(self) -> list[float]:
        return rss_of_tree(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def bot_env(api_root: str, database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api_root,
        "POSBOT_DATABASE_URL": database_url,
        "POSBOT_LOG_LEVEL": "WARNING",
        "POSBOT_RATE_LIMIT": "false",
        "POSBOT_FLOOD_PER_MINUTE": "100000",
        "POSBOT_FLOOD_PER_DAY": "1000000",
        "POSBOT_TIMER_INTERVAL_SECONDS": "3600",
        "POSBOT_WEBHOOK_SECRET": SECRET,
        **extra,
    }


def start_polling(api: ApiThread, env: dict[str, str], baseline: bool = False) -> Bot:
    command = (
        [sys.executable, "benchmarks/baseline_bot.py"]
        if baseline
        else [
            sys.executable,
            "-m",
            "bot",
            "run",
        ]
    )
    log = Path(env.get("BENCH_LOG", "/dev/null"))
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("ab")
    )
    deadline = time.monotonic() + 60
    while api.calls("getUpdates") == 0:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the bot did not start polling (exit {process.poll()})")
        time.sleep(0.05)
    return Bot(process, log=log)


def start_webhook(env: dict[str, str], workers: int, port: int) -> Bot:
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log = Path(env.get("BENCH_LOG", "/dev/null"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    import urllib.request

    deadline = time.monotonic() + 90
    ready = 0
    while ready < 1:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the webhook did not come up (exit {process.poll()})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                ready += r.status == 200
        except OSError:
            time.sleep(0.2)
    time.sleep(2 if workers > 1 else 0.5)  # let every worker finish its start-up
    return Bot(process, port=port, log=log)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CASE_NUMBER = re.compile(r"PB-\d{8}-\d{4}")
REFERENCE = re.compile(r"31\d{10}")


def normalized(text: str) -> str:
    """A reply with what differs between merchants (case and reference numbers) taken out."""
    return REFERENCE.sub("31…", CASE_NUMBER.sub("PB-…", text))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0
