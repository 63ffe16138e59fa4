"""CPU per PostgreSQL transaction by the number of worker threads running them (on demand).

    .venv/bin/python benchmarks/db_threads.py --transactions 3000 --statements 6

The bot runs every transaction in a worker thread (bot/storage/db.py). A thread spends most of
a transaction waiting on the server, but each time it wakes it must take Python's interpreter
lock back from the others, and that costs CPU that grows with the number of threads. This runs
the same small transactions (BEGIN, `--statements` one-row SELECTs, COMMIT) from 32 coroutines
through a thread pool of each size, as the webhook worker does, and reports the process's CPU
time and the wall time per transaction. `POSBOT_BENCH_PG` names the server (default
postgresql+psycopg://postgres@127.0.0.1:5432, database `postgres`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, create_engine, literal, select

SERVER = os.environ.get("POSBOT_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
ONE = select(literal(1))


def transaction(engine: Engine, statements: int) -> None:
    with engine.begin() as connection:
        for _ in range(statements):
            connection.scalar(ONE)


async def measure(threads: int, transactions: int, statements: int) -> tuple[float, float]:
    engine = create_engine(f"{SERVER}/postgres", pool_size=threads, max_overflow=0)
    executor = ThreadPoolExecutor(threads)
    loop = asyncio.get_running_loop()
    try:
        for _ in range(50):  # connections opened, statements cached
            await loop.run_in_executor(executor, transaction, engine, statements)
        left = [transactions]

        async def coroutine() -> None:
            while left[0] > 0:
                left[0] -= 1
                await loop.run_in_executor(executor, transaction, engine, statements)

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(coroutine() for _ in range(32)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        executor.shutdown()
        engine.dispose()
    return cpu / transactions * 1e6, wall / transactions * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=3000)
    parser.add_argument("--statements", type=int, default=6)
    parser.add_argument("--threads", default="1,2,4,8,10")
    args = parser.parse_args()
    print("| threads | CPU µs / transaction | wall µs / transaction |")
    print("|---|---|---|")
    for threads in (int(value) for value in args.threads.split(",")):
        cpu, wall = await measure(threads, args.transactions, args.statements)
        print(f"| {threads} | {cpu:.0f} | {wall:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
