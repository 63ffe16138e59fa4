"""Memory: the bot's resident size after 100 and after 10,000 completed conversations.

    .venv/bin/python benchmarks/memory.py --conversations 10000 --concurrency 64

The bot (`posbot run`, long polling, SQLite) serves simulated merchants through the loopback
fake Bot API, each completing the whole intake (harness.INTAKE, a case opened at the end). Its RSS
is read from /proc after the first 100 conversations and at checkpoints up to the last; what
must hold is that per-chat state does not pile up in the process (everything lives in the
database), i.e. RSS after 10,000 at most 1.2x RSS after 100, and below 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from harness import ApiThread, Replies, bot_env, intake, start_polling, update_for


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="posbot-memory-"))
    replies = Replies(asyncio.get_running_loop())
    checkpoints = sorted({100, *range(1000, args.conversations + 1, 1000), args.conversations})
    readings: list[tuple[int, float, float]] = []
    with ApiThread(replies) as api:
        bot = start_polling(api, bot_env(api.api.root, f"sqlite:///{workdir}/memory.sqlite3"))
        try:
            done = 0
            started = time.perf_counter()

            async def merchant(chat: int) -> None:
                nonlocal done
                for count, (kind, value) in enumerate(intake(chat), start=1):
                    api.push(update_for(chat, kind, value, api.api.last_message.get(chat, 0)))
                    await replies.wait(chat, count)
                replies.by_chat.pop(chat, None)  # the driver's own memory stays flat too
                done += 1

            chats = iter(range(200_000, 200_000 + args.conversations))
            for checkpoint in checkpoints:
                batch = [next(chats) for _ in range(checkpoint - done)]
                queue = list(reversed(batch))

                async def worker(queue: list[int] = queue) -> None:
                    while queue:
                        await merchant(queue.pop())

                await asyncio.gather(*(worker() for _ in range(args.concurrency)))
                rss = bot.rss()[0]
                readings.append((done, rss, time.perf_counter() - started))
                print(f"{done:>6} conversations: RSS {rss:.1f} MB ({readings[-1][2]:.0f} s)")
        finally:
            bot.stop()
    first, last = readings[0][1], readings[-1][1]
    print(
        f"RSS after {readings[-1][0]} / after {readings[0][0]}: {last / first:.3f}x "
        f"(target <= 1.2), {last:.1f} MB (target < 200)"
    )


if __name__ == "__main__":
    asyncio.run(main())
