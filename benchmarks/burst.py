"""Burst: thousands of merchants write at once, against a fake Bot API that enforces the limits.

    .venv/bin/python benchmarks/burst.py --merchants 2000 --within 5

When an acquirer's settlement batch is late, merchants write at the same moment. Here
`--merchants` of them send /start spread evenly over `--within` seconds to the bot
(`posbot run`, long polling, SQLite, Telegram's limits on: POSBOT_RATE_LIMIT=true), while the
fake Bot API answers 429 to anything above about 30 messages/s (a token bucket) as Telegram
does. Reported: how many merchants got their welcome, how many 429s the API had to send, and
the drain time (first /start to last welcome) against the floor the limit sets
(messages / 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from harness import ApiThread, Replies, bot_env, start_polling, update_for

RATE = 30.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=2000)
    parser.add_argument("--within", type=float, default=5.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="posbot-burst-"))
    replies = Replies(asyncio.get_running_loop())
    with ApiThread(replies, limits=True) as api:
        env = bot_env(api.api.root, f"sqlite:///{workdir}/burst.sqlite3", POSBOT_RATE_LIMIT="true")
        bot = start_polling(api, env)
        try:
            chats = list(range(100_000, 100_000 + args.merchants))
            cpu = bot.cpu()
            started = time.perf_counter()
            for index, chat in enumerate(chats):
                api.push(update_for(chat, "say", "/start", 0))
                delay = started + (index + 1) * args.within / args.merchants - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            sent_in = time.perf_counter() - started
            await asyncio.gather(*(replies.wait(chat, 1) for chat in chats))
            await asyncio.sleep(2)  # a duplicate welcome would arrive now
            cpu = bot.cpu() - cpu
            last = max(replies.by_chat[chat][-1][1] for chat in chats)
            rss = bot.rss()
        finally:
            bot.stop()
    drain = last - started
    floor = args.merchants / RATE
    welcomed = sum(1 for chat in chats if replies.by_chat[chat])
    doubled = sum(1 for chat in chats if len(replies.by_chat[chat]) > 1)
    print(f"{args.merchants} merchants sent /start within {sent_in:.1f} s")
    print(f"welcomed: {welcomed}/{args.merchants}, more than one message: {doubled}")
    print(f"429 answers from the fake Bot API: {api.api.rejected}")
    print(
        f"drain: {drain:.1f} s; floor at {RATE:.0f} messages/s: {floor:.1f} s; "
        f"{drain / floor:.3f}x the floor (target <= 1.10)"
    )
    print(f"bot CPU {cpu:.1f} s ({cpu / args.merchants * 1000:.1f} ms per merchant), RSS {rss}")


if __name__ == "__main__":
    asyncio.run(main())
