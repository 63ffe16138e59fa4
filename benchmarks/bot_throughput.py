"""Throughput, latency and CPU of the real bot against a loopback fake Bot API (on demand).

    .venv/bin/python benchmarks/bot_throughput.py --merchants 40 --concurrency 8

Starts the fake Bot API and the simulated merchants in this process, and the bot as a separate
process (`posbot run`, long polling, SQLite), then the baseline (a ConversationHandler bot with
in-memory state, benchmarks/baseline_bot.py) the same way. Each merchant completes the whole
intake, waiting for each reply before the next step, as a person does. Reported: updates/s,
latency p50/p95/p99 (update pushed -> reply received), CPU seconds per update of the bot process,
CPU of this process (fake API + driver), and the bot's RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_bot_api import FakeBotApi  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")

# What a merchant does in the real bot: (kind, value); every step gets one reply.
OURS = [
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
    ("press", "a:bank:icbc"),
    ("press", "a:account:none"),
    ("say", "拉卡拉"),
    ("say", "312345678901"),
    ("say", "12345678"),
    ("press", "a:merchant_id:skip"),
    ("say", "004521"),
    ("press", "x:confirm"),
]
BASELINE = [("say", "/start")] + [("press", "a:1:0")] * (len(OURS) - 1)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def merchant(
    api: FakeBotApi, chat: int, script: list[tuple[str, str]], latencies: list[float]
) -> None:
    for kind, value in script:
        mark = api.mark()
        started = time.perf_counter()
        if kind == "say":
            api.send_text(chat, value)
        else:
            api.press(chat, value)
        await api.wait_for_messages(chat, 1, since=mark, timeout=60)
        latencies.append(time.perf_counter() - started)


async def run(
    name: str,
    command: list[str],
    script: list[tuple[str, str]],
    merchants: int,
    concurrency: int,
    env: dict[str, str],
) -> dict[str, float]:
    async with FakeBotApi() as api:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, before measuring
            command,
            env={**os.environ, **env, "TELEGRAM_API_URL": api.root},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            await api.wait_for_call("getUpdates", timeout=60)
            latencies: list[float] = []
            # Warm-up: one merchant, not counted.
            await merchant(api, 1, script, [])
            cpu_bot, cpu_self, wall = (
                cpu_seconds(process.pid),
                time.process_time(),
                time.perf_counter(),
            )
            queue = list(range(1000, 1000 + merchants))

            async def worker() -> None:
                while queue:
                    await merchant(api, queue.pop(), script, latencies)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            wall = time.perf_counter() - wall
            cpu_bot = cpu_seconds(process.pid) - cpu_bot
            cpu_self = time.process_time() - cpu_self
            rss = rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
    updates = merchants * len(script)
    ordered = sorted(latencies)
    return {
        "name": name,
        "updates": updates,
        "per_s": updates / wall,
        "p50": ordered[len(ordered) // 2] * 1000,
        "p95": ordered[int(len(ordered) * 0.95)] * 1000,
        "p99": ordered[int(len(ordered) * 0.99)] * 1000,
        "cpu_ms_per_update": cpu_bot / updates * 1000,
        "cpu_bot_s": cpu_bot,
        "cpu_driver_s": cpu_self,
        "wall_s": wall,
        "rss_mb": rss,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| setup | updates | updates/s | p50 ms | p95 ms | p99 ms | bot CPU ms/update | "
        "bot CPU s | fake API + driver CPU s | bot RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['updates']:.0f} | {r['per_s']:.1f} | {r['p50']:.1f} | "
            f"{r['p95']:.1f} | {r['p99']:.1f} | {r['cpu_ms_per_update']:.2f} | "
            f"{r['cpu_bot_s']:.1f} | {r['cpu_driver_s']:.1f} | {r['rss_mb']:.0f} |"
        )
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="posbot-bench-"))
    env = {
        "TELEGRAM_BOT_TOKEN": "123456:BENCH",
        "POSBOT_LOG_LEVEL": "WARNING",
        "POSBOT_DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
        "POSBOT_RATE_LIMIT": "false",
        "POSBOT_FLOOD_PER_MINUTE": "100000",
        "POSBOT_TIMER_INTERVAL_SECONDS": "3600",
    }
    ours = await run(
        "posbot, polling, SQLite",
        [sys.executable, "-m", "bot", "run"],
        OURS,
        args.merchants,
        args.concurrency,
        env,
    )
    baseline = await run(
        "baseline ConversationHandler, in memory",
        [sys.executable, "benchmarks/baseline_bot.py"],
        BASELINE,
        args.merchants,
        args.concurrency,
        env,
    )
    print(table([ours, baseline]))
    print()
    print(
        f"throughput ratio (posbot / baseline): {ours['per_s'] / baseline['per_s']:.2f} "
        f"(target >= 0.8)"
    )
    print(
        f"CPU per update ratio (posbot / baseline): "
        f"{ours['cpu_ms_per_update'] / baseline['cpu_ms_per_update']:.2f} (target <= 1.25)"
    )


if __name__ == "__main__":
    asyncio.run(main())
