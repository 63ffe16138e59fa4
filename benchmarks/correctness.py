"""Correctness under load: two webhook workers on one PostgreSQL (on demand).

    .venv/bin/python benchmarks/correctness.py --merchants 200 --concurrency 32

Telegram delivers an update again when it is not sure the first delivery landed, and it opens
several connections at once, so two updates of one chat can reach two workers at the same
moment. This run does both on purpose: every merchant sends the intake two updates at a time,
concurrently (to whichever worker the kernel hands the connection), and 10% of all updates are
delivered twice (half at the same moment as the first delivery, half after the replies came).

Checked, not assumed: every merchant's replies, in order, equal those of one merchant who went
through the same intake alone (so nothing lost, nothing answered twice, nothing reordered,
since an answer processed out of order gets a different reply), and every stored update was
processed once.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from typing import Any

from harness import (
    INTAKE,
    ApiThread,
    Replies,
    Webhook,
    bot_env,
    drop_postgres,
    free_port,
    fresh_postgres,
    intake,
    normalized,
    start_webhook,
    update_for,
)


async def alone(api: ApiThread, replies: Replies, hook: Webhook, chat: int) -> list[str]:
    """The reference: one merchant, one update at a time."""
    for count, (kind, value) in enumerate(intake(chat), start=1):
        await hook.post(update_for(chat, kind, value, api.api.last_message.get(chat, 0)))
        await replies.wait(chat, count)
    await asyncio.sleep(1)
    return [normalized(text) for text, _ in replies.by_chat[chat]]


async def merchant(
    api: ApiThread,
    replies: Replies,
    hook: Webhook,
    chat: int,
    rng: random.Random,
    stats: Counter[str],
) -> None:
    count = 0
    late: list[dict[str, Any]] = []
    script = intake(chat)
    for start in range(0, len(script), 2):
        pair = script[start : start + 2]
        last = api.api.last_message.get(chat, 0)
        updates = [update_for(chat, kind, value, last) for kind, value in pair]
        deliveries = []
        for update in updates:
            deliveries.append(update)
            if rng.random() < 0.10:
                stats["duplicated"] += 1
                (deliveries if rng.random() < 0.5 else late).append(update)
        rng.shuffle(deliveries)
        statuses = await asyncio.gather(*(hook.post(update) for update in deliveries))
        stats["deliveries"] += len(deliveries)
        stats["non_200"] += sum(status != 200 for status in statuses)
        count += len(pair)
        await replies.wait(chat, count)
        for update in late:  # Telegram redelivering after the bot already answered
            stats["deliveries"] += 1
            stats["non_200"] += await hook.post(update) != 200
        late.clear()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    replies = Replies(asyncio.get_running_loop())
    database_url = fresh_postgres("posbot_bench_correctness")
    with ApiThread(replies) as api:
        bot = start_webhook(bot_env(api.api.root, database_url), args.workers, free_port())
        assert bot.port is not None
        try:
            async with Webhook(bot.port) as hook:
                reference = await alone(api, replies, hook, 50_000)
                stats: Counter[str] = Counter()
                queue = list(range(60_000, 60_000 + args.merchants))
                started = time.perf_counter()

                async def worker() -> None:
                    while queue:
                        await merchant(api, replies, hook, queue.pop(), rng, stats)

                await asyncio.gather(*(worker() for _ in range(args.concurrency)))
                wall = time.perf_counter() - started
                await asyncio.sleep(3)  # anything late (a duplicate reply) arrives now
        finally:
            bot.stop()
    problems: Counter[str] = Counter()
    for chat in range(60_000, 60_000 + args.merchants):
        got = [normalized(text) for text, _ in replies.by_chat[chat]]
        if got == reference:
            continue
        if len(got) < len(reference):
            problems["lost replies"] += 1
        elif len(got) > len(reference):
            problems["duplicated replies"] += 1
        else:
            problems["replies in another order"] += 1
    processed = _inbox_counts(database_url)
    drop_postgres(database_url)
    print(
        f"{args.merchants} merchants x {len(INTAKE)} updates through {args.workers} webhook "
        f"workers in {wall:.1f} s; deliveries {stats['deliveries']} "
        f"({stats['duplicated']} duplicated, {stats['non_200']} not answered 200)"
    )
    print(f"reference: {len(reference)} replies per merchant")
    print(f"inbox: {dict(processed)}")
    if problems:
        print(f"FAILED: {dict(problems)}")
        raise SystemExit(1)
    print("OK: zero lost answers, zero duplicated replies, per-chat order kept")


def _inbox_counts(url: str) -> Counter[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, count(*) FROM inbox GROUP BY status"))
        counts = Counter({status: number for status, number in rows})
    engine.dispose()
    return counts


if __name__ == "__main__":
    asyncio.run(main())
