"""Throughput, latency and CPU of the real bot against a loopback fake Bot API (on demand).

    .venv/bin/python benchmarks/bot_throughput.py --merchants 200 --concurrency 16

Setups, each a separate process started the way an operator starts it:
  polling   `posbot run` (long polling) on SQLite, the embedded default;
  webhook1  `posbot run --webhook --workers 1` on PostgreSQL;
  webhook2  `posbot run --webhook --workers 2` on PostgreSQL;
  baseline  the same intake built the common way (benchmarks/baseline_bot.py: a
            ConversationHandler with in-memory state), long polling.
Simulated merchants complete the whole intake (benchmarks/harness.py INTAKE), each waiting
for the reply to a step before the next, as a person does; `--concurrency` of them at a time.
In webhook mode an update is posted as Telegram posts it (its HTTP answer awaited on one of up
to 40 connections), but the merchant's next step waits for the bot's reply only, not for that
HTTP answer. Reported: updates/s, latency p50/p95/p99/max (update sent -> reply received), CPU
seconds per update of the bot (all its processes), and the CPU split between the bot, the fake
Bot API (its own thread), the driver (the merchants) and PostgreSQL, plus the bot's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from harness import (
    ApiThread,
    Bot,
    Replies,
    Webhook,
    bot_env,
    drop_postgres,
    free_port,
    fresh_postgres,
    intake,
    percentile,
    postgres_cpu,
    start_polling,
    start_webhook,
    update_for,
)

#: --wait-for-http: a merchant's next update waits for the webhook's HTTP answer too.
WAIT_FOR_HTTP = False
#: --think-ms: how long a merchant reads a reply before the next step (0: at once). With a
#: pause, a chat is idle when its next update comes, as with people, and the webhook takes
#: its idle-chat path (store, lock, look; let go, look again) for every update.
THINK_SECONDS = 0.0

Send = Callable[[dict[str, Any]], Awaitable[None]]
Script = Callable[[int], list[tuple[str, str]]]


async def merchant(
    api: ApiThread,
    replies: Replies,
    send: Send,
    chat: int,
    script: Script,
    latencies: list[float],
) -> None:
    count = len(replies.by_chat[chat])
    for kind, value in script(chat):
        started = time.perf_counter()
        await send(update_for(chat, kind, value, api.api.last_message.get(chat, 0)))
        count += 1
        await replies.wait(chat, count)
        latencies.append(replies.by_chat[chat][count - 1][1] - started)
        if THINK_SECONDS:
            await asyncio.sleep(THINK_SECONDS)


async def measure(
    name: str,
    api: ApiThread,
    replies: Replies,
    bot: Bot,
    send: Send,
    script: Script,
    merchants: int,
    concurrency: int,
    first_chat: int,
) -> dict[str, Any]:
    await merchant(api, replies, send, first_chat, script, [])  # warm-up, not counted
    await asyncio.sleep(0.5)
    got = replies.by_chat[first_chat]
    print(f"  {name}: warm-up merchant got {len(got)} replies, the last: {got[-1][0][:60]!r}")
    latencies: list[float] = []
    database = bot.extra.get("database")
    cpu_pg = postgres_cpu(database) if database else {}
    calls_before = Counter(call.method for call in list(api.api.calls))
    cpu_bot, cpu_api, cpu_driver = bot.cpu(), api.cpu_seconds(), time.thread_time()
    wall = time.perf_counter()
    queue = list(range(first_chat + 1, first_chat + 1 + merchants))

    async def worker() -> None:
        while queue:
            await merchant(api, replies, send, queue.pop(), script, latencies)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - wall
    cpu_bot = bot.cpu() - cpu_bot
    cpu_api = api.cpu_seconds() - cpu_api
    cpu_driver = time.thread_time() - cpu_driver
    # PostgreSQL's backends (those alive at the end; SQLite's work is inside the bot's CPU).
    cpu_db = (
        sum(cpu - cpu_pg.get(pid, 0.0) for pid, cpu in postgres_cpu(database).items())
        if database
        else 0.0
    )
    updates = merchants * len(script(first_chat))
    calls = Counter(call.method for call in list(api.api.calls)) - calls_before
    print(
        f"  {name}: Bot API calls per update: "
        + ", ".join(f"{method} {count / updates:.2f}" for method, count in calls.most_common())
    )
    return {
        "name": name,
        "updates": updates,
        "per_s": updates / wall,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "max": max(latencies, default=0.0) * 1000,
        "cpu_ms": cpu_bot / updates * 1000,
        "cpu_bot": cpu_bot,
        "cpu_api": cpu_api,
        "cpu_driver": cpu_driver,
        "cpu_db": cpu_db,
        "rss": "+".join(f"{size:.0f}" for size in bot.rss()),
    }


async def run_setup(setup: str, merchants: int, concurrency: int, workdir: Path) -> dict[str, Any]:
    replies = Replies(asyncio.get_running_loop())
    with ApiThread(replies) as api:

        async def push(update: dict[str, Any]) -> None:
            api.push(update)

        if setup in ("polling", "baseline"):
            env = bot_env(api.api.root, f"sqlite:///{workdir}/{setup}.sqlite3")
            bot = start_polling(api, env, baseline=setup == "baseline")
            name = (
                "baseline: ConversationHandler, in memory, polling"
                if setup == "baseline"
                else "posbot: polling, SQLite"
            )
            try:
                return await measure(
                    name, api, replies, bot, push, intake, merchants, concurrency, 10_000
                )
            finally:
                bot.stop()
        workers = int(setup.removeprefix("webhook"))
        database = fresh_postgres(f"posbot_bench_{setup}")
        env = bot_env(api.api.root, database)
        bot = start_webhook(env, workers, free_port())
        bot.extra["database"] = database.rsplit("/", 1)[1]
        assert bot.port is not None
        try:
            async with Webhook(bot.port) as hook:
                # Telegram posts an update and waits for the answer, over up to 40 connections
                # (aiohttp's pool in Webhook); the merchant, though, writes again once the
                # bot's reply shows, not when the webhook's HTTP answer reaches Telegram. So
                # the post runs on its own and the merchant waits for the reply alone.
                posts: set[asyncio.Task[None]] = set()
                refused: list[int] = []

                async def posted(update: dict[str, Any]) -> None:
                    status = await hook.post(update)
                    if status != 200:
                        refused.append(status)

                async def post(update: dict[str, Any]) -> None:
                    if WAIT_FOR_HTTP:  # the driver before 2026-12-05, for comparison
                        await posted(update)
                    if refused:
                        raise RuntimeError(f"webhook answered {refused[0]}")
                    if WAIT_FOR_HTTP:
                        return
                    task = asyncio.create_task(posted(update))
                    posts.add(task)
                    task.add_done_callback(posts.discard)

                row = await measure(
                    f"posbot: webhook, {workers} worker{'s' if workers > 1 else ''}, PostgreSQL",
                    api,
                    replies,
                    bot,
                    post,
                    intake,
                    merchants,
                    concurrency,
                    10_000,
                )
                await asyncio.gather(*posts)
                if refused:
                    raise RuntimeError(f"webhook answered {refused[0]}")
                return row
        finally:
            bot.stop()
            drop_postgres(database)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| setup | updates | updates/s | p50 ms | p95 ms | p99 ms | max ms | bot CPU ms/update | "
        "CPU s: bot / fake API / driver / PostgreSQL | bot RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['updates']} | {r['per_s']:.1f} | {r['p50']:.1f} | "
            f"{r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.0f} | {r['cpu_ms']:.2f} | "
            f"{r['cpu_bot']:.1f} / {r['cpu_api']:.1f} / {r['cpu_driver']:.1f} / "
            f"{r['cpu_db']:.1f} | {r['rss']} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--setups", default="polling,webhook1,webhook2,baseline", help="comma-separated"
    )
    parser.add_argument(
        "--wait-for-http",
        action="store_true",
        help="webhook: the next update also waits for the previous one's HTTP answer "
        "(how the driver worked before; Telegram's merchants do not)",
    )
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="a merchant's pause after each reply (the chat is idle when its next update "
        "comes, as with people); compare CPU per update, not updates/s",
    )
    args = parser.parse_args()
    global WAIT_FOR_HTTP, THINK_SECONDS
    WAIT_FOR_HTTP = args.wait_for_http
    THINK_SECONDS = args.think_ms / 1000
    workdir = Path(tempfile.mkdtemp(prefix="posbot-bench-"))
    rows = {}
    for setup in args.setups.split(","):
        rows[setup] = await run_setup(setup, args.merchants, args.concurrency, workdir)
        print(table([rows[setup]]).splitlines()[-1], flush=True)
    print()
    print(table(list(rows.values())))
    print()
    if "baseline" in rows and "polling" in rows:
        ours, base = rows["polling"], rows["baseline"]
        print(
            f"polling vs baseline: throughput {ours['per_s'] / base['per_s']:.2f}x "
            f"(target >= 0.8), CPU per update {ours['cpu_ms'] / base['cpu_ms']:.2f}x "
            f"(target <= 1.5)"
        )
    if "webhook1" in rows and "polling" in rows:
        print(
            f"1 webhook worker vs polling: throughput "
            f"{rows['webhook1']['per_s'] / rows['polling']['per_s']:.2f}x (target >= 1)"
        )
    if "webhook1" in rows and "webhook2" in rows:
        print(
            f"2 webhook workers vs 1: throughput "
            f"{rows['webhook2']['per_s'] / rows['webhook1']['per_s']:.2f}x (target >= 1.3)"
        )


if __name__ == "__main__":
    asyncio.run(main())
